//go:build unix && !linux

package process

import (
	"os"
	"syscall"
)

// sysProcAttr: without a parent-death signal, a worker exits when it
// reads the end of its pipe from the parent, which the kernel closes when
// the parent ends.
func sysProcAttr() *syscall.SysProcAttr { return nil }

// blockingPipe returns a pipe in blocking mode, close-on-exec.
func blockingPipe() (r, w *os.File, err error) {
	var p [2]int
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	if err := syscall.Pipe(p[:]); err != nil {
		return nil, nil, os.NewSyscallError("pipe", err)
	}
	syscall.CloseOnExec(p[0])
	syscall.CloseOnExec(p[1])
	return os.NewFile(uintptr(p[0]), "|0"), os.NewFile(uintptr(p[1]), "|1"), nil
}
