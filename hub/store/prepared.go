package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
)

// maxPrepared bounds the statements a DB keeps prepared; past it, queries
// run unprepared (a query whose text varies, such as an IN list of varying
// length, cannot fill the cache for ever).
const maxPrepared = 256

// stmtCache keeps prepared statements by query text. The SQLite driver
// parses and plans every unprepared query again, which dominated the hot
// API paths (a token lookup per call); database/sql prepares a cached
// statement once per connection and reuses it.
type stmtCache struct {
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

// prepared returns the cached statement of q, preparing it if needed; nil
// (without error) when the cache is full.
func (s *DB) prepared(ctx context.Context, q string) (*sql.Stmt, error) {
	c := &s.stmts
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.m[q]; ok {
		return st, nil
	}
	if len(c.m) >= maxPrepared {
		return nil, nil
	}
	st, err := s.db.PrepareContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("prepare: %w", err)
	}
	if c.m == nil {
		c.m = map[string]*sql.Stmt{}
	}
	c.m[q] = st
	return st, nil
}

// queryContext runs q as a cached prepared statement.
func (s *DB) queryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	st, err := s.prepared(ctx, q)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return s.db.QueryContext(ctx, q, args...)
	}
	return st.QueryContext(ctx, args...)
}

// queryRowContext is queryContext for one row. A failure to prepare shows
// as the row's error.
func (s *DB) queryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	st, err := s.prepared(ctx, q)
	if err != nil || st == nil {
		return s.db.QueryRowContext(ctx, q, args...)
	}
	return st.QueryRowContext(ctx, args...)
}

// cached is the pool as a querier whose queries go through the cache.
type cached struct{ s *DB }

func (c cached) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return c.s.queryContext(ctx, q, args...)
}

// closeStatements closes the cached statements.
func (s *DB) closeStatements() error {
	c := &s.stmts
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for q, st := range c.m {
		if err := st.Close(); err != nil {
			errs = append(errs, err)
		}
		delete(c.m, q)
	}
	return errors.Join(errs...)
}
