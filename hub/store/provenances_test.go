package store

import (
	"encoding/json"
	"maps"
	"strings"
	"testing"
	"time"
)

func TestProvenancesRoundTrip(t *testing.T) {
	at := time.Date(2026, 12, 7, 8, 0, 0, 123456000, time.UTC)
	pop := Provenance{Dept: "1123060001281401X7", Resource: "PS-POP-001", Key: "230602199002280013", Version: 7, IngestedAt: at}
	civ := Provenance{Dept: "112306000128140362", Resource: "CA-MAR-001", Key: `m-1 "$sources"`, Version: 3, SourceUpdated: "2026-01-02", IngestedAt: at}
	tests := []struct {
		name        string
		in          provenances
		wantSources int
	}{
		{"empty", provenances{}, 0},
		{"one source for all fields", provenances{"name": pop, "sex": pop, "birth_date": pop}, 1},
		{"two sources", provenances{"name": pop, "marital_status": civ, "sex": pop}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Count(string(b), `"resource"`); got != tt.wantSources {
				t.Errorf("%s: %d sources written, want %d", b, got, tt.wantSources)
			}
			var back provenances
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatal(err)
			}
			if !maps.EqualFunc(back, tt.in, func(a, b Provenance) bool { return a.sameSource(b) && a.IngestedAt.Equal(b.IngestedAt) }) {
				t.Errorf("round trip: %v, want %v", back, tt.in)
			}
		})
	}
	// The per-field form written before the compact one still reads.
	old, err := json.Marshal(map[string]Provenance{"name": pop, "marital_status": civ})
	if err != nil {
		t.Fatal(err)
	}
	var back provenances
	if err := json.Unmarshal(old, &back); err != nil {
		t.Fatal(err)
	}
	if len(back) != 2 || back["marital_status"].Key != civ.Key || back["name"].Version != 7 {
		t.Errorf("per-field form: %v", back)
	}
	// A field pointing past the sources is refused.
	if err := json.Unmarshal([]byte(`{"$sources":[],"$fields":{"name":0}}`), &back); err == nil {
		t.Error("index out of range accepted")
	}
}

func FuzzProvenancesUnmarshal(f *testing.F) {
	f.Add([]byte(`{"$sources":[{"dept":"d","resource":"r","key":"k","version":1,"ingested_at":"2026-01-01T00:00:00Z"}],"$fields":{"a":0}}`))
	f.Add([]byte(`{"a":{"dept":"d","resource":"r","key":"k","version":1,"ingested_at":"2026-01-01T00:00:00Z"}}`))
	f.Add([]byte(`{"$sources":[],"$fields":{"a":-1}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var p provenances
		if err := json.Unmarshal(b, &p); err != nil {
			return
		}
		// Whatever reads, writes and reads back the same.
		out, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		var again provenances
		if err := json.Unmarshal(out, &again); err != nil {
			t.Fatalf("%s: %v", out, err)
		}
		if len(again) != len(p) {
			t.Fatalf("%d fields, then %d", len(p), len(again))
		}
	})
}
