// Package plugin runs connectors as separate processes with
// hashicorp/go-plugin over gRPC (protocol tongban.connectors.v1, package
// connectors/proto). The plugin process calls Serve with its connector; the
// host (the agent) talks to it through a Supervisor, which is itself a
// connectors.Connector and restarts the process when it dies, so a crashing
// database driver never takes the agent down.
package plugin

import (
	"context"

	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/tongban/tongban/connectors"
	connectorpb "github.com/tongban/tongban/connectors/proto"
)

// Name is the go-plugin name under which the connector is served.
const Name = "connector"

// MaxMessageBytes caps one gRPC message either way (gRPC's default is 4 MiB).
const MaxMessageBytes = 64 << 20

// partBudget is the Arrow IPC bytes put in one streamed message; a chunk
// larger than that travels as several messages (see connector.proto).
const partBudget = 16 << 20

// The go-plugin handshake: a connector binary started without the cookie in
// its environment refuses to serve (it is not meant to be run by hand).
const (
	ProtocolVersion  = 1
	MagicCookieKey   = "TONGBAN_CONNECTOR"
	MagicCookieValue = "tongban.connectors.v1"
)

// Handshake returns the go-plugin handshake between the agent and a connector process.
func Handshake() goplugin.HandshakeConfig {
	return goplugin.HandshakeConfig{
		ProtocolVersion:  ProtocolVersion,
		MagicCookieKey:   MagicCookieKey,
		MagicCookieValue: MagicCookieValue,
	}
}

// GRPCPlugin is the go-plugin glue: on the plugin side it serves Impl, on the
// host side it hands out a connectors.Connector speaking gRPC.
type GRPCPlugin struct {
	goplugin.NetRPCUnsupportedPlugin
	// Impl is the connector served; nil on the host side.
	Impl connectors.Connector
}

// GRPCServer registers the connector service (plugin side).
func (p *GRPCPlugin) GRPCServer(_ *goplugin.GRPCBroker, s *grpc.Server) error {
	connectorpb.RegisterConnectorServer(s, &server{impl: p.Impl})
	return nil
}

// GRPCClient returns a connectors.Connector over the connection (host side).
func (p *GRPCPlugin) GRPCClient(_ context.Context, _ *goplugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return &client{rpc: connectorpb.NewConnectorClient(c)}, nil
}

// pluginSet is what both sides register.
func pluginSet(impl connectors.Connector) goplugin.PluginSet {
	return goplugin.PluginSet{Name: &GRPCPlugin{Impl: impl}}
}
