package store

// migrationOpenData creates the open-data portal's tables.
func migrationOpenData() migration {
	return migration{version: 11, name: "open data releases"}
}
