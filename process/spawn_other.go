//go:build !linux

package process

import "syscall"

// sysProcAttr: without a parent-death signal, a worker exits when it
// reads the end of its pipe from the parent, which the kernel closes when
// the parent ends.
func sysProcAttr() *syscall.SysProcAttr { return nil }
