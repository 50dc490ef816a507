package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
)

// provenances are the sources of a golden record's fields, stored in
// compact form: each distinct source once, and per field the index of its
// source. Most fields of a record come from one source record, so this is
// a fraction of a per-field object (which is what JSON of a
// map[string]Provenance was, and what UnmarshalJSON still reads).
type provenances map[string]Provenance

type compactProvenances struct {
	Sources []Provenance   `json:"$sources"`
	Fields  map[string]int `json:"$fields"`
}

// MarshalJSON writes the compact form, sources in the order of the first
// field (by name) that has each.
func (p provenances) MarshalJSON() ([]byte, error) {
	c := compactProvenances{Sources: []Provenance{}, Fields: make(map[string]int, len(p))}
	names := make([]string, 0, len(p))
	for name := range p {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		src := p[name]
		i := slices.Index(c.Sources, src)
		if i < 0 {
			i = len(c.Sources)
			c.Sources = append(c.Sources, src)
		}
		c.Fields[name] = i
	}
	return json.Marshal(c)
}

// UnmarshalJSON reads the compact form, or the per-field form written
// before it.
func (p *provenances) UnmarshalJSON(b []byte) error {
	// json.Marshal writes the struct's fields in order, and no field is
	// named $sources.
	if !bytes.HasPrefix(bytes.TrimSpace(b), []byte(`{"$sources":`)) {
		var m map[string]Provenance
		if err := json.Unmarshal(b, &m); err != nil {
			return err
		}
		*p = m
		return nil
	}
	var c compactProvenances
	if err := json.Unmarshal(b, &c); err != nil {
		return err
	}
	out := make(provenances, len(c.Fields))
	for name, i := range c.Fields {
		if i < 0 || i >= len(c.Sources) {
			return fmt.Errorf("provenance of field %q: source %d of %d", name, i, len(c.Sources))
		}
		out[name] = c.Sources[i]
	}
	*p = out
	return nil
}
