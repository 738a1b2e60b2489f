package deco

import (
	"sync"
	"sync/atomic"
	"testing"
)

// seqTask is a task that only carries its push order.
type seqTask struct {
	callCore
	seq int
}

func (t *seqTask) run(*worker)     {}
func (t *seqTask) core() *callCore { return &t.callCore }

// TestQueueTakesEveryCallOnceInPushOrder pushes far more calls than the
// ring holds, under a lock as pools do, while four goroutines take them
// without it: every call is taken exactly once, each taker sees calls in
// push order, and calls spilled out of the full ring come back in order.
func TestQueueTakesEveryCallOnceInPushOrder(t *testing.T) {
	const n = 20 * ringSize
	var (
		mu      sync.Mutex
		q       queue
		pushed  atomic.Bool
		spilled atomic.Bool
		taken   [n]atomic.Int32
		wg      sync.WaitGroup
	)
	pop := func() (task, bool) {
		for {
			if t, ok := q.tryPop(); ok {
				return t, true
			}
			if q.spilled.Load() == 0 {
				return nil, false
			}
			mu.Lock()
			q.refillLocked()
			mu.Unlock()
		}
	}
	for range 4 {
		wg.Go(func() {
			last := -1
			for {
				done := pushed.Load() // before the pop: a pop after it sees every push
				tk, ok := pop()
				if !ok {
					if done {
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
		q.pushLocked(&seqTask{seq: i})
		if q.spill.n > 0 {
			spilled.Store(true)
		}
		mu.Unlock()
	}
	pushed.Store(true)
	wg.Wait()
	for i := range n {
		if got := taken[i].Load(); got != 1 {
			t.Fatalf("call %d taken %d times, want once", i, got)
		}
	}
	if !spilled.Load() {
		t.Log("the ring never filled: the spill path was not exercised this run")
	}
	mu.Lock()
	defer mu.Unlock()
	if !q.empty() || q.lenLocked() != 0 {
		t.Fatalf("queue not empty after every call was taken: %d left", q.lenLocked())
	}
}

// TestQueueSpillsAFullRingInOrder fills the ring and more with no taker,
// then takes everything: the spilled calls come after the ring's, in push
// order, and pushes made while calls are spilled queue behind them.
func TestQueueSpillsAFullRingInOrder(t *testing.T) {
	var q queue
	next := 0
	push := func(k int) {
		for range k {
			q.pushLocked(&seqTask{seq: next})
			next++
		}
	}
	want := 0
	take := func(k int) {
		for range k {
			tk, ok := q.tryPop()
			if !ok {
				if q.spilled.Load() == 0 {
					t.Fatalf("queue empty at call %d of %d", want, next)
				}
				q.refillLocked()
				tk, ok = q.tryPop()
			}
			if !ok {
				t.Fatalf("no call after a refill at call %d", want)
			}
			if s := tk.(*seqTask).seq; s != want {
				t.Fatalf("took call %d, want %d", s, want)
			}
			want++
		}
	}
	push(3 * ringSize)
	if q.spill.n != 2*ringSize || q.lenLocked() != 3*ringSize {
		t.Fatalf("spilled %d, queued %d; want %d spilled of %d", q.spill.n, q.lenLocked(), 2*ringSize, 3*ringSize)
	}
	take(ringSize / 2)
	push(10) // behind the spilled calls, though the ring has room
	if q.spill.n != 2*ringSize+10 {
		t.Fatalf("a push went into the ring past %d spilled calls", q.spill.n)
	}
	take(next - want)
	if _, ok := q.tryPop(); ok || !q.empty() {
		t.Fatal("queue not empty after every call was taken")
	}
}

// TestFifoKeepsOrderAcrossChunks pushes and pops in uneven runs that cross
// chunk boundaries and empty the fifo now and then, against a slice.
func TestFifoKeepsOrderAcrossChunks(t *testing.T) {
	var r fifo
	var model []int
	next := 0
	for round, run := range []int{1, 127, 128, 129, 300, 5, 0, 256, 1000, 3} {
		for range run {
			r.push(&seqTask{seq: next})
			model = append(model, next)
			next++
		}
		take := len(model) / 2
		if round%3 == 2 {
			take = len(model) // empty it
		}
		for range take {
			if got := r.peek().(*seqTask).seq; got != model[0] {
				t.Fatalf("round %d: peek %d, want %d", round, got, model[0])
			}
			r.pop()
			model = model[1:]
		}
		if r.n != len(model) {
			t.Fatalf("round %d: n = %d, want %d", round, r.n, len(model))
		}
	}
}
