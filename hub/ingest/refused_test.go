package ingest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/tongban/tongban/hub/store"
)

// refusingStore refuses, as the store does for a record it cannot hold,
// any batch containing the key refuse; everything else goes to the real store.
type refusingStore struct {
	*store.DB
	refuse string
}

func (s *refusingStore) ApplyRecords(ctx context.Context, recs []store.Record) (store.ApplyResult, error) {
	for i, r := range recs {
		if r.Key == s.refuse {
			return store.ApplyResult{}, fmt.Errorf("store: apply records: record %d (key %q): %w: too odd", i, r.Key, store.ErrInvalidRecord)
		}
	}
	return s.DB.ApplyRecords(ctx, recs)
}

// A record the store refuses must not block the partition: its message
// becomes a dead letter, the other messages of the group are applied.
func TestStoreRefusalIsDeadLetteredNotRetriedForever(t *testing.T) {
	e := newEnv(t, nil)
	good := people(40, 3)
	bad := row{id: "230602199099999999", name: "拒收", version: 3}
	msgs := append(e.upserts("good", good...), e.upserts("bad", bad)...)
	e.produce(msgs...)
	r := e.start("g", &refusingStore{DB: e.db, refuse: bad.id})
	s := r.waitMessages(t, int64(len(msgs)))
	checkRows(t, e, good)
	if s.DeadLetters != 1 {
		t.Fatalf("%d dead letters, want 1 (the refused message); stats %+v", s.DeadLetters, s)
	}
	dls, err := e.db.ListDeadLetters(context.Background(), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(dls) != 1 || dls[0].BatchID == "" || !strings.Contains(dls[0].Reason, "store refused a record") {
		t.Fatalf("dead letters %+v", dls)
	}
}
