package store

// migrationLicences creates the e-licence store's tables.
func migrationLicences() migration {
	return migration{version: 10, name: "licences"}
}
