//go:build unix

package process

import (
	"errors"
	"io"
	"os"
	"syscall"
	"testing"
)

// nonblocking reports whether f's O_NONBLOCK flag is set.
func nonblocking(t *testing.T, f *os.File) bool {
	t.Helper()
	rc, err := f.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var flags uintptr
	var errno syscall.Errno
	rc.Control(func(fd uintptr) {
		flags, _, errno = syscall.Syscall(syscall.SYS_FCNTL, fd, syscall.F_GETFL, 0)
	})
	if errno != 0 {
		t.Fatal(errno)
	}
	return flags&syscall.O_NONBLOCK != 0
}

func TestResultPipeReadsBlockingOrThroughThePollerAndSeesTheEnd(t *testing.T) {
	for _, poll := range []bool{false, true} {
		r, w, err := blockingPipe()
		if err != nil {
			t.Fatal(err)
		}
		p := newResultPipe(r)
		defer p.Close()
		// Both ways, twice, to switch back and forth.
		for _, mode := range []bool{poll, !poll, poll} {
			p.setPoll(mode)
			if got := p.polled != nil; got != mode {
				t.Fatalf("setPoll(%v): a duplicate in the poller: %v", mode, got)
			}
			if got := nonblocking(t, r); got != mode {
				t.Fatalf("setPoll(%v): O_NONBLOCK is %v", mode, got)
			}
			if _, err := w.Write([]byte("frame")); err != nil {
				t.Fatal(err)
			}
			b := make([]byte, 16)
			n, err := p.Read(b)
			if err != nil || string(b[:n]) != "frame" {
				t.Fatalf("poll %v: read %q, %v", mode, b[:n], err)
			}
		}
		w.Close()
		if n, err := p.Read(make([]byte, 16)); n != 0 || !errors.Is(err, io.EOF) {
			t.Fatalf("poll %v: after the writer closed: %d, %v, want io.EOF", poll, n, err)
		}
	}
}
