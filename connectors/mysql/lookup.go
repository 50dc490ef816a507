package mysql

import (
	"context"
	"database/sql"
	"reflect"
	"sync"
	"time"

	"github.com/tongban/tongban/connectors"
)

// lookupPlanTTL bounds how long a lookup reuses the plan (the table's
// columns from information_schema): a changed table is seen again within it.
const lookupPlanTTL = time.Minute

// lookupPlan is what a live lookup of one source reuses: building a plan
// reads information_schema, which costs more than the lookup itself and
// made concurrent lookups queue behind each other. A plan is never changed
// once built, so lookups share it freely.
type lookupPlan struct {
	src   connectors.Source
	db    *sql.DB
	plan  *plan
	query string
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

// put caches lp for its resource, replacing what was there.
func (l *lookupPlans) put(lp *lookupPlan) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.plans == nil {
		l.plans = make(map[string]*lookupPlan)
	}
	l.plans[lp.src.Resource] = lp
}

// drop forgets lp (after a failed lookup: the table may have changed).
func (l *lookupPlans) drop(lp *lookupPlan) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if cur, ok := l.plans[lp.src.Resource]; ok && cur == lp {
		delete(l.plans, lp.src.Resource)
	}
}

// closeAll forgets every cached plan.
func (l *lookupPlans) closeAll() {
	l.mu.Lock()
	defer l.mu.Unlock()
	clear(l.plans)
}

// Lookup implements connectors.Connector: one row by primary key (a live
// lookup), as a chunk of one batch; Rows is 0 when there is no such row.
// The plan is reused for lookupPlanTTL; the query is one round trip (its
// parameters interpolated by the driver, see parseDSN).
func (c *Connector) Lookup(ctx context.Context, src connectors.Source, key []string) (connectors.Chunk, error) {
	lp, ok := c.lookups.get(src, time.Now())
	if !ok {
		db, p, err := c.open(ctx, src, true)
		if err != nil {
			return connectors.Chunk{}, err
		}
		lp = &lookupPlan{src: src, db: db, plan: p, query: p.lookupQuery(), built: time.Now()}
		c.lookups.put(lp)
	}
	args, err := lp.plan.keyArgs(key)
	if err != nil {
		return connectors.Chunk{}, err
	}
	r := newPageReader(lp.plan, false)
	defer r.release()
	ch, err := r.read(ctx, lp.db, lp.query, args)
	if err != nil {
		c.lookups.drop(lp)
	}
	return ch, err
}
