// Package builtin names the connectors compiled into the agent binary. The
// agent runs each as a plugin process by re-executing itself,
// `agent connector <name>`, whose main calls Serve(name).
package builtin

import (
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/tongban/tongban/connectors"
	"github.com/tongban/tongban/connectors/mysql"
	"github.com/tongban/tongban/connectors/plugin"
)

// Names lists the built-in connectors.
func Names() []string { return []string{"mysql"} }

// New returns the built-in connector of that name.
func New(name string) (connectors.Connector, error) {
	switch name {
	case "mysql":
		return mysql.New(), nil
	}
	return nil, fmt.Errorf("unknown built-in connector %q (known: %s)", name, strings.Join(Names(), ", "))
}

// Serve is the main of a built-in connector's plugin process: it logs to
// stderr in the form the agent forwards (the process's default logger) and
// serves the named connector until the agent ends it. Only an unknown name
// returns.
func Serve(name string, stderr io.Writer) error {
	c, err := New(name)
	if err != nil {
		return err
	}
	slog.SetDefault(slog.New(plugin.LogHandler(stderr, slog.LevelInfo)))
	plugin.Serve(c)
	return nil
}
