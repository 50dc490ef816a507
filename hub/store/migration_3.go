package store

// migrationQuarantine: quarantine, quality fixes and daily quality figures.
// The quarantine keeps one row per (resource, key, field, rule) so that a
// record failing again refreshes its entry instead of piling up duplicates.
func migrationQuarantine() migration {
	return migration{
		version: 3,
		name:    "quarantine, quality fixes and daily quality figures",
		sqlite: []string{
			`CREATE TABLE quarantine (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  resource     TEXT    NOT NULL,
  record_key   TEXT    NOT NULL,
  field        TEXT    NOT NULL,
  rule         TEXT    NOT NULL,
  dept         TEXT    NOT NULL,
  version      INTEGER NOT NULL,
  data         TEXT,
  reason_en    TEXT    NOT NULL,
  reason_zh    TEXT    NOT NULL,
  status       TEXT    NOT NULL,
  opened_at    TEXT    NOT NULL,
  updated_at   TEXT    NOT NULL,
  closed_at    TEXT,
  close_reason TEXT    NOT NULL DEFAULT '',
  UNIQUE (resource, record_key, field, rule)
) STRICT`,
			`CREATE INDEX quarantine_status ON quarantine (status, id)`,
			`CREATE INDEX quarantine_dept ON quarantine (dept, status, id)`,
			`CREATE INDEX quarantine_resource ON quarantine (resource, status, record_key)`,
			`CREATE TABLE quality_fixes (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  resource   TEXT    NOT NULL,
  record_key TEXT    NOT NULL,
  field      TEXT    NOT NULL,
  rule       TEXT    NOT NULL,
  original   TEXT    NOT NULL,
  fixed      TEXT    NOT NULL,
  version    INTEGER NOT NULL,
  fixed_at   TEXT    NOT NULL,
  UNIQUE (resource, record_key, field, rule)
) STRICT`,
			`CREATE TABLE quality_daily (
  day         TEXT    NOT NULL,
  resource    TEXT    NOT NULL,
  dimension   TEXT    NOT NULL,
  field       TEXT    NOT NULL,
  dept        TEXT    NOT NULL,
  value       REAL    NOT NULL,
  numerator   INTEGER NOT NULL,
  denominator INTEGER NOT NULL,
  computed_at TEXT    NOT NULL,
  PRIMARY KEY (day, resource, dimension, field)
) STRICT`,
			`CREATE INDEX quality_daily_resource ON quality_daily (resource, day)`,
		},
		mysql: []string{
			`CREATE TABLE IF NOT EXISTS quarantine (
  id           BIGINT          NOT NULL AUTO_INCREMENT,
  resource     VARBINARY(256)  NOT NULL,
  record_key   VARBINARY(1020) NOT NULL,
  field        VARBINARY(256)  NOT NULL,
  rule         VARBINARY(128)  NOT NULL,
  dept         VARCHAR(64)     NOT NULL,
  version      BIGINT          NOT NULL,
  data         LONGTEXT        NULL,
  reason_en    TEXT            NOT NULL,
  reason_zh    TEXT            NOT NULL,
  status       VARCHAR(8)      NOT NULL,
  opened_at    DATETIME(6)     NOT NULL,
  updated_at   DATETIME(6)     NOT NULL,
  closed_at    DATETIME(6)     NULL,
  close_reason VARCHAR(32)     NOT NULL DEFAULT '',
  PRIMARY KEY (id),
  UNIQUE KEY quarantine_entry (resource, record_key, field, rule),
  KEY quarantine_status (status, id),
  KEY quarantine_dept (dept, status, id),
  KEY quarantine_resource (resource, status, record_key)
)` + mysqlTable,
			`CREATE TABLE IF NOT EXISTS quality_fixes (
  id         BIGINT          NOT NULL AUTO_INCREMENT,
  resource   VARBINARY(256)  NOT NULL,
  record_key VARBINARY(1020) NOT NULL,
  field      VARBINARY(256)  NOT NULL,
  rule       VARBINARY(128)  NOT NULL,
  original   TEXT            NOT NULL,
  fixed      TEXT            NOT NULL,
  version    BIGINT          NOT NULL,
  fixed_at   DATETIME(6)     NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY quality_fixes_entry (resource, record_key, field, rule)
)` + mysqlTable,
			`CREATE TABLE IF NOT EXISTS quality_daily (
  day         VARBINARY(10)  NOT NULL,
  resource    VARBINARY(256) NOT NULL,
  dimension   VARBINARY(32)  NOT NULL,
  field       VARBINARY(256) NOT NULL,
  dept        VARCHAR(64)    NOT NULL,
  value       DOUBLE         NOT NULL,
  numerator   BIGINT         NOT NULL,
  denominator BIGINT         NOT NULL,
  computed_at DATETIME(6)    NOT NULL,
  PRIMARY KEY (day, resource, dimension, field),
  KEY quality_daily_resource (resource, day)
)` + mysqlTable,
		},
	}
}
