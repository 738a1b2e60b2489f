package deco

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
)

// batch is a set of calls waited for together: the calls of one function
// between two waits, or the calls of one Synchronized scope. It counts the
// calls not yet done, so that waiting costs one channel per wait and
// finishing calls pay one atomic add per worker streak.
//
// Starting a call must touch nothing the workers write, so the count goes
// below zero as calls finish, and the calls started so far are added once:
// a function's batch's total when a wait takes the batch and no call can
// join it any more (seal), a scope's when its wait starts, after which
// each call that joins the scope counts itself up as it starts (add; see
// scope.counted).
type batch struct {
	pending atomic.Int64
	stopped atomic.Bool              // queued calls must not start (FailFast, early break)
	watch   atomic.Pointer[chan int] // as-completed notifications, see Func.Completed

	idle         chan struct{} // closed when pending drops to 0, if someone waits
	failFast     bool
	panicAsError bool            // a scope's PanicAsError: every call's panic is an error
	scoped       bool            // a Synchronized scope's: its calls' contexts derive from ctx
	readsCtx     bool            // a scope whose ctx its parent may cancel: a call without a context of its own reads ctx to start (see Synchronized)
	cells        bool            // a Func's batch, a funcBatch: its calls leave their results in its cells
	closed       bool            // a scope that has returned: no call may join it
	ctx          context.Context // the context calls without one of their own see
	cancel       context.CancelCauseFunc
	pools        []*Pool      // pools kept open for this batch's calls
	sealed       bool         // a function's batch a wait has taken: no call joins it; only its waiter reads and writes it
	timing       *timing      // per-call timing, for a scope's StatsTo
	first        int64        // nanotime of the first call
	last         atomic.Int64 // nanotime of the latest settle of finished calls

	// mu and what it guards are written by the caller at every call that
	// assigns (addAssign): lines of their own, off the fields above, which
	// the worker running a call reads (sharing them cost the caller a
	// cache miss per Assign).
	_        [56]byte
	mu       sync.Mutex
	failures map[int]*callCore // failed calls by index
	assigns  assignments       // deferred assignments, in call order
	_        [56]byte
}

// use records that the batch submits to p, keeping p's workers parked
// rather than exiting until the batch is closed. b.mu must be held.
func (b *batch) use(p *Pool) {
	for _, q := range b.pools {
		if q == p {
			return
		}
	}
	b.pools = append(b.pools, p)
	p.openBatch()
}

// close releases the pools the batch kept open. Call it once, after wait.
func (b *batch) close() {
	b.mu.Lock()
	pools := b.pools
	b.pools = nil
	b.mu.Unlock()
	for _, p := range pools {
		p.closeBatch(b.sealed)
	}
}

// add counts one more call. b.mu need not be held.
func (b *batch) add() { b.pending.Add(1) }

// done counts a finished call and wakes the waiter when none is left.
func (b *batch) done() { b.doneN(1, 0) }

// doneN counts n finished calls; now is the clock if the caller has read
// it, else 0.
func (b *batch) doneN(n int64, now int64) {
	if !b.scoped {
		// last is a function's batch's wall time (settle); a scope
		// times itself, so its calls read no clock here.
		if now == 0 {
			now = nanotime()
		}
		storeMax(&b.last, now)
	}
	if b.pending.Add(-n) != 0 {
		return
	}
	b.wake()
}

// seal adds the total of a function's batch, once no call can join it.
func (b *batch) seal(total int) {
	if b.pending.Add(int64(total)) == 0 {
		b.wake()
	}
}

// wake releases the waiter once pending is zero.
func (b *batch) wake() {
	b.mu.Lock()
	if b.idle != nil {
		close(b.idle)
		b.idle = nil
	}
	b.mu.Unlock()
}

// failed keeps a failed call for the collector and, under FailFast, stops
// the calls not yet started and cancels the batch's context with the
// call's error.
func (b *batch) failed(c *callCore) {
	b.recordFailure(c)
	if !b.failFast || b.stopped.Swap(true) {
		return
	}
	if b.cancel != nil {
		b.cancel(c.failure())
	}
}

// stop keeps queued calls from starting and cancels the batch's context.
func (b *batch) stop(cause error) {
	b.stopped.Store(true)
	if b.cancel != nil {
		b.cancel(cause)
	}
}

// wait blocks until every call of the batch is done.
func (b *batch) wait() {
	if b.pending.Load() > 0 {
		b.waitAs(currentWorker())
	}
}

// waitAs is wait for a goroutine whose worker is w, or nil: a worker helps
// its pool while it waits (help.go).
func (b *batch) waitAs(w *worker) {
	for b.pending.Load() > 0 {
		b.mu.Lock()
		if b.pending.Load() == 0 {
			b.mu.Unlock()
			return
		}
		if b.idle == nil {
			b.idle = make(chan struct{})
		}
		idle := b.idle
		b.mu.Unlock()
		if w != nil {
			helpWait(w, idle)
		} else {
			<-idle
		}
	}
}

// startErr tells why a call of this batch must not start, or nil; ctx is
// the call's own context, or nil. A call of a scope without a context of
// its own has the scope's (see scope.parentOf). A call that is started
// asks quickStart first, and one that runs makes the same test in
// call.run, without a call.
func (b *batch) startErr(ctx context.Context) error {
	if b.stopped.Load() {
		return ErrCancelled
	}
	if ctx == nil && b.scoped {
		if !b.readsCtx {
			return nil // stopped tells it all: see Synchronized
		}
		ctx = b.ctx
	}
	if ctx != nil && ctx.Err() != nil {
		return context.Cause(ctx)
	}
	return nil
}

// quickStart reports startErr's common case, in which it returns nil: a
// call without a context of its own (ctx nil) in a batch that has not
// stopped and whose context only the batch cancels (a function's batch,
// or a scope under a parent never cancelled). Inlined: launch asks it for
// every call it starts.
func (b *batch) quickStart(ctx context.Context) bool {
	return ctx == nil && !b.readsCtx && !b.stopped.Load()
}

// recordFailure keeps a failed call for the collector.
func (b *batch) recordFailure(c *callCore) {
	b.mu.Lock()
	if b.failures == nil {
		b.failures = make(map[int]*callCore)
	}
	b.failures[c.index] = c
	b.mu.Unlock()
}

// failure returns the failed call of index i, or nil.
func (b *batch) failure(i int) *callCore {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.failures[i]
}

// sortedFailures returns the failed calls in call order.
func (b *batch) sortedFailures() []*callCore {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := slices.Collect(maps.Values(b.failures))
	slices.SortFunc(out, func(x, y *callCore) int { return x.index - y.index })
	return out
}

// settle ends a batch whose calls are all done. It is the one way every
// batch ends, whichever wait took it — [Func.Wait], an iterator,
// [Func.Stream], [Synchronized]: it releases the batch's pools, adds its
// wall time to fc's stats (fc is nil for a scope, which keeps its own),
// applies the deferred assignments of the calls that succeeded in call
// order, and returns the failures in call order: errs for those reported
// as errors, and the first panic to re-raise. A call's panic is an error
// under [PanicAsError], of the call's function or of the scope.
func (b *batch) settle(fc *funcCore) (errs []error, firstPanic *PanicError) {
	b.watch.Store(nil)
	b.close()
	if fc != nil {
		fc.stats.addWall(b.last.Load() - b.first)
	}
	failures := b.sortedFailures()
	for _, c := range failures {
		if _, pe := c.fault(); pe != nil && !b.panicAsError && !c.fn.panicError {
			if firstPanic == nil {
				firstPanic = pe
			}
			continue
		}
		errs = append(errs, c.failure())
	}
	b.applyAssigns(failures)
	return errs, firstPanic
}

// errStopped is the cause given to a batch's context by an early break.
var errStopped = errors.New("deco: iteration stopped early")
