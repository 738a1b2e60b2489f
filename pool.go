package deco

import (
	"context"
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
// Workers are started on demand, up to the limit. They stay parked while a
// batch or a scope using the pool is open (calls started and not yet
// waited), and they exit when the last one is waited, so that no goroutine
// of the pool outlives [Func.Wait], [Synchronized] or [WaitAll].
//
// Calls wait in one FIFO queue per pool and start oldest first, one per
// free slot, so calls started by one goroutine start in call order.
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
// [Func.Wait] on its own batch) panics with a message saying so.
type Pool struct {
	mu      sync.Mutex
	limit   int
	queue   ring
	workers int          // goroutines started and not exited
	idle    int          // workers parked in wake.Wait, not yet signalled
	spin    int          // workers looking for work before they park
	queued  atomic.Int64 // queue.n, readable without the lock
	busy    int          // workers running a call
	maxBusy int          // highest busy seen
	open    int          // batches and scopes with calls not yet waited
	wake    sync.Cond
	space   chan struct{}   // closed when a queued call is taken, if a caller waits for room
	quiet   chan struct{}   // closed when the last worker exits, if someone waits for it
	lanes   []int           // free lane numbers, for timelines
	helpers []chan struct{} // waiters lending their slot, closed to wake one
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

// task is a queued call. run claims it first: a call waited on by a
// goroutine that holds a slot may already have been run inline by it. w is
// the worker running it, or an inline worker of the slot lent to it.
type task interface {
	run(w *worker)
	core() *callCore
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

// closeBatch undoes openBatch once the batch's calls are all done. When no
// batch is left open, parked workers exit and closeBatch waits until they
// have, so that the caller returns with no goroutine of p left.
func (p *Pool) closeBatch() {
	p.mu.Lock()
	p.open--
	if p.open > 0 || p.workers == 0 {
		p.mu.Unlock()
		return
	}
	p.idle = 0
	p.wake.Broadcast()
	if p.quiet == nil {
		p.quiet = make(chan struct{})
	}
	quiet := p.quiet
	p.mu.Unlock()
	<-quiet
}

// freeLocked is the number of calls p can start at once without queueing:
// parked, spinning and helping workers and the workers not yet started.
// p.mu must be held.
func (p *Pool) freeLocked() int {
	return p.idle + p.spin + len(p.helpers) + (p.limit - p.workers)
}

// roomLocked wakes the callers blocked on a full queue: a slot or a place
// in the queue may have freed. p.mu must be held.
func (p *Pool) roomLocked() {
	if p.space != nil {
		close(p.space)
		p.space = nil
	}
}

// submit queues t. maxQueue < 0 means no bound; otherwise submit blocks
// while the queue holds maxQueue calls or more beyond the free slots
// (maxQueue = 0: until a slot is free, like errgroup's SetLimit), until
// room is made or ctx is done. A caller that holds a slot of p (a worker,
// found on this slow path only) runs t itself instead of blocking, so that
// a full queue cannot deadlock nested work.
func (p *Pool) submit(ctx context.Context, t task, maxQueue int) error {
	p.mu.Lock()
	checked := false
	// Written as a difference so that Queue(math.MaxInt) cannot overflow.
	for maxQueue >= 0 && p.queue.n-p.freeLocked() >= maxQueue {
		if !checked {
			p.mu.Unlock()
			checked = true
			if w := currentWorker(); w != nil && w.pool == p {
				runInline(t, w)
				return nil
			}
			p.mu.Lock()
			continue
		}
		if p.space == nil {
			p.space = make(chan struct{})
		}
		space := p.space
		p.mu.Unlock()
		var done <-chan struct{}
		if ctx != nil {
			done = ctx.Done()
		}
		select {
		case <-space:
		case <-done:
			return context.Cause(ctx)
		}
		p.mu.Lock()
	}
	p.pushLocked(t)
	return nil
}

// pushLocked queues t and makes sure a worker will run it. p.mu must be
// held; pushLocked unlocks it.
func (p *Pool) pushLocked(t task) {
	p.queue.push(t)
	if p.spin > 0 {
		// Only spinning workers read queued without the lock: spare the
		// cache line when none does.
		p.queued.Store(int64(p.queue.n))
	}
	p.dispatchLocked()
	p.mu.Unlock()
}

// dispatchLocked makes sure someone will take the queued calls: a spinning
// worker, a parked one, a new one, or else a waiter that lends its slot.
// p.mu must be held.
func (p *Pool) dispatchLocked() {
	if p.queue.n == 0 {
		return
	}
	switch {
	case p.spin > 0 && p.queue.n <= p.spin:
		// A worker looking for work will find it.
	case p.idle > 0:
		p.idle--
		p.wake.Signal()
	case p.workers < p.limit:
		p.workers++
		lane := p.workers - 1
		if n := len(p.lanes); n > 0 {
			lane = p.lanes[n-1]
			p.lanes = p.lanes[:n-1]
		}
		p.startWorker(&worker{pool: p, lane: lane})
	case len(p.helpers) > 0:
		n := len(p.helpers) - 1
		close(p.helpers[n])
		p.helpers = p.helpers[:n]
	}
}

// popLocked takes the oldest queued call. p.mu must be held.
func (p *Pool) popLocked() (task, bool) {
	t, ok := p.queue.pop()
	if ok {
		p.queued.Store(int64(p.queue.n))
		p.roomLocked()
	}
	return t, ok
}

// work runs queued calls, one at a time and oldest first, until the queue
// is empty and no batch is open. Taking one call per lock keeps the queue
// FIFO across workers: calls start in call order, each within limit places
// of its turn (a worker that took several at once would run them one after
// the other while the others ran later calls).
func (p *Pool) work(w *worker) {
	w.home = w
	exited := false
	defer func() {
		unregisterWorker(w)
		if !exited {
			// A task called runtime.Goexit (invoke has failed its call):
			// this goroutine is ending, so settle what it owes and hand
			// the lane to a replacement that carries on with the queue.
			w.settle()
			p.mu.Lock()
			p.busy--
			p.mu.Unlock()
			p.startWorker(&worker{pool: p, lane: w.lane})
		}
	}()
	p.mu.Lock()
	for {
		t, ok := p.popLocked()
		if !ok {
			if p.open == 0 {
				break
			}
			// Look for work a little before parking: a caller starting
			// calls in a loop is usually about to queue the next one, and
			// a park and wake-up cost more than the wait. The streak goes
			// on meanwhile; what the worker owes is settled before it
			// parks.
			p.spin++
			p.roomLocked()
			p.queued.Store(0)
			p.mu.Unlock()
			for i := 0; i < spins && p.queued.Load() == 0; i++ {
				runtime.Gosched()
			}
			p.mu.Lock()
			p.spin--
			if p.queue.n > 0 {
				continue
			}
			p.mu.Unlock()
			w.settle()
			p.mu.Lock()
			if p.queue.n > 0 {
				continue
			}
			if p.open == 0 {
				break
			}
			p.idle++
			p.roomLocked()
			p.wake.Wait()
			continue
		}
		p.busy++
		p.maxBusy = max(p.maxBusy, p.busy)
		p.mu.Unlock()
		t.run(w)
		p.mu.Lock()
		p.busy--
	}
	p.workers--
	// A worker that exits lends its lane to the next one, so lanes stay
	// within [0, limit) and a timeline draws one row per slot.
	p.lanes = append(p.lanes, w.lane)
	if p.workers == 0 && p.quiet != nil {
		close(p.quiet)
		p.quiet = nil
	}
	p.roomLocked()
	p.mu.Unlock()
	exited = true
}

// spins is how many times a worker yields, looking for work, before it
// parks.
const spins = 4

// worker is what one worker goroutine accumulates between two settles, so
// that finishing a call costs no contended atomic add and no clock reading:
// the calls a batch is owed (its pending count) and, for the function of
// the current streak of calls, how many finished and the streak's start,
// whose length is the calls' run time. A worker settles before it parks,
// before it runs a call of another batch or function, and every
// settleEvery calls.
type worker struct {
	pool  *Pool
	lane  int
	id    int     // written into the goroutine's stack, see help.go
	home  *worker // the goroutine's own worker; itself unless inline
	stack []frame // calls running on this goroutine, innermost last; in home
	owner *batch
	owed  int64
	fc    *funcCore
	since int64 // nanotime the streak started, 0 if none
	done  int64
}

const settleEvery = 64

// frame is a call running on a worker's goroutine, for the self-wait
// checks. It holds addresses, not pointers: the call is alive while it
// runs, and writing addresses costs no write barrier per call.
type frame struct {
	call, owner uintptr
	index       int
}

// account counts a finished call of fc and owner; countDone is false when
// the call was counted in fc's stats already.
func (w *worker) account(fc *funcCore, owner *batch, countDone bool) {
	if w.owner != owner {
		w.settleOwner()
		w.owner = owner
	}
	w.owed++
	if countDone {
		w.done++
		if w.done >= settleEvery {
			w.settleStats(nanotime())
		}
	}
}

// begin is called before a call of fc runs.
func (w *worker) begin(fc *funcCore, owner *batch) {
	if w.owner != nil && w.owner != owner {
		w.settleOwner()
	}
	if w.fc != fc {
		now := nanotime()
		w.settleStats(now)
		w.fc = fc
		w.since = now
	} else if w.since == 0 {
		w.since = nanotime()
	}
}

func (w *worker) settleOwner() {
	if w.owner != nil && w.owed > 0 {
		w.owner.doneN(w.owed, 0)
	}
	w.owner, w.owed = nil, 0
}

// settleStats adds the streak so far to the function's stats.
func (w *worker) settleStats(now int64) {
	if w.fc != nil {
		if w.since > 0 && now > w.since {
			w.fc.stats.busy.Add(now - w.since)
		}
		if w.done > 0 {
			w.fc.stats.done.Add(w.done)
		}
	}
	w.done = 0
	w.since = now
}

// settle pays everything owed and ends the streak, reading the clock once.
func (w *worker) settle() {
	if w.fc == nil && w.owed == 0 {
		return
	}
	now := nanotime()
	if w.fc != nil {
		w.settleStats(now)
	}
	w.since = 0
	if w.owner != nil && w.owed > 0 {
		w.owner.doneN(w.owed, now)
	}
	w.owner, w.owed = nil, 0
}

// parallelism reports the calls running now and the most seen at once.
func (p *Pool) parallelism() (running, highest int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.busy, p.maxBusy
}

// ring is a growable FIFO of tasks.
type ring struct {
	buf  []task
	head int
	n    int
}

func (r *ring) push(t task) {
	if r.n == len(r.buf) {
		size := 2 * len(r.buf)
		if size == 0 {
			size = 16
		}
		buf := make([]task, size)
		m := copy(buf, r.buf[r.head:])
		copy(buf[m:], r.buf[:r.head])
		r.buf, r.head = buf, 0
	}
	r.buf[(r.head+r.n)&(len(r.buf)-1)] = t
	r.n++
}

func (r *ring) pop() (task, bool) {
	if r.n == 0 {
		return nil, false
	}
	t := r.buf[r.head]
	r.buf[r.head] = nil
	r.head = (r.head + 1) & (len(r.buf) - 1)
	r.n--
	return t, true
}
