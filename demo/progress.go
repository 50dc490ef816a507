package demo

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/tongban/tongban/hub/store"
)

type counter interface {
	CountRecords(ctx context.Context) ([]store.ResourceCount, error)
}

// waitSynced prints progress until every resource holds its expected number
// of live records at the hub.
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
			n := byRes[d.resource]
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
