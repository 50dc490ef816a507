package plugin

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/tongban/tongban/connectors"
	connectorpb "github.com/tongban/tongban/connectors/proto"
)

// emitError carries the error of the caller's emit function through the
// stream loop so the Supervisor returns it unchanged.
type emitError struct{ err error }

func (e emitError) Error() string { return e.err.Error() }
func (e emitError) Unwrap() error { return e.err }

// client is the host side of one plugin process's connection. It returns
// gRPC errors as they are (the Supervisor interprets them) and the errors
// of emit wrapped in emitError.
type client struct {
	rpc connectorpb.ConnectorClient
}

func (c *client) Describe(ctx context.Context, src connectors.Source) ([]connectors.SourceColumn, error) {
	res, err := c.rpc.Describe(ctx, &connectorpb.DescribeRequest{Source: sourceToProto(src)})
	if err != nil {
		return nil, err
	}
	return sourceColumnsFromProto(res.GetColumns()), nil
}

func (c *client) Snapshot(ctx context.Context, src connectors.Source, after []string, emit func(connectors.Chunk) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.rpc.Snapshot(ctx, &connectorpb.SnapshotRequest{Source: sourceToProto(src), After: after})
	if err != nil {
		return err
	}
	return receiveChunks(stream, emit)
}

func (c *client) Changes(ctx context.Context, src connectors.Source, since string, emit func(connectors.Chunk) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.rpc.Changes(ctx, &connectorpb.ChangesRequest{Source: sourceToProto(src), Since: since})
	if err != nil {
		return err
	}
	return receiveChunks(stream, emit)
}

func (c *client) KeySet(ctx context.Context, src connectors.Source, emit func(keys [][]string) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.rpc.KeySet(ctx, &connectorpb.KeySetRequest{Source: sourceToProto(src)})
	if err != nil {
		return err
	}
	for {
		page, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := emit(keysFromProto(page)); err != nil {
			return emitError{err}
		}
	}
}

func (c *client) Lookup(ctx context.Context, src connectors.Source, key []string) (connectors.Chunk, error) {
	res, err := c.rpc.Lookup(ctx, &connectorpb.LookupRequest{Source: sourceToProto(src), Key: key})
	if err != nil {
		return connectors.Chunk{}, err
	}
	return chunkFromProto(res.GetChunk()), nil
}

// chunkStream is what Snapshot and Changes streams have in common.
type chunkStream interface {
	Recv() (*connectorpb.Chunk, error)
}

func receiveChunks(stream chunkStream, emit func(connectors.Chunk) error) error {
	var a chunkAssembler
	for {
		part, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			if a.pending {
				return fmt.Errorf("stream ended inside a chunk")
			}
			return nil
		}
		if err != nil {
			return err
		}
		if c, ok := a.add(part); ok {
			if err := emit(c); err != nil {
				return emitError{err}
			}
		}
	}
}
