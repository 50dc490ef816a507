package mysql

import (
	"context"
	"database/sql"
	"fmt"
)

// stmtCache prepares each query of a call once and reuses it for every page.
// All reads go through server-side prepared statements, so every value
// arrives in the binary protocol's form, the same on the first page (no
// parameters) as on the later ones.
type stmtCache struct {
	db    *sql.DB
	stmts map[string]*sql.Stmt
}

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, stmts: make(map[string]*sql.Stmt)}
}

func (c *stmtCache) get(ctx context.Context, query string) (*sql.Stmt, error) {
	if s, ok := c.stmts[query]; ok {
		return s, nil
	}
	s, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("prepare %s: %w", query, err)
	}
	c.stmts[query] = s
	return s, nil
}

func (c *stmtCache) close() {
	for q, s := range c.stmts {
		s.Close()
		delete(c.stmts, q)
	}
}
