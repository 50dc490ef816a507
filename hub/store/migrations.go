package store

// migration is one numbered schema change, with its statements per backend.
// MySQL commits DDL implicitly, so MySQL statements must be safe to run again
// after a crash between a statement and the migration's record
// (CREATE TABLE IF NOT EXISTS, indexes declared inside CREATE TABLE).
type migration struct {
	version int
	name    string
	sqlite  []string
	mysql   []string
}

func (m migration) statements(driver string) []string {
	if driver == DriverMySQL {
		return m.mysql
	}
	return m.sqlite
}

// mysqlTable is the table options of every MySQL table: text is utf8mb4 and
// compares by bytes, as on SQLite. Identifier columns are VARBINARY so that
// keys differing only in case or trailing spaces stay distinct and order by
// bytes (the UTF-8 order Go and SQLite use).
const mysqlTable = ` ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`

// migrations returns the schema history, in version order. Append only.
func migrations() []migration {
	return []migration{
		migrationInitial(),
		migrationSubjects(),
		migrationQuarantine(),
		migrationGolden(),
		migrationObjections(),
		migrationNotifications(),
		migrationAudit(),
		migrationCertificates(),
		migrationSharing(),
		migrationLicences(),
		migrationOpenData(),
	}
}

// migrationSubjects adds the subject of each source record, indexed so the
// merge can read every record of a subject.
func migrationSubjects() migration {
	return migration{
		version: 2,
		name:    "source record subjects",
		sqlite: []string{
			`ALTER TABLE source_records ADD COLUMN subject TEXT`,
			`CREATE INDEX source_records_subject ON source_records (subject, resource)`,
		},
		// IF NOT EXISTS (MariaDB, TiDB) makes the statement safe to repeat.
		mysql: []string{
			`ALTER TABLE source_records ADD COLUMN IF NOT EXISTS subject VARBINARY(256) NULL`,
			`CREATE INDEX IF NOT EXISTS source_records_subject ON source_records (subject, resource)`,
		},
	}
}

// migrationInitial creates the first tables.
func migrationInitial() migration {
	return migration{
		version: 1,
		name:    "initial tables",
		sqlite: []string{
			`CREATE TABLE source_records (
  resource    TEXT    NOT NULL,
  record_key  TEXT    NOT NULL,
  dept        TEXT    NOT NULL,
  version     INTEGER NOT NULL,
  deleted     INTEGER NOT NULL DEFAULT 0,
  data        TEXT,
  batch_id    TEXT    NOT NULL,
  ingested_at TEXT    NOT NULL,
  PRIMARY KEY (resource, record_key)
) STRICT, WITHOUT ROWID`,
			`CREATE TABLE schema_versions (
  resource    TEXT    NOT NULL,
  version     INTEGER NOT NULL,
  fingerprint TEXT    NOT NULL,
  fields      TEXT,
  created_at  TEXT    NOT NULL,
  PRIMARY KEY (resource, version)
) STRICT`,
			`CREATE TABLE agents (
  agent_id       TEXT NOT NULL PRIMARY KEY,
  dept           TEXT NOT NULL,
  version        TEXT NOT NULL,
  resources      TEXT,
  last_error     TEXT NOT NULL,
  registered_at  TEXT NOT NULL,
  last_heartbeat TEXT NOT NULL
) STRICT`,
			`CREATE TABLE api_tokens (
  id         TEXT NOT NULL PRIMARY KEY,
  name       TEXT NOT NULL,
  dept       TEXT NOT NULL,
  role       TEXT NOT NULL,
  hash       TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL,
  revoked_at TEXT
) STRICT`,
			`CREATE TABLE dead_letters (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  topic           TEXT    NOT NULL,
  kafka_partition INTEGER NOT NULL,
  kafka_offset    INTEGER NOT NULL,
  resource        TEXT    NOT NULL,
  dept            TEXT    NOT NULL,
  batch_id        TEXT    NOT NULL,
  reason          TEXT    NOT NULL,
  headers         TEXT,
  payload         BLOB,
  received_at     TEXT    NOT NULL,
  UNIQUE (topic, kafka_partition, kafka_offset)
) STRICT`,
		},
		mysql: []string{
			`CREATE TABLE IF NOT EXISTS source_records (
  resource    VARBINARY(256)  NOT NULL,
  record_key  VARBINARY(1020) NOT NULL,
  dept        VARCHAR(64)     NOT NULL,
  version     BIGINT          NOT NULL,
  deleted     TINYINT(1)      NOT NULL DEFAULT 0,
  data        LONGTEXT        NULL,
  batch_id    VARCHAR(128)    NOT NULL,
  ingested_at DATETIME(6)     NOT NULL,
  PRIMARY KEY (resource, record_key)
)` + mysqlTable,
			`CREATE TABLE IF NOT EXISTS schema_versions (
  resource    VARBINARY(256) NOT NULL,
  version     INT            NOT NULL,
  fingerprint VARCHAR(128)   NOT NULL,
  fields      LONGTEXT       NULL,
  created_at  DATETIME(6)    NOT NULL,
  PRIMARY KEY (resource, version)
)` + mysqlTable,
			`CREATE TABLE IF NOT EXISTS agents (
  agent_id       VARBINARY(512) NOT NULL,
  dept           VARCHAR(64)    NOT NULL,
  version        VARCHAR(128)   NOT NULL,
  resources      LONGTEXT       NULL,
  last_error     TEXT           NOT NULL,
  registered_at  DATETIME(6)    NOT NULL,
  last_heartbeat DATETIME(6)    NOT NULL,
  PRIMARY KEY (agent_id)
)` + mysqlTable,
			`CREATE TABLE IF NOT EXISTS api_tokens (
  id         VARBINARY(256) NOT NULL,
  name       VARCHAR(255)   NOT NULL,
  dept       VARCHAR(64)    NOT NULL,
  role       VARCHAR(16)    NOT NULL,
  hash       VARBINARY(512) NOT NULL,
  created_at DATETIME(6)    NOT NULL,
  revoked_at DATETIME(6)    NULL,
  PRIMARY KEY (id),
  UNIQUE KEY api_tokens_hash (hash)
)` + mysqlTable,
			`CREATE TABLE IF NOT EXISTS dead_letters (
  id              BIGINT        NOT NULL AUTO_INCREMENT,
  topic           VARBINARY(249) NOT NULL,
  kafka_partition INT           NOT NULL,
  kafka_offset    BIGINT        NOT NULL,
  resource        VARCHAR(255)  NOT NULL,
  dept            VARCHAR(255)  NOT NULL,
  batch_id        VARCHAR(255)  NOT NULL,
  reason          TEXT          NOT NULL,
  headers         LONGTEXT      NULL,
  payload         MEDIUMBLOB    NULL,
  received_at     DATETIME(6)   NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY dead_letters_message (topic, kafka_partition, kafka_offset)
)` + mysqlTable,
		},
	}
}
