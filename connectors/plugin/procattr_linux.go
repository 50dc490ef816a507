package plugin

import (
	"os/exec"
	"syscall"
)

// setParentDeathSignal asks Linux to kill the plugin process if the host
// dies without stopping it (kill -9 of the agent), so no orphaned connector
// keeps a database connection open. A command that sets its own
// SysProcAttr.Pdeathsig keeps it.
func setParentDeathSignal(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	if cmd.SysProcAttr.Pdeathsig == 0 {
		cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	}
}
