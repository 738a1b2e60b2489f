package process

import (
	"os"
	"syscall"
)

// sysProcAttr makes the kernel kill a worker when the thread that started
// it ends (see spawner), which it does when the parent process ends in
// any way, SIGKILL included.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// blockingPipe returns a pipe in blocking mode, close-on-exec.
func blockingPipe() (r, w *os.File, err error) {
	var p [2]int
	if err := syscall.Pipe2(p[:], syscall.O_CLOEXEC); err != nil {
		return nil, nil, os.NewSyscallError("pipe2", err)
	}
	return os.NewFile(uintptr(p[0]), "|0"), os.NewFile(uintptr(p[1]), "|1"), nil
}
