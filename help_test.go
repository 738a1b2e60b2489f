package deco_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/deco-go/deco"
)

// within runs fn and fails the test if it has not returned after d: this
// deadline, not go test -timeout, is what catches a deadlock. A panic in fn
// is re-raised in the test's goroutine.
func within(t *testing.T, d time.Duration, what string, fn func()) {
	t.Helper()
	done := make(chan any, 1)
	go func() {
		defer func() { done <- recover() }()
		fn()
	}()
	select {
	case r := <-done:
		if r != nil {
			panic(r)
		}
	case <-time.After(d):
		t.Fatalf("%s: deadlock, still waiting after %v", what, d)
	}
}

// deadlockDeadline is far above what any shape takes (milliseconds) and far
// below go test's own timeout.
const deadlockDeadline = 20 * time.Second

// busyCalls counts the calls that run user code at once: a call that blocks
// in a deco wait leaves the count while it waits, since it lends its slot.
// Its maximum must never exceed the pool's limit.
type busyCalls struct{ inflight }

func (b *busyCalls) wait(fn func()) {
	b.leave()
	defer b.enter()
	fn()
}

// A nesting shape builds a tree of the given depth, three children per
// node, on pools of the given limit, and returns the number of leaves.
type nestingShape func(t *testing.T, limit, depth int, busy *busyCalls) int

const fanout = 3

func leaf(busy *busyCalls) int {
	time.Sleep(20 * time.Microsecond)
	return 1
}

var nestingShapes = map[string]nestingShape{
	// The first thing a conc or errgroup user writes: Future.Wait on calls
	// started with the task's context.
	"Future.Wait/GoContext": func(t *testing.T, limit, depth int, busy *busyCalls) int {
		p := deco.NewPool(limit)
		var node *deco.Func[int, int]
		node = deco.ConcurrentCtxResult(func(ctx context.Context, d int) (int, error) {
			busy.enter()
			defer busy.leave()
			if d == 0 {
				return leaf(busy), nil
			}
			var futs []*deco.Future[int]
			for range fanout {
				futs = append(futs, node.GoContext(ctx, d-1))
			}
			sum := 0
			for _, f := range futs {
				var v int
				var err error
				busy.wait(func() { v, err = f.Wait() })
				if err != nil {
					return 0, err
				}
				sum += v
			}
			return sum, nil
		}, deco.Shared(p))
		n, err := node.Go(depth).Wait()
		mustNil(t, err)
		_, err = node.Wait()
		mustNil(t, err)
		return n
	},
	// The same without a context: c.Go(x).Wait() inside a task.
	"Future.Wait/Go": func(t *testing.T, limit, depth int, busy *busyCalls) int {
		var node *deco.Func[int, int]
		node = deco.ConcurrentResult(func(d int) (int, error) {
			busy.enter()
			defer busy.leave()
			if d == 0 {
				return leaf(busy), nil
			}
			sum := 0
			for range fanout {
				var v int
				var err error
				busy.wait(func() { v, err = node.Go(d - 1).Wait() })
				if err != nil {
					return 0, err
				}
				sum += v
			}
			return sum, nil
		}, deco.Limit(limit))
		n, err := node.Go(depth).Wait()
		mustNil(t, err)
		node.Wait()
		return n
	},
	// Func.Wait of a batch started inside a task, on the task's own pool.
	"Func.Wait": func(t *testing.T, limit, depth int, busy *busyCalls) int {
		p := deco.NewPool(limit)
		var node func(d int) (int, error)
		node = func(d int) (int, error) {
			busy.enter()
			defer busy.leave()
			if d == 0 {
				return leaf(busy), nil
			}
			kids := deco.ConcurrentResult(node, deco.Shared(p))
			for range fanout {
				kids.Go(d - 1)
			}
			var got []int
			var err error
			busy.wait(func() { got, err = kids.Wait() })
			sum := 0
			for _, v := range got {
				sum += v
			}
			return sum, err
		}
		root := deco.ConcurrentResult(node, deco.Shared(p))
		root.Go(depth)
		got, err := root.Wait()
		mustNil(t, err)
		return got[0]
	},
	// Completed inside a task, on the task's own pool.
	"Completed": func(t *testing.T, limit, depth int, busy *busyCalls) int {
		p := deco.NewPool(limit)
		var node func(d int) (int, error)
		node = func(d int) (int, error) {
			busy.enter()
			defer busy.leave()
			if d == 0 {
				return leaf(busy), nil
			}
			kids := deco.ConcurrentResult(node, deco.Shared(p))
			for range fanout {
				kids.Go(d - 1)
			}
			sum := 0
			busy.wait(func() {
				for _, r := range kids.InOrder() {
					sum += r.Value
				}
			})
			return sum, nil
		}
		root := deco.ConcurrentResult(node, deco.Shared(p))
		root.Go(depth)
		sum := 0
		for _, r := range root.Completed() {
			mustNil(t, r.Err)
			sum += r.Value
		}
		return sum
	},
	// Two functions with pools of their own that call each other through
	// Synchronized and AssignToContext.
	"mutual recursion/Synchronized": func(t *testing.T, limit, depth int, busy *busyCalls) int {
		var even, odd *deco.Func[int, int]
		body := func(other **deco.Func[int, int]) func(context.Context, int) (int, error) {
			return func(ctx context.Context, d int) (int, error) {
				busy.enter()
				defer busy.leave()
				if d == 0 {
					return leaf(busy), nil
				}
				kids := make([]int, fanout)
				var err error
				busy.wait(func() {
					err = deco.Synchronized(ctx, func(ctx context.Context) error {
						for i := range kids {
							deco.AssignToContext(ctx, &kids[i], *other, d-1)
						}
						return nil
					})
				})
				return kids[0] + kids[1] + kids[2], err
			}
		}
		even = deco.ConcurrentCtxResult(body(&odd), deco.Limit(limit))
		odd = deco.ConcurrentCtxResult(body(&even), deco.Limit(limit))
		n, err := even.Go(depth).Wait()
		mustNil(t, err)
		even.Wait()
		return n
	},
	// The same through Future.Wait without a context: each pool is full
	// of calls that wait for calls queued on the other.
	"mutual recursion/Future.Wait": func(t *testing.T, limit, depth int, busy *busyCalls) int {
		var even, odd *deco.Func[int, int]
		body := func(other **deco.Func[int, int]) func(int) (int, error) {
			return func(d int) (int, error) {
				busy.enter()
				defer busy.leave()
				if d == 0 {
					return leaf(busy), nil
				}
				var futs []*deco.Future[int]
				for range fanout {
					futs = append(futs, (*other).Go(d-1))
				}
				sum := 0
				for _, f := range futs {
					busy.wait(func() {
						v, _ := f.Wait()
						sum += v
					})
				}
				return sum, nil
			}
		}
		even = deco.ConcurrentResult(body(&odd), deco.Limit(limit))
		odd = deco.ConcurrentResult(body(&even), deco.Limit(limit))
		for range limit + 1 { // more roots than slots: both pools fill up
			even.Go(depth)
		}
		got, err := even.Wait()
		mustNil(t, err)
		// Calls started by one function's tasks after main took its batch
		// form new batches: WaitAll flushes them all.
		mustNil(t, deco.WaitAll())
		return got[0]
	},
	// f.Go without a context inside a task of a function with Queue(1):
	// a full queue must not block a caller that holds a slot.
	"Queue(1)/Go": func(t *testing.T, limit, depth int, busy *busyCalls) int {
		var node *deco.Func[int, int]
		node = deco.ConcurrentResult(func(d int) (int, error) {
			busy.enter()
			defer busy.leave()
			if d == 0 {
				return leaf(busy), nil
			}
			var futs []*deco.Future[int]
			busy.wait(func() {
				for range fanout {
					futs = append(futs, node.Go(d-1))
				}
			})
			sum := 0
			for _, f := range futs {
				busy.wait(func() {
					v, _ := f.Wait()
					sum += v
				})
			}
			return sum, nil
		}, deco.Limit(limit), deco.Queue(1))
		n, err := node.Go(depth).Wait()
		mustNil(t, err)
		node.Wait()
		return n
	},
}

func mustNil(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Error(err)
	}
}

// TestEveryNestedWaitShapeFinishes proves join-by-helping for every shape
// of nested wait, at limits 1 and 2, three levels deep: none deadlocks, and
// the limit still bounds the calls that run user code at once.
func TestEveryNestedWaitShapeFinishes(t *testing.T) {
	for name, shape := range nestingShapes {
		for _, limit := range []int{1, 2} {
			t.Run(fmt.Sprintf("%s/limit=%d", name, limit), func(t *testing.T) {
				const depth = 3
				var busy busyCalls
				var leaves int
				within(t, deadlockDeadline, name, func() { leaves = shape(t, limit, depth, &busy) })
				want := 1
				for range depth {
					want *= fanout
				}
				if leaves != want {
					t.Fatalf("%d leaves, want %d", leaves, want)
				}
				// Two pools in the mutual-recursion shapes.
				most := int64(limit)
				if strings.HasPrefix(name, "mutual") {
					most = int64(2 * limit)
				}
				if got := busy.max.Load(); got > most {
					t.Fatalf("%d calls ran user code at once, above the limit %d", got, most)
				}
				checkNoWorkers(t, "after the tree")
			})
		}
	}
}

// A goroutine that does not hold a slot never runs calls itself: a
// goroutine started by a task waits like any other, and the limit holds.
func TestAGoroutineOfATaskDoesNotBorrowItsSlot(t *testing.T) {
	var busy inflight
	var node *deco.Func[int, int]
	node = deco.ConcurrentResult(func(d int) (int, error) {
		busy.enter()
		defer busy.leave()
		if d == 0 {
			time.Sleep(time.Millisecond)
			return 1, nil
		}
		// The task keeps its slot busy while a goroutine of its own waits.
		fut := node.Go(d - 1)
		got := make(chan int)
		go func() {
			v, _ := fut.Wait()
			got <- v
		}()
		return <-got, nil
	}, deco.Limit(2))
	within(t, deadlockDeadline, "goroutine wait", func() {
		node.Go(1)
		node.Wait()
		deco.WaitAll() // the child may have joined a later batch
	})
	if busy.max.Load() > 2 {
		t.Fatalf("%d calls at once at limit 2", busy.max.Load())
	}
}

// TestCallsRunInlineAreCountedInStats: at limit 1 every inner call runs
// inline in its waiting outer call's slot, through Synchronized and
// through Future.Wait; their stats (settled per wait, not per call) still
// count each call once and time each 1 s sleep.
func TestCallsRunInlineAreCountedInStats(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		pool := deco.NewPool(1)
		inner := deco.ConcurrentCtx(func(context.Context, int) { time.Sleep(time.Second) }, deco.Shared(pool))
		outer := deco.ConcurrentCtxErr(func(ctx context.Context, o int) error {
			if o%2 == 0 {
				return deco.Synchronized(ctx, func(ctx context.Context) error {
					for j := range 10 {
						inner.GoContext(ctx, j)
					}
					return nil
				})
			}
			for j := range 10 {
				if _, err := inner.GoContext(ctx, j).Wait(); err != nil {
					return err
				}
			}
			return nil
		}, deco.Shared(pool))
		for o := range 10 {
			outer.Go(o)
		}
		if _, err := outer.Wait(); err != nil {
			t.Fatal(err)
		}
		inner.Wait()
		s := inner.Stats()
		if s.Calls != 100 || s.Done != 100 || s.Running != 0 {
			t.Fatalf("inner stats %+v, want 100 calls done", s)
		}
		if s.WouldHaveTaken != 100*time.Second {
			t.Fatalf("inner calls would have taken %v, want 100 s", s.WouldHaveTaken)
		}
	})
}
