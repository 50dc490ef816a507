package store

// migrationSharing: sharing applications, grants, scenarios and the three
// lists. Filled in by the feature's work; statements for both backends
// (MySQL ones safe to repeat).
func migrationSharing() migration {
	return migration{
		version: 9,
		name:    "sharing applications, grants, scenarios and lists",
		sqlite:  []string{},
		mysql:   []string{},
	}
}
