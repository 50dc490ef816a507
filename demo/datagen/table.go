package datagen

import (
	"fmt"
	"strings"
)

// Table names.
const (
	TablePopulation   = "population"
	TableLegalPerson  = "legal_person"
	TableCivilAffairs = "civil_affairs"
)

// Column is one column of a generated table.
type Column struct {
	Name     string
	SQLType  string // MySQL type, e.g. "VARCHAR(18)"
	Nullable bool
}

// Table describes one generated table. Row values, in column order, are Go
// values: string for CHAR/VARCHAR and DECIMAL (e.g. "1234.50"), int64 for
// BIGINT, time.Time (UTC) for DATE (midnight) and DATETIME(6) (microseconds),
// and nil for NULL.
type Table struct {
	Name       string
	Title      string // Chinese description
	DDL        string // MySQL CREATE TABLE with DEFAULT CHARSET=utf8mb4
	Columns    []Column
	PrimaryKey []string
	Watermark  string // column holding the last-change time, for incremental sync
}

// ColumnNames returns the column names in order.
func (t Table) ColumnNames() []string {
	names := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		names[i] = c.Name
	}
	return names
}

// Tables returns the three generated tables (a fresh slice each call).
func Tables() []Table {
	return []Table{
		newTable(TablePopulation, "公安人口基本信息", []Column{
			{Name: "citizen_id", SQLType: "VARCHAR(18)"},
			{Name: "name", SQLType: "VARCHAR(32)"},
			{Name: "sex", SQLType: "CHAR(1)"},
			{Name: "birth_date", SQLType: "DATE"},
			{Name: "ethnicity", SQLType: "VARCHAR(16)"},
			{Name: "address", SQLType: "VARCHAR(128)", Nullable: true},
			{Name: "phone", SQLType: "VARCHAR(11)"},
			{Name: "household_type", SQLType: "VARCHAR(8)"},
			{Name: "updated_at", SQLType: "DATETIME(6)"},
		}, "citizen_id"),
		newTable(TableLegalPerson, "市场监管法人登记信息", []Column{
			{Name: "uscc", SQLType: "VARCHAR(18)"},
			{Name: "name", SQLType: "VARCHAR(128)"},
			{Name: "legal_rep", SQLType: "VARCHAR(32)"},
			{Name: "registered_capital", SQLType: "DECIMAL(18,2)"},
			{Name: "established", SQLType: "DATE"},
			{Name: "address", SQLType: "VARCHAR(128)", Nullable: true},
			{Name: "status", SQLType: "VARCHAR(16)"},
			{Name: "updated_at", SQLType: "DATETIME(6)"},
		}, "uscc"),
		newTable(TableCivilAffairs, "民政婚姻登记信息", []Column{
			{Name: "record_id", SQLType: "BIGINT"},
			{Name: "citizen_id", SQLType: "VARCHAR(18)"},
			{Name: "name", SQLType: "VARCHAR(32)"},
			{Name: "marital_status", SQLType: "VARCHAR(8)"},
			{Name: "registered_on", SQLType: "DATE"},
			{Name: "office", SQLType: "VARCHAR(64)"},
			{Name: "updated_at", SQLType: "DATETIME(6)"},
		}, "record_id"),
	}
}

// LookupTable returns the table with the given name.
func LookupTable(name string) (Table, error) {
	var names []string
	for _, t := range Tables() {
		if t.Name == name {
			return t, nil
		}
		names = append(names, t.Name)
	}
	return Table{}, fmt.Errorf("datagen: unknown table %q (known: %s)", name, strings.Join(names, ", "))
}

// RowCount returns how many rows cfg generates for the table.
func RowCount(cfg Config, table string) (int, error) {
	switch table {
	case TablePopulation:
		return cfg.Population, nil
	case TableLegalPerson:
		return cfg.LegalPersons, nil
	case TableCivilAffairs:
		return cfg.CivilAffairs, nil
	}
	_, err := LookupTable(table)
	return 0, err
}

func newTable(name, title string, cols []Column, pk string) Table {
	t := Table{Name: name, Title: title, Columns: cols, PrimaryKey: []string{pk}, Watermark: "updated_at"}
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE TABLE `%s` (\n", name)
	for _, c := range cols {
		null := "NOT NULL"
		if c.Nullable {
			null = "NULL"
		}
		fmt.Fprintf(&b, "  `%s` %s %s,\n", c.Name, c.SQLType, null)
	}
	fmt.Fprintf(&b, "  PRIMARY KEY (`%s`),\n", pk)
	fmt.Fprintf(&b, "  KEY `idx_%s_updated_at` (`updated_at`, `%s`)\n", name, pk)
	fmt.Fprintf(&b, ") DEFAULT CHARSET=utf8mb4 COMMENT='%s'", title)
	t.DDL = b.String()
	return t
}
