package deco

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync/atomic"
	"time"
	"unsafe"
)

// Call states. A call is claimed (queued → running) exactly once, by a
// worker or by a goroutine that runs it inline while waiting for it.
const (
	stateQueued uint32 = iota
	stateRunning
	stateDone
)

// callCore is the part of a call that does not depend on its types. It
// holds what every call needs; what few calls need (a context, a failure,
// a waiter) lives in callExtra, allocated on first use, a deferred
// assignment lives in its batch (batch.assigns), and the result cell is
// found by index (batch.cells), and so does the queue stamp of the calls
// sampled or timed (callExtra.queued), which keeps a call of a no-op
// func(int), its link in the pool's queue included, at 56 bytes: the
// allocation, and the collector's work for it, is the largest cost of
// starting a call.
type callCore struct {
	state atomic.Uint32
	lane  int32 // beside state: a call is 8 bytes smaller; lanes are slots used, far below 2^31
	index int
	fn    *funcCore
	owner *batch
	extra atomic.Pointer[callExtra]
	next  atomic.Pointer[callCore] // the call queued after this one in its pool (queue.go)
}

// callExtra is the rarely needed part of a call.
type callExtra struct {
	parent   context.Context // the context given to GoContext
	running  context.Context // parent merged with a FailFast batch's, while the call runs
	err      error
	panicked *PanicError
	waiter   atomic.Pointer[chan struct{}] // closed when the call is done
	ran      atomic.Pointer[ranOn]         // where the call ran, if its executor said (remote.go)
	// queued is when the call was queued, for sampled and timed calls,
	// else 0: see queueStamp. Here, not in callCore, which it would make
	// 8 bytes larger for every call, where 1 in 64 (1 in 8 of a
	// function's first 512) is sampled: see funcCore.stampCall.
	queued int64
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
	if w != nil {
		flushInline(w)
	}
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
	return &CallError{Func: c.fn.name, Index: c.index, Key: c.owner.keyOf(c), Err: err}
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

// queueStamp returns what a call's queued field holds: 0 for a call whose
// queue wait is neither in its function's sample (weight 0, see
// queueSampled) nor timed for its scope's stats, else the clock's reading
// when it is queued with its two lowest bits replaced by its weight's
// class (1: weight 1, 2: weight 8, 3: timed only), 4 ns that no wait
// needs. The weight is chosen by the function's call number, which a call
// does not keep; a call so keeps no field for it.
func queueStamp(weight int64, timed bool) int64 {
	if weight == 0 && !timed {
		return 0
	}
	class := int64(3)
	switch weight {
	case 1:
		class = 1
	case 8:
		class = 2
	}
	return nanotime()&^3 | class
}

// stamped returns the call's queue stamp, or 0 (see queueStamp).
func (c *callCore) stamped() int64 {
	if e := c.extra.Load(); e != nil {
		return e.queued
	}
	return 0
}

// queuedAt returns when the call was queued, if it was stamped.
func (c *callCore) queuedAt() int64 { return c.stamped() &^ 3 }

// queueWeight returns the weight of the call's queue wait in its
// function's sample, or 0.
func (c *callCore) queueWeight() int64 {
	switch c.stamped() & 3 {
	case 1:
		return 1
	case 2:
		return 8
	}
	return 0
}

// nanotime reads the clock in nanoseconds. It is the wall clock rather than
// time.Since(a package-level origin) so that readings taken inside a
// testing/synctest bubble, whose clock is fake, can be subtracted from each
// other; every duration deco computes subtracts two readings taken in the
// same place, and negative ones (a clock step) are dropped.
func nanotime() int64 { return time.Now().UnixNano() }

// callOf returns the call that c is part of. Every callCore of a Func[A, R]
// is the one in the Future of a call[A, R] (alone, or first in an
// assignment), at a fixed offset: this finds the call from the core, so
// that a waiter holding only the Future can run its call, without a
// pointer back in every call.
func callOf[A, R any](c *callCore) *call[A, R] {
	var x call[A, R]
	off := unsafe.Offsetof(x.Future) + unsafe.Offsetof(x.Future.callCore)
	return (*call[A, R])(unsafe.Add(unsafe.Pointer(c), -int(off)))
}

// call is one call of a Func: its argument, its result and its state, in
// one allocation. *call is also the context.Context a ctx-shaped function
// receives (see context.go).
type call[A, R any] struct {
	Future[R]
	arg A
}

func (c *call[A, R]) core() *callCore { return &c.callCore }

// batchOf returns the function batch whose batch b is; b.cells must be
// set, and b a batch of a Func[A, R] (the one the call's owner is).
func batchOf[A, R any](b *batch) *funcBatch[A, R] {
	var x funcBatch[A, R]
	return (*funcBatch[A, R])(unsafe.Add(unsafe.Pointer(b), -int(unsafe.Offsetof(x.batch))))
}

// fun returns the call's Func: c.fn is its core, at a fixed offset in it,
// which spares every call a pointer of its own.
func (c *call[A, R]) fun() *Func[A, R] {
	var f Func[A, R]
	return (*Func[A, R])(unsafe.Add(unsafe.Pointer(c.fn), -int(unsafe.Offsetof(f.core))))
}

// run executes the call on the current goroutine, which holds w's lane of
// the call's pool, unless another goroutine has claimed it.
//
// Its common case — a worker's own loop (w.bare) running a call with no
// context or extra part of its own, in a batch that has not stopped and
// whose context only the batch cancels, of a function with no recorder
// and no OnProgress, not timed and not sampled — runs here, with one test
// of those conditions and finish's own common case (no error, no extra
// part) written out; every other call takes runSlow, which makes each test
// on its way. (The fast path is written with no more inlined calls than
// runSlow's: every runtime.Callers of a waiter below this frame, see
// help.go, scans this function's inlining table up to the call.)
func (c *call[A, R]) run(w *worker) {
	if !c.state.CompareAndSwap(stateQueued, stateRunning) {
		return
	}
	c.lane = int32(w.lane)
	b, fc := c.owner, c.fn
	if !w.bare || b.readsCtx || b.timing != nil || fc.recorder != nil || fc.progress != nil || c.extra.Load() != nil || b.stopped.Load() {
		c.runSlow(w)
		return
	}
	if statsOn {
		w.begin(fc, b)
	}
	h := w.home
	h.push(frame{uintptr(unsafe.Pointer(&c.callCore)), uintptr(unsafe.Pointer(b)), c.index})
	// The worker's loop (Pool.drain) recovers this call's panic or Goexit
	// and finishes the call (recovered): see runSlow.
	w.inCall = true
	var err error
	if fn := c.fun(); fn.plain != nil {
		fn.plain(c.arg) // Concurrent's func(A), without its wrapper: R is struct{}
	} else {
		c.value, err = fn.fn(c, c.arg)
	}
	w.inCall = false
	h.depth--
	if err != nil || c.extra.Load() != nil {
		// A failure, or an extra part made while the call ran (a
		// waiter's, or where an executor ran it): finish's general case.
		c.finish(err, nil, w, 0, 0)
		return
	}
	// finish, for a call without an error, an extra part, a recorder and
	// OnProgress, run by a worker: its stats are its worker's to count.
	var noArg A
	c.arg = noArg
	if b.cells {
		s := batchOf[A, R](b).cell(c.index)
		s.value = c.value
		s.done.Store(true)
	}
	c.signalDone()
	if ch := b.watch.Load(); ch != nil {
		*ch <- c.index
	}
	w.account(b)
}

// runSlow is run for every call but run's common case, after the claim.
func (c *call[A, R]) runSlow(w *worker) {
	// startErr, unless the call has no context of its own (no extra part)
	// and its batch's context is cancelled by the batch alone (a
	// function's batch, or a scope whose parent is never cancelled), where
	// it has only stopped to read.
	if b := c.owner; b.readsCtx || c.extra.Load() != nil || b.stopped.Load() {
		if err := b.startErr(c.parent()); err != nil {
			c.finish(err, nil, nil, 0, 0)
			return
		}
	}
	fc := c.fn
	if statsOn {
		w.begin(fc, c.owner)
	}
	// The clock is read per call only for the sampled queue waits, a
	// timeline and a scope's stats; a function's run times are summed per
	// streak by the worker.
	timing := c.owner.timing
	var start, end int64
	if c.stamped() != 0 || fc.recorder != nil || timing != nil {
		start = nanotime()
		if n := c.queueWeight(); n != 0 {
			fc.stats.queueWait.addN(start-c.queuedAt(), n)
		}
	}
	if timing != nil {
		timing.enter(start - c.queuedAt())
	}
	var stopCancel func() bool
	if c.owner.failFast && !c.owner.scoped {
		stopCancel = c.mergeBatchContext()
	}
	h := w.home
	h.push(frame{uintptr(unsafe.Pointer(&c.callCore)), uintptr(unsafe.Pointer(c.owner)), c.index})
	var err error
	var pe *PanicError
	if w.bare && stopCancel == nil && timing == nil && fc.recorder == nil {
		// A worker's own loop (Pool.drain) recovers this call's panic or
		// Goexit, with one deferred function per streak of calls rather
		// than one per call (callFunc's), and finishes the call
		// (recovered): nothing is left to do here for it but finish.
		w.inCall = true
		c.value, err = c.fun().fn(c, c.arg)
		w.inCall = false
	} else {
		err, pe = c.callFunc()
	}
	h.depth--
	if stopCancel != nil {
		stopCancel()
	}
	if fc.recorder != nil || timing != nil {
		end = nanotime()
	}
	if timing != nil {
		timing.leave(end - start)
	}
	c.finish(err, pe, w, start, end)
}

// recovered finishes the call, which its worker's loop ran without
// callFunc's deferred function (see run), after it panicked with r, or,
// with r nil, called runtime.Goexit, as callFunc would have: r is
// recovered by the loop's deferred function (Pool.drain), which calls
// this while the panicking goroutine's stack is still there for the
// PanicError.
func (c *call[A, R]) recovered(r any, w *worker) {
	w.home.depth-- // the frame run pushed
	if r == nil {
		c.finish(errGoexit, nil, nil, 0, 0) // the worker ends: see Pool.work
		return
	}
	c.finish(nil, c.panicOf(r), w, 0, 0)
}

// callFunc calls the function, turning a panic into a *PanicError carrying
// the panicking goroutine's stack, and a runtime.Goexit (t.FailNow in a
// task) into an error, so that neither escapes the worker.
func (c *call[A, R]) callFunc() (err error, pe *PanicError) {
	normal := false
	defer func() {
		if normal {
			return
		}
		if r := recover(); r != nil {
			pe = c.panicOf(r)
			return
		}
		// runtime.Goexit: the goroutine is ending. Finish the call here
		// and let the worker's own deferred recovery replace it.
		c.finish(errGoexit, nil, nil, 0, 0)
	}()
	c.value, err = c.fun().fn(c, c.arg)
	normal = true
	return err, nil
}

// panicOf is the *PanicError of r, recovered from a panic in the call's
// task: a panic in another process, re-raised by remote, carries the
// task's own stack already and takes the call's index; any other is
// wrapped by panicError, below the deferred function that recovered.
func (c *callCore) panicOf(r any) *PanicError {
	if pe, ok := r.(*PanicError); ok && pe.remote {
		pe.Index = c.index
		return pe
	}
	return c.panicError(r)
}

// panicError wraps r, recovered from a panic in the call's task or in a
// callback about it, with the stack of the goroutine that panicked: call
// it in the deferred function that recovered.
func (c *callCore) panicError(r any) *PanicError {
	return &PanicError{Func: c.fn.name, Index: c.index, Value: r, Stack: debug.Stack()}
}

// onAbort runs cleanup unless *returned is set: deferred, it cleans up
// after code that never came back — it panicked past its frame, or its
// goroutine called runtime.Goexit (t.FailNow). It is the one such handler
// of the worker loop, the iterators, Stream and Synchronized; callFunc, the
// task boundary, recovers panics itself and turns a Goexit into errGoexit.
func onAbort(returned *bool, cleanup func()) {
	if !*returned {
		cleanup()
	}
}

var errGoexit = errors.New("deco: the call ended its goroutine with runtime.Goexit (t.FailNow or t.SkipNow in a task?)")

// finish records the outcome and wakes whoever waits for the call. w is
// the worker that ran it, which then owes the batch its count, or nil for
// a call that did not run on a worker: it is counted at once. start and
// end are the call's clock readings when it was timed, else 0.
func (c *call[A, R]) finish(err error, pe *PanicError, w *worker, start, end int64) {
	if err != nil || pe != nil {
		e := c.ext()
		e.err, e.panicked = err, pe
		c.owner.failed(&c.callCore)
	}
	fc := c.fn
	if countDone := w == nil || fc.progress != nil; countDone || c.extra.Load() != nil {
		fc.stats.record(&c.callCore, countDone) // else it has nothing to count
	}
	if fc.progress != nil {
		// Before the call is done, so that a panic in the callback is the
		// call's outcome, reported like a task's panic.
		c.reportProgress(err != nil || pe != nil)
	}
	if fc.recorder != nil {
		fc.recorder.record(&c.callCore, start, end)
	}
	var noArg A
	c.arg = noArg // the call is over: let the argument go, though its slab lives on
	if c.owner.cells {
		// A call of a function's batch (not of a scope or a stream)
		// leaves its result in the batch's cell, found by its index.
		s := batchOf[A, R](c.owner).cell(c.index)
		s.value = c.value
		s.done.Store(true)
	}
	c.signalDone()
	if ch := c.owner.watch.Load(); ch != nil {
		*ch <- c.index
	}
	if w == nil {
		c.owner.done()
		return
	}
	if fc.progress == nil {
		w.account(c.owner)
	} else {
		w.accountSlow(c.owner, false) // counted in fc's stats already, for the callback
	}
}

// reportProgress calls the OnProgress callback. A panic in it fails the
// call with a *PanicError, unless the call panicked already; failed tells
// whether the call had failed before.
func (c *call[A, R]) reportProgress(failed bool) {
	fc := c.fn
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		e := c.ext()
		if e.panicked != nil {
			return
		}
		e.panicked = c.panicError(r)
		fc.stats.panicked.Add(1)
		if !failed {
			fc.stats.failed.Add(1)
			c.owner.failed(&c.callCore)
		}
	}()
	s := &fc.stats
	fc.progress(Progress{Func: fc.name, Done: s.done.Load(), Total: c.fun().startedCalls(), Failed: s.failed.Load(), Worker: c.ranOn().name()})
}

// mergeBatchContext makes the context the call sees while it runs done
// when its FailFast batch fails, too, not only when the caller's context
// is done (errgroup's WithContext). A call without a context of its own
// sees the batch's context already. The returned function ends the merge.
func (c *call[A, R]) mergeBatchContext() func() bool {
	parent := c.parent()
	if parent == nil || c.owner.ctx == nil {
		return nil
	}
	ctx, cancel := context.WithCancelCause(parent)
	batchCtx := c.owner.ctx
	stop := context.AfterFunc(batchCtx, func() { cancel(context.Cause(batchCtx)) })
	c.ext().running = ctx
	return func() bool {
		stop()
		cancel(errCallReturned)
		return true
	}
}

var errCallReturned = errors.New("deco: the call has returned")
