package plugin

import (
	"reflect"
	"strings"
	"testing"

	"github.com/tongban/tongban/connectors"
	connectorpb "github.com/tongban/tongban/connectors/proto"
	"github.com/tongban/tongban/schemas"
)

func TestSourceRoundTrip(t *testing.T) {
	src := connectors.Source{
		Resource: "R", DSN: "root@tcp(127.0.0.1:3306)/db", Table: "db.t",
		Columns: []connectors.Column{
			{Field: schemas.Field{Name: "id", Type: schemas.Type{Kind: schemas.String}, Sensitivity: "personal", Description: "身份证号"}},
			{Field: schemas.Field{Name: "amt", Type: schemas.Type{Kind: schemas.Decimal, Precision: 38, Scale: 10}, Nullable: true}, Source: "AMT"},
			{Field: schemas.Field{Name: "name", Type: schemas.Type{Kind: schemas.String}, Nullable: true}, Encoding: "gbk"},
		},
		PrimaryKey: []string{"id"}, Watermark: "updated_at", SubjectKey: "id",
		Partitions: 6, ChunkRows: 5000, BatchRows: 1000,
	}
	got, err := sourceFromProto(sourceToProto(src))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, src) {
		t.Errorf("round trip = %+v, want %+v", got, src)
	}
}

func TestSourceFromProtoErrors(t *testing.T) {
	tests := []struct {
		name string
		src  *connectorpb.Source
		want string
	}{
		{"nil", nil, "no source"},
		{"no field", &connectorpb.Source{Resource: "R", Columns: []*connectorpb.Column{{}}}, "columns[0]: no field"},
		{"bad type", &connectorpb.Source{Resource: "R", Columns: []*connectorpb.Column{{Field: &connectorpb.Field{Name: "x", Type: "decimal(99,1)"}}}}, `columns[0] (field "x")`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := sourceFromProto(tt.src)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestChunkParts(t *testing.T) {
	batch := func(p, n int) connectors.PartitionBatch {
		return connectors.PartitionBatch{Partition: p, IPC: make([]byte, n), Rows: n}
	}
	tests := []struct {
		name   string
		sizes  []int
		budget int
		parts  int
	}{
		{"empty chunk", nil, 10, 1},
		{"fits", []int{3, 3, 3}, 10, 1},
		{"exact budget", []int{5, 5}, 10, 1},
		{"splits", []int{6, 6, 6}, 10, 3},
		{"oversized batch alone", []int{2, 30, 2}, 10, 3},
		{"pairs", []int{4, 4, 4, 4}, 8, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := connectors.Chunk{Rows: 7, LastKey: []string{"a", "b"}, MaxWatermark: "w"}
			for i, n := range tt.sizes {
				c.Batches = append(c.Batches, batch(i, n))
			}
			parts := chunkParts(c, tt.budget)
			if len(parts) != tt.parts {
				t.Fatalf("%d parts, want %d", len(parts), tt.parts)
			}
			var a chunkAssembler
			for i, p := range parts {
				got, done := a.add(p)
				if done != (i == len(parts)-1) {
					t.Fatalf("part %d: done = %v", i, done)
				}
				if done && !reflect.DeepEqual(got, c) {
					t.Errorf("reassembled %+v, want %+v", got, c)
				}
			}
		})
	}
}

func FuzzChunkParts(f *testing.F) {
	f.Add([]byte{3, 200, 7, 0, 9}, uint16(10))
	f.Add([]byte{}, uint16(1))
	f.Fuzz(func(t *testing.T, sizes []byte, budget uint16) {
		c := connectors.Chunk{Rows: len(sizes), LastKey: []string{"k"}}
		for i, n := range sizes {
			c.Batches = append(c.Batches, connectors.PartitionBatch{Partition: i, IPC: make([]byte, n), Rows: int(n)})
		}
		parts := chunkParts(c, int(budget))
		var a chunkAssembler
		for i, p := range parts {
			size := 0
			for _, b := range p.Batches {
				size += len(b.Ipc)
			}
			if len(p.Batches) > 1 && size > int(budget) {
				t.Fatalf("part %d holds %d bytes over the budget %d", i, size, budget)
			}
			got, done := a.add(p)
			if done != (i == len(parts)-1) {
				t.Fatalf("part %d: done = %v of %d parts", i, done, len(parts))
			}
			if done && (got.Rows != c.Rows || len(got.Batches) != len(c.Batches)) {
				t.Fatalf("reassembled %d rows / %d batches, want %d / %d", got.Rows, len(got.Batches), c.Rows, len(c.Batches))
			}
		}
	})
}

func FuzzSourceFromProto(f *testing.F) {
	f.Add("id", "decimal(12,2)", "src", "gbk", int64(6))
	f.Add("", "", "", "", int64(-1))
	f.Add("x", "DECIMAL( 38 , 0 )", "", "", int64(0))
	f.Fuzz(func(t *testing.T, name, typ, source, enc string, n int64) {
		p := &connectorpb.Source{
			Resource: "R", Partitions: n, ChunkRows: n,
			Columns: []*connectorpb.Column{{Field: &connectorpb.Field{Name: name, Type: typ}, Source: source, Encoding: enc}},
		}
		src, err := sourceFromProto(p)
		if err != nil {
			if !strings.Contains(err.Error(), "columns[0]") {
				t.Fatalf("error %q does not name the column", err)
			}
			return
		}
		back, err := sourceFromProto(sourceToProto(src))
		if err != nil || !reflect.DeepEqual(back, src) {
			t.Fatalf("round trip of %+v: %+v, %v", src, back, err)
		}
	})
}

func TestKeyPages(t *testing.T) {
	keys := [][]string{{"a", "1"}, {"bb", ""}, {"c", "33"}, {"d", "4"}}
	tests := []struct {
		budget int
		pages  int
	}{{1 << 20, 1}, {6, 4}, {12, 3}, {13, 2}, {1, 4}}
	for _, tt := range tests {
		pages := keyPages(keys, tt.budget)
		if len(pages) != tt.pages {
			t.Errorf("budget %d: %d pages, want %d", tt.budget, len(pages), tt.pages)
		}
		var got [][]string
		for _, p := range pages {
			got = append(got, keysFromProto(p)...)
		}
		if !reflect.DeepEqual(got, keys) {
			t.Errorf("budget %d: keys %q, want %q", tt.budget, got, keys)
		}
	}
}
