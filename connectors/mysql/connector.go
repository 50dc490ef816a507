// Package mysql is the built-in MySQL connector (go-sql-driver/mysql): it
// describes a table through information_schema, reads it in primary-key order
// with keyset pagination, reads changes by a watermark column, lists its keys
// and looks rows up by key. Rows stream from the server and are converted from
// their raw text form straight into Arrow batches split by partition; a table
// is never loaded whole. Identifiers come only from the config and are
// validated and quoted; values always travel as ? parameters.
package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	gomysql "github.com/go-sql-driver/mysql"

	"github.com/tongban/tongban/connectors"
)

// DefaultChunkRows is the page size used when Source.ChunkRows is 0.
const DefaultChunkRows = 10000

// Connection pool limits per DSN.
const (
	maxOpenConns    = 4
	maxIdleConns    = 2
	connMaxLifetime = 30 * time.Minute
	connMaxIdleTime = 5 * time.Minute
)

// Connector reads MySQL and MariaDB tables. It keeps one connection pool per
// DSN; it is safe for concurrent use.
type Connector struct {
	mu     sync.Mutex
	pools  map[string]*sql.DB
	closed bool
	// lookups are the plans live lookups reuse.
	lookups lookupPlans
}

var _ connectors.Connector = (*Connector)(nil)

// New returns a connector with no open connections.
func New() *Connector {
	return &Connector{pools: make(map[string]*sql.DB)}
}

// db returns the pool for a DSN, opening it on first use.
func (c *Connector) db(dsn string) (*sql.DB, *gomysql.Config, error) {
	cfg, err := parseDSN(dsn)
	if err != nil {
		return nil, nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, nil, errors.New("mysql connector is closed")
	}
	if db, ok := c.pools[dsn]; ok {
		return db, cfg, nil
	}
	conn, err := gomysql.NewConnector(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("dsn: %w", err)
	}
	db := sql.OpenDB(conn)
	db.SetMaxOpenConns(maxOpenConns)
	db.SetMaxIdleConns(maxIdleConns)
	db.SetConnMaxLifetime(connMaxLifetime)
	db.SetConnMaxIdleTime(connMaxIdleTime)
	c.pools[dsn] = db
	return db, cfg, nil
}

// Close closes every connection pool.
func (c *Connector) Close() error {
	c.lookups.closeAll()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	var errs []error
	for dsn, db := range c.pools {
		if err := db.Close(); err != nil {
			errs = append(errs, err)
		}
		delete(c.pools, dsn)
	}
	return errors.Join(errs...)
}

// open validates the source, reads the table's columns and prepares the
// queries and value conversions for one call.
func (c *Connector) open(ctx context.Context, src connectors.Source, forRead bool) (*sql.DB, *plan, error) {
	db, cfg, err := c.db(src.DSN)
	if err != nil {
		return nil, nil, fmt.Errorf("resource %s: %w", src.Resource, err)
	}
	p, err := newPlan(ctx, db, cfg.DBName, src, forRead)
	if err != nil {
		return nil, nil, err
	}
	return db, p, nil
}
