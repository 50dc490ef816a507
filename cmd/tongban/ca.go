package main

import (
	"context"
	"crypto/x509/pkix"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tongban/tongban/catalog"
	"github.com/tongban/tongban/hub/auth"
	"github.com/tongban/tongban/hub/ca"
	"github.com/tongban/tongban/hub/store"
)

// defaultCADir is where the hub CA lives unless -dir says otherwise.
const defaultCADir = "data/ca"

// defaultCAName is the common name of a new hub CA.
const defaultCAName = "通办数据共享枢纽 CA / Tongban hub CA"

// Files of a department identity directory (tongban dept create -out).
const (
	deptKeyFile  = "client.key"
	deptCertFile = "client.crt"
	// deptCAFile is the hub CA certificate, for the department's clients to
	// trust the hub's server certificate with.
	deptCAFile = "ca.crt"
)

// Files of a server certificate directory (tongban ca server-cert -out).
const (
	serverKeyFile  = "server.key"
	serverCertFile = "server.crt"
)

const day = 24 * time.Hour

func runCA(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: ca: want init, show or server-cert", errUsage)
	}
	switch args[0] {
	case "init":
		return caInit(args[1:], stdout, stderr)
	case "show":
		return caShow(args[1:], stdout, stderr)
	case "server-cert":
		return caServerCert(args[1:], stdout, stderr)
	}
	return fmt.Errorf("%w: ca %s: want init, show or server-cert", errUsage, args[0])
}

func runDept(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: dept: want create, certs or revoke-cert", errUsage)
	}
	switch args[0] {
	case "create":
		return deptCreate(ctx, args[1:], stdout, stderr)
	case "certs":
		return deptCerts(ctx, args[1:], stdout, stderr)
	case "revoke-cert":
		return deptRevokeCert(ctx, args[1:], stdout, stderr)
	}
	return fmt.Errorf("%w: dept %s: want create, certs or revoke-cert", errUsage, args[0])
}

func caInit(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("ca init", flag.ContinueOnError)
	dir := fs.String("dir", defaultCADir, "directory of the CA key and certificate (created, mode 0700)")
	name := fs.String("name", defaultCAName, "common name of the CA certificate")
	pos, err := parseFlags(fs, args, stderr)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("%w: ca init: unexpected argument %q", errUsage, pos[0])
	}
	c, err := ca.Init(*dir, pkix.Name{CommonName: *name, Organization: []string{ca.Organization}})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created the hub CA in %s\n", *dir)
	printCA(stdout, c)
	fmt.Fprintf(stderr, "keep %s secret: whoever reads it can issue department identities.\n", filepath.Join(*dir, ca.KeyFile))
	return nil
}

func caShow(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("ca show", flag.ContinueOnError)
	dir := fs.String("dir", defaultCADir, "CA directory")
	pos, err := parseFlags(fs, args, stderr)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("%w: ca show: unexpected argument %q", errUsage, pos[0])
	}
	c, err := ca.Load(*dir)
	if err != nil {
		return err
	}
	printCA(stdout, c)
	return nil
}

func printCA(w io.Writer, c *ca.CA) {
	cert := c.Certificate()
	fmt.Fprintf(w, "subject:     %s\n", cert.Subject)
	fmt.Fprintf(w, "valid:       %s to %s\n", cert.NotBefore.Local().Format(time.DateTime), cert.NotAfter.Local().Format(time.DateTime))
	fmt.Fprintf(w, "SM3:         %s\n", ca.Fingerprint(cert.Raw))
}

func caServerCert(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("ca server-cert", flag.ContinueOnError)
	dir := fs.String("dir", defaultCADir, "CA directory")
	out := fs.String("out", "", "directory to write "+serverCertFile+" and "+serverKeyFile+" to (default: the CA directory)")
	days := fs.Int("days", 365, "validity in days")
	var hosts []string
	fs.Func("host", "host name or IP address of the sharing listener (repeat for several; required)", func(s string) error {
		hosts = append(hosts, s)
		return nil
	})
	pos, err := parseFlags(fs, args, stderr)
	if err != nil {
		return err
	}
	switch {
	case len(pos) > 0:
		return fmt.Errorf("%w: ca server-cert: unexpected argument %q", errUsage, pos[0])
	case len(hosts) == 0:
		return fmt.Errorf("%w: ca server-cert: give at least one -host", errUsage)
	case *days <= 0:
		return fmt.Errorf("%w: ca server-cert: -days must be positive", errUsage)
	}
	if *out == "" {
		*out = *dir
	}
	c, err := ca.Load(*dir)
	if err != nil {
		return err
	}
	keyPath, certPath := filepath.Join(*out, serverKeyFile), filepath.Join(*out, serverCertFile)
	if err := checkAbsent(keyPath, certPath); err != nil {
		return fmt.Errorf("ca server-cert: %w", err)
	}
	kp, err := c.ServerCert(hosts, time.Duration(*days)*day)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*out, 0o700); err != nil {
		return fmt.Errorf("ca server-cert: %w", err)
	}
	if err := writeFiles([]outFile{{keyPath, kp.KeyPEM, 0o600}, {certPath, kp.CertPEM, 0o644}}); err != nil {
		return fmt.Errorf("ca server-cert: %w", err)
	}
	fmt.Fprintf(stdout, "wrote %s and %s for %s, valid until %s\n", certPath, keyPath, strings.Join(hosts, ", "),
		kp.Cert.NotAfter.Local().Format(time.DateTime))
	return nil
}

func deptCreate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("dept create", flag.ContinueOnError)
	configPath := fs.String("config", defaultConfig, "hub configuration file")
	dept := fs.String("dept", "", "department code (统一社会信用代码) of the catalog (required)")
	dir := fs.String("dir", defaultCADir, "CA directory")
	out := fs.String("out", "", "directory to write "+deptCertFile+", "+deptKeyFile+" and "+deptCAFile+" to (default: data/dept/CODE)")
	days := fs.Int("days", 365, "certificate validity in days")
	withCert := fs.Bool("cert", true, "also issue a client certificate (-cert=false: an API token only)")
	name := fs.String("name", "", "what the token is for (default: the department's name)")
	pos, err := parseFlags(fs, args, stderr)
	if err != nil {
		return err
	}
	switch {
	case len(pos) > 0:
		return fmt.Errorf("%w: dept create: unexpected argument %q", errUsage, pos[0])
	case *dept == "":
		return fmt.Errorf("%w: dept create: -dept CODE is required", errUsage)
	case *days <= 0:
		return fmt.Errorf("%w: dept create: -days must be positive", errUsage)
	}
	if *out == "" {
		// Under data/, which the repository ignores: the key must not be
		// committed by accident.
		*out = filepath.Join("data", "dept", *dept)
	}
	cfg, db, err := openStore(ctx, *configPath)
	if err != nil {
		return err
	}
	defer db.Close()
	cat, err := catalog.Load(cfg.CatalogDir)
	if err != nil {
		return fmt.Errorf("dept create: checking -dept against the catalog: %w", err)
	}
	d, ok := cat.Department(*dept)
	if !ok {
		return fmt.Errorf("dept create: -dept %q is not a department of the catalog %s", *dept, cfg.CatalogDir)
	}
	if *name == "" {
		*name = d.Name + " 部门身份 / department identity"
	}

	var (
		authority *ca.CA
		files     []outFile
	)
	if *withCert {
		if authority, err = ca.Load(*dir); err != nil {
			return err
		}
		files = []outFile{
			{path: filepath.Join(*out, deptKeyFile), perm: 0o600},
			{path: filepath.Join(*out, deptCertFile), perm: 0o644},
			{path: filepath.Join(*out, deptCAFile), perm: 0o644},
		}
		// Nothing is issued when the files could not be written afterwards.
		if err := checkAbsent(files[0].path, files[1].path, files[2].path); err != nil {
			return fmt.Errorf("dept create: %w", err)
		}
	}

	tok, plain, err := auth.Issue(ctx, db, *name, *dept, auth.RoleDept)
	if err != nil {
		return err
	}
	if *withCert {
		issued, err := authority.Issue(ctx, db, *dept, d.Name, time.Duration(*days)*day)
		if err == nil {
			files[0].data, files[1].data, files[2].data = issued.KeyPEM, issued.CertPEM, authority.CertPEM()
			if err = os.MkdirAll(*out, 0o700); err == nil {
				err = writeFiles(files)
			}
			if err != nil {
				// The key is lost: the certificate is useless, revoke it.
				if rerr := db.RevokeCertificate(ctx, issued.Record.Serial); rerr != nil {
					err = errors.Join(err, rerr)
				}
			}
		}
		if err != nil {
			// A half-made identity is not handed out: the token goes too.
			if rerr := db.RevokeToken(ctx, tok.ID); rerr != nil {
				err = errors.Join(err, rerr)
			}
			return fmt.Errorf("dept create: %w", err)
		}
		fmt.Fprintf(stderr, "issued certificate %s for %s (%s), valid until %s:\n  %s\n  %s (private key, mode 0600: move it to the department's machine)\n  %s (the hub CA)\n",
			issued.Record.Serial, d.Name, *dept, issued.Cert.NotAfter.Local().Format(time.DateTime),
			files[1].path, files[0].path, files[2].path)
	}
	fmt.Fprintln(stdout, plain)
	fmt.Fprintf(stderr, "created token %s (department %s, %q). It is shown only this once: store it now.\n", tok.ID, *dept, *name)
	return nil
}

func deptCerts(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("dept certs", flag.ContinueOnError)
	configPath := fs.String("config", defaultConfig, "hub configuration file")
	dept := fs.String("dept", "", "list this department's certificates only")
	pos, err := parseFlags(fs, args, stderr)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("%w: dept certs: unexpected argument %q", errUsage, pos[0])
	}
	_, db, err := openStore(ctx, *configPath)
	if err != nil {
		return err
	}
	defer db.Close()
	certs, err := db.ListCertificates(ctx, *dept)
	if err != nil {
		return err
	}
	now := time.Now()
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SERIAL\tDEPT\tNAME\tNOT BEFORE\tNOT AFTER\tSTATUS\tSM3")
	for _, c := range certs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", c.Serial, c.Dept, c.Name,
			c.NotBefore.Local().Format(time.DateTime), c.NotAfter.Local().Format(time.DateTime), certStatus(c, now), c.Fingerprint)
	}
	return tw.Flush()
}

// certStatus is how dept certs describes a certificate, Chinese first.
func certStatus(c store.Certificate, now time.Time) string {
	switch {
	case c.RevokedAt != nil:
		return "已吊销/revoked " + c.RevokedAt.Local().Format(time.DateTime)
	case now.After(c.NotAfter):
		return "已过期/expired"
	case now.Before(c.NotBefore):
		return "未生效/not yet valid"
	}
	return "有效/valid"
}

func deptRevokeCert(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("dept revoke-cert", flag.ContinueOnError)
	configPath := fs.String("config", defaultConfig, "hub configuration file")
	pos, err := parseFlags(fs, args, stderr)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("%w: dept revoke-cert: want exactly one certificate serial (see tongban dept certs)", errUsage)
	}
	serial, err := ca.ParseSerial(pos[0])
	if err != nil {
		return fmt.Errorf("%w: dept revoke-cert: %v", errUsage, err)
	}
	_, db, err := openStore(ctx, *configPath)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := ca.Revoke(ctx, db, serial); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("dept revoke-cert: no certificate with serial %s (see tongban dept certs)", serial)
		}
		return err
	}
	fmt.Fprintf(stdout, "revoked certificate %s\n", serial)
	return nil
}

// outFile is a file a command writes.
type outFile struct {
	path string
	data []byte
	perm os.FileMode
}

// checkAbsent fails when any of paths exists: issued keys are never written
// over files that may hold other keys.
func checkAbsent(paths ...string) error {
	for _, p := range paths {
		if _, err := os.Lstat(p); err == nil {
			return fmt.Errorf("%s already exists (choose another -out, or move it away)", p)
		} else if !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
}

// writeFiles writes new files, removing those already written when one
// fails.
func writeFiles(files []outFile) error {
	for i, f := range files {
		if err := ca.WriteNewFile(f.path, f.data, f.perm); err != nil {
			for _, done := range files[:i] {
				_ = os.Remove(done.path)
			}
			return err
		}
	}
	return nil
}
