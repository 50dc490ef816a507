package deptdb

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/dolthub/vitess/go/vt/sqlparser"
)

// colKeyPrimary is the value of sqlparser.ColumnType.KeyOpt for an inline PRIMARY KEY (the
// parser's constant is unexported; TestCreateTableSQL pins it).
const colKeyPrimary sqlparser.ColumnKeyOption = 1

// colKeyUnique and colKeyUniqueKey are KeyOpt for an inline UNIQUE [KEY].
const (
	colKeyUnique    sqlparser.ColumnKeyOption = 3
	colKeyUniqueKey sqlparser.ColumnKeyOption = 4
)

// colDef is a column of a CREATE TABLE statement.
type colDef struct {
	name     string
	typ      colType
	dflt     string // SQLite DEFAULT clause text, "" for none
	onUpdate bool   // ON UPDATE CURRENT_TIMESTAMP
}

// indexDef is a secondary index of a CREATE TABLE statement.
type indexDef struct {
	name   string
	unique bool
	cols   []string
}

// createTableSQL translates CREATE TABLE into the SQLite statements that create the table, its
// indexes and its ON UPDATE triggers. Column types are kept as declared (see colType.decltype);
// values are checked to be in deptdb's stored form, so nothing else can slip into a column.
func createTableSQL(d *sqlparser.DDL) ([]string, error) {
	table := d.Table.Name.String()
	switch {
	case d.Temporary:
		return nil, notSupported("CREATE TEMPORARY TABLE")
	case d.OptLike != nil:
		return nil, notSupported("CREATE TABLE … LIKE")
	case d.OptSelect != nil:
		return nil, notSupported("CREATE TABLE … SELECT")
	case d.TableSpec == nil:
		return nil, notSupported("CREATE TABLE without columns")
	case d.TableSpec.PartitionOpt != nil:
		return nil, notSupported("partitioned tables")
	case len(d.TableSpec.Constraints) > 0:
		return nil, notSupported("table constraints (FOREIGN KEY, CHECK) in CREATE TABLE %s", table)
	case table == "" || len(table) > 64:
		return nil, sqlError(1103, "42000", "Incorrect table name '%s'", table)
	}
	var cols []colDef
	var pk []string
	var indexes []indexDef
	seen := map[string]bool{}
	for _, cd := range d.TableSpec.Columns {
		c, err := columnDef(cd)
		if err != nil {
			return nil, err
		}
		if seen[strings.ToLower(c.name)] {
			return nil, sqlError(1060, "42S21", "Duplicate column name '%s'", c.name)
		}
		seen[strings.ToLower(c.name)] = true
		switch cd.Type.KeyOpt {
		case colKeyPrimary:
			if pk != nil {
				return nil, sqlError(1068, "42000", "Multiple primary key defined")
			}
			pk = []string{c.name}
		case colKeyUnique, colKeyUniqueKey:
			indexes = append(indexes, indexDef{name: c.name, unique: true, cols: []string{c.name}})
		}
		cols = append(cols, c)
	}
	for _, ix := range d.TableSpec.Indexes {
		info := ix.Info
		if info == nil || info.Spatial || info.Fulltext || info.Vector {
			return nil, notSupported("FULLTEXT, SPATIAL and VECTOR indexes")
		}
		var names []string
		for _, ic := range ix.Columns {
			n := ic.Column.String()
			if !seen[strings.ToLower(n)] {
				return nil, sqlError(1072, "42000", "Key column '%s' doesn't exist in table", n)
			}
			names = append(names, n)
		}
		if len(names) == 0 {
			return nil, parseError(fmt.Errorf("index without columns in table %s", table))
		}
		if info.Primary {
			if pk != nil {
				return nil, sqlError(1068, "42000", "Multiple primary key defined")
			}
			pk = names
			continue
		}
		name := info.Name.String()
		if name == "" {
			name = names[0]
		}
		indexes = append(indexes, indexDef{name: name, unique: info.Unique, cols: names})
	}
	inPK := map[string]bool{}
	for _, n := range pk {
		inPK[strings.ToLower(n)] = true
	}

	var b strings.Builder
	b.WriteString("CREATE TABLE ")
	if d.IfNotExists {
		b.WriteString("IF NOT EXISTS ")
	}
	b.WriteString(quoteIdent(table))
	b.WriteString(" (")
	for i := range cols {
		c := &cols[i]
		if inPK[strings.ToLower(c.name)] {
			c.typ.primary, c.typ.notNull = true, true
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(quoteIdent(c.name))
		b.WriteByte(' ')
		b.WriteString(c.typ.decltype())
		if c.typ.notNull {
			b.WriteString(" NOT NULL")
		}
		if c.typ.kind() == kindDecimal {
			b.WriteString(" COLLATE " + decimalCollation)
		}
		if c.dflt != "" {
			b.WriteString(" DEFAULT ")
			b.WriteString(c.dflt)
		}
		if chk := checkSQL(quoteIdent(c.name), c.typ); chk != "" {
			b.WriteString(" CHECK (")
			b.WriteString(chk)
			b.WriteByte(')')
		}
	}
	if pk != nil {
		b.WriteString(", PRIMARY KEY (")
		b.WriteString(quoteList(pk))
		b.WriteByte(')')
	}
	b.WriteByte(')')
	if pk != nil {
		// Clustered on the primary key, like InnoDB: keyset pagination reads rows in place.
		b.WriteString(" WITHOUT ROWID")
	}
	stmts := []string{b.String()}
	for _, ix := range indexes {
		s := "CREATE "
		if ix.unique {
			s += "UNIQUE "
		}
		s += "INDEX "
		if d.IfNotExists {
			s += "IF NOT EXISTS "
		}
		stmts = append(stmts, s+quoteIdent(indexName(table, ix.name))+" ON "+quoteIdent(table)+" ("+quoteList(ix.cols)+")")
	}
	for _, c := range cols {
		if c.onUpdate {
			if t := onUpdateTrigger(table, c, cols, pk, d.IfNotExists); t != "" {
				stmts = append(stmts, t)
			}
		}
	}
	return stmts, nil
}

// indexName is the SQLite name of MySQL index name of table (SQLite index names are per
// database, MySQL's per table).
func indexName(table, name string) string { return table + "." + name }

// columnDef reads one column definition.
func columnDef(cd *sqlparser.ColumnDefinition) (colDef, error) {
	c := colDef{name: cd.Name.String()}
	ct := cd.Type
	if c.name == "" || len(c.name) > 64 {
		return c, sqlError(1166, "42000", "Incorrect column name '%s'", c.name)
	}
	name, impliedLen := canonicalTypeName(ct.Type)
	b, ok := lookupBase(name)
	if !ok {
		return c, notSupported("column type %s (column %s)", ct.Type, c.name)
	}
	switch {
	case bool(ct.Autoincrement):
		return c, notSupported("AUTO_INCREMENT (column %s)", c.name)
	case ct.GeneratedExpr != nil:
		return c, notSupported("generated columns (column %s)", c.name)
	case ct.ForeignKeyDef != nil || ct.Constraint != nil:
		return c, notSupported("column constraints REFERENCES/CHECK (column %s)", c.name)
	case ct.SRID != nil || len(ct.EnumValues) > 0:
		return c, notSupported("column type %s (column %s)", ct.Type, c.name)
	}
	t := colType{name: name, unsigned: bool(ct.Unsigned), notNull: bool(ct.NotNull), length: impliedLen}
	length, hasLength, err := sqlInt(ct.Length)
	if err != nil {
		return c, fmt.Errorf("column %s: length: %w", c.name, err)
	}
	scale, hasScale, err := sqlInt(ct.Scale)
	if err != nil {
		return c, fmt.Errorf("column %s: scale: %w", c.name, err)
	}
	switch b.kind {
	case kindInt:
		if hasLength {
			t.length = length
		}
		if name == "YEAR" {
			t.length = 4
		}
	case kindFloat:
		// FLOAT(M,D) and DOUBLE(M,D) are deprecated; deptdb keeps the plain type.
	case kindDecimal:
		t.length, t.scale = 10, 0
		if hasLength {
			t.length = length
		}
		if hasScale {
			t.scale = scale
		}
		if t.length < 1 || t.length > 65 {
			return c, sqlError(1426, "42000", "Too big precision %d specified for '%s'. Maximum is 65", t.length, c.name)
		}
		if t.scale > 30 || t.scale > t.length {
			return c, sqlError(1425, "42000", "Too big scale %d specified for '%s'. Maximum is 30", t.scale, c.name)
		}
		t.unsigned = false // deprecated for DECIMAL; the range stays signed
	case kindDatetime:
		if hasLength {
			t.scale = length
		}
		if t.scale > 6 {
			return c, sqlError(1426, "42000", "Too big precision %d specified for '%s'. Maximum is 6", t.scale, c.name)
		}
	case kindText, kindBinary:
		switch name {
		case "CHAR", "BINARY":
			t.length = 1
			if hasLength {
				t.length = length
			}
		case "VARCHAR", "VARBINARY":
			if !hasLength {
				return c, parseError(fmt.Errorf("%s needs a length (column %s)", name, c.name))
			}
			t.length = length
		}
		if t.length > 65535 {
			return c, sqlError(1074, "42000", "Column length too big for column '%s' (max = 65535)", c.name)
		}
	}
	if t.kind() != kindInt {
		t.unsigned = false
	}
	if ct.Default != nil {
		d, err := defaultSQL(ct.Default, t, c.name)
		if err != nil {
			return c, err
		}
		c.dflt = d
	}
	if ct.OnUpdate != nil {
		if !isNowFunc(ct.OnUpdate) || t.kind() != kindDatetime {
			return c, notSupported("ON UPDATE %s (column %s)", sqlparser.String(ct.OnUpdate), c.name)
		}
		c.onUpdate = true
	}
	c.typ = t
	return c, nil
}

// sqlInt reads an integer literal of a type (VARCHAR(64)).
func sqlInt(v *sqlparser.SQLVal) (int, bool, error) {
	if v == nil {
		return 0, false, nil
	}
	n, err := strconv.Atoi(string(v.Val))
	if err != nil || n < 0 {
		return 0, false, fmt.Errorf("%q is not a length", v.Val)
	}
	return n, true, nil
}

// isNowFunc reports whether e is CURRENT_TIMESTAMP / NOW() / LOCALTIME[STAMP] with or without
// a precision.
func isNowFunc(e sqlparser.Expr) bool {
	f, ok := e.(*sqlparser.FuncExpr)
	if !ok {
		return false
	}
	switch f.Name.Lowered() {
	case "current_timestamp", "now", "localtime", "localtimestamp":
		return true
	}
	return false
}

// nowSQL is the SQLite expression of the current local time in deptdb's stored DATETIME form,
// with fsp fractional digits (SQLite's clock has milliseconds; further digits are zero).
func nowSQL(fsp int) string {
	if fsp == 0 {
		return "(strftime('%Y-%m-%d %H:%M:%S','now','localtime') || '.000000')"
	}
	keep := 20 + min(fsp, 3)
	return fmt.Sprintf("(substr(strftime('%%Y-%%m-%%d %%H:%%M:%%f','now','localtime'),1,%d) || '%s')",
		keep, strings.Repeat("0", 26-keep))
}

// defaultSQL renders a column DEFAULT as SQLite text.
func defaultSQL(e sqlparser.Expr, t colType, col string) (string, error) {
	for {
		p, ok := e.(*sqlparser.ParenExpr)
		if !ok {
			break
		}
		e = p.Expr
	}
	var v any
	switch x := e.(type) {
	case *sqlparser.NullVal:
		return "NULL", nil
	case sqlparser.BoolVal:
		v = bool(x)
	case *sqlparser.SQLVal:
		lit, err := literalValue(x)
		if err != nil {
			return "", err
		}
		v = lit
	case *sqlparser.UnaryExpr:
		lit, ok := x.Expr.(*sqlparser.SQLVal)
		if !ok || x.Operator != sqlparser.UMinusStr || (lit.Type != sqlparser.IntVal && lit.Type != sqlparser.FloatVal) {
			return "", notSupported("DEFAULT %s (column %s)", sqlparser.String(e), col)
		}
		v = number("-" + string(lit.Val))
	case *sqlparser.FuncExpr:
		switch {
		case isNowFunc(x) && t.kind() == kindDatetime:
			return nowSQL(t.scale), nil
		case (x.Name.Lowered() == "current_date" || x.Name.Lowered() == "curdate") && t.kind() == kindDate:
			return "(date('now','localtime'))", nil
		}
		return "", notSupported("DEFAULT %s (column %s)", sqlparser.String(e), col)
	default:
		return "", notSupported("DEFAULT %s (column %s)", sqlparser.String(e), col)
	}
	s, err := t.toStored(v)
	if err != nil {
		return "", sqlError(1067, "42000", "Invalid default value for '%s'", col)
	}
	return sqliteLiteral(s), nil
}

// literalValue is the value of a literal of a statement.
func literalValue(v *sqlparser.SQLVal) (any, error) {
	switch v.Type {
	case sqlparser.StrVal:
		return string(v.Val), nil
	case sqlparser.IntVal, sqlparser.FloatVal:
		return number(v.Val), nil
	case sqlparser.HexVal, sqlparser.HexNum:
		b, err := v.HexDecode()
		if err != nil {
			return nil, parseError(err)
		}
		return b, nil
	}
	return nil, notSupported("literal %s", sqlparser.String(v))
}

// sqliteLiteral renders a stored value as an SQLite literal.
func sqliteLiteral(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		s := strconv.FormatFloat(x, 'g', -1, 64)
		if !strings.ContainsAny(s, ".eEn") {
			s += ".0"
		}
		return s
	case []byte:
		return "X'" + hex.EncodeToString(x) + "'"
	}
	return "'" + strings.ReplaceAll(valueText(v), "'", "''") + "'"
}

// checkSQL is the CHECK expression that keeps a column in deptdb's stored form.
func checkSQL(col string, t colType) string {
	switch t.kind() {
	case kindInt:
		return "typeof(" + col + ") IN ('integer','null')"
	case kindFloat:
		return "typeof(" + col + ") IN ('real','integer','null')"
	case kindDecimal:
		return col + " IS NULL OR (typeof(" + col + ") = 'text' AND " + col + " GLOB '*[0-9]*' AND NOT " + col + " GLOB '*[^0-9.-]*')"
	case kindDate:
		return col + " IS NULL OR (typeof(" + col + ") = 'text' AND " + col + " GLOB '" + datePattern + "')"
	case kindDatetime:
		return col + " IS NULL OR (typeof(" + col + ") = 'text' AND " + col + " GLOB '" + datePattern + " " + timePattern + "')"
	}
	return ""
}

const (
	datePattern = "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]"
	timePattern = "[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]"
)

// onUpdateTrigger emulates ON UPDATE CURRENT_TIMESTAMP: when an UPDATE changes another column
// and leaves c as it was, c gets the current time.
func onUpdateTrigger(table string, c colDef, cols []colDef, pk []string, ifNotExists bool) string {
	var changed []string
	for _, o := range cols {
		if o.name != c.name {
			changed = append(changed, "NEW."+quoteIdent(o.name)+" IS NOT OLD."+quoteIdent(o.name))
		}
	}
	if len(changed) == 0 {
		return ""
	}
	where := "rowid = NEW.rowid"
	if pk != nil {
		var conds []string
		for _, k := range pk {
			conds = append(conds, quoteIdent(k)+" = NEW."+quoteIdent(k))
		}
		where = strings.Join(conds, " AND ")
	}
	ine := ""
	if ifNotExists {
		ine = "IF NOT EXISTS "
	}
	return "CREATE TRIGGER " + ine + quoteIdent(table+".on_update."+c.name) + " AFTER UPDATE ON " + quoteIdent(table) +
		" FOR EACH ROW WHEN NEW." + quoteIdent(c.name) + " IS OLD." + quoteIdent(c.name) +
		" AND (" + strings.Join(changed, " OR ") + ") BEGIN UPDATE " + quoteIdent(table) +
		" SET " + quoteIdent(c.name) + " = " + nowSQL(c.typ.scale) + " WHERE " + where + "; END"
}

// quoteIdent quotes an identifier for SQLite.
func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = quoteIdent(n)
	}
	return strings.Join(q, ", ")
}
