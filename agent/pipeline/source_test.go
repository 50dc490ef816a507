package pipeline

import (
	"strings"
	"testing"

	"github.com/tongban/tongban/agent/config"
	"github.com/tongban/tongban/agent/hubclient"
	"github.com/tongban/tongban/catalog"
	"github.com/tongban/tongban/schemas"
	"github.com/tongban/tongban/wire"
)

func testDefinition() hubclient.Definition {
	f := func(name string, k schemas.Kind) schemas.Field {
		return schemas.Field{Name: name, Type: schemas.Type{Kind: k}}
	}
	return hubclient.Definition{
		Resource: catalog.Resource{
			Code: "PS-POP-001", Subject: catalog.Subject{Type: catalog.SubjectPerson, Field: "citizen_id"},
			PrimaryKey: []string{"citizen_id"},
			Schema:     schemas.Schema{Fields: []schemas.Field{f("citizen_id", schemas.String), f("name", schemas.String), f("n", schemas.Int64)}},
		},
		SchemaVersion: 3,
	}
}

func TestBuildSource(t *testing.T) {
	def := testDefinition()
	rc := config.Resource{Code: "PS-POP-001", DSN: "d", Table: "t", Columns: map[string]string{"citizen_id": "sfzh"},
		Encodings: map[string]string{"name": "gbk"}, Watermark: "gxsj", ChunkRows: 10, BatchRows: 5, Line: 7}
	src, err := BuildSource("agent.yaml", rc, def, 6)
	if err != nil {
		t.Fatal(err)
	}
	if len(src.Columns) != 3 || src.Columns[0].SourceName() != "sfzh" || src.Columns[1].Encoding != "gbk" || src.Columns[2].SourceName() != "n" {
		t.Errorf("columns %+v", src.Columns)
	}
	if src.SubjectKey != "citizen_id" || src.Partitions != 6 || src.ChunkRows != 10 || src.BatchRows != 5 || src.Watermark != "gxsj" ||
		strings.Join(src.PrimaryKey, ",") != "citizen_id" {
		t.Errorf("source %+v", src)
	}

	tests := []struct {
		name string
		edit func(*config.Resource)
		want string
	}{
		{"unknown column field", func(r *config.Resource) { r.Columns = map[string]string{"nme": "x"} }, `agent.yaml:7: resource PS-POP-001: columns.nme: "nme" is not a field`},
		{"unknown encoding field", func(r *config.Resource) { r.Encodings = map[string]string{"x": "gbk"} }, `encodings.x: "x" is not a field`},
		{"unknown key field", func(r *config.Resource) { r.PrimaryKey = []string{"id"} }, `primary_key: "id" is not a field`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rc
			tt.edit(&r)
			if _, err := BuildSource("agent.yaml", r, def, 6); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestKeyValueRoundTrip(t *testing.T) {
	s := schemas.Schema{Fields: []schemas.Field{
		{Name: "s", Type: schemas.Type{Kind: schemas.String}},
		{Name: "i", Type: schemas.Type{Kind: schemas.Int64}},
		{Name: "d", Type: schemas.Type{Kind: schemas.Decimal, Precision: 10, Scale: 2}},
		{Name: "dt", Type: schemas.Type{Kind: schemas.Date}},
		{Name: "ts", Type: schemas.Type{Kind: schemas.Timestamp}},
		{Name: "b", Type: schemas.Type{Kind: schemas.Bool}},
		{Name: "by", Type: schemas.Type{Kind: schemas.Bytes}},
		{Name: "f", Type: schemas.Type{Kind: schemas.Float64}},
	}}
	texts := []string{"张三", "-42", "12.30", "2020-02-29", "2026-01-02T03:04:05.000006", "true", "AAEC", "1.5"}
	b := wire.NewBuilder(nil, s)
	defer b.Release()
	vals := make([]any, len(texts))
	for i, f := range s.Fields {
		v, err := keyValue(f.Type, texts[i])
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		vals[i] = v
	}
	if err := b.Append(vals, 1); err != nil {
		t.Fatal(err)
	}
	rec := b.NewRecord()
	defer rec.Release()
	for i := range s.Fields {
		if got := wire.Text(rec.Column(i), 0); got != texts[i] {
			t.Errorf("%s: text %q, want %q", s.Fields[i].Name, got, texts[i])
		}
	}
	if _, err := keyValue(schemas.Type{Kind: schemas.Bool}, "maybe"); err == nil {
		t.Error("bad bool accepted")
	}
	if _, err := keyValue(schemas.Type{Kind: schemas.Bytes}, "!!"); err == nil {
		t.Error("bad base64 accepted")
	}
}
