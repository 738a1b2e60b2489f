package process

import (
	"io"
	"os"
	"time"
)

// longCall is how long a call must have run, on the worker's clock, for
// the next read that waits for it to wait through the runtime's poller
// rather than in a blocking read (see readEnd): the parent's wait for the
// worker's next result, and the worker's wait for its next call. A
// variable for the tests.
var longCall = 100 * time.Microsecond

// readEnd is the read end of a pipe of the protocol that a goroutine waits
// on: the parent's end of a results pipe, and the worker's end of its
// calls pipe. It is read in one of two ways, chosen before each wait:
//
//   - a plain blocking read, the thread asleep in the kernel until the
//     frame comes: the fastest wake-up, after a short call (a no-op round
//     trip through the poller measured slower on this project's 2 cores);
//   - through the runtime's poller, the goroutine parked and no thread
//     held, after a long call. A thread blocked in a read for a long call
//     costs more than the wake-up saves: the runtime's monitor takes its
//     P back, wakes a thread to look for work in its place, and wakes
//     again to check: in the parent, 4.1–5.8 context switches and
//     85–122 µs of CPU per call of ~1 ms on 2 workers, which on cores busy
//     with the workers' calls is taken from a worker; through the poller,
//     2.7–2.9 switches and 54–91 µs (6 rounds of BenchmarkCPU/process-2
//     each, alternated, on 2 cores at load average 3.7–4.2, before quiet
//     I/O, see quietFile), with the no-op round trip within the noise of
//     the same rounds. In a worker,
//     the goroutine serving calls never parks otherwise, so that every
//     10 ms the monitor took its P while it waited in the read and then
//     polled every 20 µs for a millisecond. Reads through the poller are
//     quiet (see quietFile).
//
// The blocking reads use the pipe's own descriptor, which is not in the
// poller: were it, each frame would also wake the thread waiting in the
// poller, which made the no-op round trip about 1.6x slower. The poller
// gets a duplicate of it, made for as long as it is chosen.
type readEnd struct {
	f      *os.File  // blocking, not in the poller
	polled *os.File  // a duplicate in the poller, while it is chosen
	quiet  io.Reader // polled, read quietly (see newQuietReader)
	err    error     // the duplicate could not be made: keep blocking reads
}

// newReadEnd takes the read end of a blocking pipe.
func newReadEnd(f *os.File) *readEnd { return &readEnd{f: f} }

// setPoll chooses how the next reads wait. Only the goroutine reading the
// pipe calls it, between two reads; a pipe closed meanwhile fails the
// next read.
func (p *readEnd) setPoll(on bool) {
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
func (p *readEnd) Read(b []byte) (int, error) {
	if p.polled != nil {
		return p.quiet.Read(b)
	}
	return p.f.Read(b)
}

// Close closes the pipe and its duplicate.
func (p *readEnd) Close() error {
	if p.polled != nil {
		p.polled.Close()
	}
	return p.f.Close()
}
