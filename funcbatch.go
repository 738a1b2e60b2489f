package deco

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"unsafe"
)

// funcBatch is the calls of a Func between two waits. It keeps what Wait
// needs, not the calls: a cell per call for the result, and the runs of
// call indices of its Assign and AssignTo calls with their keys and
// destinations (see assign.go). A call object is garbage as soon as it is done
// (unless its Future is kept), which keeps the heap small and the garbage
// collector idle during large batches.
type funcBatch[A, R any] struct {
	batch
	chunks  cellList[R]   // the calls' result cells
	settled chan struct{} // closed when the wait that took the batch is over
	keyed   []any         // *mapKeys of the batch's Assign calls, one per map
	dsts    *ptrKeys[R]   // destinations of the batch's AssignTo calls
	// n is written by the caller at every call: a line of its own, off
	// the one with batch.timing and chunks, which the worker running a
	// call reads (sharing it cost a cache miss per call).
	_ [56]byte
	n int // calls so far; guarded by the Func's mu
	_ [56]byte
}

// cell is where a call leaves its result for the batch. It holds no
// pointer of its own, so that the garbage collector need not scan the
// cells of a large batch; a failed call is kept in batch.failures.
type cell[R any] struct {
	value R
	done  atomic.Bool // set after value and after the failure is recorded
}

const chunkSize = 256

func (b *funcBatch[A, R]) cell(i int) *cell[R] { return b.chunks.at(i) }

// newBatch opens a batch. f.mu must be held.
func (f *Func[A, R]) newBatch() *funcBatch[A, R] {
	b := &funcBatch[A, R]{}
	b.cells = true
	b.failFast = f.core.failFast
	if b.failFast {
		b.ctx, b.cancel = context.WithCancelCause(context.Background())
	}
	b.first = nanotime()
	if f.private {
		f.core.pool.openBatchLocked()
		b.pools = []*Pool{f.core.pool}
	} else {
		b.use(f.core.pool)
	}
	f.cur = b
	active.add(f)
	return b
}

// checkSelfWait panics if the calling goroutine runs a call of f's current
// batch, which a wait for that batch would wait for forever. It reads the
// stack (see help.go) only when the batch has calls not done yet, which a
// wait blocks for anyway, and returns the goroutine's worker, or nil.
func (f *Func[A, R]) checkSelfWait(op string) *worker {
	f.mu.Lock()
	b := f.cur
	unfinished := b != nil && int64(b.n)+b.pending.Load() > 0
	f.mu.Unlock()
	if !unfinished && len(f.waiting()) == 0 {
		return nil
	}
	w := currentWorker()
	if w == nil || b == nil {
		return w
	}
	for _, fr := range w.running() {
		if fr.owner == uintptr(unsafe.Pointer(&b.batch)) {
			panic(fmt.Sprintf("deco: Func.%s called from inside call #%d of %s, in the batch it would wait for: it would wait for itself; wait for the calls a call starts in a batch or scope of their own", op, fr.index, f.core.describe()))
		}
	}
	return w
}

// take detaches the current batch so that later calls start a new one.
func (f *Func[A, R]) take() *funcBatch[A, R] {
	f.mu.Lock()
	b := f.cur
	f.cur = nil
	if b != nil {
		f.core.stats.calls.Add(int64(b.n))
		b.settled = make(chan struct{})
		f.inflight = append(f.inflight, b)
	}
	f.mu.Unlock()
	if b != nil {
		active.remove(f)
		b.sealed = true
		for _, p := range b.pools {
			p.sealBatch()
		}
		b.seal(b.n)
	}
	return b
}

// waiting returns the channels of the batches other waits have taken and
// not yet settled.
func (f *Func[A, R]) waiting() []chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	var chs []chan struct{}
	for _, b := range f.inflight {
		chs = append(chs, b.settled)
	}
	return chs
}

// awaitOthers blocks until the batches other waits have taken are over.
func (f *Func[A, R]) awaitOthers(w *worker) {
	for _, ch := range f.waiting() {
		if w != nil {
			helpWait(w, ch)
		} else {
			<-ch
		}
	}
}

// release ends b's wait: later waits no longer wait for it.
func (f *Func[A, R]) release(b *funcBatch[A, R]) {
	f.mu.Lock()
	for i, x := range f.inflight {
		if x == b {
			f.inflight = append(f.inflight[:i], f.inflight[i+1:]...)
			break
		}
	}
	f.mu.Unlock()
	close(b.settled)
}

// pendingCalls reports the calls of the open batch, for Stats.
func (f *Func[A, R]) pendingCalls() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cur == nil {
		return 0
	}
	return int64(f.cur.n)
}

// startedCalls reports every call started so far, waited or not.
func (f *Func[A, R]) startedCalls() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := f.core.stats.calls.Load()
	if f.cur != nil {
		n += int64(f.cur.n)
	}
	return n
}

// collect turns a finished batch into results, applies its assignments and
// releases its pool. It re-panics with the first panic unless panics are
// errors.
func (f *Func[A, R]) collect(b *funcBatch[A, R]) ([]R, error) {
	errs, firstPanic := b.settle(&f.core)
	results := make([]R, b.n)
	b.chunks.values(results)
	f.release(b)
	if firstPanic != nil {
		panic(firstPanic)
	}
	return results, errors.Join(errs...)
}

// waitAny is Wait without the results, for WaitAll.
func (f *Func[A, R]) waitAny() error {
	_, err := f.Wait()
	return err
}
