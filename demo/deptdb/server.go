package deptdb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/dolthub/vitess/go/mysql"
	"modernc.org/sqlite"
)

// ServerVersion is the version deptdb announces (handshake, @@version, VERSION()). It reads
// like MariaDB's because the connectors are written against MariaDB.
const ServerVersion = "10.11.0-MariaDB-tongban-deptdb"

// Config configures a Server.
type Config struct {
	// Addr is the TCP address to listen on; "127.0.0.1:0" (a free port) when empty.
	Addr string
	// Dir holds one SQLite file per database (<name>.sqlite). When empty, a temporary
	// directory is used and removed by Close.
	Dir string
	// Databases are created (or opened, when their file exists) at start; databases of Dir
	// (<name>.sqlite files, e.g. from CREATE DATABASE in an earlier run) are opened too.
	Databases []string
	// Logger receives the server's logs; slog.Default() when nil.
	Logger *slog.Logger
}

// Server is an in-process MySQL-protocol server whose databases are SQLite files. Clients log
// in as root without a password.
type Server struct {
	log       *slog.Logger
	dir       string
	removeDir bool
	listener  *mysql.Listener
	sys       *sysDB
	// driver opens the SQLite connections of the databases; it carries the DECIMAL collation.
	driver *sqlite.Driver

	// ctx is cancelled by Close; statements run under it.
	ctx    context.Context
	cancel context.CancelFunc

	mu       sync.Mutex
	dbs      map[string]*database
	conns    map[*mysql.Conn]struct{}
	closed   bool
	handlers sync.WaitGroup // one per client connection

	acceptDone chan struct{}
	closeOnce  sync.Once
	closeErr   error
	stopCtx    func() bool // stops the context.AfterFunc of Start's ctx
}

// database is one MySQL database: one SQLite file.
type database struct {
	name string
	path string
	db   *sql.DB
}

// Start opens (creating where needed) the configured databases and starts serving. The
// server stops when ctx is cancelled or Close is called; Close waits for it.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	s := &Server{
		log:        log.With("component", "deptdb"),
		dbs:        map[string]*database{},
		conns:      map[*mysql.Conn]struct{}{},
		acceptDone: make(chan struct{}),
	}
	s.driver = &sqlite.Driver{}
	if err := s.driver.RegisterCollationUtf8(decimalCollation, compareDecimal); err != nil {
		return nil, fmt.Errorf("deptdb: register collation: %w", err)
	}
	s.dir = cfg.Dir
	if s.dir == "" {
		d, err := os.MkdirTemp("", "deptdb-")
		if err != nil {
			return nil, fmt.Errorf("deptdb: temporary directory: %w", err)
		}
		s.dir, s.removeDir = d, true
	} else if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return nil, fmt.Errorf("deptdb: Dir %q: %w", s.dir, err)
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	fail := func(err error) (*Server, error) {
		s.cancel()
		s.closeDatabases()
		if s.sys != nil {
			_ = s.sys.close()
		}
		if s.removeDir {
			_ = os.RemoveAll(s.dir)
		}
		return nil, err
	}
	sys, err := openSysDB(ctx)
	if err != nil {
		return fail(err)
	}
	s.sys = sys
	for _, name := range cfg.Databases {
		if _, err := s.createDatabase(ctx, name, true); err != nil {
			return fail(fmt.Errorf("deptdb: Databases: %w", err))
		}
	}
	// Databases created by CREATE DATABASE in an earlier run are still there.
	files, err := filepath.Glob(filepath.Join(s.dir, "*.sqlite"))
	if err != nil {
		return fail(fmt.Errorf("deptdb: Dir %q: %w", s.dir, err))
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".sqlite")
		if validDBName(name) && !isReservedDB(name) {
			if _, err := s.createDatabase(ctx, name, true); err != nil {
				return fail(fmt.Errorf("deptdb: database file %s: %w", f, err))
			}
		}
	}
	addr := cfg.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	nl, err := net.Listen("tcp", addr)
	if err != nil {
		return fail(fmt.Errorf("deptdb: listen on Addr %q: %w", addr, err))
	}
	l, err := mysql.NewListenerWithConfig(mysql.ListenerConfig{
		Listener:           flushingListener{nl},
		AuthServer:         newRootAuth(),
		Handler:            &handler{srv: s},
		ConnReadBufferSize: mysql.DefaultConnBufferSize,
	})
	if err != nil {
		nl.Close()
		return fail(fmt.Errorf("deptdb: listener: %w", err))
	}
	l.ServerVersion = ServerVersion
	s.listener = l
	go func() {
		defer close(s.acceptDone)
		l.Accept()
	}()
	s.stopCtx = context.AfterFunc(ctx, func() { _ = s.Close() })
	s.log.Info("deptdb listening", "addr", s.Addr(), "dir", s.dir, "databases", cfg.Databases)
	return s, nil
}

// Addr is the address the server listens on (host:port).
func (s *Server) Addr() string { return s.listener.Addr().String() }

// DSN is the go-sql-driver/mysql data source name of database db. Parameters travel as
// server-side prepared statements (COM_STMT_PREPARE/EXECUTE), so interpolateParams is not
// needed.
func (s *Server) DSN(db string) string {
	return "root@tcp(" + s.Addr() + ")/" + url.PathEscape(db) + "?parseTime=true&charset=utf8mb4"
}

// Close stops listening, closes every client connection, waits for their handlers and closes
// the databases. It is safe to call more than once.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		if s.stopCtx != nil {
			s.stopCtx()
		}
		s.mu.Lock()
		s.closed = true
		conns := make([]*mysql.Conn, 0, len(s.conns))
		for c := range s.conns {
			conns = append(conns, c)
		}
		s.mu.Unlock()
		s.cancel()
		s.listener.Close()
		<-s.acceptDone
		for _, c := range conns {
			c.Close()
		}
		s.handlers.Wait()
		var errs []error
		errs = append(errs, s.closeDatabases())
		if s.sys != nil {
			errs = append(errs, s.sys.close())
		}
		if s.removeDir {
			errs = append(errs, os.RemoveAll(s.dir))
		}
		s.closeErr = errors.Join(errs...)
		s.log.Info("deptdb stopped", "addr", s.listener.Addr().String())
	})
	return s.closeErr
}

func (s *Server) closeDatabases() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for name, d := range s.dbs {
		if err := d.db.Close(); err != nil {
			errs = append(errs, fmt.Errorf("deptdb: close database %s: %w", name, err))
		}
		delete(s.dbs, name)
	}
	return errors.Join(errs...)
}

// database returns the open database called name, or ER_BAD_DB_ERROR.
func (s *Server) database(name string) (*database, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.dbs[name]
	if !ok {
		return nil, sqlError(mysql.ERBadDb, "42000", "Unknown database '%s'", name)
	}
	return d, nil
}

// databaseNames lists the databases in name order.
func (s *Server) databaseNames() []*database {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*database, 0, len(s.dbs))
	for _, d := range s.dbs {
		out = append(out, d)
	}
	sortDatabases(out)
	return out
}

// isReservedDB reports whether name is a system schema of MySQL.
func isReservedDB(name string) bool {
	switch lower(name) {
	case "information_schema", "mysql", "performance_schema", "sys":
		return true
	}
	return false
}

// createDatabase opens or creates the SQLite file of a database. With ifNotExists an existing
// database is fine; it reports whether the database was created.
func (s *Server) createDatabase(ctx context.Context, name string, ifNotExists bool) (bool, error) {
	if !validDBName(name) || isReservedDB(name) {
		return false, sqlError(1102, "42000", "Incorrect database name '%s' (deptdb allows letters, digits, _ $ -)", name)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false, sqlError(mysql.ERServerShutdown, "08S01", "Server shutdown in progress")
	}
	if _, ok := s.dbs[name]; ok {
		if ifNotExists {
			return false, nil
		}
		return false, sqlError(mysql.ERDbCreateExists, "HY000", "Can't create database '%s'; database exists", name)
	}
	path := filepath.Join(s.dir, name+".sqlite")
	abs, err := filepath.Abs(path)
	if err != nil {
		return false, fmt.Errorf("deptdb: database %s: %w", name, err)
	}
	u := url.URL{Scheme: "file", Path: abs, RawQuery: "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=cache_size(-16000)"}
	db := sql.OpenDB(sqliteConnector{drv: s.driver, dsn: u.String()})
	db.SetMaxIdleConns(8)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return false, fmt.Errorf("deptdb: open database %s (%s): %w", name, abs, err)
	}
	s.dbs[name] = &database{name: name, path: abs, db: db}
	s.log.Debug("database opened", "db", name, "file", abs)
	return true, nil
}

// dropDatabase closes a database and removes its files.
func (s *Server) dropDatabase(name string, ifExists bool) (bool, error) {
	s.mu.Lock()
	d, ok := s.dbs[name]
	if ok {
		delete(s.dbs, name)
	}
	s.mu.Unlock()
	if !ok {
		if ifExists {
			return false, nil
		}
		return false, sqlError(mysql.ERDbDropExists, "HY000", "Can't drop database '%s'; database doesn't exist", name)
	}
	// Connections still pinned by sessions are closed by database/sql when released; the
	// sessions notice the database is gone (see session.conn).
	err := d.db.Close()
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if rerr := os.Remove(d.path + suffix); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
			err = errors.Join(err, rerr)
		}
	}
	if err != nil {
		return true, fmt.Errorf("deptdb: drop database %s: %w", name, err)
	}
	return true, nil
}

// track registers a client connection; it reports false when the server is closing.
func (s *Server) track(c *mysql.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.conns[c] = struct{}{}
	s.handlers.Add(1)
	return true
}

func (s *Server) untrack(c *mysql.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.conns[c]; ok {
		delete(s.conns, c)
		s.handlers.Done()
	}
}

// validDBName restricts database names to what is safe as a file name: 1-64 of A-Z a-z 0-9 _ $ -.
func validDBName(name string) bool {
	if name == "" || len(name) > 64 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(isDigit(c) || c|0x20 >= 'a' && c|0x20 <= 'z' || c == '_' || c == '$' || c == '-') {
			return false
		}
	}
	return true
}

func lower(s string) string { return strings.ToLower(s) }

func sortDatabases(dbs []*database) {
	sort.Slice(dbs, func(i, j int) bool { return dbs[i].name < dbs[j].name })
}

// sqliteConnector opens SQLite connections with the server's own driver.
type sqliteConnector struct {
	drv *sqlite.Driver
	dsn string
}

func (c sqliteConnector) Connect(context.Context) (driver.Conn, error) { return c.drv.Open(c.dsn) }

func (c sqliteConnector) Driver() driver.Driver { return c.drv }
