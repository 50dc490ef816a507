package mysql

import (
	"fmt"
	"strings"
)

// maxIdentLen is MySQL's limit on the length of a table or column name.
const maxIdentLen = 64

// validIdentPart reports whether s is a plain identifier: ASCII letters,
// digits, _ and $, at most 64 characters. Such a name needs no escaping
// inside backticks, so quoting it cannot change the meaning of a statement.
func validIdentPart(s string) bool {
	if s == "" || len(s) > maxIdentLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '$':
		default:
			return false
		}
	}
	return true
}

// quoteColumn validates a column name from the config and quotes it.
func quoteColumn(name string) (string, error) {
	if !validIdentPart(name) {
		return "", fmt.Errorf("column name %q: want letters, digits, _ or $ (at most %d)", name, maxIdentLen)
	}
	return "`" + name + "`", nil
}

// tableName is a validated table reference.
type tableName struct {
	Schema string // empty: the DSN's database
	Name   string
}

// parseTable validates a table name from the config, "table" or "schema.table".
func parseTable(s string) (tableName, error) {
	parts := strings.Split(s, ".")
	valid := len(parts) <= 2
	for _, p := range parts {
		valid = valid && validIdentPart(p)
	}
	if !valid {
		return tableName{}, fmt.Errorf("table name %q: want table or schema.table, each of letters, digits, _ or $ (at most %d)", s, maxIdentLen)
	}
	if len(parts) == 2 {
		return tableName{Schema: parts[0], Name: parts[1]}, nil
	}
	return tableName{Name: parts[0]}, nil
}

// Quoted is the table reference for SQL text.
func (t tableName) Quoted() string {
	if t.Schema == "" {
		return "`" + t.Name + "`"
	}
	return "`" + t.Schema + "`.`" + t.Name + "`"
}

func (t tableName) String() string {
	if t.Schema == "" {
		return t.Name
	}
	return t.Schema + "." + t.Name
}
