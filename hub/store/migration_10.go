package store

// migrationLicences creates the e-licence store's tables (package
// hub/licence, licences.go):
//
//   - licences: one row per licence (type code, issuer, serial), its holder,
//     lifecycle status and current version;
//   - licence_versions: every version's identifier (GB/T 36904), canonical
//     content, SM3 digest and the issuer's SM2 seal signature; a version is
//     superseded by the next;
//   - licence_events: the append-only log of every change (who, when, why);
//   - licence_serials: the per-issuer, per-year serial counters;
//   - licence_seals: each issuing department's SM2 seal key pair. Production
//     keeps seal keys in a cipher machine (密码机), not in the database.
func migrationLicences() migration {
	return migration{
		version: 10,
		name:    "licences",
		sqlite: []string{`CREATE TABLE licences (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  base        TEXT    NOT NULL UNIQUE,
  type_code   TEXT    NOT NULL,
  issuer      TEXT    NOT NULL,
  serial      TEXT    NOT NULL,
  holder_type TEXT    NOT NULL,
  holder_id   TEXT    NOT NULL,
  holder_name TEXT    NOT NULL,
  status      TEXT    NOT NULL,
  version     INTEGER NOT NULL,
  identifier  TEXT    NOT NULL,
  valid_until TEXT    NOT NULL,
  issued_at   TEXT    NOT NULL,
  updated_at  TEXT    NOT NULL
) STRICT`,
			`CREATE INDEX licences_holder ON licences (holder_id, id)`,
			`CREATE INDEX licences_issuer ON licences (issuer, type_code, id)`,
			`CREATE TABLE licence_versions (
  licence_id    INTEGER NOT NULL REFERENCES licences (id),
  version       INTEGER NOT NULL,
  identifier    TEXT    NOT NULL UNIQUE,
  content       TEXT    NOT NULL,
  digest        TEXT    NOT NULL,
  signature     TEXT    NOT NULL,
  created_at    TEXT    NOT NULL,
  superseded_at TEXT,
  PRIMARY KEY (licence_id, version)
) STRICT`,
			`CREATE TABLE licence_events (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  licence_id INTEGER NOT NULL REFERENCES licences (id),
  version    INTEGER NOT NULL,
  event      TEXT    NOT NULL,
  actor      TEXT    NOT NULL,
  dept       TEXT    NOT NULL,
  reason     TEXT    NOT NULL,
  detail     TEXT,
  at         TEXT    NOT NULL
) STRICT`,
			`CREATE INDEX licence_events_licence ON licence_events (licence_id, id)`,
			`CREATE TABLE licence_serials (
  issuer TEXT    NOT NULL,
  issue_year INTEGER NOT NULL,
  last_no    INTEGER NOT NULL,
  PRIMARY KEY (issuer, issue_year)
) STRICT`,
			`CREATE TABLE licence_seals (
  dept        TEXT NOT NULL PRIMARY KEY,
  public_key  TEXT NOT NULL,
  private_key TEXT NOT NULL,
  created_at  TEXT NOT NULL
) STRICT`,
		},
		mysql: []string{`CREATE TABLE IF NOT EXISTS licences (
  id          BIGINT         NOT NULL AUTO_INCREMENT,
  base        VARBINARY(128) NOT NULL,
  type_code   VARBINARY(32)  NOT NULL,
  issuer      VARBINARY(64)  NOT NULL,
  serial      VARBINARY(64)  NOT NULL,
  holder_type VARCHAR(32)    NOT NULL,
  holder_id   VARBINARY(64)  NOT NULL,
  holder_name VARCHAR(255)   NOT NULL,
  status      VARCHAR(32)    NOT NULL,
  version     INT            NOT NULL,
  identifier  VARBINARY(128) NOT NULL,
  valid_until VARCHAR(10)    NOT NULL,
  issued_at   DATETIME(6)    NOT NULL,
  updated_at  DATETIME(6)    NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY licences_base (base),
  KEY licences_holder (holder_id, id),
  KEY licences_issuer (issuer, type_code, id)
)` + mysqlTable,
			`CREATE TABLE IF NOT EXISTS licence_versions (
  licence_id    BIGINT         NOT NULL,
  version       INT            NOT NULL,
  identifier    VARBINARY(128) NOT NULL,
  content       LONGTEXT       NOT NULL,
  digest        VARBINARY(64)  NOT NULL,
  signature     VARBINARY(256) NOT NULL,
  created_at    DATETIME(6)    NOT NULL,
  superseded_at DATETIME(6)    NULL,
  PRIMARY KEY (licence_id, version),
  UNIQUE KEY licence_versions_identifier (identifier)
)` + mysqlTable,
			`CREATE TABLE IF NOT EXISTS licence_events (
  id         BIGINT         NOT NULL AUTO_INCREMENT,
  licence_id BIGINT         NOT NULL,
  version    INT            NOT NULL,
  event      VARCHAR(32)    NOT NULL,
  actor      VARCHAR(255)   NOT NULL,
  dept       VARBINARY(64)  NOT NULL,
  reason     TEXT           NOT NULL,
  detail     TEXT           NULL,
  at         DATETIME(6)    NOT NULL,
  PRIMARY KEY (id),
  KEY licence_events_licence (licence_id, id)
)` + mysqlTable,
			`CREATE TABLE IF NOT EXISTS licence_serials (
  issuer VARBINARY(64) NOT NULL,
  issue_year INT           NOT NULL,
  last_no    BIGINT        NOT NULL,
  PRIMARY KEY (issuer, issue_year)
)` + mysqlTable,
			`CREATE TABLE IF NOT EXISTS licence_seals (
  dept        VARBINARY(64)  NOT NULL,
  public_key  VARBINARY(256) NOT NULL,
  private_key VARBINARY(256) NOT NULL,
  created_at  DATETIME(6)    NOT NULL,
  PRIMARY KEY (dept)
)` + mysqlTable,
		},
	}
}
