package process

import (
	"io"
	"os"
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
//     held: for a long call. A thread blocked in a read for a long call
//     costs the parent more than the wake-up saves: the runtime's monitor
//     takes its P back, wakes a thread to look for work in its place, and
//     wakes again to check: 4.1–5.8 context switches and 85–122 µs of the
//     parent's CPU per call of ~1 ms on 2 workers, which on cores busy with
//     the workers' calls is taken from a worker; through the poller,
//     2.7–2.9 switches and 54–91 µs (6 rounds of BenchmarkCPU/process-2
//     each, alternated, on 2 cores at load average 3.7–4.2, before quiet
//     I/O), with the no-op round trip within the noise of the same rounds.
//     Reads through the poller are quiet (see quietFile).
//
// The blocking reads use the pipe's own descriptor, which is not in the
// poller: were it, each result would also wake the thread waiting in the
// poller, which made the no-op round trip about 1.6x slower. The poller
// gets a duplicate of it, made for as long as it is chosen.
type resultPipe struct {
	f      *os.File  // blocking, not in the poller
	fd     int       // f's descriptor, polled before a blocking read (see spinner); -1 if unknown
	polled *os.File  // a duplicate in the poller, while it is chosen
	quiet  io.Reader // polled, read quietly (see newQuietReader)
	err    error     // the duplicate could not be made: keep blocking reads
}

// newResultPipe takes the read end of a blocking pipe.
func newResultPipe(f *os.File) *resultPipe {
	p := &resultPipe{f: f, fd: -1}
	if rc, err := f.SyscallConn(); err == nil {
		rc.Control(func(fd uintptr) { p.fd = int(fd) })
	}
	return p
}

// setPoll chooses how the next reads wait. Only the goroutine reading the
// pipe calls it, between two reads; a pipe closed meanwhile fails the
// next read.
func (p *resultPipe) setPoll(on bool) {
	if on == (p.polled != nil) || p.err != nil {
		return
	}
	rc, err := p.f.SyscallConn()
	if err != nil {
		return // closed: the read says so
	}
	if !on {
		p.polled.Close()
		p.polled, p.quiet = nil, nil
		rc.Control(func(fd uintptr) { setNonblock(fd, false) })
		return
	}
	nfd := -1
	if cerr := rc.Control(func(fd uintptr) { nfd, err = dupNonblock(fd) }); cerr != nil || err != nil {
		p.err = err // keep reading as before: only slower
		return
	}
	polled := os.NewFile(uintptr(nfd), p.f.Name())
	if p.quiet, err = newQuietReader(polled); err != nil {
		polled.Close()
		rc.Control(func(fd uintptr) { setNonblock(fd, false) })
		p.err = err
		return
	}
	p.polled = polled
}

// Read reads the pipe the way setPoll chose.
func (p *resultPipe) Read(b []byte) (int, error) {
	if p.polled != nil {
		return p.quiet.Read(b)
	}
	return p.f.Read(b)
}

// Close closes the pipe and its duplicate.
func (p *resultPipe) Close() error {
	if p.polled != nil {
		p.polled.Close()
	}
	return p.f.Close()
}
