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
	// users counts the lookups holding the plan; a retired plan (replaced,
	// dropped or closed) closes its statement when the last one lets go.
	users   int
	retired bool
}

// lookupPlans caches one lookupPlan per resource.
type lookupPlans struct {
	mu    sync.Mutex
	plans map[string]*lookupPlan
}

func (l *lookupPlans) fresh(lp *lookupPlan, src connectors.Source, now time.Time) bool {
	return now.Sub(lp.built) <= lookupPlanTTL && reflect.DeepEqual(lp.src, src)
}

// get returns, held, the resource's cached plan if it was built for an
// equal source within the TTL.
func (l *lookupPlans) get(src connectors.Source, now time.Time) (*lookupPlan, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	lp, ok := l.plans[src.Resource]
	if !ok || !l.fresh(lp, src, now) {
		return nil, false
	}
	lp.users++
	return lp, true
}

// put caches lp and returns it held; when a concurrent lookup cached a
// fresh plan of the same source first, that one is returned instead and
// lp's statement closed.
func (l *lookupPlans) put(lp *lookupPlan) *lookupPlan {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.plans == nil {
		l.plans = make(map[string]*lookupPlan)
	}
	if cur, ok := l.plans[lp.src.Resource]; ok {
		if l.fresh(cur, lp.src, lp.built) {
			_ = lp.stmt.Close()
			cur.users++
			return cur
		}
		l.retire(cur)
	}
	lp.users = 1
	l.plans[lp.src.Resource] = lp
	return lp
}

// release lets go of a held plan.
func (l *lookupPlans) release(lp *lookupPlan) {
	l.mu.Lock()
	defer l.mu.Unlock()
	lp.users--
	if lp.retired && lp.users == 0 {
		_ = lp.stmt.Close()
	}
}

// drop forgets lp (after a failed lookup: the table may have changed).
func (l *lookupPlans) drop(lp *lookupPlan) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if cur, ok := l.plans[lp.src.Resource]; ok && cur == lp {
		delete(l.plans, lp.src.Resource)
		l.retire(lp)
	}
}

// retire marks lp replaced; its statement closes now if no lookup holds it.
// Called with l.mu held.
func (l *lookupPlans) retire(lp *lookupPlan) {
	lp.retired = true
	if lp.users == 0 {
		_ = lp.stmt.Close()
	}
}

// closeAll retires every cached plan.
func (l *lookupPlans) closeAll() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for k, lp := range l.plans {
		l.retire(lp)
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
		lp = c.lookups.put(&lookupPlan{src: src, plan: p, query: q, stmt: stmt, built: time.Now()})
	}
	defer c.lookups.release(lp)
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
