package main

import (
	_ "github.com/apache/arrow-go/v18/arrow/ipc"
	_ "github.com/dolthub/vitess/go/mysql"
	_ "github.com/go-sql-driver/mysql"
	_ "github.com/hashicorp/go-plugin"
	_ "github.com/prometheus/client_golang/prometheus/promhttp"
	_ "github.com/segmentio/kafka-go"
	_ "github.com/twmb/franz-go/pkg/kfake"
	_ "google.golang.org/grpc"
	_ "google.golang.org/protobuf/proto"
	_ "gopkg.in/yaml.v3"
	_ "modernc.org/sqlite"
	_ "github.com/emmansun/gmsm/sm3"
	_ "golang.org/x/text/encoding/simplifiedchinese"
)

func main() {}
