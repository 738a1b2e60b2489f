package deco

import (
	"context"
	"fmt"
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
	value R // first: a zero-size R (struct{}) at the end would be padded
	callCore
}

// Wait blocks until the call is done and returns its result and error. If
// the call panicked, Wait re-panics with the *[PanicError] in the calling
// goroutine, or returns it as the error under [PanicAsError].
//
// Waiting from inside a running call never deadlocks: the waiting call
// lends its slot (see [Pool]), running the awaited call at once if it is
// still queued in the waiter's pool. A call waiting for its own Future
// panics, since it would wait forever.
func (f *Future[R]) Wait() (R, error) {
	f.await()
	err, pe := f.fault()
	if pe != nil {
		if !f.fn.panicError {
			panic(pe)
		}
		return f.value, pe
	}
	return f.value, err
}

// Done reports whether the call has finished, without blocking.
func (f *Future[R]) Done() bool { return f.state.Load() == stateDone }

// Index reports the call's position in call order within its batch or
// scope, from 0.
func (f *Future[R]) Index() int { return f.index }

// callCore is the part of a call that does not depend on its types. It
// holds what every call needs; what few calls need (a context, a failure,
// a waiter) lives in callExtra, allocated on first use, which keeps a call
// at 96 bytes: the allocation is the largest cost of starting a call.
type callCore struct {
	state  atomic.Uint32
	index  int
	lane   int
	fn     *funcCore
	owner  *batch
	assign assigner // set by Assign and AssignTo, else nil
	queued int64    // nanotime when submitted, for sampled calls; else 0
	extra  atomic.Pointer[callExtra]
}

// callExtra is the rarely needed part of a call.
type callExtra struct {
	parent   context.Context // the context given to GoContext
	running  context.Context // parent merged with a FailFast batch's, while the call runs
	err      error
	panicked *PanicError
	waiter   atomic.Pointer[chan struct{}] // closed when the call is done
}

// ext returns the call's extra part, making it if needed.
func (c *callCore) ext() *callExtra {
	if e := c.extra.Load(); e != nil {
		return e
	}
	e := new(callExtra)
	if c.extra.CompareAndSwap(nil, e) {
		return e
	}
	return c.extra.Load()
}

// parent returns the context given to GoContext, or nil.
func (c *callCore) parent() context.Context {
	if e := c.extra.Load(); e != nil {
		return e.parent
	}
	return nil
}

// fault returns the call's error and panic; read them once it is done.
func (c *callCore) fault() (error, *PanicError) {
	if e := c.extra.Load(); e != nil {
		return e.err, e.panicked
	}
	return nil, nil
}

// await blocks until the call is done. A waiter that holds a slot runs the
// call itself if it is still queued in its pool, and helps its pool while
// it waits (help.go); it finds that out only here, on the slow path.
func (c *callCore) await() {
	if c.state.Load() == stateDone {
		return
	}
	w := currentWorker()
	if w != nil && c.fn.pool == w.pool && c.state.Load() == stateQueued {
		if t := c.fn.task(c); t != nil {
			runInline(t, w)
		}
	}
	c.awaitAs(w)
}

// awaitAs blocks until the call is done; w is the calling goroutine's
// worker, or nil. A call running beneath the waiter on its own goroutine
// can never finish first: that is a wait for oneself, and it panics.
func (c *callCore) awaitAs(w *worker) {
	if c.state.Load() == stateDone {
		return
	}
	if w != nil && w.runs(c) {
		panic(fmt.Sprintf("deco: Future.Wait inside its own call (call #%d of %s): it would wait forever", c.index, c.fn.describe()))
	}
	e := c.ext()
	ch := make(chan struct{})
	if !e.waiter.CompareAndSwap(nil, &ch) {
		ch = *e.waiter.Load()
	}
	if c.state.Load() == stateDone {
		return
	}
	if w != nil {
		helpWait(w, ch)
		return
	}
	<-ch
}

// signalDone publishes the finished state and wakes a Future waiter.
func (c *callCore) signalDone() {
	c.state.Store(stateDone)
	if e := c.extra.Load(); e != nil {
		if w := e.waiter.Load(); w != nil {
			close(*w)
		}
	}
}

// failure reports the error a collector records for the call, or nil.
func (c *callCore) failure() error {
	var err error
	cerr, pe := c.fault()
	switch {
	case pe != nil:
		err = pe
	case cerr != nil:
		err = cerr
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
