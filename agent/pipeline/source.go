package pipeline

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/tongban/tongban/agent/config"
	"github.com/tongban/tongban/agent/hubclient"
	"github.com/tongban/tongban/connectors"
)

// BuildSource combines a resource's configuration with its catalog
// definition into what the connector reads: every catalog field in catalog
// order with its source column and encoding, the primary key, the watermark
// column, the subject field and the sizes. Configuration that names a field
// the catalog does not have is an error naming the config file, line and key.
func BuildSource(file string, rc config.Resource, def hubclient.Definition, partitions int) (connectors.Source, error) {
	r := def.Resource
	where := func(key string) string { return fmt.Sprintf("%s:%d: resource %s: %s", file, rc.Line, rc.Code, key) }
	var problems []string
	for _, f := range sortedKeys(rc.Columns) {
		if r.Schema.Index(f) < 0 {
			problems = append(problems, fmt.Sprintf("%s: %q is not a field of the catalog resource (fields: %s)", where("columns."+f), f, fieldList(def)))
		}
	}
	for _, f := range sortedKeys(rc.Encodings) {
		if r.Schema.Index(f) < 0 {
			problems = append(problems, fmt.Sprintf("%s: %q is not a field of the catalog resource (fields: %s)", where("encodings."+f), f, fieldList(def)))
		}
	}
	pk := slices.Clone(r.PrimaryKey)
	if len(rc.PrimaryKey) > 0 {
		for _, f := range rc.PrimaryKey {
			if r.Schema.Index(f) < 0 {
				problems = append(problems, fmt.Sprintf("%s: %q is not a field of the catalog resource (fields: %s)", where("primary_key"), f, fieldList(def)))
			}
		}
		pk = slices.Clone(rc.PrimaryKey)
	}
	if len(problems) > 0 {
		return connectors.Source{}, errors.New(strings.Join(problems, "\n"))
	}
	src := connectors.Source{
		Resource:   rc.Code,
		DSN:        rc.DSN,
		Table:      rc.Table,
		PrimaryKey: pk,
		Watermark:  rc.Watermark,
		SubjectKey: r.SubjectKeyField(),
		Partitions: partitions,
		ChunkRows:  rc.ChunkRows,
		BatchRows:  rc.BatchRows,
	}
	for _, f := range r.Schema.Fields {
		src.Columns = append(src.Columns, connectors.Column{Field: f, Source: rc.Columns[f.Name], Encoding: rc.Encodings[f.Name]})
	}
	return src, nil
}

func fieldList(def hubclient.Definition) string {
	names := make([]string, len(def.Resource.Schema.Fields))
	for i, f := range def.Resource.Schema.Fields {
		names[i] = f.Name
	}
	return strings.Join(names, ", ")
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
