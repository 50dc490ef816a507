package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/tongban/tongban/demo/datagen"
	"github.com/tongban/tongban/hub/store"
	"github.com/tongban/tongban/wire"
)

type recordLister interface {
	ListRecords(ctx context.Context, resource, after string, limit int, includeDeleted bool) ([]store.Record, error)
}

// check compares every source row, regenerated from the seed, with the hub's
// department library: each row present once, with equal values, nothing else.
func check(ctx context.Context, out io.Writer, st recordLister, depts []*department, gen datagen.Config) error {
	failed := false
	fmt.Fprintln(out, "\n核对 check: source rows → hub department library")
	for _, d := range depts {
		res, err := checkTable(ctx, st, d, gen)
		if err != nil {
			return err
		}
		status := "OK"
		if !res.ok() {
			status = "FAIL"
			failed = true
		}
		fmt.Fprintf(out, "  %-4s %-11s source %d, at hub %d, missing %d, extra %d, differing %d\n",
			status, d.resource, res.source, res.hub, res.missing, res.extra, res.differing)
		for _, s := range res.samples {
			fmt.Fprintf(out, "         %s\n", s)
		}
	}
	if failed {
		return fmt.Errorf("demo check failed: the hub does not hold every source row exactly once")
	}
	fmt.Fprintln(out, "每一行恰好一次 every source row arrived exactly once, values equal")
	return nil
}

type tableResult struct {
	source, hub, missing, extra, differing int
	samples                                []string
}

func (r tableResult) ok() bool {
	return r.missing == 0 && r.extra == 0 && r.differing == 0 && r.source == r.hub
}

func (r *tableResult) note(format string, args ...any) {
	if len(r.samples) < 5 {
		r.samples = append(r.samples, fmt.Sprintf(format, args...))
	}
}

func checkTable(ctx context.Context, st recordLister, d *department, gen datagen.Config) (tableResult, error) {
	t, err := datagen.LookupTable(d.table)
	if err != nil {
		return tableResult{}, err
	}
	pk := make([]int, 0, len(t.PrimaryKey))
	for _, k := range t.PrimaryKey {
		for i, c := range t.Columns {
			if c.Name == k {
				pk = append(pk, i)
			}
		}
	}
	want := make(map[string][]any, d.expected)
	err = datagen.Rows(gen, d.table, func(row []any) error {
		parts := make([]string, len(pk))
		for i, p := range pk {
			parts[i] = text(t.Columns[p], row[p])
		}
		want[wire.RecordKey(parts)] = row
		return nil
	})
	if err != nil {
		return tableResult{}, err
	}
	res := tableResult{source: len(want)}
	after := ""
	for {
		page, err := st.ListRecords(ctx, d.resource, after, 1000, false)
		if err != nil {
			return res, fmt.Errorf("demo check: read %s: %w", d.resource, err)
		}
		for _, rec := range page {
			res.hub++
			row, ok := want[rec.Key]
			if !ok {
				res.extra++
				res.note("extra key %q", rec.Key)
				continue
			}
			delete(want, rec.Key)
			if msg := compare(t, row, rec.Data); msg != "" {
				res.differing++
				res.note("key %s: %s", rec.Key, msg)
			}
		}
		if len(page) < 1000 {
			break
		}
		after = page[len(page)-1].Key
	}
	res.missing = len(want)
	for k := range want {
		res.note("missing key %q", k)
		break
	}
	return res, nil
}

// text renders a generated value as the hub renders it in JSON (without quotes).
func text(c datagen.Column, v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case time.Time:
		if strings.HasPrefix(strings.ToUpper(c.SQLType), "DATETIME") || strings.HasPrefix(strings.ToUpper(c.SQLType), "TIMESTAMP") {
			return x.UTC().Format(wire.TimestampLayout)
		}
		return x.UTC().Format(wire.DateLayout)
	}
	return fmt.Sprint(v)
}

func compare(t datagen.Table, row []any, data json.RawMessage) string {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var got map[string]any
	if err := dec.Decode(&got); err != nil {
		return "data is not a JSON object: " + err.Error()
	}
	for i, c := range t.Columns {
		g, ok := got[c.Name]
		if !ok {
			return fmt.Sprintf("field %s absent", c.Name)
		}
		if row[i] == nil {
			if g != nil {
				return fmt.Sprintf("field %s = %v, want NULL", c.Name, g)
			}
			continue
		}
		if g == nil {
			return fmt.Sprintf("field %s is NULL, want %q", c.Name, text(c, row[i]))
		}
		if gs := fmt.Sprint(g); gs != text(c, row[i]) {
			return fmt.Sprintf("field %s = %q, want %q", c.Name, gs, text(c, row[i]))
		}
	}
	return ""
}
