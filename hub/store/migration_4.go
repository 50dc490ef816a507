package store

// migrationGolden: golden records, field history, conflicts and the change outbox. Filled in by the feature's work; statements for both
// backends (MySQL ones safe to repeat).
func migrationGolden() migration {
	return migration{
		version: 4,
		name:    "golden records, field history, conflicts and the change outbox",
		sqlite:  []string{},
		mysql:   []string{},
	}
}
