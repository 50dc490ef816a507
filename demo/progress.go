package demo

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/tongban/tongban/hub/ingest"
	"github.com/tongban/tongban/hub/store"
)

type counter interface {
	CountRecords(ctx context.Context) ([]store.ResourceCount, error)
	OpenQuarantineKeys(ctx context.Context, resource string) (int64, error)
}

// waitSynced prints progress until every resource's expected rows are at
// the hub: live in the department library or held in quarantine.
func waitSynced(ctx context.Context, out io.Writer, st counter, depts []*department, timeout time.Duration, hubErr <-chan error, agentErr <-chan error) error {
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var total int64
	for _, d := range depts {
		total += int64(d.expected)
	}
	last := time.Now()
	var lastDone int64
	for {
		counts, err := st.CountRecords(ctx)
		if err != nil {
			return fmt.Errorf("demo: read progress: %w", err)
		}
		byRes := map[string]int64{}
		for _, c := range counts {
			byRes[c.Resource] = c.Live
		}
		var done int64
		var parts []string
		finished := true
		for _, d := range depts {
			q, err := st.OpenQuarantineKeys(ctx, d.resource)
			if err != nil {
				return fmt.Errorf("demo: read progress: %w", err)
			}
			n := byRes[d.resource] + q
			done += n
			parts = append(parts, fmt.Sprintf("%s %d/%d", d.resource, n, d.expected))
			if n < int64(d.expected) {
				finished = false
			}
		}
		now := time.Now()
		rate := float64(done-lastDone) / now.Sub(last).Seconds()
		last, lastDone = now, done
		fmt.Fprintf(out, "  同步 syncing %5.1f%%  %s  (%.0f rows/s)\n", 100*float64(done)/float64(total), strings.Join(parts, "  "), rate)
		if finished {
			return nil
		}
		if now.After(deadline) {
			return fmt.Errorf("demo: sync not finished after %s: %d of %d rows at the hub", timeout, done, total)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-hubErr:
			return fmt.Errorf("demo: hub failed: %w", err)
		case err := <-agentErr:
			return fmt.Errorf("demo: an agent stopped: %v", err)
		case <-tick.C:
		}
	}
}

// waitMerged waits until the ingester has finished the group in flight:
// called once every row is stored, it means the merge of every row is done.
func waitMerged(ctx context.Context, stats func() ingest.Stats, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for stats().Busy {
		if time.Now().After(deadline) {
			return fmt.Errorf("demo: the hub was still merging after %s", timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	return nil
}
