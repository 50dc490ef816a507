package deptdb

import (
	"context"
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/dolthub/vitess/go/mysql"
	"github.com/dolthub/vitess/go/sqltypes"
	querypb "github.com/dolthub/vitess/go/vt/proto/query"
	"github.com/dolthub/vitess/go/vt/sqlparser"
)

// handler implements mysql.Handler: Vitess speaks the protocol, the session runs statements.
type handler struct {
	srv *Server
}

var _ mysql.Handler = (*handler)(nil)

func sessionOf(c *mysql.Conn) *session {
	s, _ := c.ClientData.(*session)
	return s
}

// NewConnection implements mysql.Handler.
func (h *handler) NewConnection(c *mysql.Conn) {
	c.StatusFlags |= mysql.ServerStatusAutocommit
	if !h.srv.track(c) {
		c.Close()
		return
	}
	c.ClientData = newSession(h.srv, c.ConnectionID)
}

// ConnectionClosed implements mysql.Handler.
func (h *handler) ConnectionClosed(c *mysql.Conn) {
	if s := sessionOf(c); s != nil {
		s.close()
	}
	h.srv.untrack(c)
}

// ConnectionAborted implements mysql.Handler.
func (h *handler) ConnectionAborted(c *mysql.Conn, reason string) error {
	h.srv.log.Debug("connection aborted", "conn", c.ConnectionID, "reason", reason)
	return nil
}

// ComInitDB implements mysql.Handler (the database of the handshake and COM_INIT_DB).
func (h *handler) ComInitDB(c *mysql.Conn, schemaName string) error {
	s := sessionOf(c)
	if s == nil {
		return sqlError(mysql.ERServerShutdown, "08S01", "Server shutdown in progress")
	}
	if _, err := h.srv.database(schemaName); err != nil {
		return err
	}
	s.db = schemaName
	return nil
}

// ComQuery implements mysql.Handler.
func (h *handler) ComQuery(ctx context.Context, c *mysql.Conn, query string, callback mysql.ResultSpoolFn) error {
	return h.run(c, query, nil, nil, func(r *sqltypes.Result) error { return callback(r, false) })
}

// ComMultiQuery implements mysql.Handler: it runs the first statement and returns the rest.
func (h *handler) ComMultiQuery(ctx context.Context, c *mysql.Conn, query string, callback mysql.ResultSpoolFn) (string, error) {
	first, rest, err := sqlparser.SplitStatement(query)
	if err != nil {
		return "", parseError(err)
	}
	rest = strings.TrimSpace(rest)
	more := rest != ""
	return rest, h.run(c, first, nil, nil, func(r *sqltypes.Result) error { return callback(r, more) })
}

// ComPrepare implements mysql.Handler. The statement is analysed now; the result columns are
// described when it is executed (go-sql-driver does not use them from the prepare response).
func (h *handler) ComPrepare(ctx context.Context, c *mysql.Conn, query string, prepare *mysql.PrepareData) ([]*querypb.Field, error) {
	s := sessionOf(c)
	if s == nil {
		return nil, sqlError(mysql.ERServerShutdown, "08S01", "Server shutdown in progress")
	}
	st, err := analyse(query)
	if err != nil {
		return nil, err
	}
	if st.params != int(prepare.ParamsCount) {
		return nil, notSupported("this placement of ? (deptdb counts %d parameters, the parser %d)", st.params, prepare.ParamsCount)
	}
	// Statements closed by COM_STMT_CLOSE are gone from c.PrepareData; forget them too.
	for id := range s.stmts {
		if _, ok := c.PrepareData[id]; !ok {
			delete(s.stmts, id)
		}
	}
	s.stmts[prepare.StatementID] = st
	return nil, nil
}

// ComStmtExecute implements mysql.Handler.
func (h *handler) ComStmtExecute(ctx context.Context, c *mysql.Conn, prepare *mysql.PrepareData, callback func(*sqltypes.Result) error) error {
	s := sessionOf(c)
	if s == nil {
		return sqlError(mysql.ERServerShutdown, "08S01", "Server shutdown in progress")
	}
	args := make([]any, prepare.ParamsCount)
	for i := range args {
		v, err := bindValue(prepare.BindVars[fmt.Sprintf("v%d", i+1)])
		if err != nil {
			return sqlError(erWrongArguments, "HY000", "Incorrect arguments to mysqld_stmt_execute: %v", err)
		}
		args[i] = v
	}
	return h.run(c, prepare.PrepareStmt, s.stmts[prepare.StatementID], args, callback)
}

// WarningCount implements mysql.Handler.
func (h *handler) WarningCount(*mysql.Conn) uint16 { return 0 }

// ComResetConnection implements mysql.Handler.
func (h *handler) ComResetConnection(c *mysql.Conn) error {
	s := sessionOf(c)
	if s == nil {
		return nil
	}
	s.stmts = map[uint32]*statement{}
	return mysqlError(s.rollback(h.srv.ctx))
}

// ParserOptionsForConnection implements mysql.Handler.
func (h *handler) ParserOptionsForConnection(*mysql.Conn) (sqlparser.ParserOptions, error) {
	return sqlparser.ParserOptions{}, nil
}

// run analyses (unless st is given) and executes a statement, turning every failure, panics
// included, into a MySQL error for the client.
func (h *handler) run(c *mysql.Conn, query string, st *statement, args []any, emit sink) (err error) {
	s := sessionOf(c)
	if s == nil {
		return sqlError(mysql.ERServerShutdown, "08S01", "Server shutdown in progress")
	}
	defer func() {
		if r := recover(); r != nil {
			h.srv.log.Error("statement panicked", "conn", s.id, "query", truncate(query, 200), "panic", r, "stack", string(debug.Stack()))
			err = sqlError(mysql.ERUnknownError, mysql.SSUnknownSQLState, "deptdb internal error: %v", r)
		}
		if err != nil {
			err = mysqlError(err)
			h.srv.log.Debug("statement failed", "conn", s.id, "query", truncate(query, 200), "err", err)
		}
		setTxFlag(c, s)
	}()
	if st == nil {
		if st, err = analyse(query); err != nil {
			return err
		}
	}
	return s.execute(h.srv.ctx, st, args, func(r *sqltypes.Result) error {
		setTxFlag(c, s) // the OK packet of BEGIN already says "in transaction"
		return emit(r)
	})
}

// setTxFlag keeps SERVER_STATUS_IN_TRANS in step with the session.
func setTxFlag(c *mysql.Conn, s *session) {
	if s.inTx {
		c.StatusFlags |= mysql.ServerInTransaction
	} else {
		c.StatusFlags &^= mysql.ServerInTransaction
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
