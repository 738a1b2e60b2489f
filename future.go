package deco

import (
	"context"
	"sync/atomic"
	"time"
)

// Call states. A call is claimed (queued → running) exactly once, by a
// worker or by a goroutine that runs it inline while waiting for it.
const (
	stateQueued uint32 = iota
	stateRunning
	stateDone
)

// A Future is the handle of one call: it becomes done when the call returns.
// Its methods are safe for concurrent use. A Future belongs to the batch or
// scope of its call: waiting on it does not take its result out of that
// batch, so [Func.Wait] or [Synchronized] still report it.
type Future[R any] struct {
	callCore
	value R
}

// Wait blocks until the call is done and returns its result and error. If
// the call panicked, Wait re-panics with the *[PanicError] in the calling
// goroutine, or returns it as the error under [PanicAsError].
func (f *Future[R]) Wait() (R, error) {
	f.await()
	if f.panicked != nil {
		if !f.fn.panicAsError {
			panic(f.panicked)
		}
		return f.value, f.panicked
	}
	return f.value, f.err
}

// Done reports whether the call has finished, without blocking.
func (f *Future[R]) Done() bool { return f.state.Load() == stateDone }

// Index reports the call's position in call order within its batch or
// scope, from 0.
func (f *Future[R]) Index() int { return f.index }

// callCore is the part of a call that does not depend on its types.
type callCore struct {
	state    atomic.Uint32
	index    int
	fn       *funcCore
	owner    *batch
	parent   context.Context // the context given to GoContext, or nil
	assign   assigner        // set by Assign and AssignTo, else nil
	err      error
	panicked *PanicError
	lane     int
	queued   int64 // nanotime when submitted, for sampled calls; else 0
	waiter   atomic.Pointer[chan struct{}]
}

// await blocks until the call is done.
func (c *callCore) await() {
	if c.state.Load() == stateDone {
		return
	}
	ch := make(chan struct{})
	if !c.waiter.CompareAndSwap(nil, &ch) {
		ch = *c.waiter.Load()
	}
	if c.state.Load() == stateDone {
		return
	}
	<-ch
}

// helpOrAwait runs t inline on lane if nobody has started it, else waits
// for it. Only a goroutine that holds a slot of p may call it with
// lane >= 0: it lends that slot to the call.
func helpOrAwait(t task, p *Pool, lane int) {
	c := t.core()
	if lane >= 0 && c.fn.pool == p && c.state.Load() == stateQueued {
		runInline(t, lane)
	}
	c.await()
}

// runInline runs t on the current goroutine, which lends it lane, and
// settles at once: the goroutine may block for long after it.
func runInline(t task, lane int) {
	w := worker{lane: lane}
	t.run(&w)
	w.settle()
}

// signalDone publishes the finished state and wakes a Future waiter.
func (c *callCore) signalDone() {
	c.state.Store(stateDone)
	if w := c.waiter.Load(); w != nil {
		close(*w)
	}
}

// failure reports the error a collector records for the call, or nil.
func (c *callCore) failure() error {
	var err error
	switch {
	case c.panicked != nil:
		err = c.panicked
	case c.err != nil:
		err = c.err
	default:
		return nil
	}
	var key any
	if c.assign != nil {
		key = c.assign.key()
	}
	return &CallError{Func: c.fn.name, Index: c.index, Key: key, Err: err}
}

type taskKey struct{}

// runningCall returns the call whose task context ctx is or derives from.
func runningCall(ctx context.Context) *callCore {
	if ctx == nil {
		return nil
	}
	c, _ := ctx.Value(taskKey{}).(*callCore)
	if c != nil && c.state.Load() != stateRunning {
		return nil // a context kept after its call finished
	}
	return c
}

// nanotime reads the clock in nanoseconds. It is the wall clock rather than
// time.Since(a package-level origin) so that readings taken inside a
// testing/synctest bubble, whose clock is fake, can be subtracted from each
// other; every duration deco computes subtracts two readings taken in the
// same place, and negative ones (a clock step) are dropped.
func nanotime() int64 { return time.Now().UnixNano() }
