package pipeline

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tongban/tongban/agent/keysort"
	"github.com/tongban/tongban/wire"
)

// hubError marks a reconcile that failed at the hub (not at the source).
type hubError struct{ err error }

func (e hubError) Error() string { return e.err.Error() }
func (e hubError) Unwrap() error { return e.err }

// errEmptySource refuses to tombstone every key of a resource.
var errEmptySource = errors.New("the source returned no keys at all while the hub holds live keys: " +
	"refusing to delete the whole resource (check the table and DSN; an emptied table is not reconciled)")

// reconcile compares the source's key set with the hub's live keys and
// queues tombstones for the keys the hub has, with a version older than the
// start of the reconcile, that the source no longer has. Both sides are
// streamed in byte order of the record key: the hub's pages come sorted, the
// source's keys go through an external sort (the database's ORDER BY is not
// byte order for numbers or case-insensitive collations). It returns the
// number of tombstones queued.
func (p *Pipeline) reconcile(ctx context.Context, queue chan<- item) (int, error) {
	// Every row the key set misses was absent when it was read, which is
	// after t; a hub version >= t means the row was read after t, so its
	// absence may be a race with an insert and it is left alone.
	t := time.Now().UnixMicro()
	sorter := keysort.New(p.cfg.TempDir, p.cfg.SortMemoryKeys)
	defer sorter.Close()
	err := p.cfg.Connector.KeySet(ctx, p.src, func(keys [][]string) error {
		for _, k := range keys {
			if err := sorter.Add(wire.RecordKey(k)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("read the source's keys: %w", err)
	}
	it, err := sorter.Sorted()
	if err != nil {
		return 0, err
	}
	tb, err := newTombstoner(p, t)
	if err != nil {
		return 0, err
	}
	defer tb.release()
	srcKey, srcOK, err := it.Next()
	if err != nil {
		return 0, err
	}
	var (
		after, prev string
		started     bool
		queued      int
	)
	for {
		page, err := p.cfg.Hub.Keys(ctx, p.code, after, p.cfg.KeyPageSize)
		if err != nil {
			return queued, hubError{fmt.Errorf("read the hub's keys after %q: %w", after, err)}
		}
		for _, kv := range page.Keys {
			if started && kv.Key <= prev {
				return queued, hubError{fmt.Errorf("the hub's keys are not in byte order (%q after %q): reconcile stopped", kv.Key, prev)}
			}
			started, prev = true, kv.Key
			for srcOK && srcKey < kv.Key {
				if srcKey, srcOK, err = it.Next(); err != nil {
					return queued, err
				}
			}
			if (srcOK && srcKey == kv.Key) || kv.Version >= t {
				continue
			}
			if sorter.Len() == 0 {
				return queued, errEmptySource
			}
			if err := tb.add(kv.Key); err != nil {
				p.log.Warn("reconcile: cannot build a tombstone for a hub key", "key", kv.Key, "error", err)
				continue
			}
			if tb.rows >= p.src.ChunkRows {
				queued += tb.rows
				if !p.enqueue(ctx, queue, item{kind: kindTombstones, chunk: tb.chunk()}) {
					return queued, ctx.Err()
				}
			}
		}
		next := page.Next
		if len(page.Keys) == 0 || (next == "" && len(page.Keys) < p.cfg.KeyPageSize) {
			break // the last page
		}
		if next == "" || next <= after {
			next = prev // never page backwards, whatever the server says
		}
		after = next
	}
	if tb.rows > 0 {
		queued += tb.rows
		if !p.enqueue(ctx, queue, item{kind: kindTombstones, chunk: tb.chunk()}) {
			return queued, ctx.Err()
		}
	}
	return queued, nil
}
