package deco

import (
	"reflect"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"
)

// Join by helping. A call that waits (Future.Wait, Func.Wait, Synchronized,
// Completed, InOrder, WaitAll) holds a slot of its pool while it waits; if
// the calls it waits for are queued behind it, a bounded pool would
// deadlock. So a waiter that holds a slot lends it: it runs the call it
// waits for if that call is still queued in its pool, and otherwise runs
// other queued calls of its pool whenever the pool has no other free slot
// for them, as Java's ForkJoinTask.join and TBB do. The limit still holds:
// the waiter's own call is blocked, so the call it runs takes its place.
//
// Only a goroutine that holds a slot may help: a goroutine a task starts, or
// main, waits without running calls, or the limit would be exceeded. Go has
// no goroutine ids, so a worker writes its id into its own stack once, when
// it starts, as a chain of calls through sixteen digit functions (one frame
// per hex digit); a waiter reads its stack with runtime.Callers to find the
// worker it is, if any. The stack is read only on the slow path, just
// before the waiter would block (Synchronized: once as it starts, to know
// whether its scope must list its calls for its waiter to run), and only
// while some worker is alive: the fast path pays nothing, and a worker
// pays a few calls when it starts.

// workerIDs maps the ids written into worker stacks to their workers.
var workerIDs struct {
	mu   sync.Mutex
	byID []*worker // nil for a free id
	free []int
	live atomic.Int64
}

// register gives w an id.
func registerWorker(w *worker) {
	workerIDs.mu.Lock()
	if n := len(workerIDs.free); n > 0 {
		w.id = workerIDs.free[n-1]
		workerIDs.free = workerIDs.free[:n-1]
		workerIDs.byID[w.id] = w
	} else {
		w.id = len(workerIDs.byID)
		workerIDs.byID = append(workerIDs.byID, w)
	}
	workerIDs.mu.Unlock()
	workerIDs.live.Add(1)
}

func unregisterWorker(w *worker) {
	workerIDs.live.Add(-1)
	workerIDs.mu.Lock()
	workerIDs.byID[w.id] = nil
	workerIDs.free = append(workerIDs.free, w.id)
	workerIDs.mu.Unlock()
}

// startWorker starts w's goroutine: p.work(w) beneath the digit frames of
// w's id.
func (p *Pool) startWorker(w *worker) {
	registerWorker(w)
	shift := 0
	for w.id>>(shift+4) != 0 {
		shift += 4
	}
	go digits[(w.id>>shift)&15](p, w, shift)
}

var digits [16]func(p *Pool, w *worker, shift int)

func init() {
	digits = [16]func(*Pool, *worker, int){
		workerDigit0, workerDigit1, workerDigit2, workerDigit3,
		workerDigit4, workerDigit5, workerDigit6, workerDigit7,
		workerDigit8, workerDigit9, workerDigitA, workerDigitB,
		workerDigitC, workerDigitD, workerDigitE, workerDigitF,
	}
}

// nextDigit calls the function of the next, less significant digit of
// w's id, or p.work after the last.
func nextDigit(p *Pool, w *worker, shift int) {
	if shift == 0 {
		p.work(w)
		return
	}
	shift -= 4
	digits[(w.id>>shift)&15](p, w, shift)
}

//go:noinline
func workerDigit0(p *Pool, w *worker, shift int) { nextDigit(p, w, shift) }

//go:noinline
func workerDigit1(p *Pool, w *worker, shift int) { nextDigit(p, w, shift) }

//go:noinline
func workerDigit2(p *Pool, w *worker, shift int) { nextDigit(p, w, shift) }

//go:noinline
func workerDigit3(p *Pool, w *worker, shift int) { nextDigit(p, w, shift) }

//go:noinline
func workerDigit4(p *Pool, w *worker, shift int) { nextDigit(p, w, shift) }

//go:noinline
func workerDigit5(p *Pool, w *worker, shift int) { nextDigit(p, w, shift) }

//go:noinline
func workerDigit6(p *Pool, w *worker, shift int) { nextDigit(p, w, shift) }

//go:noinline
func workerDigit7(p *Pool, w *worker, shift int) { nextDigit(p, w, shift) }

//go:noinline
func workerDigit8(p *Pool, w *worker, shift int) { nextDigit(p, w, shift) }

//go:noinline
func workerDigit9(p *Pool, w *worker, shift int) { nextDigit(p, w, shift) }

//go:noinline
func workerDigitA(p *Pool, w *worker, shift int) { nextDigit(p, w, shift) }

//go:noinline
func workerDigitB(p *Pool, w *worker, shift int) { nextDigit(p, w, shift) }

//go:noinline
func workerDigitC(p *Pool, w *worker, shift int) { nextDigit(p, w, shift) }

//go:noinline
func workerDigitD(p *Pool, w *worker, shift int) { nextDigit(p, w, shift) }

//go:noinline
func workerDigitE(p *Pool, w *worker, shift int) { nextDigit(p, w, shift) }

//go:noinline
func workerDigitF(p *Pool, w *worker, shift int) { nextDigit(p, w, shift) }

// digitOf is the digit of each digit function's entry PC, for
// currentWorker to read a stack without symbolizing it.
var digitOf map[uintptr]int

func init() {
	digitOf = make(map[uintptr]int, len(digits))
	for d, fn := range digits {
		digitOf[reflect.ValueOf(fn).Pointer()] = d
	}
}

// currentWorker returns the worker whose goroutine calls it, or nil if the
// goroutine is not a worker. It reads the goroutine's stack: call it only
// before blocking.
//
// Cost: one runtime.Callers of the whole stack, then a function lookup
// (runtime.FuncForPC) per frame from the outermost one only until past
// the digit frames, which start the stack of a worker's goroutine — the
// task's own frames, however many, are never symbolized. (Symbolizing
// every frame from the innermost one with runtime.CallersFrames took
// ~19% of the fork-join benchmark's CPU.)
func currentWorker() *worker {
	if workerIDs.live.Load() == 0 {
		return nil
	}
	pcs := make([]uintptr, 64)
	for {
		n := runtime.Callers(1, pcs)
		if n < len(pcs) {
			pcs = pcs[:n]
			break
		}
		pcs = make([]uintptr, 2*len(pcs))
	}
	id, digitsSeen := 0, false
	for i := len(pcs) - 1; i >= 0; i-- {
		f := runtime.FuncForPC(pcs[i] - 1) // a return address: look up the call's own instruction
		if f == nil {
			continue
		}
		// An inlined nextDigit reports its caller's entry; one that is
		// not inlined is a frame of its own, between the digits.
		if d, ok := digitOf[f.Entry()]; ok {
			id = id<<4 | d // the outermost digit frame is the most significant digit
			digitsSeen = true
			continue
		}
		if digitsSeen && f.Entry() != nextDigitEntry {
			break
		}
	}
	if !digitsSeen {
		return nil
	}
	workerIDs.mu.Lock()
	defer workerIDs.mu.Unlock()
	if id < len(workerIDs.byID) {
		return workerIDs.byID[id]
	}
	return nil
}

var nextDigitEntry = reflect.ValueOf(nextDigit).Pointer()

// runs reports whether c is running on w's goroutine, beneath the caller.
func (w *worker) runs(c *callCore) bool {
	for _, fr := range w.running() {
		if fr.call == uintptr(unsafe.Pointer(c)) {
			return true
		}
	}
	return false
}

// helpWait returns the next value received from ready. Meanwhile w, the
// calling goroutine's worker, runs queued calls of its pool whenever no
// other slot of the pool is free for them: its slot would be idle
// otherwise. w must be the current goroutine's worker.
func helpWait[T any](w *worker, ready <-chan T) T {
	p := w.pool
	defer flushInline(w)
	for {
		select {
		case v := <-ready:
			return v
		default:
		}
		if t, ok := p.take(); ok {
			runInline(t, w)
			continue
		}
		wake := make(chan struct{})
		p.mu.Lock()
		if !p.queue.empty() {
			// Pushes hold the lock: one came since take.
			p.mu.Unlock()
			continue
		}
		p.helpers = append(p.helpers, wake)
		p.awake-- // until a push wakes it, or it stops helping
		p.roomLocked()
		p.mu.Unlock()
		flushInline(w)
		select {
		case v := <-ready:
			p.mu.Lock()
			if p.dropHelperLocked(wake) {
				p.awake++
			} else {
				// A push chose this helper, counting it awake: pass its
				// call on.
				p.dispatchLocked()
			}
			p.mu.Unlock()
			return v
		case <-wake:
		}
	}
}

// dropHelperLocked removes wake from the helpers; false if a push has
// removed it already. p.mu must be held.
func (p *Pool) dropHelperLocked(wake chan struct{}) bool {
	for i, h := range p.helpers {
		if h == wake {
			p.helpers = append(p.helpers[:i], p.helpers[i+1:]...)
			return true
		}
	}
	return false
}

// helpOrAwait runs t in w's slot if t is a queued call of w's pool, then
// waits for it, helping. w may be nil: then it only waits. The caller
// flushes the inline streak (flushInline) once it is done waiting.
func helpOrAwait(t task, w *worker) {
	c := t.core()
	if w != nil && c.fn.pool == w.pool && c.state.Load() == stateQueued {
		runInline(t, w)
	}
	c.awaitAs(w)
}

// runInline runs t on the current goroutine, whose worker w lends it its
// slot. It pays the call's batch at once (the goroutine may block for long
// after it, and the batch's waiter may be this very goroutine), but the
// call's stats go into a streak of the calls the current wait runs inline,
// settled by flushInline when that wait returns or blocks: a waiter that
// runs its children's calls in its slot (fork-join) reads the clock per
// wait, not twice per child.
//
// Inline workers are kept per depth of inline runs on the goroutine (an
// inline call may wait and run calls inline itself, which must not mix
// with its own streak), in home, not allocated per call: a worker per
// inline call was the largest allocation of nested batches after the
// calls themselves.
func runInline(t task, w *worker) {
	h := w.home
	d := h.inlineDepth
	if d == len(h.inlines) {
		h.inlines = append(h.inlines, &worker{pool: h.pool, lane: h.lane, home: h})
	}
	iw := h.inlines[d]
	h.inlineDepth++
	t.run(iw)
	h.inlineDepth--
	iw.settleOwner()
}

// flushInline settles the streak of the calls the current wait of w's
// goroutine ran inline (see runInline). Call it before that wait blocks
// and when it returns.
func flushInline(w *worker) {
	h := w.home
	if d := h.inlineDepth; d < len(h.inlines) {
		h.inlines[d].settle()
	}
}
