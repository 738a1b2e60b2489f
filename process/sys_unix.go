//go:build unix

package process

import (
	"fmt"
	"os"
	"syscall"
	"unsafe"
)

// supported reports whether worker processes run on this system.
func supported() error { return nil }

// unread returns how many bytes written into the pipe f (either end) are
// still unread, or -1 if that cannot be told.
func unread(f *os.File) int {
	rc, err := f.SyscallConn()
	if err != nil {
		return -1
	}
	n := int32(-1)
	rc.Control(func(fd uintptr) {
		if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, fd, ioctlFIONREAD, uintptr(unsafe.Pointer(&n))); errno != 0 {
			n = -1
		}
	})
	return int(n)
}

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
