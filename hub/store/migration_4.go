package store

// migrationGolden: golden records, field history, conflicts and the change
// outbox. Statements for both backends (MySQL ones safe to repeat).
//
// golden_records holds one row per subject (data and provenance are JSON
// objects keyed by field); golden_history and conflict_events are
// append-only; golden_outbox is read and emptied by the change publisher.
// conflict_resources lists the resources whose values a conflict carries, so
// that conflicts can be counted and filtered per resource.
func migrationGolden() migration {
	return migration{
		version: 4,
		name:    "golden records, field history, conflicts and the change outbox",
		sqlite: []string{
			`CREATE TABLE golden_records (
  subject_type TEXT    NOT NULL,
  subject_id   TEXT    NOT NULL,
  library      TEXT    NOT NULL,
  data         TEXT    NOT NULL,
  provenance   TEXT    NOT NULL,
  revision     INTEGER NOT NULL,
  updated_at   TEXT    NOT NULL,
  PRIMARY KEY (subject_type, subject_id)
) STRICT`,
			`CREATE TABLE golden_history (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  subject_type TEXT NOT NULL,
  subject_id   TEXT NOT NULL,
  field        TEXT NOT NULL,
  value        TEXT,
  provenance   TEXT,
  changed_at   TEXT NOT NULL
) STRICT`,
			`CREATE INDEX golden_history_subject ON golden_history (subject_type, subject_id, field, id)`,
			`CREATE TABLE golden_outbox (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  library      TEXT NOT NULL,
  subject_type TEXT NOT NULL,
  subject_id   TEXT NOT NULL,
  payload      TEXT,
  created_at   TEXT NOT NULL
) STRICT`,
			`CREATE TABLE conflicts (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  subject_type  TEXT NOT NULL,
  subject_id    TEXT NOT NULL,
  field         TEXT NOT NULL,
  status        TEXT NOT NULL,
  source_values TEXT NOT NULL,
  values_hash   TEXT NOT NULL,
  opened_at     TEXT NOT NULL,
  updated_at    TEXT NOT NULL,
  decision      TEXT NOT NULL DEFAULT '',
  decided_by    TEXT NOT NULL DEFAULT '',
  note          TEXT NOT NULL DEFAULT '',
  UNIQUE (subject_type, subject_id, field)
) STRICT`,
			`CREATE INDEX conflicts_status ON conflicts (status, id)`,
			`CREATE TABLE conflict_resources (
  conflict_id INTEGER NOT NULL,
  resource    TEXT    NOT NULL,
  PRIMARY KEY (conflict_id, resource)
) STRICT`,
			`CREATE INDEX conflict_resources_resource ON conflict_resources (resource, conflict_id)`,
			`CREATE TABLE conflict_events (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  conflict_id INTEGER NOT NULL,
  event       TEXT    NOT NULL,
  actor       TEXT    NOT NULL,
  note        TEXT    NOT NULL,
  at          TEXT    NOT NULL
) STRICT`,
			`CREATE INDEX conflict_events_conflict ON conflict_events (conflict_id, id)`,
		},
		mysql: []string{
			`CREATE TABLE IF NOT EXISTS golden_records (
  subject_type VARBINARY(64)  NOT NULL,
  subject_id   VARBINARY(256) NOT NULL,
  library      VARCHAR(64)    NOT NULL,
  data         LONGTEXT       NOT NULL,
  provenance   LONGTEXT       NOT NULL,
  revision     BIGINT         NOT NULL,
  updated_at   DATETIME(6)    NOT NULL,
  PRIMARY KEY (subject_type, subject_id)
)` + mysqlTable,
			`CREATE TABLE IF NOT EXISTS golden_history (
  id           BIGINT         NOT NULL AUTO_INCREMENT,
  subject_type VARBINARY(64)  NOT NULL,
  subject_id   VARBINARY(256) NOT NULL,
  field        VARBINARY(256) NOT NULL,
  value        LONGTEXT       NULL,
  provenance   TEXT           NULL,
  changed_at   DATETIME(6)    NOT NULL,
  PRIMARY KEY (id),
  KEY golden_history_subject (subject_type, subject_id, field, id)
)` + mysqlTable,
			`CREATE TABLE IF NOT EXISTS golden_outbox (
  id           BIGINT         NOT NULL AUTO_INCREMENT,
  library      VARCHAR(64)    NOT NULL,
  subject_type VARBINARY(64)  NOT NULL,
  subject_id   VARBINARY(256) NOT NULL,
  payload      LONGTEXT       NULL,
  created_at   DATETIME(6)    NOT NULL,
  PRIMARY KEY (id)
)` + mysqlTable,
			`CREATE TABLE IF NOT EXISTS conflicts (
  id            BIGINT         NOT NULL AUTO_INCREMENT,
  subject_type  VARBINARY(64)  NOT NULL,
  subject_id    VARBINARY(256) NOT NULL,
  field         VARBINARY(256) NOT NULL,
  status        VARCHAR(32)    NOT NULL,
  source_values LONGTEXT       NOT NULL,
  values_hash   VARCHAR(64)    NOT NULL,
  opened_at     DATETIME(6)    NOT NULL,
  updated_at    DATETIME(6)    NOT NULL,
  decision      VARCHAR(32)    NOT NULL DEFAULT '',
  decided_by    VARCHAR(255)   NOT NULL DEFAULT '',
  note          TEXT           NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY conflicts_field (subject_type, subject_id, field),
  KEY conflicts_status (status, id)
)` + mysqlTable,
			`CREATE TABLE IF NOT EXISTS conflict_resources (
  conflict_id BIGINT         NOT NULL,
  resource    VARBINARY(256) NOT NULL,
  PRIMARY KEY (conflict_id, resource),
  KEY conflict_resources_resource (resource, conflict_id)
)` + mysqlTable,
			`CREATE TABLE IF NOT EXISTS conflict_events (
  id          BIGINT        NOT NULL AUTO_INCREMENT,
  conflict_id BIGINT        NOT NULL,
  event       VARCHAR(32)   NOT NULL,
  actor       VARCHAR(255)  NOT NULL,
  note        TEXT          NOT NULL,
  at          DATETIME(6)   NOT NULL,
  PRIMARY KEY (id),
  KEY conflict_events_conflict (conflict_id, id)
)` + mysqlTable,
		},
	}
}
