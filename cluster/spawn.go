package cluster

import "syscall"

// sysProcAttr: the lifeline pipe is how a local worker learns that its
// parent died; a parent-death signal is not used, since the kernel sends
// it when the forking thread ends, not the process.
func sysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: false} }
