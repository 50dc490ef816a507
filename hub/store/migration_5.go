package store

// migrationObjections: objections on public data (异议, 大庆 第33条, 吉林 第46条)
// and their append-only event log. Statements for both backends (MySQL ones
// safe to repeat). Due dates are calendar dates (the last day of a stage, in
// the deadline zone the objection service uses): TEXT "YYYY-MM-DD" on SQLite,
// DATE on MySQL, so that comparing with a "YYYY-MM-DD" argument orders them
// on both.
func migrationObjections() migration {
	return migration{
		version: 5,
		name:    "objections and notifications",
		sqlite: []string{`CREATE TABLE objections (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  subject_type  TEXT NOT NULL,
  subject_id    TEXT NOT NULL,
  field         TEXT NOT NULL,
  reason        TEXT NOT NULL,
  filer_kind    TEXT NOT NULL,
  filer_id      TEXT NOT NULL,
  filed_by      TEXT NOT NULL,
  status        TEXT NOT NULL,
  filed_at      TEXT NOT NULL,
  marked_at     TEXT NOT NULL,
  decide_due    TEXT NOT NULL,
  forwarded_to  TEXT,
  forwarded_at  TEXT,
  verify_due    TEXT,
  verified_at   TEXT,
  verify_result TEXT,
  decided_at    TEXT,
  result        TEXT,
  result_note   TEXT,
  notified_at   TEXT,
  closed_at     TEXT
) STRICT`,
			`CREATE INDEX objections_subject ON objections (subject_type, subject_id, id)`,
			`CREATE INDEX objections_status ON objections (status, id)`,
			`CREATE TABLE objection_events (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  objection_id INTEGER NOT NULL,
  event        TEXT NOT NULL,
  actor        TEXT NOT NULL,
  note         TEXT NOT NULL,
  at           TEXT NOT NULL
) STRICT`,
			`CREATE INDEX objection_events_objection ON objection_events (objection_id, id)`,
		},
		mysql: []string{`CREATE TABLE IF NOT EXISTS objections (
  id            BIGINT         NOT NULL AUTO_INCREMENT,
  subject_type  VARBINARY(32)  NOT NULL,
  subject_id    VARBINARY(256) NOT NULL,
  field         VARBINARY(512) NOT NULL,
  reason        TEXT           NOT NULL,
  filer_kind    VARCHAR(16)    NOT NULL,
  filer_id      VARBINARY(256) NOT NULL,
  filed_by      VARBINARY(256) NOT NULL,
  status        VARCHAR(16)    NOT NULL,
  filed_at      DATETIME(6)    NOT NULL,
  marked_at     DATETIME(6)    NOT NULL,
  decide_due    DATE           NOT NULL,
  forwarded_to  VARBINARY(256) NULL,
  forwarded_at  DATETIME(6)    NULL,
  verify_due    DATE           NULL,
  verified_at   DATETIME(6)    NULL,
  verify_result VARCHAR(16)    NULL,
  decided_at    DATETIME(6)    NULL,
  result        VARCHAR(16)    NULL,
  result_note   TEXT           NULL,
  notified_at   DATETIME(6)    NULL,
  closed_at     DATETIME(6)    NULL,
  PRIMARY KEY (id),
  KEY objections_subject (subject_type, subject_id, id),
  KEY objections_status (status, id)
)` + mysqlTable,
			`CREATE TABLE IF NOT EXISTS objection_events (
  id           BIGINT         NOT NULL AUTO_INCREMENT,
  objection_id BIGINT         NOT NULL,
  event        VARCHAR(32)    NOT NULL,
  actor        VARBINARY(256) NOT NULL,
  note         TEXT           NOT NULL,
  at           DATETIME(6)    NOT NULL,
  PRIMARY KEY (id),
  KEY objection_events_objection (objection_id, id)
)` + mysqlTable,
		},
	}
}
