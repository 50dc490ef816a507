package plugin

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/tongban/tongban/connectors"
	connectorpb "github.com/tongban/tongban/connectors/proto"
)

// Serve serves impl as a connector plugin on this process's stdio handshake
// and returns when the host shuts the plugin down; impl is closed then. It is
// what a connector binary's main calls (the agent's `connector <name>`
// subcommand does it for the built-in connectors). Logs of the plugin process
// reach the host's log when written as JSON to stderr, see LogHandler.
func Serve(impl connectors.Connector) {
	defer impl.Close()
	goplugin.Serve(&goplugin.ServeConfig{
		HandshakeConfig: Handshake(),
		Plugins:         pluginSet(impl),
		GRPCServer: func(opts []grpc.ServerOption) *grpc.Server {
			opts = append(opts, grpc.MaxRecvMsgSize(MaxMessageBytes), grpc.MaxSendMsgSize(MaxMessageBytes))
			return grpc.NewServer(opts...)
		},
		Logger: hclog.New(&hclog.LoggerOptions{
			Name:       "connector",
			Level:      hclog.Info,
			Output:     os.Stderr,
			JSONFormat: true,
		}),
	})
}

// server adapts a connectors.Connector to the generated gRPC service.
type server struct {
	connectorpb.UnimplementedConnectorServer
	impl connectors.Connector
}

func (s *server) Describe(ctx context.Context, req *connectorpb.DescribeRequest) (*connectorpb.DescribeResponse, error) {
	src, err := sourceFromProto(req.GetSource())
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	cols, err := s.impl.Describe(ctx, src)
	if err != nil {
		return nil, toStatus(err)
	}
	return &connectorpb.DescribeResponse{Columns: sourceColumnsToProto(cols)}, nil
}

func (s *server) Snapshot(req *connectorpb.SnapshotRequest, stream grpc.ServerStreamingServer[connectorpb.Chunk]) error {
	src, err := sourceFromProto(req.GetSource())
	if err != nil {
		return status.Error(codes.InvalidArgument, err.Error())
	}
	var after []string
	if len(req.GetAfter()) > 0 {
		after = req.GetAfter()
	}
	return toStatus(s.impl.Snapshot(stream.Context(), src, after, sendChunk(stream)))
}

func (s *server) Changes(req *connectorpb.ChangesRequest, stream grpc.ServerStreamingServer[connectorpb.Chunk]) error {
	src, err := sourceFromProto(req.GetSource())
	if err != nil {
		return status.Error(codes.InvalidArgument, err.Error())
	}
	return toStatus(s.impl.Changes(stream.Context(), src, req.GetSince(), sendChunk(stream)))
}

func (s *server) KeySet(req *connectorpb.KeySetRequest, stream grpc.ServerStreamingServer[connectorpb.KeyPage]) error {
	src, err := sourceFromProto(req.GetSource())
	if err != nil {
		return status.Error(codes.InvalidArgument, err.Error())
	}
	return toStatus(s.impl.KeySet(stream.Context(), src, func(keys [][]string) error {
		for _, page := range keyPages(keys, partBudget) {
			if err := stream.Send(page); err != nil {
				return fmt.Errorf("send key page: %w", err)
			}
		}
		return nil
	}))
}

func (s *server) Lookup(ctx context.Context, req *connectorpb.LookupRequest) (*connectorpb.LookupResponse, error) {
	src, err := sourceFromProto(req.GetSource())
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	c, err := s.impl.Lookup(ctx, src, req.GetKey())
	if err != nil {
		return nil, toStatus(err)
	}
	return &connectorpb.LookupResponse{Chunk: chunkToProto(c)}, nil
}

// sendChunk streams each chunk as one message, or as several when its
// batches are larger than partBudget together.
func sendChunk(stream grpc.ServerStreamingServer[connectorpb.Chunk]) func(connectors.Chunk) error {
	return func(c connectors.Chunk) error {
		for _, b := range c.Batches {
			if len(b.IPC) > MaxMessageBytes-(1<<20) {
				return fmt.Errorf("partition %d batch of %d rows is %d bytes, over the %d-byte message limit: lower batch_rows",
					b.Partition, b.Rows, len(b.IPC), MaxMessageBytes)
			}
		}
		for _, part := range chunkParts(c, partBudget) {
			if err := stream.Send(part); err != nil {
				return fmt.Errorf("send chunk: %w", err)
			}
		}
		return nil
	}
}

// toStatus turns a connector error into a gRPC status keeping its message.
func toStatus(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, err.Error())
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, err.Error())
	}
	return status.Error(codes.Unknown, err.Error())
}
