//go:build !linux

package plugin

import "os/exec"

// setParentDeathSignal is a no-op where the OS has no parent-death signal.
func setParentDeathSignal(*exec.Cmd) {}
