package ingest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/tongban/tongban/catalog"
	"github.com/tongban/tongban/hub/store"
	"github.com/tongban/tongban/quality"
)

// checked is the quality outcome of one message's records: what to store in
// the department library, what to quarantine, and the fixes applied.
type checked struct {
	apply      []store.Record // passed or fixed upserts, and tombstones
	quarantine []store.QuarantineUpdate
	fixes      []store.QualityFix
	passed     int // upserts that passed every rule (fixed ones included)
	fixed      int // upserts with at least one fix
	failed     int // upserts quarantined
	violations map[violationKey]int
}

type violationKey struct{ field, rule string }

// checkQuality runs the resource's rules on every upsert of d (quality.CheckAt
// with now as "today"). A record with a violation is quarantined instead of
// stored, with its original values; a record that passes, possibly after a
// fix (a 15-digit citizen ID upgraded to 18), is stored with the fixed values
// and closes its key's open quarantine entries, as does a tombstone.
func checkQuality(d *decoded, now time.Time) (checked, error) {
	res := d.res
	out := checked{apply: make([]store.Record, 0, len(d.records))}
	if len(res.Rules) == 0 {
		out.apply = append(out.apply, d.records...)
		out.passed = len(d.records)
		return out, nil
	}
	for i, r := range d.records {
		up := store.QuarantineUpdate{Resource: r.Resource, Key: r.Key, Dept: r.Dept, Version: r.Version, Deleted: r.Deleted, At: now}
		if r.Deleted {
			out.apply = append(out.apply, r)
			out.quarantine = append(out.quarantine, up)
			continue
		}
		vals := d.values[i]
		fixes, violations := quality.CheckAt(vals, res.Rules, now)
		if len(violations) > 0 {
			up.Data = r.Data
			for _, v := range violations {
				up.Violations = append(up.Violations, store.QuarantineViolation{
					Field: v.Field, Rule: v.Rule, ReasonEN: v.Reason, ReasonZH: v.ReasonZH,
				})
				if out.violations == nil {
					out.violations = map[violationKey]int{}
				}
				out.violations[violationKey{v.Field, v.Rule}]++
			}
			out.quarantine = append(out.quarantine, up)
			out.failed++
			continue
		}
		if len(fixes) > 0 {
			for _, f := range fixes {
				from, _ := json.Marshal(f.From)
				out.fixes = append(out.fixes, store.QualityFix{
					Resource: r.Resource, Key: r.Key, Field: f.Field, Rule: f.Rule,
					Original: string(from), Fixed: f.To, Version: r.Version, FixedAt: now,
				})
				vals[f.Field] = f.To
			}
			data, err := marshalValues(res, vals)
			if err != nil {
				return checked{}, fmt.Errorf("resource %s key %q: re-encode fixed record: %w", r.Resource, r.Key, err)
			}
			r.Data = data
			r.Subject = subjectOf(res, vals)
			out.fixed++
		}
		out.passed++
		out.apply = append(out.apply, r)
		out.quarantine = append(out.quarantine, up)
	}
	return out, nil
}

// marshalValues renders values as the record's JSON object, in catalog order.
func marshalValues(res *catalog.Resource, vals map[string]any) (json.RawMessage, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	for j, f := range res.Schema.Fields {
		if j > 0 {
			buf.WriteByte(',')
		}
		name, _ := json.Marshal(f.Name)
		buf.Write(name)
		buf.WriteByte(':')
		b, err := json.Marshal(vals[f.Name])
		if err != nil {
			return nil, fmt.Errorf("field %q: %w", f.Name, err)
		}
		buf.Write(b)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}
