package deco

import (
	"context"
	"runtime"
)

// task is a queued call. run claims it first: a call waited on by a
// goroutine that holds a slot may already have been run inline by it. w is
// the worker running it, or an inline worker of the slot lent to it.
type task interface {
	run(w *worker)
	core() *callCore
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
	crowded := p.pushLocked(t)
	p.mu.Unlock()
	if crowded {
		runtime.Gosched()
	}
	return nil
}

// pushLocked queues t and makes sure a worker will run it. p.mu must be
// held. It reports whether the queue is crowded: then the caller, once it
// has unlocked p.mu, yields its processor (runtime.Gosched).
//
// Design: a caller starting no-op calls in a loop queues them faster than
// the workers, which take one call per lock to keep the queue FIFO, can
// start them. Without the yield, the caller, which shares the processors
// with the workers, ran tens of thousands of calls ahead: the ring grew and
// the workers read calls long out of the cache, while the collector scanned
// them all. Yielding while the queue holds more than crowdedQueue calls per
// slot keeps the queue short, and never blocks the caller.
func (p *Pool) pushLocked(t task) (crowded bool) {
	p.queue.push(t)
	if p.spin > 0 {
		// Only spinning workers read queued without the lock: spare the
		// cache line when none does.
		p.queued.Store(int64(p.queue.n))
	}
	p.dispatchLocked()
	// Written as a quotient so that a huge limit cannot overflow.
	return p.queue.n/crowdedQueue > p.limit
}

// crowdedQueue is how many queued calls per slot make the queue crowded
// (see pushLocked).
const crowdedQueue = 64

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
		if p.spin > 0 {
			// Only spinning workers read queued without the lock, and a
			// worker sets it to 0 as it starts to spin.
			p.queued.Store(int64(p.queue.n))
		}
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
	defer onAbort(&exited, func() {
		unregisterWorker(w)
		// A task called runtime.Goexit (callFunc has failed its call):
		// this goroutine is ending, so settle what it owes and hand the
		// lane to a replacement that carries on with the queue.
		w.settle()
		p.mu.Lock()
		p.busy--
		p.mu.Unlock()
		p.startWorker(&worker{pool: p, lane: w.lane})
	})
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
	// Before quiet is closed: a wait that returns once the workers have
	// left must find this goroutine on its very way out, blocked on
	// nothing.
	unregisterWorker(w)
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
