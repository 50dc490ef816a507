package plugin

import (
	"fmt"

	"github.com/tongban/tongban/connectors"
	connectorpb "github.com/tongban/tongban/connectors/proto"
	"github.com/tongban/tongban/schemas"
)

// sourceToProto renders a Source as its protocol message.
func sourceToProto(s connectors.Source) *connectorpb.Source {
	cols := make([]*connectorpb.Column, len(s.Columns))
	for i, c := range s.Columns {
		cols[i] = &connectorpb.Column{
			Field: &connectorpb.Field{
				Name:        c.Field.Name,
				Type:        c.Field.Type.String(),
				Nullable:    c.Field.Nullable,
				Sensitivity: c.Field.Sensitivity,
				Description: c.Field.Description,
			},
			Source:   c.Source,
			Encoding: c.Encoding,
		}
	}
	return &connectorpb.Source{
		Resource:   s.Resource,
		Dsn:        s.DSN,
		Table:      s.Table,
		Columns:    cols,
		PrimaryKey: s.PrimaryKey,
		Watermark:  s.Watermark,
		SubjectKey: s.SubjectKey,
		Partitions: int64(s.Partitions),
		ChunkRows:  int64(s.ChunkRows),
		BatchRows:  int64(s.BatchRows),
	}
}

// sourceFromProto reads a Source message; it fails naming a column whose
// field or type is missing or malformed.
func sourceFromProto(p *connectorpb.Source) (connectors.Source, error) {
	if p == nil {
		return connectors.Source{}, fmt.Errorf("request carries no source")
	}
	cols := make([]connectors.Column, len(p.GetColumns()))
	for i, c := range p.GetColumns() {
		f := c.GetField()
		if f == nil {
			return connectors.Source{}, fmt.Errorf("source %q: columns[%d]: no field", p.GetResource(), i)
		}
		t, err := schemas.ParseType(f.GetType())
		if err != nil {
			return connectors.Source{}, fmt.Errorf("source %q: columns[%d] (field %q): %w", p.GetResource(), i, f.GetName(), err)
		}
		cols[i] = connectors.Column{
			Field: schemas.Field{
				Name:        f.GetName(),
				Type:        t,
				Nullable:    f.GetNullable(),
				Sensitivity: f.GetSensitivity(),
				Description: f.GetDescription(),
			},
			Source:   c.GetSource(),
			Encoding: c.GetEncoding(),
		}
	}
	return connectors.Source{
		Resource:   p.GetResource(),
		DSN:        p.GetDsn(),
		Table:      p.GetTable(),
		Columns:    cols,
		PrimaryKey: p.GetPrimaryKey(),
		Watermark:  p.GetWatermark(),
		SubjectKey: p.GetSubjectKey(),
		Partitions: int(p.GetPartitions()),
		ChunkRows:  int(p.GetChunkRows()),
		BatchRows:  int(p.GetBatchRows()),
	}, nil
}

func sourceColumnsToProto(cols []connectors.SourceColumn) []*connectorpb.SourceColumn {
	out := make([]*connectorpb.SourceColumn, len(cols))
	for i, c := range cols {
		out[i] = &connectorpb.SourceColumn{
			Name:       c.Name,
			SourceType: c.SourceType,
			Nullable:   c.Nullable,
			Charset:    c.Charset,
			PrimaryKey: c.PrimaryKey,
		}
	}
	return out
}

func sourceColumnsFromProto(cols []*connectorpb.SourceColumn) []connectors.SourceColumn {
	out := make([]connectors.SourceColumn, len(cols))
	for i, c := range cols {
		out[i] = connectors.SourceColumn{
			Name:       c.GetName(),
			SourceType: c.GetSourceType(),
			Nullable:   c.GetNullable(),
			Charset:    c.GetCharset(),
			PrimaryKey: c.GetPrimaryKey(),
		}
	}
	return out
}

func batchToProto(b connectors.PartitionBatch) *connectorpb.PartitionBatch {
	return &connectorpb.PartitionBatch{Partition: int64(b.Partition), Ipc: b.IPC, Rows: int64(b.Rows)}
}

func batchFromProto(b *connectorpb.PartitionBatch) connectors.PartitionBatch {
	return connectors.PartitionBatch{Partition: int(b.GetPartition()), IPC: b.GetIpc(), Rows: int(b.GetRows())}
}

// chunkToProto renders a whole chunk as one message (Lookup's answer).
func chunkToProto(c connectors.Chunk) *connectorpb.Chunk {
	out := &connectorpb.Chunk{
		Rows:         int64(c.Rows),
		LastKey:      c.LastKey,
		MaxWatermark: c.MaxWatermark,
	}
	for _, b := range c.Batches {
		out.Batches = append(out.Batches, batchToProto(b))
	}
	return out
}

// chunkParts splits a chunk into messages of at most budget bytes of Arrow
// IPC each (a single batch larger than budget travels alone). Every part but
// the last has More set; the last carries the chunk's rows, last key and
// watermark.
func chunkParts(c connectors.Chunk, budget int) []*connectorpb.Chunk {
	parts := []*connectorpb.Chunk{{}}
	size := 0
	for _, b := range c.Batches {
		cur := parts[len(parts)-1]
		if len(cur.Batches) > 0 && size+len(b.IPC) > budget {
			cur.More = true
			cur = &connectorpb.Chunk{}
			parts = append(parts, cur)
			size = 0
		}
		cur.Batches = append(cur.Batches, batchToProto(b))
		size += len(b.IPC)
	}
	last := parts[len(parts)-1]
	last.Rows = int64(c.Rows)
	last.LastKey = c.LastKey
	last.MaxWatermark = c.MaxWatermark
	return parts
}

// chunkAssembler puts the parts of a chunk back together.
type chunkAssembler struct {
	batches []connectors.PartitionBatch
	pending bool
}

// add takes one message; it returns the whole chunk once its last part arrived.
func (a *chunkAssembler) add(p *connectorpb.Chunk) (connectors.Chunk, bool) {
	for _, b := range p.GetBatches() {
		a.batches = append(a.batches, batchFromProto(b))
	}
	if p.GetMore() {
		a.pending = true
		return connectors.Chunk{}, false
	}
	c := connectors.Chunk{
		Batches:      a.batches,
		Rows:         int(p.GetRows()),
		LastKey:      p.GetLastKey(),
		MaxWatermark: p.GetMaxWatermark(),
	}
	a.batches, a.pending = nil, false
	return c, true
}

func chunkFromProto(p *connectorpb.Chunk) connectors.Chunk {
	var a chunkAssembler
	c, _ := a.add(p)
	return c
}

// keyPages splits a page of keys into messages of at most budget bytes.
func keyPages(keys [][]string, budget int) []*connectorpb.KeyPage {
	pages := []*connectorpb.KeyPage{{}}
	size := 0
	for _, k := range keys {
		n := 0
		for _, v := range k {
			n += len(v) + 2
		}
		cur := pages[len(pages)-1]
		if len(cur.Keys) > 0 && size+n > budget {
			cur = &connectorpb.KeyPage{}
			pages = append(pages, cur)
			size = 0
		}
		cur.Keys = append(cur.Keys, &connectorpb.Key{Values: k})
		size += n
	}
	return pages
}

func keysFromProto(p *connectorpb.KeyPage) [][]string {
	out := make([][]string, len(p.GetKeys()))
	for i, k := range p.GetKeys() {
		out[i] = k.GetValues()
		if out[i] == nil {
			out[i] = []string{}
		}
	}
	return out
}
