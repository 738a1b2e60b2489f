package process

import (
	"io"
	"os"
	"syscall"
	"time"
)

// longCall is how long a worker's last call must have run, on the
// worker's clock, for the parent to wait for the next result of that
// worker through the runtime's poller rather than in a blocking read (see
// resultPipe). A variable for the tests.
var longCall = 100 * time.Microsecond

// resultPipe is the parent's end of a results pipe, read in one of two
// ways, chosen before each call's result is awaited:
//
//   - a plain blocking read, the thread asleep in the kernel until the
//     result comes: the fastest wake-up, for a short call (a no-op round
//     trip through the poller measured slower on this project's 2 cores);
//   - through the runtime's poller, the goroutine parked and no thread
//     held: for a long call. A thread blocked in a read for longer than
//     about 20 µs costs the parent more than the wake-up saves: the
//     runtime's monitor takes its P back, wakes a thread to look for work
//     in its place, and wakes again to check: 3.6–6.1 context switches
//     and 65–152 µs of the parent's CPU per call of ~1 ms on 2 workers,
//     which on cores busy with the workers' calls is taken from a worker;
//     through the poller, 2.7–3.1 switches and 59–101 µs (8 rounds of
//     BenchmarkCPU/process-2 on 2 cores, load average 5–10).
//
// The pipe is one file in the poller; the blocking reads clear its
// O_NONBLOCK flag for as long as they are chosen.
type resultPipe struct {
	f    *os.File
	rc   syscall.RawConn
	poll bool // O_NONBLOCK is set: read f through the poller

	// A blocking read's buffer and outcome, and the function that reads
	// into them, made once: a read allocates nothing.
	b     []byte
	n     int
	err   error
	read1 func(fd uintptr) bool
}

// newResultPipe takes the read end of a pipe made by os.Pipe, and reads
// it with blocking reads until setPoll says otherwise.
func newResultPipe(f *os.File) (*resultPipe, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, err
	}
	p := &resultPipe{f: f, rc: rc, poll: true}
	p.read1 = p.readFD
	if err := p.setPoll(false); err != nil {
		return nil, err
	}
	return p, nil
}

// setPoll chooses how the next reads wait. Only the goroutine reading the
// pipe calls it, between two reads.
func (p *resultPipe) setPoll(on bool) error {
	if p.poll == on {
		return nil
	}
	var err error
	if cerr := p.rc.Control(func(fd uintptr) { err = setNonblock(fd, on) }); cerr != nil {
		return cerr
	}
	if err != nil {
		return os.NewSyscallError("fcntl", err)
	}
	p.poll = on
	return nil
}

// Read reads the pipe the way setPoll chose. Only one goroutine at a time
// reads it.
func (p *resultPipe) Read(b []byte) (int, error) {
	if p.poll {
		return p.f.Read(b)
	}
	p.b = b
	rerr := p.rc.Read(p.read1)
	n, err := p.n, p.err
	p.b, p.err = nil, nil
	if rerr != nil {
		return 0, rerr
	}
	if err != nil {
		return 0, os.NewSyscallError("read", err)
	}
	if n == 0 && len(b) > 0 {
		return 0, io.EOF
	}
	return n, nil
}

// readFD is a blocking read into p.b, for rc.Read.
func (p *resultPipe) readFD(fd uintptr) bool {
	p.n, p.err = readFD(fd, p.b)
	return true
}
