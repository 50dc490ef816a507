package store

// migrationQuarantine: quarantine, quality fixes and daily quality figures. Filled in by the feature's work; statements for both
// backends (MySQL ones safe to repeat).
func migrationQuarantine() migration {
	return migration{
		version: 3,
		name:    "quarantine, quality fixes and daily quality figures",
		sqlite:  []string{},
		mysql:   []string{},
	}
}
