package deco

import (
	"sync/atomic"
	"unsafe"
)

// queue is a pool's FIFO of calls. Calls are pushed with the pool's lock
// held and taken without it: a worker taking its next call costs one
// compare-and-swap and never queues on the lock the callers take, while
// calls still start oldest first across all workers, one call per take.
//
// Design: a list linked through the calls themselves (callCore.next), with
// one pusher at a time (the holder of the pool's lock) and any number of
// takers, as Michael and Scott's queue with its producers' CAS dropped:
// head is the call taken last (or the queue's stub), and the next call to
// take is head's next; a worker takes it by moving head onto it with a
// CAS. The pusher writes only the call it pushes and the next pointer of
// the call pushed before it, lines that carry the calls to the workers
// anyway: it never reads a line the workers write, and no place of a ring
// is handed back and forth. (A ring of 256 places before this one cost
// the pusher a cache miss per call on the place the taker had written a
// lap earlier; a ring whose takers never write it cost as much in the
// pusher's stores to places the workers had just read.) The list is
// unbounded: no call is ever spilled or copied. A taker clears the next
// pointer of the call it moves head off when it points into another slab,
// so that a kept Future does not keep every later slab alive; the pool's
// last awake worker puts head back on the stub as it parks or exits
// (resetLocked), so that a quiet pool keeps no call, and no batch, alive.
type queue struct {
	_      [64]byte                 // keep the pool's other fields off these lines
	head   atomic.Pointer[callCore] // the call taken last, or &stub; nil until the first push. Written by every worker
	taken  atomic.Uint64            // calls taken; beside head, which its writers own already
	_      [56]byte
	tail   *callCore // the call pushed last, or &stub; under the pool's lock, which no worker takes to take a call
	pushes uint64    // calls pushed; under the pool's lock
	stub   callCore  // head and tail of an empty queue; only its next is used
}

// pushLocked queues c, the core of a task. The pool's lock must be held.
// Pool.pushAndUnlock makes the same steps, written out (the compiler
// does not inline this): this one is the queue's own, for its tests.
func (q *queue) pushLocked(c *callCore) {
	t := q.tail
	if t == nil {
		t = q.initLocked()
	}
	q.pushes++
	t.next.Store(c) // publishes c and what was written to it before
	q.tail = c
}

// initLocked puts head and tail on the stub at the first push and
// returns the tail. The pool's lock must be held.
func (q *queue) initLocked() *callCore {
	q.tail = &q.stub
	q.head.Store(&q.stub)
	return q.tail
}

// tryPop takes the oldest call, or reports false if the queue is empty.
// Any goroutine counted awake by its pool (see Pool.work) may call it,
// without the lock. It may report false while a call is queued, if
// another worker moved head on meanwhile; the pool looks again under its
// lock before parking.
func (q *queue) tryPop() (task, bool) {
	if c := q.pop(); c != nil {
		return c.fn.task(c), true
	}
	return nil, false
}

// pop is tryPop returning the call's core, or nil: the worker's loop runs
// it through its function (funcCore.run), without making it a task.
func (q *queue) pop() *callCore {
	for {
		h := q.head.Load()
		if h == nil {
			return nil // nothing was ever pushed
		}
		c := h.next.Load()
		if c == nil {
			return nil
		}
		if q.head.CompareAndSwap(h, c) {
			q.taken.Add(1)
			// Clear the link from h, unless c is the call after h in one
			// slab, where it keeps nothing alive that h does not (the slab);
			// so a taker writes h's line, which the worker that ran h may
			// hold, only once per slab of a batch's calls. Calls of two
			// slabs are never that close: a slab's block starts with the
			// allocator's 8-byte header. No taker reads h.next once head
			// has left h, but for one that loaded head before the CAS,
			// which then sees nil and looks again; and no push writes it,
			// since tail is at c or past it.
			if uintptr(unsafe.Pointer(c))-uintptr(unsafe.Pointer(h)) != c.fn.callSize {
				h.next.Store(nil)
			}
			return c
		}
	}
}

// resetLocked puts head and tail back on the stub, dropping the queue's
// pointer to the call taken last. The pool's lock must be held, the queue
// must be empty and no goroutine of the pool may be awake (none is in
// tryPop, which could otherwise move head onto a call taken already).
func (q *queue) resetLocked() {
	if q.tail == nil || q.tail == &q.stub {
		return
	}
	q.stub.next.Store(nil)
	q.head.Store(&q.stub)
	q.tail = &q.stub
}

// empty reports whether the queue holds no call, without the lock: a hint,
// exact only while the pool's lock is held.
func (q *queue) empty() bool {
	h := q.head.Load()
	return h == nil || h.next.Load() == nil
}

// lenLocked reports how many calls are queued. The pool's lock must be
// held; workers may take calls meanwhile, so it can only shrink.
func (q *queue) lenLocked() int {
	return int(q.pushes - q.taken.Load())
}
