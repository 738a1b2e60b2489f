package process

import "syscall"

// sysProcAttr makes the kernel kill a worker when the thread that started
// it ends (see spawner), which it does when the parent process ends in
// any way, SIGKILL included.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
