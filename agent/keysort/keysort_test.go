package keysort

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
)

func TestSortsAcrossRuns(t *testing.T) {
	tests := []struct {
		name     string
		n, max   int
		wantRuns int
	}{
		{"empty", 0, 10, 0},
		{"in memory", 7, 10, 0},
		{"exactly one run", 10, 10, 1},
		{"many runs and a tail", 1003, 100, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, uint64(tt.n)))
			s := New(t.TempDir(), tt.max)
			defer s.Close()
			var want []string
			for i := 0; i < tt.n; i++ {
				// Numbers in text order differ from numeric order; add
				// non-ASCII and the key separator too.
				k := strconv.Itoa(rng.IntN(1_000_000)) + "\x1f" + string(rune('a'+rng.IntN(3))) + []string{"", "张", "Z"}[i%3] + strconv.Itoa(i)
				want = append(want, k)
				if err := s.Add(k); err != nil {
					t.Fatal(err)
				}
			}
			if s.Runs() != tt.wantRuns || s.Len() != tt.n {
				t.Fatalf("runs %d len %d, want %d and %d", s.Runs(), s.Len(), tt.wantRuns, tt.n)
			}
			slices.Sort(want)
			it, err := s.Sorted()
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for {
				k, ok, err := it.Next()
				if err != nil {
					t.Fatal(err)
				}
				if !ok {
					break
				}
				got = append(got, k)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("got %d keys, want %d; first difference in %v", len(got), len(want), firstDiff(got, want))
			}
			if err := s.Add("late"); err == nil {
				t.Error("Add after Sorted accepted")
			}
		})
	}
}

func firstDiff(a, b []string) []string {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return []string{a[i], b[i]}
		}
	}
	return nil
}

func FuzzSort(f *testing.F) {
	f.Add([]byte("b\x00a\x00c\x00a"), 2)
	f.Fuzz(func(t *testing.T, data []byte, max int) {
		if max < 1 || max > 50 {
			max = 3
		}
		var keys []string
		start := 0
		for i, c := range data {
			if c == 0 {
				keys = append(keys, string(data[start:i]))
				start = i + 1
			}
		}
		s := New(t.TempDir(), max)
		defer s.Close()
		for _, k := range keys {
			if err := s.Add(k); err != nil {
				t.Fatal(err)
			}
		}
		it, err := s.Sorted()
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for {
			k, ok, err := it.Next()
			if err != nil {
				t.Fatal(err)
			}
			if !ok {
				break
			}
			got = append(got, k)
		}
		slices.Sort(keys)
		if !slices.Equal(got, keys) {
			t.Fatalf("got %q want %q", got, keys)
		}
	})
}
