package bench

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestLicenceResults runs the licence measurement tiny: every line is
// measured with positive figures, the target has a verdict and the note
// says how often the signature cache answered.
func TestLicenceResults(t *testing.T) {
	var progress bytes.Buffer
	r := &runner{cfg: Config{Dir: t.TempDir(), ShareRequests: 300, ShareClients: 8, ShareDuration: 30 * time.Second,
		Progress: &progress, Logger: slog.New(slog.DiscardHandler)}}
	res, err := r.licenceResults(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"licence verification (API, 8 concurrent)", "licence verification p50 (8 concurrent)", "licence verification p99 (8 concurrent)"}
	if len(res) != len(want) {
		t.Fatalf("%d results, want %d: %+v", len(res), len(want), res)
	}
	for i, name := range want {
		r := res[i]
		if r.Name != name || r.Status != StatusMeasured || r.Value <= 0 || r.BaselineValue <= 0 || r.Ratio <= 0 || r.Rows != 300 ||
			!strings.HasPrefix(r.Baseline, "raw SM2 verify (gmsm, ") {
			t.Errorf("result %d = %+v; want %q measured with a positive value and baseline, 300 licences", i, r, name)
		}
	}
	if main := res[0]; main.Unit != "verifications/s" || main.Target != "≥ 0.5× raw SM2" || main.Met == nil ||
		!strings.Contains(main.Note, "cache") || !strings.Contains(main.Note, "% of the timed calls") {
		t.Errorf("main line %+v", main)
	}
	if res[2].Value < res[1].Value {
		t.Errorf("p99 %v < p50 %v", res[2].Value, res[1].Value)
	}
	for _, step := range []string{"issuing 300", "300 issued", "verifications/s"} {
		if !strings.Contains(progress.String(), step) {
			t.Errorf("progress lacks %q:\n%s", step, progress.String())
		}
	}
}
