package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

// TestMain lets this test binary stand in for tongban when the demo's agents
// re-run their own executable as `<exe> connector mysql`.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "connector" {
		os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// The demo end to end, small: in-process department databases, embedded
// broker, hub, three agents with real connector plugin processes, and the
// exactly-once check over every generated row.
func TestDemoCheck(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var out, errOut bytes.Buffer
	code := run(ctx, []string{"demo", "-check", "-rows", "6000", "-dir", t.TempDir(), "-listen", "127.0.0.1:0", "-interval", "1s"}, &out, &errOut)
	if code != 0 {
		t.Fatalf("demo -check exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errOut.String())
	}
	// The default -defects 20 seeds 20 rows of each defect kind per table.
	for _, want := range []string{
		"OK   PS-POP-001  source 3000, at hub 2920, missing 0, extra 0, differing 0; quarantined 80 of 80 expected, unexpected 0; upgraded IDs 20",
		"OK   MR-LP-001   source 1200, at hub 1160, missing 0, extra 0, differing 0; quarantined 40 of 40 expected, unexpected 0",
		"OK   CA-MAR-001  source 1800, at hub 1780, missing 0, extra 0, differing 0; quarantined 20 of 20 expected, unexpected 0",
		"every clean source row arrived exactly once", "OK   golden records:", "OK   name conflicts:",
		"conflicts are exactly the seeded ones"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo output lacks %q:\n%s", want, out.String())
		}
	}
}
