package audit

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/tongban/tongban/hub/store"
)

func TestQuery(t *testing.T) {
	ts := newTestStore(t, store.DriverSQLite)
	ctx := context.Background()
	const n = 25
	fill(t, ts.db, n)
	subject := sampleEntry(3).SubjectID
	var want []int64 // the subject's entries, newest first
	for i := n - 1; i >= 0; i-- {
		if sampleEntry(i).SubjectID == subject {
			want = append(want, int64(i+1))
		}
	}
	var got []int64
	f := store.AuditFilter{SubjectType: "person", SubjectID: subject, Limit: 2}
	for pages := 0; ; pages++ {
		p, err := Query(ctx, ts.db, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range p.Entries {
			if e.SubjectID != subject {
				t.Fatalf("entry %d is about %s", e.Seq, e.SubjectID)
			}
			got = append(got, e.Seq)
		}
		if p.Next == 0 {
			break
		}
		if pages > n {
			t.Fatal("paging does not end")
		}
		f.Before = p.Next
	}
	if !slices.Equal(got, want) {
		t.Fatalf("subject history %v, want %v", got, want)
	}

	p, err := Query(ctx, ts.db, store.AuditFilter{Dept: sampleEntry(1).Dept, Resource: sampleEntry(1).Resource})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range p.Entries {
		if e.Dept != sampleEntry(1).Dept || e.Resource != sampleEntry(1).Resource {
			t.Fatalf("entry %d: dept %s resource %s", e.Seq, e.Dept, e.Resource)
		}
	}
	if len(p.Entries) == 0 || p.Next != 0 {
		t.Fatalf("dept+resource page: %d entries, next %d", len(p.Entries), p.Next)
	}
	at := sampleEntry(0).At
	if _, err := Query(ctx, ts.db, store.AuditFilter{Since: at, Until: at.Add(-time.Second)}); err == nil {
		t.Fatal("since after until accepted")
	}
}
