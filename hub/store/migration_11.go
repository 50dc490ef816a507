package store

// migrationOpenData creates the open-data portal's release manifests
// (开放平台数据发布): one row per release of an open resource, numbered
// 1, 2, … per resource. The files themselves (CSV and Parquet) live in the
// portal's directory; a row names their sizes and SHA-256 digests. Fields is
// a JSON array of the resource's fields with what was done to each
// (published as is, masked, or omitted).
func migrationOpenData() migration {
	return migration{
		version: 11,
		name:    "open data releases",
		sqlite: []string{`CREATE TABLE open_releases (
  resource       TEXT    NOT NULL,
  release_no     INTEGER NOT NULL,
  name           TEXT    NOT NULL,
  published_at   TEXT    NOT NULL,
  published_by   TEXT    NOT NULL,
  row_count      INTEGER NOT NULL,
  csv_bytes      INTEGER NOT NULL,
  csv_sha256     TEXT    NOT NULL,
  parquet_bytes  INTEGER NOT NULL,
  parquet_sha256 TEXT    NOT NULL,
  fields         TEXT    NOT NULL,
  PRIMARY KEY (resource, release_no)
) STRICT, WITHOUT ROWID`},
		mysql: []string{`CREATE TABLE IF NOT EXISTS open_releases (
  resource       VARBINARY(256) NOT NULL,
  release_no     BIGINT         NOT NULL,
  name           VARCHAR(255)   NOT NULL,
  published_at   DATETIME(6)    NOT NULL,
  published_by   VARCHAR(255)   NOT NULL,
  row_count      BIGINT         NOT NULL,
  csv_bytes      BIGINT         NOT NULL,
  csv_sha256     VARCHAR(64)    NOT NULL,
  parquet_bytes  BIGINT         NOT NULL,
  parquet_sha256 VARCHAR(64)    NOT NULL,
  fields         LONGTEXT       NOT NULL,
  PRIMARY KEY (resource, release_no)
)` + mysqlTable},
	}
}
