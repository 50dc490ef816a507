package pipeline

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/tongban/tongban/connectors"
)

// Watermarks travel as the connector's canonical text: an integer, a date
// "2006-01-02" or a date-time "2006-01-02 15:04:05.000000" (no zone: the
// source's wall clock). The agent compares them, subtracts the overlap and
// steps between them; anything else is opaque and only compared as text.

const (
	dateLayout     = "2006-01-02"
	dateTimeLayout = "2006-01-02 15:04:05.000000"
)

// watermark is a parsed watermark text.
type watermark struct {
	text  string
	isInt bool
	n     int64
	isTS  bool
	t     time.Time // UTC wall clock
}

func parseWatermark(s string) watermark {
	w := watermark{text: s}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		w.isInt, w.n = true, n
		return w
	}
	for _, l := range []string{dateTimeLayout, "2006-01-02 15:04:05", dateLayout, "2006-01-02T15:04:05.000000"} {
		if t, err := time.Parse(l, s); err == nil {
			w.isTS, w.t = true, t
			return w
		}
	}
	return w
}

// compareWatermarks orders two watermark texts: numerically for integers,
// by time for dates and date-times, as text otherwise. "" is the lowest.
func compareWatermarks(a, b string) int {
	switch {
	case a == b:
		return 0
	case a == "":
		return -1
	case b == "":
		return 1
	}
	wa, wb := parseWatermark(a), parseWatermark(b)
	switch {
	case wa.isInt && wb.isInt:
		return cmpInt(wa.n, wb.n)
	case wa.isTS && wb.isTS:
		return wa.t.Compare(wb.t)
	case a < b:
		return -1
	}
	return 1
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// maxWatermark returns the later of two watermark texts.
func maxWatermark(a, b string) string {
	if compareWatermarks(a, b) >= 0 {
		return a
	}
	return b
}

// sinceWithOverlap is where a change poll starts: the watermark minus the
// overlap for dates and date-times (so rows committed late with an earlier
// watermark are not missed), the watermark itself for integers and opaque
// texts (Changes reads >= since, so rows at the watermark are re-read).
func sinceWithOverlap(w string, overlap time.Duration) string {
	if w == "" || overlap <= 0 {
		return w
	}
	p := parseWatermark(w)
	if !p.isTS {
		return w
	}
	return p.t.Add(-overlap).Format(dateTimeLayout)
}

// settles reports whether a poll that started at pollStart and found no
// watermark above w has read every row whose watermark is at most w, so later
// polls may start just past w instead of re-reading the overlap window for as
// long as the table stays quiet.
//
// The overlap is the promise that a row commits within overlap of the time
// its watermark names. w was first held at seenAt, when its row had been
// committed, so the writers' clocks had passed w by then; at seenAt+overlap
// every row at or below w has committed, and a poll starting after that read
// them all (it covered w minus the overlap and up, and earlier polls the
// rest). Only date-time watermarks settle: a DATE names a whole day whose rows
// keep coming until it ends, and integers are re-read at the watermark only.
func settles(w string, seenAt, pollStart time.Time, overlap time.Duration) bool {
	if w == "" || len(w) <= len(dateLayout) || !parseWatermark(w).isTS {
		return false
	}
	return pollStart.Sub(seenAt) >= overlap
}

// justAfter is the smallest date-time watermark above w (one microsecond
// later): Changes reads >= since, so a poll from it reads only rows past w.
// A source column of coarser precision compares the value at its own
// precision at worst, which re-reads the rows at w, never skips one.
func justAfter(w string) string {
	return parseWatermark(w).t.Add(time.Microsecond).Format(dateTimeLayout)
}

// errStop ends a probe after its first chunk.
var errStop = errors.New("probe done")

// probeChanges returns the watermark of the first row with watermark >=
// since (the smallest such watermark); ok is false when there is none.
func probeChanges(ctx context.Context, c connectors.Connector, src connectors.Source, since string) (string, bool, error) {
	src.ChunkRows, src.BatchRows = 1, 0
	var got string
	err := c.Changes(ctx, src, since, func(ch connectors.Chunk) error {
		if ch.Rows == 0 {
			return nil
		}
		got = ch.MaxWatermark
		return errStop
	})
	switch {
	case errors.Is(err, errStop):
		return got, true, nil
	case err != nil:
		return "", false, err
	}
	return "", false, nil
}

// findMaxWatermark finds the highest watermark in the source, to within one
// second for dates and date-times and exactly for integers, with a galloping
// then bisecting search over Changes probes that each read one row (the
// connector interface has no "max" call). The result is always a watermark
// that exists, at most the true maximum; "" means the table has no
// watermark at all. Opaque watermark texts give "" (read every row once).
func findMaxWatermark(ctx context.Context, c connectors.Connector, src connectors.Source) (string, int, error) {
	probes := 0
	probe := func(since string) (string, bool, error) {
		probes++
		return probeChanges(ctx, c, src, since)
	}
	lo, ok, err := probe("")
	if err != nil || !ok {
		return "", probes, err
	}
	w := parseWatermark(lo)
	switch {
	case w.isInt:
		return findMaxInt(w.n, probe, &probes)
	case w.isTS:
		return findMaxTime(w.t, probe, &probes)
	}
	return "", probes, nil
}

func findMaxInt(lo int64, probe func(string) (string, bool, error), probes *int) (string, int, error) {
	step := int64(1)
	var hi int64
	for {
		if lo > math.MaxInt64-step {
			hi = math.MaxInt64
			break
		}
		x := lo + step
		got, ok, err := probe(strconv.FormatInt(x, 10))
		if err != nil {
			return "", *probes, err
		}
		if !ok {
			hi = x
			break
		}
		n := parseWatermark(got)
		if !n.isInt || n.n < x {
			return "", *probes, fmt.Errorf("watermark probe: asked for >= %d, got %q", x, got)
		}
		lo = n.n
		if step < math.MaxInt64/2 {
			step *= 2
		}
	}
	// lo exists, nothing >= hi.
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		got, ok, err := probe(strconv.FormatInt(mid, 10))
		if err != nil {
			return "", *probes, err
		}
		if !ok {
			hi = mid
			continue
		}
		n := parseWatermark(got)
		if !n.isInt || n.n < mid {
			return "", *probes, fmt.Errorf("watermark probe: asked for >= %d, got %q", mid, got)
		}
		lo = n.n
	}
	return strconv.FormatInt(lo, 10), *probes, nil
}

func findMaxTime(lo time.Time, probe func(string) (string, bool, error), probes *int) (string, int, error) {
	const resolution = time.Second
	step := resolution
	var hi time.Time
	for {
		x := lo.Add(step)
		got, ok, err := probe(x.Format(dateTimeLayout))
		if err != nil {
			return "", *probes, err
		}
		if !ok {
			hi = x
			break
		}
		n := parseWatermark(got)
		if !n.isTS || n.t.Before(x) {
			return "", *probes, fmt.Errorf("watermark probe: asked for >= %s, got %q", x.Format(dateTimeLayout), got)
		}
		lo = n.t
		if step < 100*365*24*time.Hour {
			step *= 2
		}
	}
	for hi.Sub(lo) > resolution {
		mid := lo.Add(hi.Sub(lo) / 2)
		got, ok, err := probe(mid.Format(dateTimeLayout))
		if err != nil {
			return "", *probes, err
		}
		if !ok {
			hi = mid
			continue
		}
		n := parseWatermark(got)
		if !n.isTS || n.t.Before(mid) {
			return "", *probes, fmt.Errorf("watermark probe: asked for >= %s, got %q", mid.Format(dateTimeLayout), got)
		}
		lo = n.t
	}
	return lo.Format(dateTimeLayout), *probes, nil
}
