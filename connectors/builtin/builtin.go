// Package builtin names the connectors compiled into the agent binary. The
// agent runs each as a plugin process by re-executing itself,
// `agent connector <name>`, whose main calls plugin.Serve(builtin.New(name)).
package builtin

import (
	"fmt"
	"strings"

	"github.com/tongban/tongban/connectors"
	"github.com/tongban/tongban/connectors/mysql"
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
