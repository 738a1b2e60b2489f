package process

import (
	"sync/atomic"
	"time"
)

// Spinning before a wait. A thread asleep in a read is woken by the kernel
// when the data comes; on a virtual machine whose cores are idle, the
// wake-up takes tens of µs (a no-op round trip through one worker took
// 29–49 µs on 2 idle cores, ~16 µs when other jobs kept the same cores
// busy). So where the next message is likely within µs — a worker's next
// call after it sent a result, a short call's result — the reader first
// polls the pipe, without blocking, for up to spinMax (a worker, for its
// next call: workerSpinMax), and sleeps in the read only if nothing came
// (spinWait). The spin yields the core at each
// poll, and stops at the first yield that gave it away to another thread:
// on busy cores a spinner only takes CPU from the process it waits for,
// which then answers later (spinning on both ends doubled the round trip
// at load average 5–8). A reader whose spins end in vain, or are cut
// short so, skips its next waits' spins, twice as many each time, up to
// spinSkipMax (see spinner).

// spinMax is how long the parent polls a results pipe before it waits in
// a read: about a no-op call's round trip on an idle core, far less than
// a call worth sending to a worker. spinYield is how long a yield may take
// before the spin takes it for a sign that other threads want the cores.
// Variables for the tests.
var (
	spinMax   = 50 * time.Microsecond
	spinYield = 10 * time.Microsecond
)

// workerSpinMax is how long a worker polls for its next call before it
// waits in a read: longer than the parent's spin, by more than a thread's
// wake-up on a halted idle core (tens of µs on this project's virtual
// machines, where an idle core halts at once), so that a worker whose
// parent slept through the last result still finds the next call by
// polling, and the parent's next spin finds the worker awake. With equal
// budgets a parent that slept made the worker's spin time out (with the
// two pinned to separate busy cores, 2320 times in 100k calls, against
// 126 with this budget), and each side's back-off could then keep both
// asleep, at two wake-ups per round trip. The cost is at most
// workerSpinMax of CPU on the worker's core when no call comes soon — at
// the end of a batch — and a worker whose spins time out skips the next
// ones as the parent does (see spinner); on busy cores the first yield
// that gives the core away still ends the spin.
const workerSpinMax = 200 * time.Microsecond

// spinSkipMax bounds how many waits a reader skips spinning before it
// tries again.
const spinSkipMax = 256

// spinner decides whether a reader spins before its next wait. It is safe
// for concurrent use (several goroutines await the results of one worker,
// with Pipeline); its counts are hints, and a race between them costs at
// most a spin.
type spinner struct {
	budget  time.Duration // how long a spin lasts at most: spinMax if 0
	skip    atomic.Int32  // waits left to skip spinning before
	backoff atomic.Int32  // how many to skip after the next spin in vain
}

// before is called before a wait for data on fd, of which the reader
// holds none buffered: it spins, unless it skips this one.
func (s *spinner) before(fd int) {
	if s.skip.Load() > 0 {
		s.skip.Add(-1)
		return
	}
	budget := s.budget
	if budget == 0 {
		budget = spinMax
	}
	if spinWait(fd, budget) {
		s.backoff.Store(0)
		return
	}
	b := min(max(2*s.backoff.Load(), 1), spinSkipMax)
	s.backoff.Store(b)
	s.skip.Store(b)
}
