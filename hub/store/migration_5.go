package store

// migrationObjections: objections and notifications. Filled in by the feature's work; statements for both
// backends (MySQL ones safe to repeat).
func migrationObjections() migration {
	return migration{
		version: 5,
		name:    "objections and notifications",
		sqlite:  []string{},
		mysql:   []string{},
	}
}
