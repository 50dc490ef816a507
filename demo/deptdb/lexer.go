package deptdb

import (
	"fmt"
	"strconv"
	"strings"
)

// tokKind is the kind of a lexical token of MySQL's SQL dialect (default sql_mode: no
// ANSI_QUOTES, backslash escapes on).
type tokKind int

const (
	tokIdent  tokKind = iota + 1 // bare identifier or keyword
	tokQuoted                    // `quoted identifier`
	tokString                    // 'string' or "string"
	tokNumber                    // 12, 1.5e3, 0x1F
	tokParam                     // ?
	tokPunct                     // operators and punctuation
)

// token is one lexical token; text is the raw text, value the decoded string or identifier.
type token struct {
	kind       tokKind
	text       string
	value      string
	spaceAfter bool // whitespace or a comment followed the token
}

// lex splits a MySQL statement into tokens, dropping comments. It fails on unterminated
// strings, quoted identifiers and comments.
func lex(q string) ([]token, error) {
	var toks []token
	markSpace := func() {
		if len(toks) > 0 {
			toks[len(toks)-1].spaceAfter = true
		}
	}
	i := 0
	for i < len(q) {
		c := q[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			markSpace()
			i++
		case c == '#':
			markSpace()
			i = skipLine(q, i)
		case c == '-' && i+1 < len(q) && q[i+1] == '-' && (i+2 == len(q) || q[i+2] <= ' '):
			markSpace()
			i = skipLine(q, i)
		case c == '/' && i+1 < len(q) && q[i+1] == '*':
			end := strings.Index(q[i+2:], "*/")
			if end < 0 {
				return nil, fmt.Errorf("unterminated comment starting at byte %d", i)
			}
			markSpace()
			i += 2 + end + 2
		case c == '\'' || c == '"':
			v, n, err := lexString(q[i:])
			if err != nil {
				return nil, fmt.Errorf("%w at byte %d", err, i)
			}
			toks = append(toks, token{kind: tokString, text: q[i : i+n], value: v})
			i += n
		case c == '`':
			v, n, err := lexQuotedIdent(q[i:])
			if err != nil {
				return nil, fmt.Errorf("%w at byte %d", err, i)
			}
			toks = append(toks, token{kind: tokQuoted, text: q[i : i+n], value: v})
			i += n
		case c == '?':
			toks = append(toks, token{kind: tokParam, text: "?"})
			i++
		case isDigit(c) || (c == '.' && i+1 < len(q) && isDigit(q[i+1]) && !afterIdent(toks)):
			n := lexNumber(q[i:])
			if n < len(q[i:]) && isIdentByte(q[i+n]) && !(c == '.') {
				// MySQL allows identifiers that start with digits, e.g. 1abc.
				n = lexIdent(q[i:])
				toks = append(toks, token{kind: tokIdent, text: q[i : i+n], value: q[i : i+n]})
			} else {
				toks = append(toks, token{kind: tokNumber, text: q[i : i+n]})
			}
			i += n
		case (c|0x20 == 'x' || c|0x20 == 'b') && i+1 < len(q) && q[i+1] == '\'':
			// X'4142' and B'0101' literals; SQLite has X'…' too.
			end := strings.IndexByte(q[i+2:], '\'')
			if end < 0 {
				return nil, fmt.Errorf("unterminated hex or bit literal at byte %d", i)
			}
			toks = append(toks, token{kind: tokNumber, text: q[i : i+2+end+1]})
			i += 2 + end + 1
		case isIdentByte(c):
			n := lexIdent(q[i:])
			toks = append(toks, token{kind: tokIdent, text: q[i : i+n], value: q[i : i+n]})
			i += n
		default:
			n := lexPunct(q[i:])
			toks = append(toks, token{kind: tokPunct, text: q[i : i+n]})
			i += n
		}
	}
	return toks, nil
}

func skipLine(q string, i int) int {
	if j := strings.IndexByte(q[i:], '\n'); j >= 0 {
		return i + j + 1
	}
	return len(q)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isIdentByte(c byte) bool {
	return c == '_' || c == '$' || c >= 0x80 || isDigit(c) || (c|0x20 >= 'a' && c|0x20 <= 'z')
}

// afterIdent reports whether the previous token makes a following '.' a qualifier dot (t.5 is
// not a number in "t.5"; rare, but keeps the lexer honest).
func afterIdent(toks []token) bool {
	if len(toks) == 0 {
		return false
	}
	k := toks[len(toks)-1].kind
	return (k == tokIdent || k == tokQuoted) && !toks[len(toks)-1].spaceAfter
}

func lexIdent(s string) int {
	n := 0
	for n < len(s) && isIdentByte(s[n]) {
		n++
	}
	return n
}

func lexNumber(s string) int {
	if len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X' || s[1] == 'b' || s[1] == 'B') {
		n := 2
		for n < len(s) && isHexDigit(s[n]) {
			n++
		}
		if n > 2 {
			return n
		}
	}
	n := 0
	for n < len(s) && isDigit(s[n]) {
		n++
	}
	if n < len(s) && s[n] == '.' {
		n++
		for n < len(s) && isDigit(s[n]) {
			n++
		}
	}
	if n < len(s) && (s[n] == 'e' || s[n] == 'E') {
		m := n + 1
		if m < len(s) && (s[m] == '+' || s[m] == '-') {
			m++
		}
		if m < len(s) && isDigit(s[m]) {
			for m < len(s) && isDigit(s[m]) {
				m++
			}
			n = m
		}
	}
	return n
}

func isHexDigit(c byte) bool { return isDigit(c) || (c|0x20 >= 'a' && c|0x20 <= 'f') }

func lexPunct(s string) int {
	for _, op := range []string{"<=>", "<<", ">>", "<=", ">=", "<>", "!=", "||", "&&", ":=", "->>", "->"} {
		if strings.HasPrefix(s, op) {
			return len(op)
		}
	}
	return 1
}

// lexString decodes a MySQL string literal quoted with s[0]; it returns the value and the
// length of the literal.
func lexString(s string) (string, int, error) {
	quote := s[0]
	var b strings.Builder
	i := 1
	for i < len(s) {
		c := s[i]
		switch {
		case c == '\\':
			if i+1 >= len(s) {
				return "", 0, fmt.Errorf("unterminated string literal")
			}
			if r, ok := unescape(s[i+1]); ok {
				b.WriteString(r)
			} else {
				b.WriteByte(s[i+1]) // \x is x, for any byte (UTF-8 included)
			}
			i += 2
		case c == quote:
			if i+1 < len(s) && s[i+1] == quote {
				b.WriteByte(quote)
				i += 2
				continue
			}
			return b.String(), i + 1, nil
		default:
			b.WriteByte(c)
			i++
		}
	}
	return "", 0, fmt.Errorf("unterminated string literal")
}

// unescape is MySQL's meaning of a backslash followed by c, for the escapes that are not
// just c itself.
func unescape(c byte) (string, bool) {
	switch c {
	case '0':
		return "\x00", true
	case 'b':
		return "\b", true
	case 'n':
		return "\n", true
	case 'r':
		return "\r", true
	case 't':
		return "\t", true
	case 'Z':
		return "\x1a", true
	case '%':
		return "\\%", true // kept for LIKE patterns
	case '_':
		return "\\_", true
	}
	return "", false
}

func lexQuotedIdent(s string) (string, int, error) {
	var b strings.Builder
	i := 1
	for i < len(s) {
		if s[i] == '`' {
			if i+1 < len(s) && s[i+1] == '`' {
				b.WriteByte('`')
				i += 2
				continue
			}
			return b.String(), i + 1, nil
		}
		b.WriteByte(s[i])
		i++
	}
	return "", 0, fmt.Errorf("unterminated quoted identifier")
}

// slotKind says where the value of one '?' of a translated statement comes from.
type slotKind int

const (
	slotParam    slotKind = iota + 1 // the client's parameter
	slotString                       // a string literal lifted out of the statement
	slotBytes                        // a _binary'…' literal
	slotNow                          // NOW(fsp), CURRENT_TIMESTAMP …: local time
	slotUTCNow                       // UTC_TIMESTAMP(fsp)
	slotCurDate                      // CURDATE(), CURRENT_DATE
	slotUTCDate                      // UTC_DATE()
	slotDatabase                     // DATABASE(), SCHEMA(): the current database
)

// slot is one '?' of a translated statement.
type slot struct {
	kind  slotKind
	param int    // slotParam: index of the client parameter
	text  string // slotString, slotBytes: the literal's value
	fsp   int    // slotNow, slotUTCNow: fractional-second precision
}

// translation is a DML statement prepared for the Vitess parser and for SQLite. Every string
// literal and every current-time function is lifted out into a bound value, so the Vitess
// parser sees each of them as a '?' that deptdb can convert to the type of the column it is
// compared with or assigned to; SQLite then never sees MySQL's backslash escapes.
type translation struct {
	toks  []token
	emit  []string // per token: its SQLite text ("" drops it), "?" for a lifted slot
	parse []string // per token: its text for the Vitess parser
	slots []slot
	// paramSlots[i] is the index in slots of the client's i-th parameter.
	paramSlots []int
}

// translate lexes a SELECT/INSERT/UPDATE/DELETE statement and lifts its literals. The
// SQLite-only rewrites are: backticks become double quotes, <=> becomes IS, || and && become
// OR and AND; index hints, COLLATE clauses and trailing locking clauses (FOR UPDATE, LOCK IN
// SHARE MODE) are dropped; database qualifiers are dropped by sqlite (see there).
func translate(q string) (*translation, error) {
	toks, err := lex(q)
	if err != nil {
		return nil, err
	}
	return translateTokens(toks), nil
}

// translateTokens is translate on a lexed statement.
func translateTokens(toks []token) *translation {
	tr := &translation{
		toks:  toks,
		emit:  make([]string, len(toks)),
		parse: make([]string, len(toks)),
	}
	for i, t := range toks {
		tr.parse[i] = t.text
		tr.emit[i] = t.text
		if t.kind == tokQuoted {
			tr.emit[i] = `"` + strings.ReplaceAll(t.value, `"`, `""`) + `"`
		}
	}
	end := len(toks)
	for end > 0 && toks[end-1].text == ";" {
		end--
		tr.emit[end] = ""
	}
	tr.dropLockingClause(end)
	defer tr.rewriteCasts()
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		switch t.kind {
		case tokParam:
			tr.paramSlots = append(tr.paramSlots, len(tr.slots))
			tr.slots = append(tr.slots, slot{kind: slotParam, param: len(tr.paramSlots) - 1})
		case tokString:
			i = tr.liftStrings(i, slotString)
		case tokIdent:
			i = tr.ident(i)
		case tokPunct:
			switch t.text {
			case "<=>":
				tr.emit[i] = " IS "
			case "||":
				tr.emit[i] = " OR "
			case "&&":
				tr.emit[i] = " AND "
			}
		}
	}
	return tr
}

// liftStrings replaces the string literal at i, and any literals directly following it (MySQL
// concatenates 'a' 'b'), by one slot. It returns the index of the last literal.
func (tr *translation) liftStrings(i int, k slotKind) int {
	var b strings.Builder
	j := i
	for ; j < len(tr.toks) && tr.toks[j].kind == tokString; j++ {
		b.WriteString(tr.toks[j].value)
		tr.emit[j], tr.parse[j] = "", ""
	}
	tr.emit[i], tr.parse[i] = "?", "?"
	tr.slots = append(tr.slots, slot{kind: k, text: b.String()})
	return j - 1
}

// ident handles a bare identifier at i: charset introducers and typed literals before a
// string, current-time functions and index hints. It returns the index of the last token used.
func (tr *translation) ident(i int) int {
	t := tr.toks[i]
	up := strings.ToUpper(t.value)
	next := tr.kindAt(i + 1)
	if tr.isQualified(i) {
		return i
	}
	if next == tokString {
		switch {
		case up == "_BINARY":
			tr.emit[i], tr.parse[i] = "", ""
			return tr.liftStrings(i+1, slotBytes)
		case strings.HasPrefix(up, "_") && isCharsetName(up[1:]),
			up == "N" && !t.spaceAfter,
			up == "DATE" || up == "TIME" || up == "TIMESTAMP":
			tr.emit[i], tr.parse[i] = "", ""
			return tr.liftStrings(i+1, slotString)
		}
	}
	var k slotKind
	parens := false // the function needs its parentheses
	switch up {
	case "NOW", "SYSDATE":
		k, parens = slotNow, true
	case "CURRENT_TIMESTAMP", "LOCALTIME", "LOCALTIMESTAMP":
		k = slotNow
	case "UTC_TIMESTAMP":
		k, parens = slotUTCNow, true
	case "CURDATE":
		k, parens = slotCurDate, true
	case "CURRENT_DATE":
		k = slotCurDate
	case "UTC_DATE":
		k, parens = slotUTCDate, true
	case "DATABASE", "SCHEMA":
		k, parens = slotDatabase, true
	case "USE", "FORCE", "IGNORE":
		return tr.dropIndexHint(i)
	case "COLLATE":
		// MySQL collations do not exist in SQLite; SQLite compares with the column's own.
		if k := tr.kindAt(i + 1); k == tokIdent || k == tokQuoted || k == tokString {
			tr.emit[i], tr.emit[i+1] = "", ""
			return i + 1
		}
		return i
	default:
		return i
	}
	last, fsp, ok := tr.timeCall(i)
	if !ok && parens || k == slotDatabase && last != i+2 {
		return i
	}
	if !ok {
		last, fsp = i, 0
	}
	for j := i; j <= last; j++ {
		tr.emit[j], tr.parse[j] = "", ""
	}
	tr.emit[i], tr.parse[i] = "?", "?"
	tr.slots = append(tr.slots, slot{kind: k, fsp: fsp})
	return last
}

func (tr *translation) kindAt(i int) tokKind {
	if i < 0 || i >= len(tr.toks) {
		return 0
	}
	return tr.toks[i].kind
}

func (tr *translation) textAt(i int) string {
	if i < 0 || i >= len(tr.toks) {
		return ""
	}
	return tr.toks[i].text
}

// isQualified reports whether the identifier at i follows a dot (t.now is a column).
func (tr *translation) isQualified(i int) bool {
	return tr.textAt(i-1) == "." || tr.textAt(i+1) == "."
}

// timeCall matches "( )" or "( n )" after the function name at i.
func (tr *translation) timeCall(i int) (last, fsp int, ok bool) {
	if tr.textAt(i+1) != "(" {
		return 0, 0, false
	}
	if tr.textAt(i+2) == ")" {
		return i + 2, 0, true
	}
	if tr.kindAt(i+2) == tokNumber && tr.textAt(i+3) == ")" {
		n, err := strconv.Atoi(tr.textAt(i + 2))
		if err != nil || n < 0 || n > 6 {
			return 0, 0, false
		}
		return i + 3, n, true
	}
	return 0, 0, false
}

// dropIndexHint removes "USE|FORCE|IGNORE INDEX|KEY [FOR JOIN|ORDER BY|GROUP BY] (…)" from the
// SQLite text; SQLite has no index hints.
func (tr *translation) dropIndexHint(i int) int {
	kw := strings.ToUpper(tr.textAt(i + 1))
	if kw != "INDEX" && kw != "KEY" {
		return i
	}
	j := i + 2
	if strings.EqualFold(tr.textAt(j), "FOR") {
		switch strings.ToUpper(tr.textAt(j + 1)) {
		case "JOIN":
			j += 2
		case "ORDER", "GROUP":
			if !strings.EqualFold(tr.textAt(j+2), "BY") {
				return i
			}
			j += 3
		default:
			return i
		}
	}
	if tr.textAt(j) != "(" {
		return i
	}
	depth := 0
	for k := j; k < len(tr.toks); k++ {
		switch tr.toks[k].text {
		case "(":
			depth++
		case ")":
			depth--
		}
		if depth == 0 {
			for m := i; m <= k; m++ {
				tr.emit[m] = ""
			}
			return i
		}
	}
	return i
}

// dropLockingClause removes a trailing FOR UPDATE / FOR SHARE [NOWAIT | SKIP LOCKED] or
// LOCK IN SHARE MODE from the SQLite text: SQLite serialises writers anyway.
func (tr *translation) dropLockingClause(end int) {
	words := func(from int) []string {
		var w []string
		for k := from; k < end; k++ {
			if tr.toks[k].kind != tokIdent {
				return nil
			}
			w = append(w, strings.ToUpper(tr.toks[k].text))
		}
		return w
	}
	for n := 2; n <= 4 && n <= end; n++ {
		w := strings.Join(words(end-n), " ")
		switch w {
		case "FOR UPDATE", "FOR SHARE", "FOR UPDATE NOWAIT", "FOR SHARE NOWAIT",
			"FOR UPDATE SKIP LOCKED", "FOR SHARE SKIP LOCKED", "LOCK IN SHARE MODE":
			for k := end - n; k < end; k++ {
				tr.emit[k] = ""
			}
			return
		}
	}
}

// rewriteCasts adapts CAST(x AS type) to SQLite, whose CAST to an unknown type name means
// NUMERIC: CAST(? AS DECIMAL(p,s)) becomes the bare parameter (deptdb converts it to the
// stored text form of the DECIMAL column it is compared with, see collectTargets); BINARY
// becomes BLOB; CHAR, DATE, DATETIME and TIME become TEXT; SIGNED and UNSIGNED become INTEGER.
func (tr *translation) rewriteCasts() {
	for i := 0; i+1 < len(tr.toks); i++ {
		if tr.toks[i].kind != tokIdent || !strings.EqualFold(tr.toks[i].text, "CAST") || tr.textAt(i+1) != "(" || tr.isQualified(i) {
			continue
		}
		as, end, depth := -1, -1, 0
		for j := i + 1; j < len(tr.toks) && end < 0; j++ {
			switch {
			case tr.toks[j].text == "(":
				depth++
			case tr.toks[j].text == ")":
				depth--
				if depth == 0 {
					end = j
				}
			case depth == 1 && tr.toks[j].kind == tokIdent && strings.EqualFold(tr.toks[j].text, "AS"):
				as = j
			}
		}
		if as < 0 || end < 0 || as+1 >= end {
			continue
		}
		typ := strings.ToUpper(tr.toks[as+1].text)
		var sqliteType string
		switch typ {
		case "DECIMAL", "NUMERIC", "DEC", "FIXED":
			var inner []int
			for j := i + 2; j < as; j++ {
				if tr.emit[j] != "" {
					inner = append(inner, j)
				}
			}
			if len(inner) == 1 && tr.emit[inner[0]] == "?" {
				for j := i; j <= end; j++ {
					if j != inner[0] {
						tr.emit[j] = ""
					}
				}
			}
			continue
		case "BINARY":
			sqliteType = "BLOB"
		case "CHAR", "NCHAR", "DATE", "DATETIME", "TIME":
			sqliteType = "TEXT"
		case "SIGNED", "UNSIGNED":
			sqliteType = "INTEGER"
		default:
			continue
		}
		tr.emit[as+1] = sqliteType
		for j := as + 2; j < end; j++ {
			tr.emit[j] = "" // (n), CHARACTER SET x, INTEGER
		}
	}
}

func isCharsetName(s string) bool {
	switch s {
	case "UTF8", "UTF8MB3", "UTF8MB4", "LATIN1", "ASCII", "GBK", "GB18030", "GB2312", "BIG5":
		return true
	}
	return false
}

// parseText is the statement for the Vitess parser.
func (tr *translation) parseText() string { return join(tr.toks, tr.parse, nil) }

// sqlite is the statement for SQLite. dropQualifier, if not empty, is a database name whose
// qualifications ("db".t, db.t.col) are removed: every database is its own SQLite file, and
// the statement runs on the file of that database.
func (tr *translation) sqlite(dropQualifier string) string {
	if dropQualifier == "" {
		return join(tr.toks, tr.emit, nil)
	}
	drop := make([]bool, len(tr.toks))
	for i, t := range tr.toks {
		if (t.kind == tokIdent || t.kind == tokQuoted) && strings.EqualFold(t.value, dropQualifier) &&
			tr.textAt(i-1) != "." && tr.textAt(i+1) == "." &&
			(tr.kindAt(i+2) == tokIdent || tr.kindAt(i+2) == tokQuoted) {
			drop[i], drop[i+1] = true, true
		}
	}
	return join(tr.toks, tr.emit, drop)
}

func join(toks []token, texts []string, drop []bool) string {
	var b strings.Builder
	for i, t := range toks {
		if s := b.String(); s != "" && s[len(s)-1] == '-' && strings.HasPrefix(texts[i], "-") {
			b.WriteByte(' ') // "- -" must not become a "--" comment
		}
		if (drop != nil && drop[i]) || texts[i] == "" {
			if t.spaceAfter && b.Len() > 0 {
				b.WriteByte(' ')
			}
			continue
		}
		if texts[i] != t.text {
			// A replaced token is set apart, so "x='a'and" cannot become "x=?and".
			b.WriteByte(' ')
			b.WriteString(texts[i])
			b.WriteByte(' ')
			continue
		}
		b.WriteString(texts[i])
		if t.spaceAfter {
			b.WriteByte(' ')
		}
	}
	return b.String()
}
