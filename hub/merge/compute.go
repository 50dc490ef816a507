package merge

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/tongban/tongban/catalog"
	"github.com/tongban/tongban/hub/store"
)

// sourceUpdatedField is the conventional field of a source record holding
// when the source last changed it; copied into provenance when present.
const sourceUpdatedField = "updated_at"

// Input is what Compute needs for one subject.
type Input struct {
	Spec *catalog.SubjectSpec
	// Resources are the catalog resources by code; at least those the spec
	// names (their Provider and Subject.LatestBy are used).
	Resources map[string]*catalog.Resource
	// SubjectID is the citizen ID or USCC.
	SubjectID string
	// Records are the subject's live source records from the spec's
	// resources (tombstones and other resources' records are ignored).
	Records []store.Record
}

// ResourceMap indexes the catalog's resources by code, for Input.Resources.
func ResourceMap(cat *catalog.Catalog) map[string]*catalog.Resource {
	m := make(map[string]*catalog.Resource, len(cat.Resources))
	for i := range cat.Resources {
		m[cat.Resources[i].Code] = &cat.Resources[i]
	}
	return m
}

// SpecResources returns the distinct resources a spec names, authorities
// and cross-checks, in first-mention order.
func SpecResources(spec *catalog.SubjectSpec) []string {
	var out []string
	seen := map[string]bool{}
	add := func(r string) {
		if r != "" && !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	for _, f := range spec.Fields {
		add(f.Authority.Resource)
		for _, c := range f.CrossCheck {
			add(c.Resource)
		}
	}
	return out
}

// decoded is a live source record with its fields decoded.
type decoded struct {
	rec    *store.Record
	fields map[string]json.RawMessage
}

func (d *decoded) str(field string) string {
	raw, ok := d.fields[field]
	if !ok {
		return ""
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s
	}
	if string(raw) == "null" {
		return ""
	}
	return string(raw)
}

// Compute merges one subject's source records into its golden record and
// cross-checks every field. A field takes its authority's value from the
// authority resource's latest record of the subject (by the resource's
// LatestBy field, then version, then key); a null or absent value, or no
// live record, leaves the field out. Each cross-check source's latest
// record is compared with the authority after Normalize; a source with an
// empty value on either side does not contradict. Compute does no I/O and
// depends only on the set of records, not their order.
func Compute(in Input) (store.SubjectMerge, error) {
	if in.Spec == nil {
		return store.SubjectMerge{}, fmt.Errorf("merge: compute %q: no subject spec", in.SubjectID)
	}
	byRes := map[string][]*decoded{}
	for i := range in.Records {
		r := &in.Records[i]
		if r.Deleted || len(r.Data) == 0 {
			continue
		}
		var f map[string]json.RawMessage
		if err := json.Unmarshal(r.Data, &f); err != nil {
			return store.SubjectMerge{}, fmt.Errorf("merge: compute %s %q: record %s/%q: %w", in.Spec.Type, in.SubjectID, r.Resource, r.Key, err)
		}
		byRes[r.Resource] = append(byRes[r.Resource], &decoded{rec: r, fields: f})
	}
	latest := map[string]*decoded{}
	pick := func(res string) *decoded {
		if d, ok := latest[res]; ok {
			return d
		}
		var latestBy string
		if cr, ok := in.Resources[res]; ok {
			latestBy = cr.Subject.LatestBy
		}
		var best *decoded
		for _, d := range byRes[res] {
			if best == nil || newer(d, best, latestBy) {
				best = d
			}
		}
		latest[res] = best
		return best
	}
	out := store.SubjectMerge{
		Golden: store.GoldenRecord{SubjectType: in.Spec.Type, SubjectID: in.SubjectID, Library: in.Spec.Library,
			Fields: map[string]store.GoldenField{}},
	}
	for _, sf := range in.Spec.Fields {
		auth := pick(sf.Authority.Resource)
		check := store.FieldCheck{Field: sf.Name}
		var authNorm string
		if auth != nil {
			v, err := fieldValue(auth, sf.Authority.Field)
			if err != nil {
				return store.SubjectMerge{}, fmt.Errorf("merge: compute %s %q field %s: %w", in.Spec.Type, in.SubjectID, sf.Name, err)
			}
			if string(v) != "null" {
				out.Golden.Fields[sf.Name] = store.GoldenField{Value: v, Provenance: provenance(auth, in.Resources)}
			}
			if len(sf.CrossCheck) == 0 {
				// Nothing to cross-check: no conflict can exist on the field.
				continue
			}
			authNorm = normalizeRaw(v)
			check.Values = append(check.Values, conflictValue(store.RoleAuthority, auth, sf.Authority.Field, v, authNorm, in.Resources))
		} else if len(sf.CrossCheck) == 0 {
			continue
		}
		for _, cc := range sf.CrossCheck {
			d := pick(cc.Resource)
			if d == nil {
				continue
			}
			v, err := fieldValue(d, cc.Field)
			if err != nil {
				return store.SubjectMerge{}, fmt.Errorf("merge: compute %s %q field %s: %w", in.Spec.Type, in.SubjectID, sf.Name, err)
			}
			n := normalizeRaw(v)
			if auth != nil && authNorm != "" && n != "" && n != authNorm {
				check.Disagree = true
			}
			check.Values = append(check.Values, conflictValue(store.RoleCrossCheck, d, cc.Field, v, n, in.Resources))
		}
		out.Checks = append(out.Checks, check)
	}
	return out, nil
}

// newer reports whether a is later than b: by the latestBy field (an absent
// value is earliest), then version, then key.
func newer(a, b *decoded, latestBy string) bool {
	if latestBy != "" {
		if c := strings.Compare(Normalize(a.str(latestBy)), Normalize(b.str(latestBy))); c != 0 {
			return c > 0
		}
	}
	if a.rec.Version != b.rec.Version {
		return a.rec.Version > b.rec.Version
	}
	return a.rec.Key > b.rec.Key
}

// fieldValue is the canonical raw value of a field, null when absent.
func fieldValue(d *decoded, field string) (json.RawMessage, error) {
	raw, ok := d.fields[field]
	if !ok {
		return json.RawMessage("null"), nil
	}
	return store.CanonicalJSON(raw)
}

// normalizeRaw decodes a raw JSON value (numbers kept exact) and normalises it.
func normalizeRaw(raw json.RawMessage) string {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return string(raw)
	}
	return Normalize(v)
}

func dept(d *decoded, res map[string]*catalog.Resource) string {
	if d.rec.Dept != "" {
		return d.rec.Dept
	}
	if r, ok := res[d.rec.Resource]; ok {
		return r.Provider
	}
	return ""
}

func provenance(d *decoded, res map[string]*catalog.Resource) store.Provenance {
	return store.Provenance{Dept: dept(d, res), Resource: d.rec.Resource, Key: d.rec.Key, Version: d.rec.Version,
		SourceUpdated: d.str(sourceUpdatedField), IngestedAt: d.rec.IngestedAt.UTC()}
}

func conflictValue(role string, d *decoded, field string, v json.RawMessage, norm string, res map[string]*catalog.Resource) store.ConflictValue {
	return store.ConflictValue{Role: role, Dept: dept(d, res), Resource: d.rec.Resource, Field: field, Key: d.rec.Key,
		Version: d.rec.Version, Value: v, Normalized: norm, SourceUpdated: d.str(sourceUpdatedField), IngestedAt: d.rec.IngestedAt.UTC()}
}
