package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/tongban/tongban/catalog"
	"github.com/tongban/tongban/hub/auth"
	"github.com/tongban/tongban/hub/server"
	"github.com/tongban/tongban/hub/store"
)

const defaultConfig = "deploy/hub.yaml"

func runToken(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: token: want create, list or revoke", errUsage)
	}
	switch args[0] {
	case "create":
		return tokenCreate(ctx, args[1:], stdout, stderr)
	case "list":
		return tokenList(ctx, args[1:], stdout, stderr)
	case "revoke":
		return tokenRevoke(ctx, args[1:], stdout, stderr)
	}
	return fmt.Errorf("%w: token %s: want create, list or revoke", errUsage, args[0])
}

// openStore loads the hub config and opens its store.
func openStore(ctx context.Context, configPath string) (server.Config, *store.DB, error) {
	cfg, err := server.LoadConfig(configPath)
	if err != nil {
		return server.Config{}, nil, err
	}
	db, err := store.Open(ctx, cfg.Store)
	if err != nil {
		return server.Config{}, nil, err
	}
	return cfg, db, nil
}

func tokenCreate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("token create", flag.ContinueOnError)
	configPath := fs.String("config", defaultConfig, "hub configuration file")
	name := fs.String("name", "", "what the token is for, e.g. \"公安局前置机 agent\" (required)")
	dept := fs.String("dept", "", "department code (统一社会信用代码) of a department token")
	admin := fs.Bool("admin", false, "create an admin token instead of a department token")
	pos, err := parseFlags(fs, args, stderr)
	if err != nil {
		return err
	}
	switch {
	case len(pos) > 0:
		return fmt.Errorf("%w: token create: unexpected argument %q", errUsage, pos[0])
	case *name == "":
		return fmt.Errorf("%w: token create: -name is required", errUsage)
	case *admin && *dept != "":
		return fmt.Errorf("%w: token create: give either -dept CODE or -admin, not both", errUsage)
	case !*admin && *dept == "":
		return fmt.Errorf("%w: token create: give -dept CODE for a department token or -admin", errUsage)
	}
	cfg, db, err := openStore(ctx, *configPath)
	if err != nil {
		return err
	}
	defer db.Close()
	role := auth.RoleAdmin
	if !*admin {
		role = auth.RoleDept
		cat, err := catalog.Load(cfg.CatalogDir)
		if err != nil {
			return fmt.Errorf("token create: checking -dept against the catalog: %w", err)
		}
		if _, ok := cat.Department(*dept); !ok {
			return fmt.Errorf("token create: -dept %q is not a department of the catalog %s", *dept, cfg.CatalogDir)
		}
	}
	tok, plain, err := auth.Issue(ctx, db, *name, *dept, role)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, plain)
	who := "admin"
	if role == auth.RoleDept {
		who = "department " + *dept
	}
	fmt.Fprintf(stderr, "created token %s (%s, %q). It is shown only this once: store it now.\n", tok.ID, who, *name)
	return nil
}

func tokenList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("token list", flag.ContinueOnError)
	configPath := fs.String("config", defaultConfig, "hub configuration file")
	pos, err := parseFlags(fs, args, stderr)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("%w: token list: unexpected argument %q", errUsage, pos[0])
	}
	_, db, err := openStore(ctx, *configPath)
	if err != nil {
		return err
	}
	defer db.Close()
	toks, err := db.ListTokens(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tROLE\tDEPT\tNAME\tCREATED\tREVOKED")
	for _, t := range toks {
		dept, revoked := t.Dept, "-"
		if dept == "" {
			dept = "-"
		}
		if t.RevokedAt != nil {
			revoked = t.RevokedAt.Local().Format(time.DateTime)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Role, dept, t.Name, t.CreatedAt.Local().Format(time.DateTime), revoked)
	}
	return tw.Flush()
}

func tokenRevoke(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("token revoke", flag.ContinueOnError)
	configPath := fs.String("config", defaultConfig, "hub configuration file")
	pos, err := parseFlags(fs, args, stderr)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("%w: token revoke: want exactly one token id (see tongban token list)", errUsage)
	}
	_, db, err := openStore(ctx, *configPath)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.RevokeToken(ctx, pos[0]); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("token revoke: no token with id %q (see tongban token list)", pos[0])
		}
		return err
	}
	fmt.Fprintf(stdout, "revoked %s\n", pos[0])
	return nil
}
