package deco

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"unsafe"
	"weak"
)

// seqTask is a task that only carries its push order.
type seqTask struct {
	callCore
	seq int
}

func (t *seqTask) run(*worker)            {}
func (t *seqTask) recovered(any, *worker) {}
func (t *seqTask) core() *callCore        { return &t.callCore }

// seqFunc is the function of every seqTask: the queue links calls' cores
// and finds their tasks through their function.
var seqFunc = &funcCore{task: func(c *callCore) task { return (*seqTask)(unsafe.Pointer(c)) }}

func newSeqTask(seq int) *seqTask {
	t := &seqTask{seq: seq}
	t.fn = seqFunc
	return t
}

// TestQueueTakesEveryCallOnceInPushOrder pushes calls under a lock, as
// pools do, while four goroutines take them without it: every call is
// taken exactly once, and each taker sees calls in push order.
func TestQueueTakesEveryCallOnceInPushOrder(t *testing.T) {
	const n = 20000
	var (
		mu     sync.Mutex
		q      queue
		pushed atomic.Bool
		taken  [n]atomic.Int32
		wg     sync.WaitGroup
	)
	for range 4 {
		wg.Go(func() {
			last := -1
			for {
				done := pushed.Load() // before the pop: a pop after it sees every push
				tk, ok := q.tryPop()
				if !ok {
					if done && q.empty() {
						return
					}
					continue
				}
				s := tk.(*seqTask).seq
				if s <= last {
					t.Errorf("took call %d after call %d", s, last)
				}
				last = s
				taken[s].Add(1)
			}
		})
	}
	for i := range n {
		mu.Lock()
		q.pushLocked(newSeqTask(i).core())
		mu.Unlock()
	}
	pushed.Store(true)
	wg.Wait()
	for i := range n {
		if got := taken[i].Load(); got != 1 {
			t.Fatalf("call %d taken %d times, want once", i, got)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if !q.empty() || q.lenLocked() != 0 {
		t.Fatalf("queue not empty after every call was taken: %d left", q.lenLocked())
	}
}

// TestQueueHoldsNoTakenCall takes calls and checks that none of them
// points to the next any more, so that a kept Future does not keep every
// later call alive, and that a reset leaves no call reachable from the
// queue; a push after the reset is taken as usual.
func TestQueueHoldsNoTakenCall(t *testing.T) {
	var q queue
	calls := make([]*seqTask, 10)
	for i := range calls {
		calls[i] = newSeqTask(i)
		q.pushLocked(calls[i].core())
	}
	for i := range 5 {
		if tk, ok := q.tryPop(); !ok || tk.(*seqTask).seq != i {
			t.Fatalf("take %d: got %v, %v", i, tk, ok)
		}
	}
	for i := range 4 {
		if calls[i].next.Load() != nil {
			t.Errorf("call %d, taken and left behind by head, still points to the next", i)
		}
	}
	if q.lenLocked() != 5 {
		t.Fatalf("%d queued, want 5", q.lenLocked())
	}
	for range 5 {
		if _, ok := q.tryPop(); !ok {
			t.Fatal("queue empty too early")
		}
	}
	if _, ok := q.tryPop(); ok || !q.empty() {
		t.Fatal("queue not empty after every call was taken")
	}
	q.resetLocked()
	if h := q.head.Load(); h != &q.stub || q.tail != &q.stub || q.stub.next.Load() != nil {
		t.Fatal("reset left a call in the queue's head or tail")
	}
	q.pushLocked(newSeqTask(10).core())
	if tk, ok := q.tryPop(); !ok || tk.(*seqTask).seq != 10 {
		t.Fatalf("take after reset: got %v, %v", tk, ok)
	}
}

// TestAKeptFutureKeepsNoLaterCallAlive keeps the Future of a batch's
// first call and only a weak pointer to one in the middle, in another
// slab: once the batch is waited, that call can be collected. The calls are
// linked through the queue, so a taken call that still pointed to the
// next would keep every later call alive through a kept Future.
func TestAKeptFutureKeepsNoLaterCallAlive(t *testing.T) {
	f := Concurrent(func(int) {})
	const n = 4 * 1024 // several slabs
	first := f.Go(0)
	var middle weak.Pointer[Future[struct{}]]
	for i := 1; i < n; i++ {
		if fu := f.Go(i); i == n/2 {
			middle = weak.Make(fu)
		}
	}
	if _, err := f.Wait(); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		runtime.GC()
	}
	if middle.Value() != nil {
		t.Error("a call is still reachable after Wait, with only the first call's Future kept")
	}
	runtime.KeepAlive(first)
}

// TestAPoolHoldsNoRing decorates functions and calls each once: the queue
// costs a pool nothing beyond the calls it holds (a ring of 256 places,
// 16 KiB per function, came with the first call before).
func TestAPoolHoldsNoRing(t *testing.T) {
	const funcs = 100
	fs := make([]*Func[int, struct{}], funcs)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range fs {
		fs[i] = Concurrent(func(int) {})
		fs[i].Go(i)
		if _, err := fs[i].Wait(); err != nil {
			t.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	perFunc := (after.TotalAlloc - before.TotalAlloc) / funcs
	t.Logf("%d bytes allocated per function and call", perFunc)
	if perFunc >= 16<<10 {
		t.Errorf("%d bytes allocated per decorated function called once, want < 16 KiB (a slab of calls and a batch)", perFunc)
	}
}

// TestTheCallersFieldsShareNoLineWithTheWorkers checks the layout that
// keeps the caller starting calls and the workers running them off each
// other's cache lines: the fields the caller writes at every call (the
// queue's tail and count, the batch's count) lie 56 bytes or more from the
// fields a worker reads or writes at every call (the queue's head and
// count taken, the batch's timing and cells), so that no 64-byte line,
// however the struct is aligned, holds one of each. (The batch's count
// beside its timing cost a cache miss per call, its lock, which Assign
// takes, beside its stopped flag one per Assign.) The caller's own fields
// may share lines with each other, as the workers' may.
func TestTheCallersFieldsShareNoLineWithTheWorkers(t *testing.T) {
	type field struct {
		name      string
		off, size uintptr
	}
	apart := func(what string, caller, worker []field) {
		for _, c := range caller {
			for _, w := range worker {
				gap := int(c.off) - int(w.off+w.size) // caller after worker
				if int(w.off) > int(c.off) {
					gap = int(w.off) - int(c.off+c.size)
				}
				if gap < 56 {
					t.Errorf("%s: %s (caller, offset %d) is %d bytes from %s (workers, offset %d), want at least 56", what, c.name, c.off, gap, w.name, w.off)
				}
			}
		}
	}
	var q queue
	apart("queue", []field{
		{"tail", unsafe.Offsetof(q.tail), unsafe.Sizeof(q.tail)},
		{"pushes", unsafe.Offsetof(q.pushes), unsafe.Sizeof(q.pushes)},
	}, []field{
		{"head", unsafe.Offsetof(q.head), unsafe.Sizeof(q.head)},
		{"taken", unsafe.Offsetof(q.taken), unsafe.Sizeof(q.taken)},
	})
	var b funcBatch[int, int]
	apart("funcBatch", []field{
		{"n", unsafe.Offsetof(b.n), unsafe.Sizeof(b.n)},
		{"batch.mu", unsafe.Offsetof(b.mu), unsafe.Sizeof(b.mu)},
		{"batch.assigns", unsafe.Offsetof(b.assigns), unsafe.Sizeof(b.assigns)},
	}, []field{
		{"batch.stopped", unsafe.Offsetof(b.stopped), unsafe.Sizeof(b.stopped)},
		{"batch.failFast", unsafe.Offsetof(b.failFast), unsafe.Sizeof(b.failFast)},
		{"batch.timing", unsafe.Offsetof(b.timing), unsafe.Sizeof(b.timing)},
		{"batch.cells", unsafe.Offsetof(b.cells), unsafe.Sizeof(b.cells)},
		{"batch.watch", unsafe.Offsetof(b.watch), unsafe.Sizeof(b.watch)},
		{"batch.last", unsafe.Offsetof(b.last), unsafe.Sizeof(b.last)},
		{"chunks", unsafe.Offsetof(b.chunks), unsafe.Sizeof(b.chunks)},
	})
}

// TestATakerLeavesTheLinkBetweenNeighboursInASlab takes calls that sit
// side by side in one slab, as a batch's calls do: the links between them
// stay as they were (the taker does not write the line of the call before,
// which the worker that ran it may hold, and the link keeps nothing alive
// that the slab does not), while the link into another slab is cleared.
func TestATakerLeavesTheLinkBetweenNeighboursInASlab(t *testing.T) {
	slabFunc := &funcCore{task: seqFunc.task, callSize: unsafe.Sizeof(seqTask{})}
	slab := make([]seqTask, 4)
	other := newSeqTask(4) // in an allocation of its own
	other.fn = slabFunc
	var q queue
	for i := range slab {
		slab[i].seq, slab[i].fn = i, slabFunc
		q.pushLocked(slab[i].core())
	}
	q.pushLocked(other.core())
	for i := range 5 {
		if tk, ok := q.tryPop(); !ok || tk.(*seqTask).seq != i {
			t.Fatalf("take %d: got %v, %v", i, tk, ok)
		}
	}
	for i := range 3 {
		if got := slab[i].next.Load(); got != &slab[i+1].callCore {
			t.Errorf("call %d: the link to its neighbour in the slab was written (%p)", i, got)
		}
	}
	if slab[3].next.Load() != nil {
		t.Error("the link from the slab's last call to a call of another allocation is still set after the take")
	}
}

// TestPushAndUnlockPushesAsPushLocked pushes the same calls onto two
// queues, one with queue.pushLocked and one with Pool.pushAndUnlock, which
// writes pushLocked's steps out, taking some between pushes and emptying
// and resetting both, as a pool's last worker does: both queues must agree
// at every step (count pushed, length, tail, the order calls are taken),
// so that a change to one copy alone fails here. The pool's one slot is
// counted awake, so that pushAndUnlock wakes no worker for the calls.
func TestPushAndUnlockPushesAsPushLocked(t *testing.T) {
	var q queue
	p := &Pool{limit: 1, awake: 1, procs: 1}
	// seqOf names a call by its number; -1 is no call, -2 a queue's stub
	// (which is no seqTask: its memory past the callCore is not a seq).
	seqOf := func(q *queue, c *callCore) int {
		switch c {
		case nil:
			return -1
		case &q.stub:
			return -2
		}
		return (*seqTask)(unsafe.Pointer(c)).seq
	}
	check := func(step string) {
		t.Helper()
		pq := &p.queue
		if q.pushes != pq.pushes || q.lenLocked() != pq.lenLocked() || seqOf(&q, q.tail) != seqOf(pq, pq.tail) || q.empty() != pq.empty() {
			t.Fatalf("%s: pushLocked's queue has %d pushed, %d queued, tail %d, empty %v; pushAndUnlock's %d, %d, %d, %v",
				step, q.pushes, q.lenLocked(), seqOf(&q, q.tail), q.empty(), pq.pushes, pq.lenLocked(), seqOf(pq, pq.tail), pq.empty())
		}
	}
	seq := 0
	for round := range 3 {
		for i := range 40 {
			q.pushLocked(&newSeqTask(seq).callCore)
			p.mu.Lock()
			p.pushAndUnlock(nil, &newSeqTask(seq).callCore)
			seq++
			check("push")
			if i%3 == 2 {
				a, b := q.pop(), p.queue.pop()
				if seqOf(&q, a) != seqOf(&p.queue, b) {
					t.Fatalf("round %d: pushLocked's queue gave call %d, pushAndUnlock's %d", round, seqOf(&q, a), seqOf(&p.queue, b))
				}
				check("pop")
			}
		}
		for {
			a, b := q.pop(), p.queue.pop()
			if seqOf(&q, a) != seqOf(&p.queue, b) {
				t.Fatalf("round %d: pushLocked's queue gave call %d, pushAndUnlock's %d", round, seqOf(&q, a), seqOf(&p.queue, b))
			}
			check("pop")
			if a == nil {
				break
			}
		}
		q.resetLocked()
		p.queue.resetLocked()
		check("reset")
	}
}
