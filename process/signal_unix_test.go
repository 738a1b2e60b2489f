//go:build unix

package process_test

import "syscall"

// kill sends SIGKILL to process pid.
func kill(pid int) error { return syscall.Kill(pid, syscall.SIGKILL) }

// pause stops process pid (SIGSTOP), so that it runs no more until it is
// killed.
func pause(pid int) error { return syscall.Kill(pid, syscall.SIGSTOP) }
