package deptdb

import (
	"strconv"
	"strings"

	"github.com/dolthub/vitess/go/vt/sqlparser"
)

// statement is a client statement analysed once and executed any number of times (a prepared
// statement is executed with new parameters each time).
type statement struct {
	query string
	verb  string // first keywords, for messages
	ast   sqlparser.Statement
	// DML (SELECT, INSERT, UPDATE, DELETE) only:
	tr *translation
	// argSlot[n] is the slot of the Vitess bind variable :v(n+1) of ast.
	argSlot []int
	// targets are the slots compared with, or assigned to, a column.
	targets map[int]target
	// params is the number of '?' the client binds.
	params int
}

// target is the column a slot's value is compared with (or, with store, assigned to).
type target struct {
	col   *sqlparser.ColName
	store bool
}

// analyse parses a statement. DML is translated (see translate) and parsed with its literals
// lifted into bind variables; when the Vitess parser refuses the lifted form (a literal where
// MySQL needs a literal), the original is parsed and only the client's parameters are
// converted to column types.
func analyse(query string) (*statement, error) {
	toks, err := lex(query)
	if err != nil {
		return nil, parseError(err)
	}
	st := &statement{query: query, verb: verbOf(toks)}
	for _, t := range toks {
		if t.kind == tokParam {
			st.params++
		}
	}
	if !isDML(toks) {
		ast, err := sqlparser.Parse(query)
		if err != nil {
			return nil, parseError(err)
		}
		st.ast = ast
		return st, nil
	}
	tr := translateTokens(toks)
	st.tr = tr
	if ast, err := sqlparser.Parse(tr.parseText()); err == nil {
		st.ast = ast
		st.argSlot = make([]int, len(tr.slots))
		for i := range st.argSlot {
			st.argSlot[i] = i
		}
	} else {
		ast, err := sqlparser.Parse(query)
		if err != nil {
			return nil, parseError(err)
		}
		st.ast = ast
		st.argSlot = tr.paramSlots
	}
	st.targets = collectTargets(st.ast, st.argSlot)
	return st, nil
}

// verbOf names a statement by its first keywords ("ALTER TABLE", "EXPLAIN").
func verbOf(toks []token) string {
	var w []string
	for _, t := range toks {
		if t.kind != tokIdent || len(w) == 2 {
			break
		}
		w = append(w, strings.ToUpper(t.text))
	}
	if len(w) == 0 {
		return "this statement"
	}
	return strings.Join(w, " ")
}

// isDML reports whether the statement is a SELECT, INSERT, REPLACE, UPDATE or DELETE.
func isDML(toks []token) bool {
	for _, t := range toks {
		if t.text == "(" {
			continue
		}
		if t.kind != tokIdent {
			return false
		}
		switch strings.ToUpper(t.text) {
		case "SELECT", "INSERT", "REPLACE", "UPDATE", "DELETE", "WITH":
			return true
		}
		return false
	}
	return false
}

// argIndex is the index n-1 of the bind variable :vn.
func argIndex(v *sqlparser.SQLVal) (int, bool) {
	if v == nil || v.Type != sqlparser.ValArg {
		return 0, false
	}
	s, ok := strings.CutPrefix(string(v.Val), ":v")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, false
	}
	return n - 1, true
}

// slotOf is the slot of a bind variable, or -1.
func slotOf(e sqlparser.Expr, argSlot []int) int {
	v, ok := e.(*sqlparser.SQLVal)
	if !ok {
		return -1
	}
	n, ok := argIndex(v)
	if !ok || n >= len(argSlot) {
		return -1
	}
	return argSlot[n]
}

// collectTargets finds the slots that are compared with a column (col = ?, col > ?,
// (a, b) > (?, ?), col IN (?, ?), col BETWEEN ? AND ?) or assigned to one (UPDATE … SET
// col = ?).
func collectTargets(ast sqlparser.Statement, argSlot []int) map[int]target {
	out := map[int]target{}
	var pair func(a, b sqlparser.Expr)
	pair = func(a, b sqlparser.Expr) {
		a, b = uncastParam(unparen(a)), uncastParam(unparen(b))
		if c, ok := a.(*sqlparser.ColName); ok {
			if s := slotOf(b, argSlot); s >= 0 {
				if _, dup := out[s]; !dup {
					out[s] = target{col: c}
				}
			}
			return
		}
		if c, ok := b.(*sqlparser.ColName); ok {
			if s := slotOf(a, argSlot); s >= 0 {
				if _, dup := out[s]; !dup {
					out[s] = target{col: c}
				}
			}
			return
		}
		ta, oka := a.(sqlparser.ValTuple)
		tb, okb := b.(sqlparser.ValTuple)
		if oka && okb && len(ta) == len(tb) {
			for i := range ta {
				pair(ta[i], tb[i])
			}
		}
	}
	if u, ok := ast.(*sqlparser.Update); ok {
		for _, a := range u.Exprs {
			if s := slotOf(a.Expr, argSlot); s >= 0 && a.Name != nil {
				out[s] = target{col: a.Name, store: true}
			}
		}
	}
	_ = sqlparser.Walk(func(node sqlparser.SQLNode) (bool, error) {
		switch n := node.(type) {
		case *sqlparser.ComparisonExpr:
			switch n.Operator {
			case sqlparser.InStr, sqlparser.NotInStr:
				if list, ok := unparen(n.Right).(sqlparser.ValTuple); ok {
					for _, e := range list {
						pair(n.Left, e)
					}
				}
			case sqlparser.EqualStr, sqlparser.LessThanStr, sqlparser.GreaterThanStr, sqlparser.LessEqualStr,
				sqlparser.GreaterEqualStr, sqlparser.NotEqualStr, sqlparser.NullSafeEqualStr:
				pair(n.Left, n.Right)
			}
		case *sqlparser.RangeCond:
			pair(n.Left, n.From)
			pair(n.Left, n.To)
		}
		return true, nil
	}, ast)
	return out
}

// uncastParam turns CAST(? AS DECIMAL(p,s)) into ?: the SQLite text has the bare parameter
// (see translation.rewriteCasts), and its value is converted to the column's DECIMAL.
func uncastParam(e sqlparser.Expr) sqlparser.Expr {
	c, ok := e.(*sqlparser.ConvertExpr)
	if !ok || c.Type == nil {
		return e
	}
	switch strings.ToLower(c.Type.Type) {
	case "decimal", "numeric", "dec", "fixed":
		if v, ok := unparen(c.Expr).(*sqlparser.SQLVal); ok && v.Type == sqlparser.ValArg {
			return v
		}
	}
	return e
}

// unparen removes parentheses and COLLATE clauses around an expression.
func unparen(e sqlparser.Expr) sqlparser.Expr {
	for {
		switch x := e.(type) {
		case *sqlparser.ParenExpr:
			e = x.Expr
		case *sqlparser.CollateExpr:
			e = x.Expr
		default:
			return e
		}
	}
}

// tableRef is a table a statement reads or writes.
type tableRef struct {
	db, name, alias string
}

// scope is where a DML statement runs.
type scope struct {
	db         string // database whose SQLite file runs it; "" with no tables
	infoSchema bool   // it reads information_schema
	tables     []tableRef
	dropQual   string // database qualifier removed from the SQLite text
}

// scopeOf works out the tables of a statement and the database it runs in. A statement may
// name one database other than the current one (db.t); statements across databases are not
// supported.
func scopeOf(st *statement, current string) (*scope, error) {
	sc := &scope{}
	quals := map[string]bool{}
	addTable := func(tn sqlparser.TableName, alias string) {
		name := tn.Name.String()
		if name == "" || (strings.EqualFold(name, "dual") && tn.DbQualifier.IsEmpty()) {
			return
		}
		db := tn.DbQualifier.String()
		if strings.EqualFold(db, "information_schema") {
			sc.infoSchema = true
		} else if db != "" {
			quals[db] = true
		}
		sc.tables = append(sc.tables, tableRef{db: db, name: name, alias: alias})
	}
	if ins, ok := st.ast.(*sqlparser.Insert); ok {
		addTable(ins.Table, "")
	}
	_ = sqlparser.Walk(func(node sqlparser.SQLNode) (bool, error) {
		switch n := node.(type) {
		case *sqlparser.AliasedTableExpr:
			if tn, ok := n.Expr.(sqlparser.TableName); ok {
				addTable(tn, n.As.String())
			}
		case *sqlparser.ColName:
			if db := n.Qualifier.DbQualifier.String(); db != "" && !strings.EqualFold(db, "information_schema") {
				quals[db] = true
			}
		}
		return true, nil
	}, st.ast)
	if sc.infoSchema {
		for _, t := range sc.tables {
			if !strings.EqualFold(t.db, "information_schema") {
				return nil, notSupported("statements that join information_schema with tables")
			}
		}
		return sc, nil
	}
	switch len(quals) {
	case 0:
		if len(sc.tables) > 0 {
			sc.db = current
		}
	case 1:
		for q := range quals {
			sc.db, sc.dropQual = q, q
		}
		for _, t := range sc.tables {
			if strings.EqualFold(t.name, sc.dropQual) || strings.EqualFold(t.alias, sc.dropQual) {
				return nil, notSupported("database qualifier %s that is also a table name or alias in the statement", sc.dropQual)
			}
			if t.db == "" && current != sc.db {
				return nil, notSupported("statements across databases (%s and %s)", sc.db, current)
			}
		}
	default:
		return nil, notSupported("statements across databases")
	}
	return sc, nil
}
