package main

import (
	"context"
	"errors"
	"io"
)

// runDemo runs `tongban demo`. This is a placeholder: the demo replaces this
// file.
func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return errors.New("demo: not available in this build")
}
