package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tongban/tongban/hub/audit"
	"github.com/tongban/tongban/hub/store"
)

// auditZone is the zone of the times audit list reads and prints: China
// Standard Time, as the regulations and the bureau's office hours are local.
func auditZone() *time.Location { return time.FixedZone("CST", 8*60*60) }

// progressMin is the log length from which verify prints its progress.
const progressMin = 20000

func runAudit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: audit: want verify or list", errUsage)
	}
	switch args[0] {
	case "verify":
		return auditVerify(ctx, args[1:], stdout, stderr)
	case "list":
		return auditList(ctx, args[1:], stdout, stderr)
	}
	return fmt.Errorf("%w: audit %s: want verify or list", errUsage, args[0])
}

func auditVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("audit verify", flag.ContinueOnError)
	configPath := fs.String("config", defaultConfig, "hub configuration file")
	pos, err := parseFlags(fs, args, stderr)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("%w: audit verify: unexpected argument %q", errUsage, pos[0])
	}
	_, db, err := openStore(ctx, *configPath)
	if err != nil {
		return err
	}
	defer db.Close()
	head, err := db.ReadAuditHead(ctx)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	var progress func(int64)
	if total := head.Seq; total >= progressMin {
		step, next := total/20, total/20 // every 5%
		progress = func(done int64) {
			if done >= next {
				fmt.Fprintf(stderr, "verified %d of %d entries (%d%%)\n", done, total, done*100/total)
				next = done + step
			}
		}
	}
	rep, err := audit.Verify(ctx, db, progress)
	if err != nil {
		return err
	}
	if p := rep.Problem; p != nil {
		fmt.Fprintf(stdout, "FAIL at seq %d (%s): %s\n", p.Seq, p.Kind, p.Message)
		fmt.Fprintf(stdout, "%d entries before it are intact.\n", rep.Entries)
		return fmt.Errorf("audit verify: the audit log is broken at seq %d (审计日志在第 %d 条处被篡改)", p.Seq, p.Seq)
	}
	fmt.Fprintf(stdout, "OK: %d entries, head hash %s\n", rep.Entries, hex.EncodeToString(rep.Head.Hash))
	return nil
}

func auditList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("audit list", flag.ContinueOnError)
	configPath := fs.String("config", defaultConfig, "hub configuration file")
	dept := fs.String("dept", "", "only calls by this department code")
	actor := fs.String("actor", "", "only calls with this token id")
	action := fs.String("action", "", "only this action, e.g. share.read")
	resource := fs.String("resource", "", "only calls on this resource code")
	subject := fs.String("subject", "", "only calls about this subject: ID, or TYPE:ID (person:<citizen ID>, legal_person:<USCC>)")
	since := fs.String("since", "", "only calls at or after this time: RFC 3339, or YYYY-MM-DD[ HH:MM[:SS]] in China Standard Time")
	until := fs.String("until", "", "only calls before this time (same forms as -since)")
	limit := fs.Int("limit", 100, "at most this many entries (1..1000), newest first")
	before := fs.Int64("before", 0, "only entries with seq below this (the next page)")
	asJSON := fs.Bool("json", false, "print one JSON object per entry")
	pos, err := parseFlags(fs, args, stderr)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("%w: audit list: unexpected argument %q", errUsage, pos[0])
	}
	f := store.AuditFilter{Dept: *dept, Actor: *actor, Action: *action, Resource: *resource, Before: *before, Limit: *limit}
	if *limit < 1 || *limit > 1000 {
		return fmt.Errorf("%w: audit list: -limit %d is not in 1..1000", errUsage, *limit)
	}
	if *before < 0 {
		return fmt.Errorf("%w: audit list: -before %d is negative", errUsage, *before)
	}
	if *subject != "" {
		if typ, id, ok := strings.Cut(*subject, ":"); ok {
			f.SubjectType, f.SubjectID = typ, id
		} else {
			f.SubjectID = *subject
		}
		if f.SubjectID == "" {
			return fmt.Errorf("%w: audit list: -subject %q names no id", errUsage, *subject)
		}
	}
	for _, tf := range []struct {
		name, v string
		dst     *time.Time
	}{{"since", *since, &f.Since}, {"until", *until, &f.Until}} {
		if tf.v == "" {
			continue
		}
		t, err := parseAuditTime(tf.v)
		if err != nil {
			return fmt.Errorf("%w: audit list: -%s: %v", errUsage, tf.name, err)
		}
		*tf.dst = t
	}
	_, db, err := openStore(ctx, *configPath)
	if err != nil {
		return err
	}
	defer db.Close()
	page, err := audit.Query(ctx, db, f)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		for _, e := range page.Entries {
			if err := enc.Encode(jsonEntry(e)); err != nil {
				return err
			}
		}
	} else if err := printAudit(stdout, page.Entries); err != nil {
		return err
	}
	if page.Next != 0 {
		fmt.Fprintf(stderr, "more entries: add -before %d for the next page\n", page.Next)
	}
	return nil
}

// parseAuditTime reads RFC 3339, or a date with an optional time of day in
// China Standard Time.
func parseAuditTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{time.DateOnly, "2006-01-02 15:04", time.DateTime} {
		if t, err := time.ParseInLocation(layout, s, auditZone()); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("time %q is neither RFC 3339 nor YYYY-MM-DD[ HH:MM[:SS]]", s)
}

func printAudit(w io.Writer, es []store.AuditEntry) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SEQ\tAT (CST)\tACTOR\tDEPT\tACTION\tRESOURCE\tSUBJECT\tFIELDS\tPURPOSE\tITEM\tRESULT\tREASON")
	for _, e := range es {
		subject := e.SubjectID
		if e.SubjectType != "" {
			subject = e.SubjectType + ":" + e.SubjectID
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Seq, e.At.In(auditZone()).Format("2006-01-02 15:04:05.000"),
			dash(e.Actor), dash(e.Dept), e.Action, dash(e.Resource), dash(subject), dash(strings.Join(e.Fields, ",")),
			dash(oneLine(e.Purpose)), dash(e.ItemCode), e.Result, dash(oneLine(e.Reason)))
	}
	return tw.Flush()
}

// jsonEntry is the -json form of an entry: the stored row, hashes in hex.
func jsonEntry(e store.AuditEntry) any {
	return struct {
		Seq         int64           `json:"seq"`
		At          time.Time       `json:"at"`
		Actor       string          `json:"actor"`
		Dept        string          `json:"dept"`
		Action      string          `json:"action"`
		Resource    string          `json:"resource"`
		SubjectType string          `json:"subject_type"`
		SubjectID   string          `json:"subject_id"`
		Fields      []string        `json:"fields"`
		Purpose     string          `json:"purpose"`
		ItemCode    string          `json:"item_code"`
		Result      string          `json:"result"`
		Reason      string          `json:"reason"`
		Detail      json.RawMessage `json:"detail,omitempty"`
		PrevHash    string          `json:"prev_hash"`
		Hash        string          `json:"hash"`
	}{e.Seq, e.At, e.Actor, e.Dept, e.Action, e.Resource, e.SubjectType, e.SubjectID, e.Fields, e.Purpose,
		e.ItemCode, e.Result, e.Reason, e.Detail, hex.EncodeToString(e.PrevHash), hex.EncodeToString(e.Hash)}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// oneLine keeps a table row on one line.
func oneLine(s string) string {
	return strings.NewReplacer("\n", " ", "\r", " ", "\t", " ").Replace(s)
}
