package store

// migrationCertificates: department client certificates issued by the hub CA
// (package hub/ca). Only public facts are kept — serial, department, the
// fingerprint of the certificate and its validity — never a private key.
// Serials are lower-case hex; fingerprints are the hex SM3 digest of the DER.
func migrationCertificates() migration {
	return migration{
		version: 8,
		name:    "department client certificates issued by the hub CA",
		sqlite: []string{`CREATE TABLE certificates (
  serial      TEXT NOT NULL PRIMARY KEY,
  dept        TEXT NOT NULL,
  name        TEXT NOT NULL,
  fingerprint TEXT NOT NULL UNIQUE,
  not_before  TEXT NOT NULL,
  not_after   TEXT NOT NULL,
  created_at  TEXT NOT NULL,
  revoked_at  TEXT
) STRICT`,
			`CREATE INDEX certificates_dept ON certificates (dept, created_at)`,
		},
		mysql: []string{`CREATE TABLE IF NOT EXISTS certificates (
  serial      VARBINARY(64)  NOT NULL,
  dept        VARBINARY(256) NOT NULL,
  name        VARCHAR(255)   NOT NULL,
  fingerprint VARBINARY(128) NOT NULL,
  not_before  DATETIME(6)    NOT NULL,
  not_after   DATETIME(6)    NOT NULL,
  created_at  DATETIME(6)    NOT NULL,
  revoked_at  DATETIME(6)    NULL,
  PRIMARY KEY (serial),
  UNIQUE KEY certificates_fingerprint (fingerprint),
  KEY certificates_dept (dept, created_at)
)` + mysqlTable,
		},
	}
}
