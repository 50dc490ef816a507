// Command tongban is the operator CLI of Tongban.
//
//	tongban token create -config deploy/hub.yaml -name NAME (-dept CODE | -admin)
//	tongban token list   -config deploy/hub.yaml
//	tongban token revoke -config deploy/hub.yaml ID
//	tongban quarantine list -config deploy/hub.yaml [-dept] [-resource] [-rule] [-field] [-status] [-limit]
//	tongban quality scorecard -config deploy/hub.yaml
//	tongban audit verify -config deploy/hub.yaml
//	tongban audit list -config deploy/hub.yaml [-dept] [-resource] [-subject] [-since] [-until] [-limit]
//	tongban licence verify|show|seal ... (against a running hub)
//	tongban open publish|list ... (against a running hub)
//	tongban demo [flags]
//	tongban bench [flags]
//	tongban help
//
// Each subcommand lives in its own file as a function of this shape:
//
//	func runX(ctx context.Context, args []string, stdout, stderr io.Writer) error
//
// and is dispatched from run below.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// errUsage marks an error caused by wrong arguments (exit status 2).
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usageText = `tongban — the Tongban (通办) operator CLI

usage:
  tongban token create -config hub.yaml -name NAME (-dept CODE | -admin)
                                     create an API token and print it once
  tongban token list   -config hub.yaml
                                     list tokens (never their secrets)
  tongban token revoke -config hub.yaml ID
                                     revoke a token by id
  tongban quarantine list -config hub.yaml [-dept CODE] [-resource CODE] [-rule KIND]
                          [-field NAME] [-status open|closed|all] [-limit 100]
                                     list quarantined records (隔离区), oldest first
  tongban quality scorecard -config hub.yaml
                                     the latest quality scorecard of every resource
  tongban ca init [-dir data/ca] [-name CN]
                                     create the hub's own CA (key 0600, never overwritten)
  tongban ca show [-dir data/ca]     the CA certificate and its SM3 fingerprint
  tongban ca server-cert [-dir data/ca] -host H [-host H2] [-out DIR] [-days 365]
                                     issue the sharing listener's server certificate
  tongban dept create -config hub.yaml -dept CODE [-dir data/ca] [-out DIR] [-days 365]
                      [-cert=false] [-name NAME]
                                     a department identity: an API token (printed once)
                                     and a client certificate for mutual TLS (files in -out)
  tongban dept certs -config hub.yaml [-dept CODE]
                                     list department certificates (never their keys)
  tongban dept revoke-cert -config hub.yaml SERIAL
                                     revoke a department certificate
  tongban audit verify -config hub.yaml
                                     check the audit log's SM3 hash chain; exit 1 naming
                                     the first edited, deleted or inserted entry
  tongban audit list -config hub.yaml [-dept CODE] [-resource CODE] [-subject [TYPE:]ID]
                     [-action A] [-actor TOKEN] [-since T] [-until T] [-limit 100] [-before SEQ] [-json]
                                     query the audit log (数据使用记录), newest first
  tongban licence verify ID -purpose TEXT -item CODE [-holder ID] [-digest SM3HEX]
                                     verify (核验) an e-licence through a running hub
  tongban licence show ID | seal DEPT
                                     a licence with its versions and events; a seal's public key
  tongban open publish [-token T] CODE
                                     publish a release of an open resource (开放数据), admin
  tongban open list [-json]          the open datasets and their latest releases
                                     (licence and open call the hub's API: -hub URL, default
                                     $TONGBAN_HUB or the listen address of -config; -token or
                                     $TONGBAN_TOKEN)
  tongban demo [flags]               run the end-to-end demo (tongban demo -h)
  tongban bench [-rows N]            measure the hot paths against their baselines
                                     on MariaDB (tongban bench -h)
  tongban help                       this text

-config defaults to deploy/hub.yaml; the token, quarantine, quality and audit commands use its store.
`

// run dispatches to a subcommand and returns the exit status: 0 done,
// 1 failed, 2 wrong usage.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usageText)
		return 2
	}
	var err error
	switch args[0] {
	case "token":
		err = runToken(ctx, args[1:], stdout, stderr)
	case "ca":
		err = runCA(ctx, args[1:], stdout, stderr)
	case "dept":
		err = runDept(ctx, args[1:], stdout, stderr)
	case "audit":
		err = runAudit(ctx, args[1:], stdout, stderr)
	case "licence":
		err = runLicence(ctx, args[1:], stdout, stderr)
	case "quarantine", "quality":
		err = runQuality(ctx, args, stdout, stderr)
	case "open":
		err = runOpen(ctx, args[1:], stdout, stderr)
	case "demo":
		err = runDemo(ctx, args[1:], stdout, stderr)
	case "bench":
		err = runBench(ctx, args[1:], stdout, stderr)
	case "connector": // internal: the demo's agents re-run this binary as their connector plugin
		err = runConnector(ctx, args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usageText)
		return 0
	default:
		fmt.Fprintf(stderr, "tongban: unknown command %q\n\n%s", args[0], usageText)
		return 2
	}
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintln(stderr, "tongban:", err)
		return 2
	default:
		fmt.Fprintln(stderr, "tongban:", err)
		return 1
	}
}
