package ingest

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tongban/tongban/hub/store"
	"github.com/tongban/tongban/identifier"
	"github.com/tongban/tongban/quality"
)

// recordingMerger remembers the subject refs it was asked to merge.
type recordingMerger struct {
	mu   sync.Mutex
	refs []store.SubjectRef
}

func (m *recordingMerger) Merge(_ context.Context, refs []store.SubjectRef) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.refs = append(m.refs, refs...)
	return nil
}

func (m *recordingMerger) subjects() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for _, r := range m.refs {
		out = append(out, r.Subject)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func citizenID(t *testing.T, seq int) string {
	t.Helper()
	id, err := identifier.FormatCitizenID("230602", time.Date(1990, 2, 28, 0, 0, 0, 0, time.UTC), seq)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// With quality checks on, a failing record is quarantined (not stored), a
// legacy 15-digit ID is upgraded in the stored data (the key stays the
// source's), the fix is recorded, and the merger is told the subjects; a
// corrected row or a tombstone closes the entries.
func TestQualityChecksQuarantineAndFix(t *testing.T) {
	e := newEnv(t, nil)
	rules, err := quality.Compile([]quality.Rule{
		{Kind: quality.KindCitizenID, Field: "citizen_id"},
		{Kind: quality.KindLength, Field: "name", Max: "4"},
	})
	if err != nil {
		t.Fatal(err)
	}
	e.cat[testRes].Rules = rules

	good := row{id: citizenID(t, 101), name: "张三", version: 10}
	badCheck := []byte(citizenID(t, 102))
	badCheck[17] = map[bool]byte{true: '1', false: '2'}[badCheck[17] != '1']
	bad := row{id: string(badCheck), name: "李四", version: 10}
	long := row{id: citizenID(t, 103), name: "欧阳长名字啊", version: 10}
	legacy15 := "230602900228105" // 15-digit: region 230602, 1990-02-28, sequence 105
	upgraded, err := identifier.UpgradeCitizenID(legacy15)
	if err != nil {
		t.Fatal(err)
	}
	legacy := row{id: legacy15, name: "王五", version: 10}

	m := &recordingMerger{}
	msgs := e.upserts("b1", good, bad, long, legacy)
	e.produce(msgs...)
	r := e.startWith("q", nil, func(c *Config) { c.Quality = e.db; c.Merger = m })
	s := r.waitMessages(t, int64(len(msgs)))
	if s.DeadLetters != 0 {
		t.Fatalf("dead letters: %+v", s)
	}

	got := e.dump()
	keys := make([]string, len(got))
	for i, rec := range got {
		keys[i] = rec.Key
	}
	want := []string{good.id, legacy15}
	slices.Sort(want)
	if !slices.Equal(keys, want) {
		t.Fatalf("stored keys %v, want %v (the failing rows quarantined, not stored)", keys, want)
	}
	for _, rec := range got {
		if rec.Key != legacy15 {
			continue
		}
		var data map[string]any
		if err := json.Unmarshal(rec.Data, &data); err != nil {
			t.Fatal(err)
		}
		if data["citizen_id"] != upgraded || rec.Subject != upgraded {
			t.Errorf("legacy row stored with citizen_id %v, subject %q; want both %s", data["citizen_id"], rec.Subject, upgraded)
		}
	}

	ctx := context.Background()
	open, err := e.db.ListQuarantine(ctx, store.QuarantineFilter{Resource: testRes, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	type entry struct{ key, field, rule string }
	var gotQ []entry
	for _, q := range open {
		gotQ = append(gotQ, entry{q.Key, q.Field, q.Rule})
		if q.ReasonZH == "" || q.ReasonEN == "" || len(q.Data) == 0 || q.Dept != testDept {
			t.Errorf("quarantine entry lacks reason, data or dept: %+v", q)
		}
	}
	wantQ := []entry{{bad.id, "citizen_id", quality.KindCitizenID}, {long.id, "name", quality.KindLength}}
	slices.SortFunc(gotQ, func(a, b entry) int { return strings.Compare(a.key, b.key) })
	slices.SortFunc(wantQ, func(a, b entry) int { return strings.Compare(a.key, b.key) })
	if !slices.Equal(gotQ, wantQ) {
		t.Fatalf("open quarantine %v, want %v", gotQ, wantQ)
	}

	fixes, err := e.db.ListFixes(ctx, testRes, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(fixes) != 1 || fixes[0].Key != legacy15 || fixes[0].Fixed != upgraded || !strings.Contains(fixes[0].Original, legacy15) {
		t.Fatalf("fixes %+v, want the upgrade of %s to %s", fixes, legacy15, upgraded)
	}
	if subj := m.subjects(); !slices.Equal(subj, func() []string { w := []string{good.id, upgraded}; slices.Sort(w); return w }()) {
		t.Errorf("merger was given subjects %v, want %s and %s", subj, good.id, upgraded)
	}
	if v := metricValue(t, r.reg, "tongban_quality_checks_total", map[string]string{"resource": testRes, "result": "quarantined"}); v != 2 {
		t.Errorf("quarantined checks metric = %v, want 2", v)
	}
	if v := metricValue(t, r.reg, "tongban_quality_checks_total", map[string]string{"resource": testRes, "result": "fixed"}); v != 1 {
		t.Errorf("fixed checks metric = %v, want 1", v)
	}

	// The source corrects the long name and deletes the bad-ID row.
	fixed := long
	fixed.name, fixed.version = "欧阳", 11
	more := append(e.upserts("b2", fixed), e.deletes("b3", 11, bad.id))
	e.produce(more...)
	r.waitMessages(t, int64(len(msgs)+len(more)))
	still, err := e.db.ListQuarantine(ctx, store.QuarantineFilter{Resource: testRes, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(still) != 0 {
		t.Fatalf("open quarantine after the source fixed it: %+v", still)
	}
	closed, err := e.db.ListQuarantine(ctx, store.QuarantineFilter{Resource: testRes, Status: "closed", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(closed) != 2 {
		t.Fatalf("closed entries %+v, want 2", closed)
	}
	if rec, ok, err := e.db.GetRecord(ctx, testRes, long.id); err != nil || !ok || !strings.Contains(string(rec.Data), `"欧阳"`) {
		t.Fatalf("corrected row at the hub: %+v %v %v", rec, ok, err)
	}
}
