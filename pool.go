package deco

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
)

// A Pool runs calls on at most a fixed number of goroutines at once, its
// limit. Every decorated function has a pool of its own unless [Shared]
// gives it one to share with other functions, so that they share one limit.
//
// The zero Pool is ready to use with a limit of runtime.GOMAXPROCS(0), read
// when it first runs a call. A Pool must not be copied after first use.
//
// Workers are started on demand, up to the limit. A worker that finds no
// queued call stays parked while a batch or a scope using the pool can
// still get calls (calls started and not yet waited), and exits once none
// can: when every batch still open has been taken by its wait, or when the
// last one is over. So no goroutine of the pool outlives [Func.Wait],
// [Synchronized] or [WaitAll].
//
// Calls wait in one FIFO queue per pool and start oldest first, one per
// free slot, so calls started by one goroutine start in call order. The
// queue is linked through the calls themselves: it costs a pool no memory
// of its own beyond a few words, however many calls wait, and an idle
// pool holds none of them.
//
// Nested waits. Every deco wait made from inside a running call —
// [Future.Wait], [Func.Wait], [Synchronized], [Func.Completed],
// [Func.InOrder], [Func.Stream], [WaitAll] — lends the waiting call's slot
// instead of holding it idle (join by helping, as Java's ForkJoinTask.join
// does): if the awaited call is still queued in the waiter's pool, the
// waiter runs it at once, in its own goroutine; while it still waits, it
// runs the oldest queued call of its pool whenever no other slot is free
// for it. So nested waits never deadlock, for any acyclic nesting, any
// depth, any limit and any mix of pools, with or without the call's
// context, and the limit still bounds the calls that run at once: the
// waiter's own call is blocked while the call it runs takes its place.
// Only a pool's worker goroutines help; any other goroutine, such as one a
// task starts with go, waits without running calls. A helped call runs on
// the waiter's goroutine, so it must not wait for the call that lent it the
// slot; a call waiting for itself ([Future.Wait] on its own Future,
// [Func.Wait] on its own batch) panics with a message saying so. Cost: a
// wait that is about to block reads its goroutine's stack once
// (runtime.Callers; microseconds on a deep stack) to learn whether it is a
// worker, and [Synchronized] reads it once as it starts instead, so that a
// scope whose waiter is not a worker keeps no list of its calls; while no
// worker of any pool is alive, nothing is read. Any other wait that finds
// its calls done, and every call that does not wait, pay nothing for it.
type Pool struct {
	mu      sync.Mutex
	limit   int
	procs   int // runtime.GOMAXPROCS(0) when the first worker started
	workers int // goroutines started and not exited
	awake   int // workers not parked nor blocked helping: they will look at the queue again
	idle    int // workers parked in wake.Wait, not yet signalled
	open    int // batches and scopes with calls not yet waited
	sealed  int // of those, function batches a wait has taken, which no call can join
	wake    sync.Cond
	space   chan struct{}   // closed when a queued call is taken, if a caller waits for room
	quiet   chan struct{}   // closed when the last worker exits, if someone waits for it
	lanes   []int           // free lane numbers, for timelines
	helpers []chan struct{} // waiters lending their slot, closed to wake one
	// Read by a worker at every take, written rarely: a line of its own.
	_          [64]byte
	roomWanted atomic.Bool // space is not nil: a worker that takes a call closes it
	_          [60]byte
	// Written by workers as they start and end streaks and spins.
	spin    atomic.Int32 // workers looking for work before they park
	busy    atomic.Int64 // workers in a streak of calls
	maxBusy atomic.Int64 // highest busy seen
	queue   queue        // pushed under mu, taken without it
}

// NewPool returns a pool that runs at most limit calls at once. It panics if
// limit is less than 1, naming the value.
func NewPool(limit int) *Pool {
	if limit < 1 {
		panic(fmt.Sprintf("deco: NewPool(%d): the limit must be at least 1", limit))
	}
	return &Pool{limit: limit}
}

// Limit reports the pool's limit.
func (p *Pool) Limit() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.init()
	return p.limit
}

// init sets the defaults of a zero Pool. p.mu must be held.
func (p *Pool) init() {
	if p.limit == 0 {
		p.limit = runtime.GOMAXPROCS(0)
	}
	if p.wake.L == nil {
		p.wake.L = &p.mu
	}
}

// openBatch marks a batch or scope that will submit calls to p. Workers
// stay parked instead of exiting while one is open.
func (p *Pool) openBatch() {
	p.mu.Lock()
	p.openBatchLocked()
	p.mu.Unlock()
}

// openBatchLocked is openBatch with p.mu held.
func (p *Pool) openBatchLocked() {
	p.init()
	p.open++
	if p.quiet != nil {
		// Someone waits for the workers to leave, but new work has come:
		// they will not leave, so stop that wait.
		close(p.quiet)
		p.quiet = nil
	}
}

// sealBatch marks an open batch as taken by its wait: no call can join it
// any more. While every open batch is sealed, a worker that finds the
// queue empty exits at once instead of parking until the batches close —
// a new batch starts workers again — so that the wait's close has no
// parked worker to wake and wait for (200 per batch with Limit(200)).
func (p *Pool) sealBatch() {
	p.mu.Lock()
	p.sealed++
	p.mu.Unlock()
}

// closeBatch undoes openBatch once the batch's calls are all done; sealed
// tells whether sealBatch was called for it. When no batch is left open,
// parked workers exit and closeBatch waits until they have, so that the
// caller returns with no goroutine of p left.
func (p *Pool) closeBatch(sealed bool) {
	p.mu.Lock()
	p.open--
	if sealed {
		p.sealed--
	}
	if p.open > 0 || p.workers == 0 {
		p.mu.Unlock()
		return
	}
	p.awake += p.idle
	p.idle = 0
	p.wake.Broadcast()
	if p.quiet == nil {
		p.quiet = make(chan struct{})
	}
	quiet := p.quiet
	p.mu.Unlock()
	<-quiet
}

// parallelism reports the calls running now and the most seen at once.
// A worker counts from the first call of a streak to its last, so a
// worker between two calls of a streak counts as running.
func (p *Pool) parallelism() (running, highest int) {
	return int(p.busy.Load()), int(p.maxBusy.Load())
}
