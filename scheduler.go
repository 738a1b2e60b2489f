package deco

import (
	"context"
	"runtime"
)

// task is a queued call. run claims it first: a call waited on by a
// goroutine that holds a slot may already have been run inline by it. w is
// the worker running it, or an inline worker of the slot lent to it.
// recovered finishes a call that its worker's loop ran without a
// deferred function of its own, after it panicked or called
// runtime.Goexit (see Pool.drain); it is off the hot path, so it goes
// through the interface, where run has funcCore.run.
type task interface {
	run(w *worker)
	recovered(r any, w *worker)
	core() *callCore
}

// freeLocked is the number of calls p can start at once without queueing:
// parked, spinning and helping workers and the workers not yet started.
// p.mu must be held.
func (p *Pool) freeLocked() int {
	return p.idle + int(p.spin.Load()) + len(p.helpers) + (p.limit - p.workers)
}

// roomLocked wakes the callers blocked on a full queue: a slot or a place
// in the queue may have freed. p.mu must be held.
func (p *Pool) roomLocked() {
	if p.space != nil {
		close(p.space)
		p.space = nil
		p.roomWanted.Store(false)
	}
}

// room is roomLocked for a worker that took a call or started to look for
// one without the lock: it takes the lock only if a caller waits for room.
// Inlined: a worker calls it at every take.
func (p *Pool) room() {
	if p.roomWanted.Load() {
		p.makeRoom()
	}
}

func (p *Pool) makeRoom() {
	p.mu.Lock()
	p.roomLocked()
	p.mu.Unlock()
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
	for maxQueue >= 0 && p.queue.lenLocked()-p.freeLocked() >= maxQueue {
		if !checked {
			p.mu.Unlock()
			checked = true
			if w := currentWorker(); w != nil && w.pool == p {
				runInline(t, w)
				flushInline(w)
				return nil
			}
			p.mu.Lock()
			continue
		}
		if p.space == nil {
			p.space = make(chan struct{})
			// Workers take calls and start to spin without the lock: look
			// again now that they will see that room is wanted.
			p.roomWanted.Store(true)
			continue
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
	p.pushAndUnlock(ctx, t.core())
	return nil
}

// pushAndUnlock queues c, the core of a task, makes sure a worker will run
// it and unlocks p.mu, which must be held; ctx is the caller's context, or
// nil. Then, if the queue is crowded, it yields the processor
// (runtime.Gosched) when that lets a worker run.
//
// Design: a caller starting no-op calls in a loop queues them faster than
// the workers can start them when it shares the processors with them.
// Without the yield, the caller ran tens of thousands of calls ahead: the
// queue grew and the workers read calls long out of the cache, while the
// collector scanned them all. Yielding while the queue holds more than
// crowdedQueue calls per slot keeps the queue short and never blocks the
// caller. It helps only if a worker is waiting for a processor: not when
// the awake workers have one each besides the caller, and not when the
// caller is itself a call of p (a task starting calls with its context),
// which would only hand its processor back to itself.
func (p *Pool) pushAndUnlock(ctx context.Context, c *callCore) {
	// queue.pushLocked, written out: the compiler does not inline it.
	q := &p.queue
	t := q.tail
	if t == nil {
		t = q.initLocked()
	}
	q.pushes++
	t.next.Store(c) // publishes c and what was written to it before
	q.tail = c
	if p.awake < p.limit { // else nothing to do: dispatchLocked's first test, inlined
		p.dispatchLocked()
	}
	// Written as a quotient so that a huge limit cannot overflow.
	// Looked at every 16th push only: it reads the count of calls taken,
	// which the workers write at every take.
	crowded := p.queue.pushes&15 == 0 && p.queue.lenLocked()/crowdedQueue > p.limit && p.awake >= p.procs
	p.mu.Unlock()
	if crowded && !p.runs(ctx) {
		runtime.Gosched()
	}
}

// runs reports whether ctx is the context of a running call of p.
func (p *Pool) runs(ctx context.Context) bool {
	c := runningCall(ctx)
	return c != nil && c.fn.pool == p
}

// crowdedQueue is how many queued calls per slot make the queue crowded
// (see pushAndUnlock).
const crowdedQueue = 256

// dispatchLocked makes sure someone will take the queued calls: a spinning
// worker, a parked one, a new one, or else a waiter that lends its slot.
// p.mu must be held. A pool whose workers are all awake — running calls or
// looking for one — needs nothing: each takes the next call when it is
// free, without the lock.
func (p *Pool) dispatchLocked() {
	if p.awake >= p.limit {
		return
	}
	n := p.queue.lenLocked()
	if n == 0 {
		return
	}
	switch {
	case int(p.spin.Load()) >= n:
		// The workers looking for work will find it.
	case p.idle > 0:
		p.idle--
		p.awake++
		p.wake.Signal()
	case p.workers < p.limit:
		if p.workers == 0 {
			p.procs = runtime.GOMAXPROCS(0)
		}
		p.workers++
		p.awake++
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
		p.awake++
	}
}

// take takes the oldest queued call, without the lock.
func (p *Pool) take() (task, bool) {
	t, ok := p.queue.tryPop()
	if ok {
		p.room()
	}
	return t, ok
}

// work runs queued calls, one at a time and oldest first, until the queue
// is empty and no batch is open. Taking one call per take keeps the queue
// FIFO across workers: calls start in call order, each within limit places
// of its turn (a worker that took several at once would run them one after
// the other while the others ran later calls).
//
// A worker is awake (counted in p.awake) from its start until it parks:
// callers wake or start workers only while fewer than the limit are awake.
// It counts as running calls (p.busy) from the first call it takes until
// it finds the queue empty, so that Stats pays per streak, not per call.
func (p *Pool) work(w *worker) {
	w.home = w
	// Read once: procs shares its line with the pool's mutex, which the
	// caller takes at every call; set before any worker of this round
	// started, it does not change while one runs.
	procs := p.procs
	exited, streak := false, false
	defer onAbort(&exited, func() {
		unregisterWorker(w)
		// A task called runtime.Goexit (drain or callFunc has failed
		// its call): this goroutine is ending, so settle what it owes
		// and hand the lane to a replacement that carries on with the
		// queue, awake in its place.
		w.settle()
		for _, iw := range w.inlines {
			iw.settle() // the calls run inline by waits the Goexit cut short
		}
		if streak {
			p.busy.Add(-1)
		}
		p.startWorker(&worker{pool: p, lane: w.lane})
	})
	w.bare = true
	for {
		if p.drain(w, &streak) {
			continue // a call panicked, and is finished: carry on
		}
		if streak {
			streak = false
			p.busy.Add(-1)
		}
		// Look for work a little before parking: a caller starting
		// calls in a loop is usually about to queue the next one, and
		// a park and wake-up cost more than the wait. The streak goes
		// on meanwhile; what the worker owes is settled before it
		// parks. At most one worker per processor spins (as Go's own
		// scheduler bounds its spinning threads): when many workers
		// run out of work at once, after a round of sleeps, the others
		// park at once instead of yielding to each other in a herd
		// while the workers that did get calls wait for a processor.
		if int(p.spin.Add(1)) <= procs {
			p.room()
			for i := 0; i < spins && p.queue.empty(); i++ {
				runtime.Gosched()
			}
		}
		p.spin.Add(-1)
		if !p.queue.empty() {
			continue
		}
		w.settle()
		p.mu.Lock()
		// Pushes hold the lock: a call queued after this check finds
		// the worker parked (idle) and wakes it.
		if !p.queue.empty() {
			p.mu.Unlock()
			continue
		}
		p.awake--
		if p.awake == 0 {
			p.queue.resetLocked() // no one takes from the queue until a push wakes a worker
		}
		if p.open == p.sealed {
			break // no batch open, or none that a call can still join (see sealBatch)
		}
		p.idle++
		p.roomLocked()
		p.wake.Wait() // the waker counts this worker awake again
		p.mu.Unlock()
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

// drain runs queued calls, oldest first, until the queue is empty, and
// reports false then; it reports true when a call panicked, which it has
// finished with the panic. It recovers the panic, or a runtime.Goexit,
// of every call it runs (see call.run and call.recovered) with one
// deferred function, where every call had a deferred function of its own
// before (callFunc's): bench/ Overhead/shared/deco took 673-680
// instructions a call instead of 700-728 (bench/icount.sh, callgrind with
// -test.cpu 1, 300,000 calls less 100,000, 4 and 6 runs, 2026-12-02),
// its closure form 660-692 instead of 696-703. A panic of deco's own code, outside a
// call, is not recovered: it goes on as before.
func (p *Pool) drain(w *worker, streak *bool) (panicked bool) {
	var c *callCore // the call being run
	defer func() {
		if !w.inCall {
			return // no call's function was running: a normal return, or deco's own panic
		}
		w.inCall = false
		r := recover() // nil for a runtime.Goexit, which goes on ending the goroutine
		c.fn.task(c).recovered(r, w)
		panicked = r != nil
	}()
	for {
		c = p.queue.pop() // take, by core
		if c == nil {
			return false
		}
		p.room()
		if !*streak {
			*streak = true
			storeMax(&p.maxBusy, p.busy.Add(1))
		}
		c.fn.run(c, w)
	}
}

// spins is how many times a worker yields, looking for work, before it
// parks. Measured against 1, 2 and 16 (bench/ Overhead and Gather, ratios
// to the hand pool, 20 alternated rounds each, load 4.6-8.1): 16 made
// Overhead/shared/deco 25% and Gather/deco 13% slower, 1 Gather/deco 12%
// slower, 2 no different.
const spins = 4
