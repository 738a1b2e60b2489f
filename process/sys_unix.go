//go:build unix

package process

import (
	"fmt"
	"os"
	"syscall"
)

// supported reports whether worker processes run on this system.
func supported() error { return nil }

// newStartedWord returns a file of one word, mapped into this process's
// memory, that a worker maps too (fd 6): the worker stores in it the ID of
// each call it starts, so that when it dies the parent knows whether the
// call it had handed it had started (see child.call). Cost: one store per
// call in the worker, no system call.
func newStartedWord() (*os.File, []byte, error) {
	f, err := os.CreateTemp("", "deco-worker-*")
	if err != nil {
		return nil, nil, err
	}
	os.Remove(f.Name())
	if err := f.Truncate(8); err != nil {
		f.Close()
		return nil, nil, err
	}
	mem, err := syscall.Mmap(int(f.Fd()), 0, 8, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	if err != nil {
		f.Close()
		return nil, nil, os.NewSyscallError("mmap", err)
	}
	return f, mem, nil
}

// mapStartedWord maps the worker's end of the started word.
func mapStartedWord(fd int) ([]byte, error) {
	syscall.CloseOnExec(fd)
	mem, err := syscall.Mmap(fd, 0, 8, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	if err != nil {
		return nil, os.NewSyscallError("mmap", err)
	}
	syscall.Close(fd)
	return mem, nil
}

func unmap(mem []byte) { syscall.Munmap(mem) }

// openPipe opens an inherited pipe: in blocking mode for the calls and
// results (see protocol.go), for the runtime's poller for the cancels. It
// is made close-on-exec, so that processes the tasks start never hold the
// protocol's pipes (a dead worker's pipes then close with it).
func openPipe(fd int, poll bool) (*os.File, error) {
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return nil, fmt.Errorf("file descriptor %d is not open (%v): this process was not started by a deco/process parent", fd, err)
	}
	syscall.CloseOnExec(fd)
	if err := syscall.SetNonblock(fd, poll); err != nil {
		return nil, fmt.Errorf("file descriptor %d: %v", fd, err)
	}
	return os.NewFile(uintptr(fd), fmt.Sprintf("deco-pipe-%d", fd)), nil
}

// setNonblock sets or clears O_NONBLOCK on fd (see resultPipe).
func setNonblock(fd uintptr, on bool) error { return syscall.SetNonblock(int(fd), on) }

// dupNonblock returns a close-on-exec duplicate of fd, with the open file
// both share set to non-blocking (see resultPipe).
func dupNonblock(fd uintptr) (int, error) {
	syscall.ForkLock.RLock()
	nfd, err := syscall.Dup(int(fd))
	if err == nil {
		syscall.CloseOnExec(nfd)
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return -1, os.NewSyscallError("dup", err)
	}
	if err := syscall.SetNonblock(nfd, true); err != nil {
		syscall.Close(nfd)
		return -1, os.NewSyscallError("fcntl", err)
	}
	return nfd, nil
}
