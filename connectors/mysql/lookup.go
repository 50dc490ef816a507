package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"reflect"
	"sync"
	"time"

	"github.com/tongban/tongban/connectors"
)

// lookupPlanTTL bounds how long a lookup reuses the plan (the table's
// columns from information_schema) and the prepared statement it built: a
// changed table is seen again within it.
const lookupPlanTTL = time.Minute

// lookupPlan is what a live lookup of one source reuses: building a plan
// reads information_schema, which costs more than the lookup itself and
// made concurrent lookups queue behind each other.
type lookupPlan struct {
	src   connectors.Source
	plan  *plan
	query string
	stmt  *sql.Stmt
	built time.Time
}

// lookupPlans caches one lookupPlan per resource.
type lookupPlans struct {
	mu    sync.Mutex
	plans map[string]*lookupPlan
}

// get returns the resource's cached plan if it was built for an equal
// source within the TTL.
func (l *lookupPlans) get(src connectors.Source, now time.Time) (*lookupPlan, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	lp, ok := l.plans[src.Resource]
	if !ok || now.Sub(lp.built) > lookupPlanTTL || !reflect.DeepEqual(lp.src, src) {
		return nil, false
	}
	return lp, true
}

// put caches lp, closing the statement of the plan it replaces.
func (l *lookupPlans) put(lp *lookupPlan) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.plans == nil {
		l.plans = make(map[string]*lookupPlan)
	}
	if old, ok := l.plans[lp.src.Resource]; ok && old != lp {
		_ = old.stmt.Close() // statements in use finish first (database/sql)
	}
	l.plans[lp.src.Resource] = lp
}

// drop forgets lp (after a failed lookup: the table may have changed).
func (l *lookupPlans) drop(lp *lookupPlan) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if cur, ok := l.plans[lp.src.Resource]; ok && cur == lp {
		delete(l.plans, lp.src.Resource)
		_ = lp.stmt.Close()
	}
}

// closeAll closes every cached statement.
func (l *lookupPlans) closeAll() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for k, lp := range l.plans {
		_ = lp.stmt.Close()
		delete(l.plans, k)
	}
}

// Lookup implements connectors.Connector: one row by primary key (a live
// lookup), as a chunk of one batch; Rows is 0 when there is no such row.
// The plan and the prepared statement are reused for lookupPlanTTL.
func (c *Connector) Lookup(ctx context.Context, src connectors.Source, key []string) (connectors.Chunk, error) {
	lp, ok := c.lookups.get(src, time.Now())
	if !ok {
		db, p, err := c.open(ctx, src, true)
		if err != nil {
			return connectors.Chunk{}, err
		}
		q := p.lookupQuery()
		stmt, err := db.PrepareContext(ctx, q)
		if err != nil {
			return connectors.Chunk{}, fmt.Errorf("resource %s: prepare %s: %w", src.Resource, q, err)
		}
		lp = &lookupPlan{src: src, plan: p, query: q, stmt: stmt, built: time.Now()}
		c.lookups.put(lp)
	}
	args, err := lp.plan.keyArgs(key)
	if err != nil {
		return connectors.Chunk{}, err
	}
	stmts := &stmtCache{stmts: map[string]*sql.Stmt{lp.query: lp.stmt}}
	r := newPageReader(lp.plan, false)
	defer r.release()
	ch, err := r.read(ctx, stmts, lp.query, args)
	if err != nil {
		c.lookups.drop(lp)
	}
	return ch, err
}
