// Package connectorpb holds the generated gRPC code of the connector protocol
// (tongban.connectors.v1, connector.proto). The generated files are committed;
// regenerate them after editing connector.proto with `go generate` in this
// folder, which needs protoc plus
//
//	go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
//	go install google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.5.1
package connectorpb

//go:generate protoc --go_out=. --go_opt=paths=source_relative --go-grpc_out=. --go-grpc_opt=paths=source_relative connector.proto
