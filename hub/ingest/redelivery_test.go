package ingest

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/tongban/tongban/catalog"
	"github.com/tongban/tongban/hub/merge"
	"github.com/tongban/tongban/hub/store"
	"github.com/tongban/tongban/quality"
	"github.com/tongban/tongban/schemas"
	"github.com/tongban/tongban/wire"
)

const civilRes = "TEST-CIVIL-001"

// mergeAdapter is the ingest side of a merge.Merger.
type mergeAdapter struct{ m *merge.Merger }

func (a mergeAdapter) Merge(ctx context.Context, refs []store.SubjectRef) error {
	_, err := a.m.Merge(ctx, refs)
	return err
}

// civilResource is a second source about people: several records per
// person (record_id), the latest by registered_on; its name cross-checks
// the people resource's.
func civilResource(t testing.TB) *catalog.Resource {
	var s schemas.Schema
	for _, f := range []struct{ name, typ string }{{"record_id", "int64"}, {"citizen_id", "string"}, {"name", "string"}, {"status", "string"}, {"registered_on", "date"}} {
		s.Fields = append(s.Fields, schemas.Field{Name: f.name, Type: mustType(t, f.typ)})
	}
	return &catalog.Resource{Code: civilRes, Name: "测试婚姻", Provider: otherDept,
		Subject:    catalog.Subject{Type: catalog.SubjectPerson, Field: "citizen_id", LatestBy: "registered_on"},
		PrimaryKey: []string{"record_id"}, Schema: s, ShareType: catalog.ShareUnconditional, OpenType: catalog.OpenClosed,
		UpdateCycle: catalog.CycleDaily, Format: catalog.FormatTable, File: "resources/civil.yaml"}
}

// civilMessage is one upsert message of civil rows (record_id, citizen_id,
// name, status, registered_on) at a version.
func civilMessage(t testing.TB, res *catalog.Resource, batch string, version int64, rows ...[]any) kafka.Message {
	t.Helper()
	vers := make([]int64, len(rows))
	for i := range vers {
		vers[i] = version
	}
	m := meta(res, res.Schema, wire.OpUpsert, batch)
	m.Partition = wire.Partition(rows[0][1].(string), testParts)
	return wire.Message(m, encode(t, res.Schema, rows, vers))
}

// goldenState is every golden record (without ingest times) and the open
// conflicts, as comparable text.
func goldenState(t *testing.T, db *store.DB, subjects []string) []string {
	t.Helper()
	ctx := context.Background()
	var out []string
	for _, id := range subjects {
		g, ok, err := db.GetGolden(ctx, catalog.SubjectPerson, id)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			for name, f := range g.Fields {
				f.Provenance.IngestedAt = time.Time{}
				p, _ := json.Marshal(f.Provenance)
				out = append(out, fmt.Sprintf("golden %s %s = %s from %s", id, name, f.Value, p))
			}
		}
	}
	cs, err := db.ListConflicts(ctx, store.ConflictFilter{Status: store.ConflictOpen, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		out = append(out, fmt.Sprintf("conflict %s %s", c.SubjectID, c.Field))
	}
	slices.Sort(out)
	return out
}

// Every ingest message delivered twice, in shuffled order, leaves the same
// department library, golden records and conflicts as one delivery in order.
func TestRedeliveredShuffledBatchesGiveTheSameGoldenRecords(t *testing.T) {
	ids := make([]string, 12)
	for i := range ids {
		ids[i] = citizenID(t, 200+i)
	}
	build := func(e *env) []kafka.Message {
		civil := e.cat[civilRes]
		var msgs []kafka.Message
		// People: version 10, then renamed at 20 for the first four; the
		// fifth is deleted at 30.
		var first []row
		for i, id := range ids {
			first = append(first, row{id: id, name: fmt.Sprintf("人%02d", i), version: 10})
		}
		msgs = append(msgs, e.upserts("p1", first...)...)
		var renamed []row
		for i, id := range ids[:4] {
			renamed = append(renamed, row{id: id, name: fmt.Sprintf("改名%02d", i), version: 20})
		}
		msgs = append(msgs, e.upserts("p2", renamed...)...)
		msgs = append(msgs, e.deletes("p3", 30, ids[4]))
		// Civil records: person 0 agrees with the new name; person 1 keeps
		// the old name (a conflict); person 2 has two records, the older with
		// a wrong name; person 3's name has an ideographic space (no conflict).
		msgs = append(msgs,
			civilMessage(t, civil, "c1", 15, []any{int64(1), ids[0], "改名00", "已婚", "2020-01-01"}),
			civilMessage(t, civil, "c2", 15, []any{int64(2), ids[1], "人01", "已婚", "2020-01-01"}),
			civilMessage(t, civil, "c3", 15, []any{int64(3), ids[2], "别人", "已婚", "2010-01-01"}, []any{int64(4), ids[2], "改名02", "离婚", "2021-01-01"}),
			civilMessage(t, civil, "c4", 15, []any{int64(5), ids[3], "改\u3000名03", "已婚", "2020-01-01"}),
		)
		return msgs
	}
	run := func(shuffle bool, seed uint64) ([]string, []store.Record) {
		e := newEnv(t, nil)
		e.cat[civilRes] = civilResource(t)
		e.sync()
		rules, err := quality.Compile([]quality.Rule{{Kind: quality.KindCitizenID, Field: "citizen_id"}})
		if err != nil {
			t.Fatal(err)
		}
		e.cat[testRes].Rules = rules
		cat := &catalog.Catalog{Resources: []catalog.Resource{*e.cat[testRes], *e.cat[civilRes]},
			Subjects: []catalog.SubjectSpec{{Type: catalog.SubjectPerson, Library: "population", Fields: []catalog.SubjectField{
				{Name: "name", Authority: catalog.SourceRef{Resource: testRes, Field: "name"}, CrossCheck: []catalog.SourceRef{{Resource: civilRes, Field: "name"}}},
				{Name: "age", Authority: catalog.SourceRef{Resource: testRes, Field: "age"}},
				{Name: "marital_status", Authority: catalog.SourceRef{Resource: civilRes, Field: "status"}},
			}}}}
		m, err := merge.New(merge.Config{Store: e.db, Catalog: cat, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		msgs := build(e)
		if shuffle {
			msgs = append(msgs, msgs...)
			rand.New(rand.NewPCG(seed, 7)).Shuffle(len(msgs), func(i, j int) { msgs[i], msgs[j] = msgs[j], msgs[i] })
		}
		// One message at a time, so the shuffled order is the order applied.
		for _, msg := range msgs {
			e.produce(msg)
		}
		r := e.startWith("g", nil, func(c *Config) { c.Quality = e.db; c.Merger = mergeAdapter{m}; c.MaxGroupMessages = 3 })
		if s := r.waitMessages(t, int64(len(msgs))); s.DeadLetters != 0 {
			t.Fatalf("dead letters: %+v", s)
		}
		r.stop(t)
		return goldenState(t, e.db, ids), e.dump()
	}
	want, wantLib := run(false, 0)
	for _, w := range []string{"conflict " + ids[1] + " name", "golden " + ids[2] + " marital_status = \"离婚\""} {
		if !slices.ContainsFunc(want, func(s string) bool { return len(s) >= len(w) && s[:len(w)] == w }) {
			t.Fatalf("in-order run lacks %q:\n%v", w, want)
		}
	}
	for _, s := range want {
		if s == "conflict "+ids[3]+" name" || s == "conflict "+ids[2]+" name" {
			t.Fatalf("unexpected %q: a space variant or an older record must not conflict", s)
		}
	}
	for seed := uint64(1); seed <= 3; seed++ {
		got, gotLib := run(true, seed)
		if !slices.Equal(got, want) {
			t.Fatalf("shuffle %d: golden state differs\n got %v\nwant %v", seed, got, want)
		}
		if len(gotLib) != len(wantLib) {
			t.Fatalf("shuffle %d: %d library records, want %d", seed, len(gotLib), len(wantLib))
		}
		for i := range gotLib {
			a, b := gotLib[i], wantLib[i]
			if a.Key != b.Key || a.Version != b.Version || a.Deleted != b.Deleted || string(a.Data) != string(b.Data) {
				t.Fatalf("shuffle %d: library record %d = %+v, want %+v", seed, i, a, b)
			}
		}
	}
}
