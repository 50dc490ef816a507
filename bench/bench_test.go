package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestRunSmall runs the whole benchmark on a tiny table and checks that the
// results file has every line measured, with positive figures.
func TestRunSmall(t *testing.T) {
	rows := 2000
	if testing.Short() {
		rows = 500
	}
	updates := rows / 2
	var progress bytes.Buffer
	res, err := Run(context.Background(), Config{Rows: rows, Dir: t.TempDir(), Progress: &progress,
		Logger: slog.New(slog.DiscardHandler), ShareRequests: 400, UpdateRows: updates, ConnectorCmd: testConnectorCmd(t),
		LiveRows: rows / 4, AgentCmd: testAgentCmd})
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
		"agent snapshot peak RSS (whole bench process)", "hub ingest → SQLite store", "hub ingest → MariaDB store",
		"hub ingest+validate+merge → SQLite", "hub ingest+validate+merge → MariaDB",
		"sharing: lookup by citizen ID (share API, 200 concurrent)", "sharing: lookup p50 (200 concurrent)",
		"sharing: lookup p99 (200 concurrent)",
		"agent snapshot via connector plugin", "agent process peak RSS (snapshot, own process)",
	}
	// The licence lines count the licences issued (as many as timed share calls).
	for _, name := range []string{"licence verification (API, 200 concurrent)", "licence verification p99 (200 concurrent)"} {
		if r, ok := byName[name]; !ok || r.Status != StatusMeasured || r.Value <= 0 || r.BaselineValue <= 0 {
			t.Errorf("%q: %+v, want measured with a baseline", name, r)
		}
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
	// The incremental lines count the updated rows, picked up by one poll
	// and read by the baseline (Run fails when the counts differ).
	incrRate, incrDelay := "incremental: "+thousands(updates)+" updated rows", "incremental: commit to acknowledged delay"
	for _, name := range []string{incrRate, incrDelay} {
		r, ok := byName[name]
		if !ok {
			t.Errorf("no result %q", name)
			continue
		}
		if r.Status != StatusMeasured || r.Value <= 0 || r.Rows != updates || r.Met != nil {
			t.Errorf("%q: status %q value %v rows %d met %v; want measured, positive, %d rows, no target", name, r.Status, r.Value, r.Rows, r.Met, updates)
		}
	}
	if r := byName[incrRate]; r.BaselineValue <= 0 || r.Ratio <= 0 || !strings.Contains(r.Note, "interval "+incrementalInterval.String()) {
		t.Errorf("%q: baseline %v ratio %v note %q; want a positive baseline and the interval named", incrRate, r.BaselineValue, r.Ratio, r.Note)
	}
	// rows/s and delay are two views of one timing: rows / delay.
	if rate, delay := byName[incrRate].Value, byName[incrDelay].Value; delay > 0 {
		if want := float64(updates) / (delay / 1000); rate < want*0.999 || rate > want*1.001 {
			t.Errorf("incremental rate %v rows/s, delay %v ms: want rate = %d rows / delay = %v", rate, delay, updates, want)
		}
	}
	if r := byName[incrDelay]; r.Baseline != "" || r.BaselineValue != 0 || !strings.Contains(r.Note, incrementalInterval.String()) {
		t.Errorf("%q: baseline %q %v note %q; want no baseline and the sync interval in the note", incrDelay, r.Baseline, r.BaselineValue, r.Note)
	}
	// Clean generated rows pass the example catalog's rules, and each
	// becomes one golden record.
	if r := byName["hub ingest+validate+merge → SQLite"]; !strings.Contains(r.Note, "0 rows quarantined, 0 fixed, "+strconv.Itoa(rows)+" golden") {
		t.Errorf("ingest+validate+merge note %q: want 0 quarantined, 0 fixed, %d golden records", r.Note, rows)
	}
	if p50, p99 := byName["sharing: lookup p50 (200 concurrent)"], byName["sharing: lookup p99 (200 concurrent)"]; p99.Value < p50.Value ||
		p99.BaselineValue < p50.BaselineValue || p99.Met == nil {
		t.Errorf("sharing p50 %+v, p99 %+v: want p99 ≥ p50 and a target verdict", p50, p99)
	}
	if r := byName["agent snapshot vs raw scan"]; r.RSSBytes <= 0 {
		t.Errorf("agent snapshot: rss_bytes %d, want positive", r.RSSBytes)
	}
	// The live lines count the rows of the table the agent answers from.
	for _, q := range []string{"throughput", "p50", "p99"} {
		name := "sharing: live lookup via agent " + q + " (16 concurrent)"
		r, ok := byName[name]
		if !ok {
			t.Errorf("no result %q", name)
			continue
		}
		if r.Status != StatusMeasured || r.Value <= 0 || r.Rows != rows/4 || r.BaselineValue <= 0 {
			t.Errorf("%q: %+v; want measured, positive, %d rows, a baseline", name, r, rows/4)
		}
	}
	if p50, p99 := byName["sharing: live lookup via agent p50 (16 concurrent)"], byName["sharing: live lookup via agent p99 (16 concurrent)"]; p99.Value < p50.Value || p99.Met == nil {
		t.Errorf("live p50 %+v, p99 %+v: want p99 ≥ p50 and a target verdict", p50, p99)
	}
	// Every path of issue 5 is built and measured by a full run.
	for _, r := range got {
		if r.Status != StatusMeasured {
			t.Errorf("%q: status %q, want measured", r.Name, r.Status)
		}
	}
	// The open-data release is of every row of the table (from the store
	// the raw-insert baseline filled). Their RSS figures are growths over
	// the process's resident set, which a small release may not cause at
	// all (0); a failed reading fails the whole measurement instead.
	for _, name := range []string{"open data: CSV download (" + strconv.Itoa(rows) + " rows)", "open data: Parquet download", "open data: release build"} {
		if r, ok := byName[name]; !ok || r.Value <= 0 || r.Rows != rows || r.RSSBytes < 0 {
			t.Errorf("%q: %+v, want a positive value over %d rows with its RSS growth", name, r, rows)
		}
	}
	if !strings.Contains(progress.String(), "publishing from the SQLite store of the raw-insert baseline") {
		t.Errorf("the open-data release was not built from the raw-insert store:\n%s", progress.String())
	}
	var table bytes.Buffer
	if err := WriteTable(&table, got); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"agent snapshot vs raw scan", "rows/s", "MB/s"} {
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
		{"negative share requests", Config{Rows: 10, ShareRequests: -1}, "share requests"},
		{"negative merge rows", Config{Rows: 10, MergeRows: -5}, "merge rows"},
		{"negative update rows", Config{Rows: 10, UpdateRows: -5}, "update rows"},
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
	if n, err := parseStatusKB([]byte("VmHWM:\t 9 kB\nVmRSS:\t   3 kB\n"), "VmRSS"); err != nil || n != 3<<10 {
		t.Fatalf("VmRSS: %d, %v", n, err)
	}
}

// TestRSSGrowth: memory touched inside the measured function shows as growth.
func TestRSSGrowth(t *testing.T) {
	var keep []byte
	growth, err := rssGrowth(func() error {
		keep = make([]byte, 64<<20)
		for i := 0; i < len(keep); i += 4096 {
			keep[i] = 1
		}
		return nil
	})
	if err != nil {
		t.Fatalf("VmHWM cannot be reset: %v", err)
	}
	if growth < 48<<20 {
		t.Errorf("growth %d bytes after touching 64 MiB", growth)
	}
	_ = keep[len(keep)-1]
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

func TestQuantileMS(t *testing.T) {
	ms := func(n ...int) []time.Duration {
		out := make([]time.Duration, len(n))
		for i, v := range n {
			out[i] = time.Duration(v) * time.Millisecond
		}
		return out
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = 100 - i // 100..1, unsorted
	}
	for _, tc := range []struct {
		name string
		d    []time.Duration
		q    float64
		want float64
	}{
		{"empty", nil, 0.5, 0},
		{"one", ms(7), 0.99, 7},
		{"median of odd", ms(5, 1, 3), 0.5, 3},
		{"median of even takes the lower", ms(4, 1, 3, 2), 0.5, 2},
		{"p99 of 100", ms(hundred...), 0.99, 99},
		{"p50 of 100", ms(hundred...), 0.50, 50},
		{"max", ms(hundred...), 1, 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := slices.Clone(tc.d)
			if got := quantileMS(tc.d, tc.q); got != tc.want {
				t.Errorf("quantileMS(%v, %v) = %v, want %v", tc.d, tc.q, got, tc.want)
			}
			if !slices.Equal(in, tc.d) {
				t.Error("quantileMS reordered its input")
			}
		})
	}
}

func TestRunConcurrent(t *testing.T) {
	subjects := []string{"a", "b", "c"}
	ctx := context.Background()
	t.Run("counts every call", func(t *testing.T) {
		var mu sync.Mutex
		seen := map[string]int{}
		l, err := runConcurrent(ctx, 500, 7, 0, subjects, 1, func(_ context.Context, s string) error {
			mu.Lock()
			seen[s]++
			mu.Unlock()
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		total := 0
		for _, n := range seen {
			total += n
		}
		if l.calls != 500 || len(l.d) != 500 || total != 500 || len(seen) != len(subjects) {
			t.Fatalf("calls %d, durations %d, made %d over %v; want 500 over every subject", l.calls, len(l.d), total, seen)
		}
	})
	t.Run("time limit stops new calls", func(t *testing.T) {
		var made atomic.Int64
		l, err := runConcurrent(ctx, 1_000_000, 4, 20*time.Millisecond, subjects, 1, func(ctx context.Context, _ string) error {
			made.Add(1)
			select {
			case <-time.After(5 * time.Millisecond):
			case <-ctx.Done():
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if l.calls == 0 || int64(l.calls) != made.Load() || l.calls >= 1_000_000 {
			t.Fatalf("%d calls recorded, %d made; want all made ones recorded, far fewer than asked", l.calls, made.Load())
		}
	})
	t.Run("first error stops the run", func(t *testing.T) {
		boom := errors.New("boom")
		var made atomic.Int64
		_, err := runConcurrent(ctx, 1_000_000, 3, 0, subjects, 1, func(context.Context, string) error {
			if made.Add(1) == 10 {
				return boom
			}
			return nil
		})
		if !errors.Is(err, boom) || made.Load() >= 1_000_000 {
			t.Fatalf("error %v after %d calls; want boom, and the run stopped", err, made.Load())
		}
	})
}

func TestThousands(t *testing.T) {
	for _, tc := range []struct {
		n    int
		want string
	}{
		{0, "0"}, {7, "7"}, {999, "999"}, {1000, "1,000"}, {100_000, "100,000"}, {1_234_567, "1,234,567"}, {-1000, "-1,000"}, {-12, "-12"},
	} {
		if got := thousands(tc.n); got != tc.want {
			t.Errorf("thousands(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
}
