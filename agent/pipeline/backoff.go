package pipeline

import (
	"context"
	"time"
)

// backoff is a capped exponential wait: min, 2·min, … up to max.
type backoff struct {
	min, max, next time.Duration
}

func newBackoff(lo, hi time.Duration) *backoff {
	return &backoff{min: lo, max: max(lo, hi), next: lo}
}

// peek is the next wait.
func (b *backoff) peek() time.Duration { return b.next }

// wait sleeps the next wait and doubles it; false when ctx ended first.
func (b *backoff) wait(ctx context.Context) bool {
	d := b.next
	b.next = min(b.next*2, b.max)
	return sleep(ctx, d)
}

// reset starts over at min.
func (b *backoff) reset() { b.next = b.min }

// sleep waits d; false when ctx ended first.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
