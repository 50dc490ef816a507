package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
)

// parseFlags parses args allowing flags after positional arguments
// ("token revoke ID -config x" as well as "token revoke -config x ID") and
// returns the positional arguments. Errors wrap errUsage, or flag.ErrHelp
// for -h.
func parseFlags(fs *flag.FlagSet, args []string, stderr io.Writer) ([]string, error) {
	fs.SetOutput(stderr)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, fmt.Errorf("%w: %s: %v", errUsage, fs.Name(), err)
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}
