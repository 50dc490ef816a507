package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
)

// Status of a result.
const (
	StatusMeasured = "measured"
	// StatusNotMeasured: this run could not measure the path (the note says
	// why); it has no value and no verdict.
	StatusNotMeasured = "not measured"
)

// Result is one line of the report and of results.json.
type Result struct {
	Name          string  `json:"name"`
	Unit          string  `json:"unit"`
	Value         float64 `json:"value"`
	Baseline      string  `json:"baseline"`
	BaselineValue float64 `json:"baseline_value"`
	Ratio         float64 `json:"ratio"` // Value / BaselineValue; 0 without a baseline
	Rows          int     `json:"rows"`
	RSSBytes      int64   `json:"rss_bytes"` // peak RSS during the measurement, 0 if not taken
	Target        string  `json:"target,omitempty"`
	// Met says whether the target was reached; nil without a target or measurement.
	Met    *bool  `json:"met,omitempty"`
	Status string `json:"status"`
	Note   string `json:"note,omitempty"`
}

func ratio(v, base float64) float64 {
	if base <= 0 {
		return 0
	}
	return v / base
}

func met(ok bool) *bool { return &ok }

// notMeasured is a line for a path this run could not measure, and why.
func notMeasured(name, unit, target, why string) Result {
	return Result{Name: name, Unit: unit, Target: target, Status: StatusNotMeasured, Note: why}
}

// WriteJSON writes the results as an indented JSON array, creating the directory.
func WriteJSON(path string, rs []Result) error {
	b, err := json.MarshalIndent(rs, "", "  ")
	if err != nil {
		return fmt.Errorf("bench: encode results: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return fmt.Errorf("bench: results dir: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("bench: write results: %w", err)
	}
	return nil
}

// WriteTable prints the results as an aligned table, notes below.
func WriteTable(w io.Writer, rs []Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "name\tunit\tvalue\tbaseline\tbaseline value\tratio\trows\tpeak RSS\ttarget\tmet")
	var notes []string
	for _, r := range rs {
		if r.Status == StatusNotMeasured {
			fmt.Fprintf(tw, "%s\t%s\tnot measured\t%s\t-\t-\t-\t-\t%s\t-\n", r.Name, r.Unit, dash(r.Baseline), dash(r.Target))
			notes = append(notes, r.Name+": "+r.Note)
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", r.Name, r.Unit, num(r.Value), dash(r.Baseline),
			numOrDash(r.BaselineValue), ratioText(r.Ratio), r.Rows, rssText(r.RSSBytes), dash(r.Target), metText(r.Met))
		if r.Note != "" {
			notes = append(notes, r.Name+": "+r.Note)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(notes) > 0 {
		_, err := fmt.Fprintln(w, "\nnotes:\n  "+strings.Join(notes, "\n  "))
		return err
	}
	return nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func num(v float64) string {
	switch {
	case v >= 1000:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	default:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
}

func numOrDash(v float64) string {
	if v == 0 {
		return "-"
	}
	return num(v)
}

func ratioText(r float64) string {
	if r == 0 {
		return "-"
	}
	return strconv.FormatFloat(r, 'f', 2, 64) + "×"
}

func rssText(b int64) string {
	if b <= 0 {
		return "-"
	}
	prec := 0
	if b < 10<<20 {
		prec = 1 // a small growth (the download lines) stays visible
	}
	return strconv.FormatFloat(float64(b)/(1<<20), 'f', prec, 64) + " MiB"
}

func metText(m *bool) string {
	switch {
	case m == nil:
		return "-"
	case *m:
		return "yes"
	default:
		return "NO"
	}
}
