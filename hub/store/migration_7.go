package store

// migrationAudit: the audit log (数据使用可追溯), an SM3 hash chain.
//
// audit_log holds one row per logged call, seq strictly consecutive from 1;
// each row's hash covers its content and the previous row's hash (package
// hub/audit defines the encoding). audit_head is a single row (id 1) holding
// the last seq and hash: appenders lock it in their transaction, which
// serialises them across hub processes and keeps seq free of gaps, and
// verification compares it with the last row to notice rows deleted at the
// end. Genesis: last_seq 0, last_hash 32 zero bytes.
//
// Hashes are binary (32 bytes); fields is a JSON list of field names; detail
// an optional JSON value. Identifier columns are VARBINARY on MySQL so that
// what is read back is byte for byte what was hashed.
func migrationAudit() migration {
	return migration{
		version: 7,
		name:    "the audit log (SM3 hash chain)",
		sqlite: []string{
			`CREATE TABLE audit_log (
  seq          INTEGER NOT NULL PRIMARY KEY,
  at           TEXT    NOT NULL,
  actor        TEXT    NOT NULL,
  dept         TEXT    NOT NULL,
  action       TEXT    NOT NULL,
  resource     TEXT    NOT NULL,
  subject_type TEXT    NOT NULL,
  subject_id   TEXT    NOT NULL,
  fields       TEXT    NOT NULL,
  purpose      TEXT    NOT NULL,
  item_code    TEXT    NOT NULL,
  result       TEXT    NOT NULL,
  reason       TEXT    NOT NULL,
  detail       TEXT,
  prev_hash    BLOB    NOT NULL,
  hash         BLOB    NOT NULL
) STRICT`,
			`CREATE INDEX audit_log_dept ON audit_log (dept, seq)`,
			`CREATE INDEX audit_log_actor ON audit_log (actor, seq)`,
			`CREATE INDEX audit_log_resource ON audit_log (resource, seq)`,
			`CREATE INDEX audit_log_subject ON audit_log (subject_type, subject_id, seq)`,
			`CREATE INDEX audit_log_action ON audit_log (action, seq)`,
			`CREATE INDEX audit_log_at ON audit_log (at)`,
			`CREATE TABLE audit_head (
  id        INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
  last_seq  INTEGER NOT NULL,
  last_hash BLOB    NOT NULL
) STRICT`,
			`INSERT INTO audit_head (id, last_seq, last_hash) VALUES (1, 0, zeroblob(32))`,
		},
		mysql: []string{
			`CREATE TABLE IF NOT EXISTS audit_log (
  seq          BIGINT          NOT NULL,
  at           DATETIME(6)     NOT NULL,
  actor        VARBINARY(256)  NOT NULL,
  dept         VARBINARY(256)  NOT NULL,
  action       VARBINARY(64)   NOT NULL,
  resource     VARBINARY(256)  NOT NULL,
  subject_type VARBINARY(32)   NOT NULL,
  subject_id   VARBINARY(256)  NOT NULL,
  fields       MEDIUMTEXT      NOT NULL,
  purpose      TEXT            NOT NULL,
  item_code    VARBINARY(256)  NOT NULL,
  result       VARBINARY(16)   NOT NULL,
  reason       TEXT            NOT NULL,
  detail       MEDIUMTEXT      NULL,
  prev_hash    VARBINARY(64)   NOT NULL,
  hash         VARBINARY(64)   NOT NULL,
  PRIMARY KEY (seq),
  KEY audit_log_dept (dept, seq),
  KEY audit_log_actor (actor, seq),
  KEY audit_log_resource (resource, seq),
  KEY audit_log_subject (subject_type, subject_id, seq),
  KEY audit_log_action (action, seq),
  KEY audit_log_at (at)
)` + mysqlTable,
			`CREATE TABLE IF NOT EXISTS audit_head (
  id        INT           NOT NULL,
  last_seq  BIGINT        NOT NULL,
  last_hash VARBINARY(64) NOT NULL,
  PRIMARY KEY (id)
)` + mysqlTable,
			`INSERT IGNORE INTO audit_head (id, last_seq, last_hash) VALUES (1, 0, UNHEX(REPEAT('00', 32)))`,
		},
	}
}
