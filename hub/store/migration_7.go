package store

// migrationAudit: the audit log (SM3 hash chain). Filled in by the feature's work; statements for both
// backends (MySQL ones safe to repeat).
func migrationAudit() migration {
	return migration{
		version: 7,
		name:    "the audit log (SM3 hash chain)",
		sqlite:  []string{},
		mysql:   []string{},
	}
}
