// Package keysort sorts a stream of keys in byte order with bounded memory:
// keys are held in memory up to a limit, then sorted and spilled to a
// temporary run file; reading merges the runs. Reconcile uses it to put the
// source's key set in the hub's key order (byte order of the record key),
// which is not the database's ORDER BY order for numbers or case-insensitive
// collations.
package keysort

import (
	"bufio"
	"container/heap"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
)

// DefaultMaxInMemory is the number of keys held before spilling a run.
const DefaultMaxInMemory = 500_000

// Sorter collects keys; Sorted returns them in byte order. It is not safe
// for concurrent use. Close removes its temporary files.
type Sorter struct {
	dir  string
	max  int
	buf  []string
	runs []*os.File
	n    int
	done bool
}

// New returns a sorter that spills to temporary files in dir ("" means
// os.TempDir()) when more than maxInMemory keys are held (<= 0: the default).
func New(dir string, maxInMemory int) *Sorter {
	if maxInMemory <= 0 {
		maxInMemory = DefaultMaxInMemory
	}
	return &Sorter{dir: dir, max: maxInMemory}
}

// Add adds a key.
func (s *Sorter) Add(key string) error {
	if s.done {
		return errors.New("keysort: Add after Sorted")
	}
	s.buf = append(s.buf, key)
	s.n++
	if len(s.buf) >= s.max {
		return s.spill()
	}
	return nil
}

// Len is the number of keys added.
func (s *Sorter) Len() int { return s.n }

// Runs is the number of run files spilled so far.
func (s *Sorter) Runs() int { return len(s.runs) }

// spill writes the buffer as a sorted run. The file is unlinked at once, so
// it disappears with the process whatever happens.
func (s *Sorter) spill() error {
	slices.Sort(s.buf)
	f, err := os.CreateTemp(s.dir, "tongban-keys-*.run")
	if err != nil {
		return fmt.Errorf("keysort: spill: %w", err)
	}
	_ = os.Remove(f.Name())
	s.runs = append(s.runs, f)
	w := bufio.NewWriterSize(f, 1<<20)
	var lenBuf [binary.MaxVarintLen64]byte
	for _, k := range s.buf {
		n := binary.PutUvarint(lenBuf[:], uint64(len(k)))
		if _, err := w.Write(lenBuf[:n]); err != nil {
			return fmt.Errorf("keysort: spill: %w", err)
		}
		if _, err := w.WriteString(k); err != nil {
			return fmt.Errorf("keysort: spill: %w", err)
		}
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("keysort: spill: %w", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("keysort: spill: %w", err)
	}
	clear(s.buf)
	s.buf = s.buf[:0]
	return nil
}

// Close releases the run files.
func (s *Sorter) Close() error {
	var errs []error
	for _, f := range s.runs {
		errs = append(errs, f.Close())
	}
	s.runs, s.buf = nil, nil
	return errors.Join(errs...)
}

// Sorted ends adding and returns an iterator over every key in byte order.
func (s *Sorter) Sorted() (*Iterator, error) {
	if s.done {
		return nil, errors.New("keysort: Sorted called twice")
	}
	s.done = true
	slices.Sort(s.buf)
	it := &Iterator{}
	if len(s.buf) > 0 {
		it.add(&memSource{keys: s.buf})
	}
	for _, f := range s.runs {
		if err := it.add(&runSource{r: bufio.NewReaderSize(f, 256<<10)}); err != nil {
			return nil, err
		}
	}
	return it, nil
}

// source is one sorted input of the merge.
type source interface {
	next() (string, bool, error)
}

type memSource struct {
	keys []string
	i    int
}

func (m *memSource) next() (string, bool, error) {
	if m.i >= len(m.keys) {
		return "", false, nil
	}
	m.i++
	return m.keys[m.i-1], true, nil
}

type runSource struct {
	r *bufio.Reader
}

func (r *runSource) next() (string, bool, error) {
	n, err := binary.ReadUvarint(r.r)
	if errors.Is(err, io.EOF) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("keysort: read run: %w", err)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r.r, b); err != nil {
		return "", false, fmt.Errorf("keysort: read run: %w", err)
	}
	return string(b), true, nil
}

// Iterator merges the sorted inputs.
type Iterator struct {
	h mergeHeap
}

type head struct {
	key string
	src source
}

type mergeHeap []head

func (h mergeHeap) Len() int           { return len(h) }
func (h mergeHeap) Less(i, j int) bool { return h[i].key < h[j].key }
func (h mergeHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *mergeHeap) Push(x any)        { *h = append(*h, x.(head)) }
func (h *mergeHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

func (it *Iterator) add(src source) error {
	k, ok, err := src.next()
	if err != nil {
		return err
	}
	if ok {
		heap.Push(&it.h, head{key: k, src: src})
	}
	return nil
}

// Next returns the next key in byte order; ok is false at the end.
func (it *Iterator) Next() (key string, ok bool, err error) {
	if len(it.h) == 0 {
		return "", false, nil
	}
	top := it.h[0]
	k, more, err := top.src.next()
	if err != nil {
		return "", false, err
	}
	if more {
		it.h[0].key = k
		heap.Fix(&it.h, 0)
	} else {
		heap.Pop(&it.h)
	}
	return top.key, true, nil
}
