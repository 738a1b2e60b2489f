package deco

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
