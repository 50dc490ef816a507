package checkpoint

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// crashEnv makes the test binary a process that saves checkpoints in a loop
// until it is killed (see TestSurvivesKill).
const crashEnv = "TONGBAN_CHECKPOINT_CRASH_DIR"

func TestMain(m *testing.M) {
	if dir := os.Getenv(crashEnv); dir != "" {
		saveForever(dir)
		return
	}
	os.Exit(m.Run())
}

// sample builds checkpoint i; its size varies with i so a torn write would
// show as bad JSON or a wrong counter.
func sample(i int) Checkpoint {
	key := []string{strconv.Itoa(i), strings.Repeat("键", i%97)}
	return Checkpoint{
		Resource: "PS-POP-001", Phase: PhaseSnapshot, Fingerprint: "fp",
		SnapshotLastKey: key, SnapshotRows: int64(i), SnapshotStartWatermark: "2026-01-01 00:00:00.000000",
		UpdatedAt: time.Unix(int64(i), 0).UTC(),
	}
}

// consistent reports whether cp is one of the samples, whole.
func consistent(cp Checkpoint) bool {
	i := int(cp.SnapshotRows)
	return reflect.DeepEqual(cp, sample(i))
}

func saveForever(dir string) {
	s, err := Open(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	for i := 1; ; i++ {
		if err := s.Save(sample(i)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "state"))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.Load("PS-POP-001"); ok || err != nil {
		t.Fatalf("fresh store: ok=%v err=%v", ok, err)
	}
	want := sample(42)
	want.Phase = PhaseIncremental
	want.Watermark = "2026-02-03 04:05:06.000007"
	want.CaughtUpAt = time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC)
	if err := s.Save(want); err != nil {
		t.Fatal(err)
	}
	got, ok, err := s.Load("PS-POP-001")
	if err != nil || !ok {
		t.Fatalf("load: ok=%v err=%v", ok, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, want)
	}
	if _, _, err := s.Load("OTHER"); err != nil {
		t.Fatalf("other resource: %v", err)
	}
	// No temporary files are left behind.
	entries, _ := os.ReadDir(filepath.Dir(s.Path("x")))
	if len(entries) != 1 {
		t.Errorf("state dir holds %d entries, want 1", len(entries))
	}
}

func TestRefusesBadFiles(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, body, want string }{
		{"garbage", "{not json", "delete the file"},
		{"bad phase", `{"resource":"A-1","phase":"dreaming"}`, `phase "dreaming"`},
		{"other resource", `{"resource":"B-2","phase":"snapshot"}`, `belongs to resource "B-2"`},
		{"negative rows", `{"resource":"A-1","phase":"snapshot","snapshot_rows":-1}`, "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := os.WriteFile(s.Path("A-1"), []byte(tt.body), 0o600); err != nil {
				t.Fatal(err)
			}
			_, _, err := s.Load("A-1")
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), s.Path("A-1")) {
				t.Fatalf("err = %v, want it to name the file and contain %q", err, tt.want)
			}
		})
	}
	if err := s.Save(Checkpoint{Resource: "A-1", Phase: "x"}); err == nil {
		t.Fatal("saved an invalid checkpoint")
	}
}

// TestConcurrentReadersNeverSeeTornFile reads while another goroutine saves.
func TestConcurrentReadersNeverSeeTornFile(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Save(sample(1)); err != nil {
		t.Fatal(err)
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	var reads atomic.Int64
	for r := 0; r < 2; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				cp, ok, err := s.Load("PS-POP-001")
				if err != nil || !ok || !consistent(cp) {
					t.Errorf("read a torn checkpoint: ok=%v err=%v cp=%+v", ok, err, cp)
					return
				}
				reads.Add(1)
			}
		}()
	}
	for i := 2; i < 300; i++ {
		if err := s.Save(sample(i)); err != nil {
			t.Fatal(err)
		}
	}
	for reads.Load() < 100 && !t.Failed() {
		time.Sleep(time.Millisecond)
	}
	stop.Store(true)
	wg.Wait()
}

// TestSurvivesKill kills a process that saves checkpoints in a tight loop,
// several times, and checks that the file left is always whole.
func TestSurvivesKill(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	rounds := 5
	if testing.Short() {
		rounds = 2
	}
	last := int64(0)
	for round := 0; round < rounds; round++ {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), crashEnv+"="+dir)
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Let it overwrite the file a good number of times.
		deadline := time.Now().Add(30 * time.Second)
		for {
			cp, ok, err := s.Load("PS-POP-001")
			if err != nil {
				t.Fatalf("round %d: while saving: %v", round, err)
			}
			if ok && cp.SnapshotRows > int64(50+round*7) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("round %d: the saving process made no progress", round)
			}
			time.Sleep(time.Millisecond)
		}
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		cp, ok, err := s.Load("PS-POP-001")
		if err != nil || !ok || !consistent(cp) {
			t.Fatalf("round %d: after kill -9: ok=%v err=%v cp=%+v", round, ok, err, cp)
		}
		last = cp.SnapshotRows
	}
	if last == 0 {
		t.Fatal("no checkpoint survived")
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"resource":"A-1","phase":"snapshot","snapshot_last_key":["1"]}`))
	f.Add([]byte(`{"resource":"A-1","phase":"incremental","watermark":"2026-01-01"}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		cp, err := Parse("A-1", data)
		if err != nil {
			return
		}
		if cp.Resource != "A-1" || cp.Validate() != nil {
			t.Fatalf("accepted %+v", cp)
		}
		_ = cp.Summary()
	})
}
