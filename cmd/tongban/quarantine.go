package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/tongban/tongban/hub/scorecard"
	"github.com/tongban/tongban/hub/store"
)

// maxCellRunes caps a value printed in a table cell.
const maxCellRunes = 40

// runQuality serves "tongban quarantine ..." and "tongban quality ...";
// args[0] is the command word.
func runQuality(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmd := args[0]
	args = args[1:]
	switch {
	case cmd == "quarantine" && len(args) > 0 && args[0] == "list":
		return quarantineList(ctx, args[1:], stdout, stderr)
	case cmd == "quarantine":
		return fmt.Errorf("%w: quarantine: want list", errUsage)
	case len(args) > 0 && args[0] == "scorecard":
		return qualityScorecard(ctx, args[1:], stdout, stderr)
	}
	return fmt.Errorf("%w: quality: want scorecard", errUsage)
}

func quarantineList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("quarantine list", flag.ContinueOnError)
	configPath := fs.String("config", defaultConfig, "hub configuration file")
	dept := fs.String("dept", "", "only entries of this department code")
	resource := fs.String("resource", "", "only entries of this resource code")
	rule := fs.String("rule", "", "only entries failing this rule kind, e.g. citizen_id")
	field := fs.String("field", "", "only entries of this field")
	status := fs.String("status", store.QuarantineOpen, "open, closed or all")
	limit := fs.Int("limit", 100, "at most this many entries (1-1000), oldest first")
	pos, err := parseFlags(fs, args, stderr)
	if err != nil {
		return err
	}
	switch {
	case len(pos) > 0:
		return fmt.Errorf("%w: quarantine list: unexpected argument %q", errUsage, pos[0])
	case !slices.Contains([]string{store.QuarantineOpen, store.QuarantineClosed, store.QuarantineAll}, *status):
		return fmt.Errorf("%w: quarantine list: -status %q: want open, closed or all", errUsage, *status)
	case *limit < 1 || *limit > 1000:
		return fmt.Errorf("%w: quarantine list: -limit %d: want 1 to 1000", errUsage, *limit)
	}
	_, db, err := openStore(ctx, *configPath)
	if err != nil {
		return err
	}
	defer db.Close()
	es, err := db.ListQuarantine(ctx, store.QuarantineFilter{Dept: *dept, Resource: *resource, Rule: *rule, Field: *field,
		Status: *status, Limit: *limit})
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tRESOURCE\tKEY\tFIELD\tRULE\tVALUE\tSTATUS\tOPENED\t原因\tREASON")
	for _, e := range es {
		st := e.Status
		if e.Status == store.QuarantineClosed {
			st += " (" + e.CloseReason + ")"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.ID, e.Resource, cell(e.Key), e.Field, e.Rule,
			fieldValue(e.Data, e.Field), st, e.OpenedAt.Local().Format(time.DateTime), cell(e.ReasonZH), cell(e.ReasonEN))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(es) == *limit {
		fmt.Fprintf(stderr, "showing the first %d entries; narrow the filter or raise -limit to see more\n", *limit)
	}
	return nil
}

// fieldValue renders the original value of field in a record's JSON, "-"
// when absent.
func fieldValue(data json.RawMessage, field string) string {
	var vals map[string]json.RawMessage
	if json.Unmarshal(data, &vals) != nil {
		return "-"
	}
	raw, ok := vals[field]
	if !ok {
		return "-"
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return cell(strconv.Quote(s))
	}
	return cell(string(raw))
}

// cell makes s fit one table cell: one line, at most maxCellRunes characters.
func cell(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= maxCellRunes {
		return s
	}
	r := []rune(s)
	return string(r[:maxCellRunes-1]) + "…"
}

// scorecardDimensions are the columns of "quality scorecard", in order.
func scorecardDimensions() []string {
	return []string{scorecard.Completeness, scorecard.Validity, scorecard.Uniqueness, scorecard.Consistency}
}

func qualityScorecard(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("quality scorecard", flag.ContinueOnError)
	configPath := fs.String("config", defaultConfig, "hub configuration file")
	pos, err := parseFlags(fs, args, stderr)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("%w: quality scorecard: unexpected argument %q", errUsage, pos[0])
	}
	_, db, err := openStore(ctx, *configPath)
	if err != nil {
		return err
	}
	defer db.Close()
	figs, err := db.LatestQualityFigures(ctx)
	if err != nil {
		return err
	}
	if len(figs) == 0 {
		fmt.Fprintln(stderr, "no quality figures yet (the hub computes them every few minutes)")
		return nil
	}
	type row struct {
		resource, dept, day string
		scores              map[string]store.QualityFigure
	}
	var rows []*row
	for _, f := range figs {
		if f.Field != "" {
			continue
		}
		if len(rows) == 0 || rows[len(rows)-1].resource != f.Resource {
			rows = append(rows, &row{resource: f.Resource, dept: f.Dept, day: f.Day, scores: map[string]store.QualityFigure{}})
		}
		rows[len(rows)-1].scores[f.Dimension] = f
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RESOURCE\tDEPT\tDAY\t完整性 COMPLETENESS\t规范性 VALIDITY\t唯一性 UNIQUENESS\t一致性 CONSISTENCY\t时效性 TIMELINESS")
	for _, r := range rows {
		cols := []string{r.resource, r.dept, r.day}
		for _, d := range scorecardDimensions() {
			f, ok := r.scores[d]
			if !ok {
				cols = append(cols, "-")
				continue
			}
			cols = append(cols, fmt.Sprintf("%.1f%% (%d/%d)", f.Value*100, f.Numerator, f.Denominator))
		}
		cols = append(cols, timeliness(r.scores["timeliness"]))
		fmt.Fprintln(tw, strings.Join(cols, "\t"))
	}
	return tw.Flush()
}

// timeliness renders the timeliness figure: in time or overdue, with the
// age of the last ingest.
func timeliness(f store.QualityFigure) string {
	if f.Dimension == "" {
		return "-"
	}
	state := "按时 on time"
	if f.Value == 0 {
		state = "逾期 overdue"
	}
	if f.Numerator < 0 {
		return state + ", never ingested"
	}
	return fmt.Sprintf("%s, last ingest %s ago", state, (time.Duration(f.Numerator) * time.Second).String())
}
