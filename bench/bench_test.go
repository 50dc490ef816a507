package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunSmall runs the whole benchmark on a tiny table and checks that the
// results file has every measured line with positive figures and every
// unbuilt path as "not built".
func TestRunSmall(t *testing.T) {
	rows := 2000
	if testing.Short() {
		rows = 500
	}
	var progress bytes.Buffer
	res, err := Run(context.Background(), Config{Rows: rows, Dir: t.TempDir(), Progress: &progress,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "out", "results.json")
	if err := WriteJSON(path, res); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var got []Result
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatalf("results.json: %v", err)
	}
	byName := map[string]Result{}
	for _, r := range got {
		byName[r.Name] = r
	}
	measured := []string{
		"agent snapshot vs raw scan", "agent snapshot vs naive JSON", "agent snapshot throughput",
		"agent snapshot peak RSS (whole bench process)", "hub ingest → SQLite store",
	}
	for _, name := range measured {
		r, ok := byName[name]
		if !ok {
			t.Errorf("no result %q", name)
			continue
		}
		if r.Status != StatusMeasured || r.Value <= 0 || r.Rows != rows {
			t.Errorf("%q: status %q value %v rows %d; want measured, positive, %d rows", name, r.Status, r.Value, r.Rows, rows)
		}
		if r.Baseline != "" && (r.BaselineValue <= 0 || r.Ratio <= 0) {
			t.Errorf("%q: baseline %v ratio %v, want positive", name, r.BaselineValue, r.Ratio)
		}
	}
	if r := byName["agent snapshot vs raw scan"]; r.RSSBytes <= 0 {
		t.Errorf("agent snapshot: rss_bytes %d, want positive", r.RSSBytes)
	}
	// The plugin lines need a binary that serves "connector mysql"; the test binary does not.
	if _, ok := byName["agent snapshot via connector plugin"]; ok {
		t.Error("plugin line present without a connector command")
	}
	notBuilt := 0
	for _, r := range got {
		if r.Status == StatusNotBuilt {
			notBuilt++
			if r.Value != 0 || r.Met != nil {
				t.Errorf("%q is not built but has value %v, met %v", r.Name, r.Value, r.Met)
			}
		}
	}
	for _, name := range []string{"incremental: 100,000 updated rows", "hub ingest + validate + merge",
		"sharing: golden lookup p99 (200 concurrent)", "licence verification", "open data: CSV download"} {
		if r, ok := byName[name]; !ok || r.Status != StatusNotBuilt {
			t.Errorf("%q: want a %q line, got %+v", name, StatusNotBuilt, r)
		}
	}
	if notBuilt != len(notBuiltResults()) {
		t.Errorf("%d not-built lines, want %d", notBuilt, len(notBuiltResults()))
	}
	var table bytes.Buffer
	if err := WriteTable(&table, got); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"not built", "agent snapshot vs raw scan", "rows/s"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, table.String())
		}
	}
	if !strings.Contains(progress.String(), "raw scan") {
		t.Errorf("progress lacks the raw scan step:\n%s", progress.String())
	}
}

func TestRunRejectsBadConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"negative rows", Config{Rows: -1}, "rows"},
		{"bad DSN", Config{Rows: 10, ServerDSN: "not a dsn"}, "DSN"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Run(context.Background(), tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one naming %q", err, tc.want)
			}
		})
	}
}

func TestParseHWM(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     int64
		bad      bool
	}{
		{"normal", "Name:\tx\nVmPeak:\t  100 kB\nVmHWM:\t   2048 kB\nVmRSS:\t 1 kB\n", 2048 << 10, false},
		{"missing", "Name:\tx\nVmRSS:\t 1 kB\n", 0, true},
		{"no unit", "VmHWM:\t 12\n", 0, true},
		{"not a number", "VmHWM:\t x kB\n", 0, true},
		{"negative", "VmHWM:\t -4 kB\n", 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseHWM([]byte(tc.in))
			if tc.bad {
				if err == nil {
					t.Fatalf("no error, got %d", got)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %d, %v; want %d", got, err, tc.want)
			}
		})
	}
	if n, err := peakRSS(); err != nil || n <= 0 {
		t.Fatalf("peakRSS of this process: %d, %v", n, err)
	}
}

func FuzzParseHWM(f *testing.F) {
	f.Add([]byte("VmHWM:\t 2048 kB\n"))
	f.Add([]byte("VmHWM: kB"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := parseHWM(b)
		if err == nil && n < 0 {
			t.Fatalf("negative peak %d without error", n)
		}
	})
}

func TestIncomeIsDecimal(t *testing.T) {
	for _, i := range []int{0, 1, 2, 999_999, 1 << 30} {
		s := income(i)
		whole, frac, ok := strings.Cut(s, ".")
		if !ok || len(frac) != 2 || whole == "" || len(whole) > 10 {
			t.Errorf("income(%d) = %q, want decimal(12,2) text", i, s)
		}
	}
}
