package store

// migrationCertificates: department client certificates issued by the hub CA. Filled in by the feature's work; statements for both
// backends (MySQL ones safe to repeat).
func migrationCertificates() migration {
	return migration{
		version: 8,
		name:    "department client certificates issued by the hub CA",
		sqlite:  []string{},
		mysql:   []string{},
	}
}
