package deco

import "sync/atomic"

// queue is a pool's FIFO of calls. Calls are pushed with the pool's lock
// held and taken without it: a worker taking its next call costs one
// compare-and-swap and never queues on the lock the callers take, while
// calls still start oldest first across all workers, one call per take.
//
// Design: a ring of ringSize slots, each with a sequence number (Dmitry
// Vyukov's bounded queue): the one pusher at a time fills the slot at tail
// and publishes it; a worker claims the slot at head with a CAS on head,
// reads it and frees it for the push ringSize places later. When the ring
// is full, calls are spilled into a growable FIFO under the pool's lock,
// and every later push goes there while it holds any, so that each call in
// the ring is older than every spilled one; a worker that finds the ring
// empty while calls are spilled moves them into the ring under the lock.
// Taking one call per lock instead (the FIFO queue before this one) made
// the workers fall behind a caller starting calls in a loop; taking several
// per lock breaks the call order.
type queue struct {
	_       [64]byte                       // keep the pool's other fields off these lines
	ring    atomic.Pointer[[ringSize]slot] // made by the first push, then only read: a line of its own
	_       [56]byte
	head    atomic.Uint64 // written by every worker
	_       [56]byte
	spilled atomic.Int64 // spill.n, readable without the lock
	_       [56]byte
	tail    uint64 // the next position to push; under the pool's lock, which no worker takes to take a call
	pushes  uint64 // calls pushed, into the ring or the spill; under the pool's lock
	spill   fifo   // calls that found the ring full; under the pool's lock
}

// slot is one place of the ring. seq is pos while the slot is free for the
// push of position pos, and pos+1 once it holds that call.
type slot struct {
	seq atomic.Uint64
	t   task
	_   [40]byte // one slot per cache line: the caller filling a slot and a worker emptying the one before it do not share a line
}

// ringSize is the ring's capacity, a power of two. Most queues stay well
// within it, since a caller starting calls in a loop yields while the
// queue holds more than crowdedQueue calls per slot (see pushAndUnlock).
const ringSize = 256

// pushLocked queues t. The pool's lock must be held.
func (q *queue) pushLocked(t task) {
	if q.ring.Load() == nil {
		r := new([ringSize]slot)
		for i := range r {
			r[i].seq.Store(uint64(i))
		}
		q.ring.Store(r)
	}
	q.pushes++
	if q.spill.n == 0 && q.tryPushLocked(t) {
		return
	}
	q.spill.push(t)
	q.spilled.Store(int64(q.spill.n))
}

// tryPushLocked puts t into the ring, or reports false if the ring is
// full. The pool's lock must be held.
func (q *queue) tryPushLocked(t task) bool {
	pos := q.tail
	s := &q.ring.Load()[pos&(ringSize-1)]
	if s.seq.Load() != pos {
		// The call ringSize places earlier is still there, or the worker
		// that took it has not freed the slot yet.
		return false
	}
	s.t = t
	q.tail = pos + 1
	s.seq.Store(pos + 1) // publishes s.t: head may now pass pos
	return true
}

// refillLocked moves spilled calls into the ring, oldest first, as far as
// it has room. The pool's lock must be held.
func (q *queue) refillLocked() {
	for q.spill.n > 0 && q.tryPushLocked(q.spill.peek()) {
		q.spill.pop()
	}
	q.spilled.Store(int64(q.spill.n))
}

// tryPop takes the oldest call of the ring, or reports false if the ring
// is empty. Any goroutine may call it, without the lock.
func (q *queue) tryPop() (task, bool) {
	r := q.ring.Load()
	if r == nil {
		return nil, false // nothing was ever pushed
	}
	for {
		pos := q.head.Load()
		s := &r[pos&(ringSize-1)]
		seq := s.seq.Load()
		if seq == pos+1 {
			if !q.head.CompareAndSwap(pos, pos+1) {
				continue // another worker took it
			}
			t := s.t
			s.t = nil
			s.seq.Store(pos + ringSize)
			return t, true
		}
		if int64(seq-(pos+1)) < 0 {
			return nil, false // the slot at head is not filled yet
		}
		// Another worker took pos and freed its slot: head has moved on.
	}
}

// empty reports whether the queue holds no call, without the lock: a hint,
// exact only while the pool's lock is held.
//
// It reads the slot at head, not tail, which the caller writes at every
// push: a spinning worker asking it does not pull that line away from the
// caller.
func (q *queue) empty() bool {
	if q.spilled.Load() != 0 {
		return false
	}
	r := q.ring.Load()
	if r == nil {
		return true
	}
	for {
		pos := q.head.Load()
		seq := r[pos&(ringSize-1)].seq.Load()
		if seq == pos+1 {
			return false // the slot at head holds the call of pos
		}
		if int64(seq-(pos+1)) < 0 {
			return true // the slot at head is not filled for pos
		}
		// A worker took pos and freed its slot: head has moved on.
	}
}

// lenLocked reports how many calls are queued. The pool's lock must be
// held; workers may take calls meanwhile, so it can only shrink.
func (q *queue) lenLocked() int {
	return int(q.tail-q.head.Load()) + q.spill.n
}

// fifo is an unbounded FIFO of tasks, guarded by its user: a list of
// chunks, so that a long spill (100 tasks each starting 100 calls) grows
// by a chunk at a time, never copying what it holds, and reuses its last
// emptied chunk.
type fifo struct {
	head, tail *fifoChunk
	hi, ti     int // the oldest task's place in head; the next free place in tail
	n          int
	spare      *fifoChunk
}

type fifoChunk struct {
	t    [fifoChunkSize]task
	next *fifoChunk
}

const fifoChunkSize = 128

func (r *fifo) push(t task) {
	if r.tail == nil || r.ti == fifoChunkSize {
		c := r.spare
		if c == nil {
			c = new(fifoChunk)
		}
		r.spare = nil
		if r.tail == nil {
			r.head, r.hi = c, 0
		} else {
			r.tail.next = c
		}
		r.tail, r.ti = c, 0
	}
	r.tail.t[r.ti] = t
	r.ti++
	r.n++
}

// peek returns the oldest task; r must not be empty.
func (r *fifo) peek() task { return r.head.t[r.hi] }

// pop removes the oldest task; r must not be empty.
func (r *fifo) pop() {
	r.head.t[r.hi] = nil
	r.hi++
	r.n--
	if r.head == r.tail {
		if r.hi == r.ti {
			r.hi, r.ti = 0, 0 // empty: start the chunk over
		}
		return
	}
	if r.hi == fifoChunkSize {
		old := r.head
		r.head, r.hi = old.next, 0
		old.next = nil
		r.spare = old
	}
}
