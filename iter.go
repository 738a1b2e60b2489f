package deco

import "iter"

// Result is one call's outcome, as the iterators yield it.
type Result[R any] struct {
	Value R
	Err   error // a *CallError, or nil
}

// Completed takes f's current batch, as [Func.Wait] does, and yields each
// call's index (its position in call order) and result as the call
// finishes, in completion order. A panicked call re-panics in the ranging
// goroutine when it is reached, once the other calls are done, unless
// [PanicAsError] was given.
//
// Breaking out of the loop stops the batch: calls not yet started never
// start (at most the limit of further calls start after the break),
// running calls are waited for, and their results are dropped. A panic in
// the loop's body ends the batch the same way before it goes on.
// Either way, when the loop ends the batch is over, the deferred
// assignments of the calls that succeeded are applied, and no worker
// goroutine of f's pool is left.
func (f *Func[A, R]) Completed() iter.Seq2[int, Result[R]] {
	return func(yield func(int, Result[R]) bool) { f.stream(false, yield) }
}

// InOrder takes f's current batch, as [Func.Wait] does, and yields each
// call's index and result in call order, each as soon as it and the calls
// before it are done. Panics and early breaks follow the rules of
// [Func.Completed].
func (f *Func[A, R]) InOrder() iter.Seq2[int, Result[R]] {
	return func(yield func(int, Result[R]) bool) { f.stream(true, yield) }
}

// stream yields the calls of f's current batch as they complete, reordered
// into call order when ordered is set. It learns of completions from a
// channel every call of the batch sends its index to once (so it never
// blocks), after scanning for the calls done before the channel was set.
func (f *Func[A, R]) stream(ordered bool, yield func(int, Result[R]) bool) {
	w := f.checkSelfWait(map[bool]string{false: "Completed", true: "InOrder"}[ordered])
	b := f.take()
	if b == nil {
		f.awaitOthers(w)
		return
	}
	over, looked := false, w != nil
	// The loop's body panicked or called runtime.Goexit: end the batch as a
	// break does, so that nothing stays parked.
	defer onAbort(&over, func() { f.abandon(b) })
	n := b.n
	ch := make(chan int, n)
	b.watch.Store(&ch)
	ready := make([]bool, n) // done and not yet yielded, or yielded
	yielded, next := 0, 0
	// emit yields what became ready; false means stop.
	emit := func(i int) bool {
		if ready[i] {
			return true
		}
		ready[i] = true
		if !ordered {
			yielded++
			return f.yieldSlot(b, i, yield)
		}
		for next < n && ready[next] {
			if !f.yieldSlot(b, next, yield) {
				return false
			}
			next++
		}
		yielded = next
		return true
	}
	stop := func() {
		over = true
		f.abandon(b)
	}
	for i := range n {
		if b.cell(i).done.Load() && !emit(i) {
			stop()
			return
		}
	}
	for yielded < n {
		var i int
		select {
		case i = <-ch:
		default:
			if !looked {
				looked, w = true, currentWorker() // about to block: read the stack once
			}
			if w != nil {
				i = helpWait(w, ch)
			} else {
				i = <-ch
			}
		}
		if !emit(i) {
			stop()
			return
		}
	}
	over = true
	b.waitAs(w)
	f.finishIter(b)
}

// yieldSlot yields call i of b, re-panicking for a panicked call.
func (f *Func[A, R]) yieldSlot(b *funcBatch[A, R], i int, yield func(int, Result[R]) bool) bool {
	s := b.cell(i)
	var err error
	if c := b.failure(i); c != nil {
		if _, pe := c.fault(); pe != nil && !f.core.panicError {
			panic(pe) // stream's deferred abandon ends the batch
		}
		err = c.failure()
	}
	return yield(i, Result[R]{Value: s.value, Err: err})
}

// abandon stops b after an early break or a panic and waits for its
// running calls.
func (f *Func[A, R]) abandon(b *funcBatch[A, R]) {
	b.stop(errStopped)
	b.wait()
	f.finishIter(b)
}

// finishIter ends an iterated batch like collect, without results or
// re-panics (the iteration reported them).
func (f *Func[A, R]) finishIter(b *funcBatch[A, R]) {
	b.settle(&f.core) // the iteration has reported the failures
	f.release(b)
}
