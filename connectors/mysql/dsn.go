package mysql

import (
	"errors"
	"fmt"
	"time"

	gomysql "github.com/go-sql-driver/mysql"
)

// Timeouts applied when the DSN sets none. The read timeout is long because
// a page query on a large table may sort before it sends its first row.
const (
	DefaultDialTimeout  = 10 * time.Second
	DefaultReadTimeout  = 5 * time.Minute
	DefaultWriteTimeout = time.Minute
)

// parseDSN reads a go-sql-driver DSN and forces what the connector relies on:
// raw text values (parseTime=false) in the text protocol (interpolateParams:
// the driver puts a query's parameters into its text, so every read is one
// COM_QUERY round trip and values arrive as the server's text, which the
// converters parse directly, with no binary value formatted into text on the
// way), a utf8mb4 connection (so the server converts GBK and other declared
// charsets to UTF-8, and interpolation is safe) and finite timeouts.
func parseDSN(dsn string) (*gomysql.Config, error) {
	if dsn == "" {
		return nil, errors.New("dsn: empty")
	}
	cfg, err := gomysql.ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("dsn: %w", err)
	}
	cfg.ParseTime = false
	cfg.InterpolateParams = true
	if err := cfg.Apply(gomysql.Charset("utf8mb4", "utf8mb4_general_ci")); err != nil {
		return nil, fmt.Errorf("dsn: %w", err)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultDialTimeout
	}
	if cfg.ReadTimeout <= 0 {
		cfg.ReadTimeout = DefaultReadTimeout
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = DefaultWriteTimeout
	}
	return cfg, nil
}
