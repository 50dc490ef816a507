package deptdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/dolthub/vitess/go/mysql"
)

// session is the state of one client connection. Vitess calls a connection's handler methods
// one at a time, so a session needs no lock.
type session struct {
	srv *Server
	id  uint32
	db  string // current database, "" for none

	// conns are the SQLite connections this session pinned, one per database it used: a
	// MySQL transaction is a transaction on these connections.
	conns map[string]*pinned
	inTx  bool

	// stmts are the analysed prepared statements by statement id.
	stmts map[uint32]*statement
}

// pinned is a SQLite connection pinned to a session.
type pinned struct {
	d    *database
	c    *sql.Conn
	inTx bool // BEGIN was issued on it
}

func newSession(srv *Server, id uint32) *session {
	return &session{srv: srv, id: id, conns: map[string]*pinned{}, stmts: map[uint32]*statement{}}
}

// conn returns the session's SQLite connection to database name, pinning one on first use
// and starting the session's transaction on it when one is open.
func (s *session) conn(ctx context.Context, name string) (*sql.Conn, error) {
	if name == "" {
		return nil, sqlError(mysql.ERNoDb, "3D000", "No database selected")
	}
	d, err := s.srv.database(name)
	if err != nil {
		if p := s.conns[name]; p != nil { // the database was dropped
			_ = p.c.Close()
			delete(s.conns, name)
		}
		return nil, err
	}
	p := s.conns[name]
	if p != nil && p.d != d { // dropped and created again
		_ = p.c.Close()
		p = nil
	}
	if p == nil {
		c, err := d.db.Conn(ctx)
		if err != nil {
			return nil, fmt.Errorf("connection to database %s: %w", name, err)
		}
		p = &pinned{d: d, c: c}
		s.conns[name] = p
	}
	if s.inTx && !p.inTx {
		if _, err := p.c.ExecContext(ctx, "BEGIN"); err != nil {
			return nil, fmt.Errorf("begin transaction on database %s: %w", name, err)
		}
		p.inTx = true
	}
	return p.c, nil
}

// begin starts a transaction (committing an open one, as MySQL does). SQLite transactions
// begin lazily on each database the transaction touches, so the snapshot is taken by the
// first statement; with consistentSnapshot the current database's snapshot is taken now.
func (s *session) begin(ctx context.Context, consistentSnapshot bool) error {
	if err := s.commit(ctx); err != nil {
		return err
	}
	s.inTx = true
	if consistentSnapshot && s.db != "" {
		c, err := s.conn(ctx, s.db)
		if err != nil {
			return err
		}
		var n int
		if err := c.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema").Scan(&n); err != nil {
			return fmt.Errorf("take snapshot: %w", err)
		}
	}
	return nil
}

// commit commits the open transaction on every database it touched.
func (s *session) commit(ctx context.Context) error { return s.endTx(ctx, "COMMIT") }

// rollback rolls the open transaction back.
func (s *session) rollback(ctx context.Context) error { return s.endTx(ctx, "ROLLBACK") }

func (s *session) endTx(ctx context.Context, verb string) error {
	s.inTx = false
	var errs []error
	for name, p := range s.conns {
		if !p.inTx {
			continue
		}
		p.inTx = false
		if _, err := p.c.ExecContext(ctx, verb); err != nil {
			if verb == "ROLLBACK" && strings.Contains(err.Error(), "no transaction is active") {
				continue // SQLite already rolled it back after an error
			}
			errs = append(errs, fmt.Errorf("%s on database %s: %w", verb, name, err))
		}
	}
	return errors.Join(errs...)
}

// close ends the session: an open transaction is rolled back, connections are released.
func (s *session) close() {
	ctx := context.WithoutCancel(s.srv.ctx)
	if err := s.rollback(ctx); err != nil {
		s.srv.log.Warn("rollback on disconnect", "conn", s.id, "err", err)
	}
	for name, p := range s.conns {
		_ = p.c.Close()
		delete(s.conns, name)
	}
}
