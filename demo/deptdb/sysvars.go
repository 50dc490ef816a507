package deptdb

import (
	"os"
	"strings"
	"time"

	"github.com/dolthub/vitess/go/mysql"
	"github.com/dolthub/vitess/go/sqltypes"
	querypb "github.com/dolthub/vitess/go/vt/proto/query"
	"github.com/dolthub/vitess/go/vt/sqlparser"
)

// maxAllowedPacket is @@max_allowed_packet: go-sql-driver's default, 64 MiB.
const maxAllowedPacket = 64 << 20

// sysVar answers SELECT @@name for the variables clients ask about.
func (s *session) sysVar(name string) (colType, any, bool) {
	name = strings.ToLower(name)
	for _, p := range []string{"session.", "global.", "local."} {
		name = strings.TrimPrefix(name, p)
	}
	str := func(v string) (colType, any, bool) { return colType{name: "VARCHAR", length: 255}, v, true }
	num := func(v int64) (colType, any, bool) { return colType{name: "BIGINT", length: 21}, v, true }
	switch name {
	case "version":
		return str(ServerVersion)
	case "version_comment":
		return str("Tongban deptdb (SQLite)")
	case "version_compile_os":
		return str("Linux")
	case "max_allowed_packet":
		t, v, ok := num(maxAllowedPacket)
		t.unsigned = true
		return t, v, ok
	case "lower_case_table_names", "read_only", "transaction_read_only", "tx_read_only", "sql_safe_updates":
		return num(0)
	case "autocommit", "foreign_key_checks", "unique_checks", "server_id", "auto_increment_increment",
		"auto_increment_offset", "explicit_defaults_for_timestamp":
		return num(1)
	case "sql_mode":
		return str("STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION")
	case "character_set_client", "character_set_connection", "character_set_results", "character_set_server",
		"character_set_database", "character_set_system":
		return str("utf8mb4")
	case "collation_connection", "collation_server", "collation_database":
		return str("utf8mb4_general_ci")
	case "time_zone":
		return str("SYSTEM")
	case "system_time_zone":
		zone, _ := time.Now().Zone()
		return str(zone)
	case "transaction_isolation", "tx_isolation":
		return str("REPEATABLE-READ")
	case "wait_timeout", "interactive_timeout":
		return num(28800)
	case "net_write_timeout":
		return num(60)
	case "net_read_timeout":
		return num(30)
	case "max_connections":
		return num(151)
	case "net_buffer_length":
		return num(16384)
	case "license":
		return str("GPL")
	case "hostname":
		h, _ := os.Hostname()
		return str(h)
	case "default_storage_engine", "storage_engine":
		return str("InnoDB")
	case "have_ssl":
		return str("DISABLED")
	case "init_connect":
		return str("")
	}
	return colType{}, nil, false
}

// serverSelect answers a SELECT without tables whose every column deptdb knows itself:
// @@variables, DATABASE(), VERSION(), CONNECTION_ID(), USER(), literals and parameters.
// ok is false when SQLite should evaluate the statement instead.
func (s *session) serverSelect(st *statement, args []any) (*sqltypes.Result, bool, error) {
	sel, ok := st.ast.(*sqlparser.Select)
	if !ok || sel.Where != nil || sel.GroupBy != nil || sel.Having != nil || len(sel.OrderBy) > 0 {
		return nil, false, nil
	}
	noRows := false // LIMIT 0; any other limit leaves the one row (the mysql client sends LIMIT 1)
	if sel.Limit != nil {
		n, ok := sel.Limit.Rowcount.(*sqlparser.SQLVal)
		if !ok || n.Type != sqlparser.IntVal || sel.Limit.Offset != nil {
			return nil, false, nil
		}
		noRows = string(n.Val) == "0"
	}
	slots := slotValues(st.tr, args, time.Now(), s.db)
	var names []string
	var types []colType
	var row []any
	for _, se := range sel.SelectExprs {
		ae, ok := se.(*sqlparser.AliasedExpr)
		if !ok {
			return nil, false, nil
		}
		name := ae.As.String()
		if name == "" {
			name = ae.InputExpression
		}
		if name == "" {
			name = sqlparser.String(ae.Expr)
		}
		t, v, known, err := s.serverValue(ae.Expr, st, slots)
		if err != nil {
			return nil, false, err
		}
		if !known {
			return nil, false, nil
		}
		names = append(names, name)
		types = append(types, t)
		row = append(row, v)
	}
	res := &sqltypes.Result{Fields: fieldsOf(names, types)}
	out := make([]sqltypes.Value, len(row))
	for i, v := range row {
		w, err := types[i].toWire(v)
		if err != nil {
			return nil, false, err
		}
		out[i] = w
	}
	if !noRows {
		res.Rows = [][]sqltypes.Value{out}
	}
	return res, true, nil
}

// serverValue evaluates one select expression of serverSelect.
func (s *session) serverValue(e sqlparser.Expr, st *statement, slots []any) (colType, any, bool, error) {
	str := colType{name: "VARCHAR", length: 255}
	switch x := unparen(e).(type) {
	case *sqlparser.ColName:
		n := x.Name.String()
		if !x.Qualifier.IsEmpty() {
			// @@session.autocommit parses as a qualified name.
			n = sqlparser.String(x)
		}
		switch {
		case strings.HasPrefix(n, "@@"):
			t, v, ok := s.sysVar(strings.Trim(strings.TrimPrefix(n, "@@"), "`"))
			if !ok {
				return t, nil, false, sqlError(mysql.ERUnknownSystemVariable, "HY000", "Unknown system variable '%s'", strings.TrimPrefix(n, "@@"))
			}
			return t, v, true, nil
		case strings.HasPrefix(n, "@"):
			return colType{name: "LONGTEXT"}, nil, true, nil // user variables are not kept
		}
	case *sqlparser.FuncExpr:
		if len(x.Exprs) > 0 {
			return colType{}, nil, false, nil
		}
		switch x.Name.Lowered() {
		case "database", "schema":
			if s.db == "" {
				return str, nil, true, nil
			}
			return str, s.db, true, nil
		case "version":
			return str, ServerVersion, true, nil
		case "connection_id":
			return colType{name: "BIGINT", length: 21, unsigned: true, notNull: true}, int64(s.id), true, nil
		case "user", "current_user", "session_user", "system_user":
			return str, "root@localhost", true, nil
		case "last_insert_id", "row_count", "found_rows":
			return colType{name: "BIGINT", length: 21, unsigned: true, notNull: true}, int64(0), true, nil
		}
	case *sqlparser.NullVal:
		return colType{name: nullTypeName}, nil, true, nil
	case sqlparser.BoolVal:
		if x {
			return colType{name: "INT", length: 1, notNull: true}, int64(1), true, nil
		}
		return colType{name: "INT", length: 1, notNull: true}, int64(0), true, nil
	case *sqlparser.SQLVal:
		switch x.Type {
		case sqlparser.IntVal:
			return colType{name: "BIGINT", length: 21, notNull: true}, number(x.Val), true, nil
		case sqlparser.ValArg:
			slot := slotOf(x, st.argSlot)
			if slot < 0 {
				return colType{}, nil, false, nil
			}
			v := slots[slot]
			switch st.tr.slots[slot].kind {
			case slotNow, slotUTCNow:
				return colType{name: "DATETIME", scale: st.tr.slots[slot].fsp, notNull: true}, v, true, nil
			case slotCurDate, slotUTCDate:
				return colType{name: "DATE", notNull: true}, v, true, nil
			case slotDatabase:
				return colType{name: "VARCHAR", length: 64}, v, true, nil
			}
			switch v.(type) {
			case nil:
				return colType{name: nullTypeName}, nil, true, nil
			case int64:
				return colType{name: "BIGINT", length: 21, notNull: true}, v, true, nil
			case float64:
				return colType{name: "DOUBLE", notNull: true}, v, true, nil
			case []byte:
				return colType{name: "LONGBLOB", notNull: true}, v, true, nil
			}
			return colType{name: "VARCHAR", length: 255, notNull: true}, valueText(v), true, nil
		}
	}
	return colType{}, nil, false, nil
}

// fieldsOf builds column definitions.
func fieldsOf(names []string, types []colType) []*querypb.Field {
	f := make([]*querypb.Field, len(names))
	for i := range names {
		f[i] = types[i].field(names[i])
	}
	return f
}
