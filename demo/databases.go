package demo

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"strings"

	"github.com/go-sql-driver/mysql"

	"github.com/tongban/tongban/demo/datagen"
)

// mysqlDatabases creates one database per department on a MySQL server.
func mysqlDatabases(ctx context.Context, dsn string, depts []*department) (func(), error) {
	base, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("demo: -mysql-dsn: %w", err)
	}
	base.DBName = ""
	root, err := sql.Open("mysql", base.FormatDSN())
	if err != nil {
		return nil, fmt.Errorf("demo: -mysql-dsn: %w", err)
	}
	defer root.Close()
	for _, d := range depts {
		name := "tongban_demo_" + d.db
		if _, err := root.ExecContext(ctx, "DROP DATABASE IF EXISTS `"+name+"`"); err != nil {
			return nil, fmt.Errorf("demo: reset database %s: %w", name, err)
		}
		if _, err := root.ExecContext(ctx, "CREATE DATABASE `"+name+"` CHARACTER SET utf8mb4"); err != nil {
			return nil, fmt.Errorf("demo: create database %s: %w", name, err)
		}
		c := *base
		c.DBName = name
		c.ParseTime = true
		d.dsn = c.FormatDSN()
	}
	return func() {}, nil
}

// loadTable creates the department's table and fills it, showing progress.
func loadTable(ctx context.Context, out io.Writer, d *department, gen datagen.Config) error {
	db, err := sql.Open("mysql", d.dsn)
	if err != nil {
		return fmt.Errorf("demo: open %s: %w", d.db, err)
	}
	defer db.Close()
	last := -1
	err = datagen.InsertMySQL(ctx, db, gen, d.table, func(done, total int) {
		pct := 0
		if total > 0 {
			pct = done * 100 / total
		}
		if pct/25 != last/25 || done == total {
			last = pct
			fmt.Fprintf(out, "  生成 generating %-14s %7d/%d\n", d.table, done, total)
		}
	})
	if err != nil {
		return fmt.Errorf("demo: load %s: %w", d.table, err)
	}
	return nil
}

func quoteYAML(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}
