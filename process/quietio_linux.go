package process

import (
	"io"
	"os"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// Quiet I/O: the parent writes calls, and a worker results, and the
// parent reads the results it awaits through the poller (see resultPipe),
// with raw system calls on non-blocking descriptors, which never block
// and do not enter the Go scheduler's system-call state. A plain read or
// write does: entering it wakes the runtime's monitor thread (sysmon) when
// it sleeps, which it does whenever every P is idle — in a parent waiting
// for its workers, before each result it reads. On this project's 2 cores
// that wake-up and the monitor's rounds after it were 29% of the parent's
// CPU per call of ~1 ms on 2 workers (perf, BenchmarkCPU/process-2), and
// took cores from the workers (see BenchmarkCPU and the README for the
// figures before and after).
//
// The monitor is woken as before by the blocking reads, the parent's
// after short calls (see resultPipe) and the worker's of its calls, which
// need it to hand their P to other goroutines. And a quiet read or write
// makes a plain system call instead when the last plain one was made
// 50 ms ago or more (plainDue): after a long wait for a result, the read
// that takes it wakes the monitor, which preempts goroutines that run too
// long and polls the network when every P is busy, so that a parent whose
// only system calls are these does not run for long without it.

// plainEvery is how often, at least, a quiet read or write is made as a
// plain system call (see plainDue). Each one wakes the monitor from its
// sleep into 20 µs rounds for a while (about 17 wake-ups in a worker):
// every 10 ms, that was 1.9 of a worker's context switches per call of
// ~1 ms; every 50 ms, the parent's switches per call were 20% fewer
// (1.17 against 1.46, medians of 6 alternated rounds of
// BenchmarkCPU/process-2, load average 7.5–7.9).
const plainEvery = 50 * time.Millisecond

var (
	epoch     = time.Now()
	lastPlain atomic.Int64 // when the last plain one was made, since epoch
)

// plainDue reports whether the next quiet read or write should be a plain
// system call, and if so counts it as made.
func plainDue() bool { return plainDueAt(&lastPlain, int64(time.Since(epoch))) }

// plainDueAt is plainDue at now, since epoch, with the last plain one's
// time in *last: of the reads and writes that ask at once, one is plain.
func plainDueAt(last *atomic.Int64, now int64) bool {
	l := last.Load()
	return now-l >= int64(plainEvery) && last.CompareAndSwap(l, now)
}

// sysRW is a raw read or write system call, or a plain one when plainDue.
func sysRW(trap, fd uintptr, b []byte) (int, syscall.Errno) {
	var n uintptr
	var e syscall.Errno
	if plainDue() {
		n, _, e = syscall.Syscall(trap, fd, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
	} else {
		n, _, e = syscall.RawSyscall(trap, fd, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
	}
	return int(n), e
}

// quietFile reads or writes a pipe end quietly, one read or write at a
// time: a write end made non-blocking and kept out of the poller
// (newQuietWriter), or a read end in the poller (newQuietReader). The
// operation in progress is in its fields, so that the function RawConn
// calls is bound once, and a read or write allocates nothing.
type quietFile struct {
	f  *os.File
	rc syscall.RawConn

	b     []byte
	n     int
	errno syscall.Errno
	write func(fd uintptr) bool // doWrite
	read  func(fd uintptr) bool // doRead
}

func newQuietFile(f *os.File) (*quietFile, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, err
	}
	q := &quietFile{f: f, rc: rc}
	q.write, q.read = q.doWrite, q.doRead
	return q, nil
}

// newQuietWriter returns f written quietly, or f itself if its descriptor
// cannot be made non-blocking. f must not be in the poller (see
// blockingPipe), and is written only through the writer afterwards. A
// write that finds the pipe full waits for room in a plain, blocking
// ppoll, so that a large frame never holds the thread's P while it waits.
func newQuietWriter(f *os.File) io.WriteCloser {
	q, err := newQuietFile(f)
	if err != nil {
		return f
	}
	var nerr error
	if err := q.rc.Control(func(fd uintptr) { nerr = syscall.SetNonblock(int(fd), true) }); err != nil || nerr != nil {
		return f
	}
	return q
}

// newQuietReader returns f, a non-blocking file in the poller, read
// quietly: a read waits in the poller while there is nothing to read, and
// returns io.EOF at the end of the pipe.
func newQuietReader(f *os.File) (io.Reader, error) { return newQuietFile(f) }

// Write writes b whole, or fails. RawConn.Write holds the descriptor open
// until doWrite returns: a concurrent Close cannot let its number be
// reused under the write.
func (q *quietFile) Write(b []byte) (int, error) {
	q.b, q.n, q.errno = b, 0, 0
	cerr := q.rc.Write(q.write)
	n, errno := q.n, q.errno
	q.b = nil
	switch {
	case cerr != nil:
		return n, cerr
	case errno != 0:
		return n, &os.PathError{Op: "write", Path: q.f.Name(), Err: errno}
	}
	return n, nil
}

func (q *quietFile) doWrite(fd uintptr) bool {
	for q.n < len(q.b) {
		m, e := sysRW(syscall.SYS_WRITE, fd, q.b[q.n:])
		switch e {
		case 0:
			q.n += m
		case syscall.EINTR:
		case syscall.EAGAIN:
			if e := waitWritable(fd); e != 0 && e != syscall.EINTR {
				q.errno = e
				return true
			}
		default:
			q.errno = e
			return true
		}
	}
	return true
}

// Read reads into b, waiting in the poller while there is nothing to
// read.
func (q *quietFile) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	q.b, q.n, q.errno = b, 0, 0
	cerr := q.rc.Read(q.read)
	n, errno := q.n, q.errno
	q.b = nil
	switch {
	case cerr != nil:
		return 0, cerr
	case errno != 0:
		return 0, &os.PathError{Op: "read", Path: q.f.Name(), Err: errno}
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}

func (q *quietFile) doRead(fd uintptr) bool {
	for {
		m, e := sysRW(syscall.SYS_READ, fd, q.b)
		switch e {
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return false // wait in the poller
		}
		q.n, q.errno = m, e
		return true
	}
}

func (q *quietFile) Close() error { return q.f.Close() }

// waitWritable waits in a blocking system call, which lets the runtime
// hand the thread's P to other goroutines, until the pipe fd has room or
// its reader has gone.
func waitWritable(fd uintptr) syscall.Errno {
	pfd := struct {
		fd             int32
		events, revent int16
	}{fd: int32(fd), events: 0x4} // POLLOUT
	_, _, e := syscall.Syscall6(syscall.SYS_PPOLL, uintptr(unsafe.Pointer(&pfd)), 1, 0, 0, 0, 0)
	return e
}
