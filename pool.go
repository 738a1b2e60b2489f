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
	space   chan struct{} // closed when a queued call is taken, if a caller waits for room
	quiet   chan struct{} // closed when the last worker exits, if someone waits for it
	lanes   []int         // free lane numbers, for timelines
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
// the worker running it, or an inline worker of the lane lent to it.
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

// submit queues t. maxQueue < 0 means no bound; otherwise submit blocks
// while the queue holds more than maxQueue calls beyond the free slots,
// until room is made or ctx is done; inline callers (inside a running call
// of this pool, lane >= 0) run t themselves instead of blocking.
func (p *Pool) submit(ctx context.Context, t task, maxQueue, lane int) error {
	p.mu.Lock()
	for maxQueue >= 0 && p.queue.n >= maxQueue+p.idle+(p.limit-p.workers) {
		if lane >= 0 {
			p.mu.Unlock()
			runInline(t, lane)
			return nil
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
		go p.work(lane)
	}
	p.mu.Unlock()
}

// work runs queued calls until the queue is empty and no batch is open.
func (p *Pool) work(lane int) {
	w := &worker{lane: lane}
	var local [maxGrab]task
	var unrun []task // taken from the queue, not yet run
	exited := false
	defer func() {
		if !exited {
			// A task called runtime.Goexit (invoke has failed its call):
			// this goroutine is ending, so settle what it owes, put back
			// the calls it had taken and hand the lane to a replacement
			// that carries on with the queue.
			w.settle()
			p.mu.Lock()
			for _, t := range unrun {
				p.queue.push(t)
			}
			p.queued.Store(int64(p.queue.n))
			p.busy--
			p.mu.Unlock()
			go p.work(lane)
		}
	}()
	p.mu.Lock()
	for {
		// Take a few calls at once when the queue is long, so that a
		// worker locks the pool less than once per call; take one when
		// it is short, so that the last calls spread over all workers.
		n := min(p.queue.n/(2*p.limit), maxGrab)
		n = max(n, 1)
		got := 0
		for got < n {
			t, ok := p.queue.pop()
			if !ok {
				break
			}
			local[got] = t
			got++
		}
		if got == 0 {
			if p.open == 0 {
				break
			}
			// Look for work a little before parking: a caller starting
			// calls in a loop is usually about to queue the next one, and
			// a park and wake-up cost more than the wait. The streak goes
			// on meanwhile; what the worker owes is settled before it
			// parks.
			p.spin++
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
			p.wake.Wait()
			continue
		}
		p.queued.Store(int64(p.queue.n))
		if p.space != nil {
			close(p.space)
			p.space = nil
		}
		p.busy++
		p.maxBusy = max(p.maxBusy, p.busy)
		p.mu.Unlock()
		for i := range got {
			t := local[i]
			local[i] = nil
			unrun = local[i+1 : got]
			t.run(w)
		}
		unrun = nil
		p.mu.Lock()
		p.busy--
	}
	p.workers--
	// A worker that exits lends its lane to the next one, so lanes stay
	// within [0, limit) and a timeline draws one row per slot.
	p.lanes = append(p.lanes, lane)
	if p.workers == 0 && p.quiet != nil {
		close(p.quiet)
		p.quiet = nil
	}
	p.mu.Unlock()
	exited = true
}

// spins is how many times a worker yields, looking for work, before it
// parks.
const spins = 4

// maxGrab is the most calls a worker takes from the queue at once.
const maxGrab = 16

// worker is what one worker goroutine accumulates between two settles, so
// that finishing a call costs no contended atomic add and no clock reading:
// the calls a batch is owed (its pending count) and, for the function of
// the current streak of calls, how many finished and the streak's start,
// whose length is the calls' run time. A worker settles before it parks,
// before it runs a call of another batch or function, and every
// settleEvery calls.
type worker struct {
	lane  int
	owner *batch
	owed  int64
	fc    *funcCore
	since int64 // nanotime the streak started, 0 if none
	done  int64
}

const settleEvery = 64

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
