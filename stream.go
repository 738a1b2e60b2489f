package deco

import (
	"context"
	"iter"
)

// Stream starts a call of f for each argument args yields and yields each
// call's index (its position in args) and result as the call finishes, in
// completion order, as [Func.Completed] does. Unlike a batch, a stream does
// not keep a result per call until the end: it keeps at most 2 × the
// pool's limit calls started and not yet yielded, pulling the next
// argument from args as results are yielded, so an unbounded producer runs
// in memory bounded by the limit, not by the number of calls (see [Func]
// for what a batch keeps).
//
// The stream's calls form a batch of their own, which f's Wait, Completed,
// InOrder and WaitAll do not see. A failed call yields its [CallError]; a
// panicked call re-panics in the ranging goroutine when it is reached,
// after the calls then running are done, unless [PanicAsError] was given;
// [FailFast] stops the stream at the first failure. Breaking out of the
// loop, or a panic in its body, stops pulling arguments, and waits for the
// running calls; when the loop ends, no worker goroutine of f's pool is
// left unless another batch uses it.
func (f *Func[A, R]) Stream(args iter.Seq[A]) iter.Seq2[int, Result[R]] {
	return func(yield func(int, Result[R]) bool) {
		p := f.core.pool
		p.openBatch()
		window := 2 * p.Limit()
		if window <= 0 || window > 1<<16 {
			window = 1 << 16 // Limit(1e12): bound the buffer, not the calls
		}
		b := &batch{failFast: f.core.failFast, first: nanotime(), pools: []*Pool{p}}
		if b.failFast {
			b.ctx, b.cancel = context.WithCancelCause(context.Background())
		}
		ch := make(chan int, window)
		b.watch.Store(&ch)
		next, stop := iter.Pull(args)
		defer stop()
		held := make(map[int]*call[A, R], window)
		var w *worker
		looked := false
		over := false
		defer func() {
			b.waitAs(w)
			b.settle(&f.core) // the stream has yielded the failures
		}()
		// A break, a panic or a Goexit: stop, and wait for what runs.
		defer onAbort(&over, func() { b.stop(errStopped) })
		n, exhausted := 0, false
		for {
			for !exhausted && len(held) < window && !b.stopped.Load() {
				a, ok := next()
				if !ok {
					exhausted = true
					break
				}
				c := &call[A, R]{arg: a}
				c.fn, c.owner, c.index = &f.core, b, n
				held[n] = c
				n++
				b.add()
				f.core.stats.calls.Add(1)
				if err := p.submit(nil, c, f.core.queue); err != nil && c.state.CompareAndSwap(stateQueued, stateRunning) {
					c.finish(err, nil, nil, 0, 0)
				}
			}
			if len(held) == 0 {
				break
			}
			var i int
			select {
			case i = <-ch:
			default:
				if !looked {
					looked, w = true, currentWorker() // about to block
				}
				if w != nil {
					i = helpWait(w, ch)
				} else {
					i = <-ch
				}
			}
			c := held[i]
			delete(held, i)
			err, pe := c.fault()
			if pe != nil && !f.core.panicError {
				panic(pe) // the deferred stop waits for the running calls
			}
			if err != nil || pe != nil {
				err = c.failure()
			}
			if !yield(i, Result[R]{Value: c.value, Err: err}) {
				return
			}
		}
		over = true
	}
}
