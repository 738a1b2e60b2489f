package deco_test

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/deco-go/deco"
)

func TestSynchronizedWaitsForEveryCallStartedInside(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var ran atomic.Int64
		slow := deco.ConcurrentCtx(func(ctx context.Context, d time.Duration) {
			time.Sleep(d)
			ran.Add(1)
		})
		err := deco.Synchronized(t.Context(), func(ctx context.Context) error {
			for i := range 10 {
				slow.GoContext(ctx, time.Duration(i)*time.Millisecond)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if ran.Load() != 10 {
			t.Fatalf("Synchronized returned with %d of 10 calls done", ran.Load())
		}
	})
}

func TestSynchronizedWaitsForGrandchildren(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var leaves atomic.Int64
		var spawn *deco.Func[int, struct{}]
		spawn = deco.ConcurrentCtx(func(ctx context.Context, depth int) {
			if depth == 0 {
				time.Sleep(time.Millisecond)
				leaves.Add(1)
				return
			}
			// Children started with the call's own context belong to the
			// enclosing scope: no wait here.
			spawn.GoContext(ctx, depth-1)
			spawn.GoContext(ctx, depth-1)
		}, deco.Limit(2))
		deco.Synchronized(t.Context(), func(ctx context.Context) error {
			spawn.GoContext(ctx, 4)
			return nil
		})
		if leaves.Load() != 16 {
			t.Fatalf("Synchronized returned after %d of 16 grandchildren", leaves.Load())
		}
	})
}

// TestNestingDepth3AtLimit1Finishes nests scopes three deep on one pool of
// one slot: every call waits for its children while holding the only slot.
func TestNestingDepth3AtLimit1Finishes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var c inflight
		var tree *deco.Func[int, int]
		tree = deco.ConcurrentCtxResult(func(ctx context.Context, depth int) (int, error) {
			if depth == 0 {
				c.enter()
				defer c.leave()
				time.Sleep(time.Millisecond)
				return 1, nil
			}
			kids := make([]int, 3)
			err := deco.Synchronized(ctx, func(ctx context.Context) error {
				for i := range kids {
					deco.AssignToContext(ctx, &kids[i], tree, depth-1)
				}
				return nil
			})
			return kids[0] + kids[1] + kids[2], err
		}, deco.Limit(1))
		fut := tree.Go(3)
		got, err := fut.Wait()
		if err != nil {
			t.Fatal(err)
		}
		if got != 27 {
			t.Fatalf("depth-3 tree of 3 children counted %d leaves, want 27", got)
		}
		tree.Wait()
		if c.max.Load() != 1 {
			t.Fatalf("%d leaves ran at once at limit 1", c.max.Load())
		}
	})
}

func TestSynchronizedAppliesAssignmentsInCallOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// Two calls per key; the earlier call finishes later.
		double := deco.ConcurrentCtxValue(func(ctx context.Context, i int) int {
			time.Sleep(time.Duration(10-i) * time.Millisecond)
			return i
		}, deco.Limit(10))
		results := map[string]int{}
		err := deco.Synchronized(t.Context(), func(ctx context.Context) error {
			for i := range 10 {
				key := []string{"a", "b"}[i%2]
				deco.AssignContext(ctx, results, key, double, i)
			}
			if len(results) != 0 {
				return errors.New("results written before the scope synchronised")
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if results["a"] != 8 || results["b"] != 9 {
			t.Fatalf("results = %v, want the later call in call order to win: a=8 b=9", results)
		}
	})
}

func TestSynchronizedJoinsBodyAndCallErrors(t *testing.T) {
	bodyErr := errors.New("body")
	f := deco.ConcurrentCtxErr(func(ctx context.Context, i int) error {
		if i == 2 {
			return errOdd
		}
		return nil
	})
	err := deco.Synchronized(t.Context(), func(ctx context.Context) error {
		for i := range 4 {
			f.GoContext(ctx, i)
		}
		return bodyErr
	})
	if !errors.Is(err, bodyErr) || !errors.Is(err, errOdd) {
		t.Fatalf("err = %v, want the body's and call #2's errors", err)
	}
	var ce *deco.CallError
	if !errors.As(err, &ce) || ce.Index != 2 {
		t.Fatalf("CallError = %+v, want index 2", ce)
	}
}

// Also under a parent that is never cancelled, where the scope's calls
// learn that they must not start from the scope's stopped flag alone.
func TestSynchronizedFailFastStopsQueuedCalls(t *testing.T) {
	for _, never := range []bool{false, true} {
		synctest.Test(t, func(t *testing.T) { testFailFastStopsQueuedCalls(t, never) })
	}
}

func testFailFastStopsQueuedCalls(t *testing.T, neverCancelled bool) {
	parent := t.Context()
	if neverCancelled {
		parent = context.Background()
	}
	var started atomic.Int64
	f := deco.ConcurrentCtxErr(func(ctx context.Context, i int) error {
		started.Add(1)
		if i == 0 {
			return errOdd
		}
		<-ctx.Done() // running calls see the cancellation
		return ctx.Err()
	}, deco.Limit(2))
	err := deco.Synchronized(parent, func(ctx context.Context) error {
		for i := range 10 {
			f.GoContext(ctx, i)
		}
		return nil
	}, deco.FailFast())
	if !errors.Is(err, errOdd) || !errors.Is(err, deco.ErrCancelled) {
		t.Fatalf("never-cancelled parent %v: err = %v, want the first failure and cancelled calls", neverCancelled, err)
	}
	if n := started.Load(); n > 2 {
		t.Fatalf("never-cancelled parent %v: %d calls started after the first failure at limit 2; queued calls must not start", neverCancelled, n)
	}
}

func TestSynchronizedRefusesFunctionOptions(t *testing.T) {
	err := deco.Synchronized(t.Context(), func(context.Context) error {
		t.Fatal("body ran despite a bad option")
		return nil
	}, deco.Limit(3))
	if err == nil || !strings.Contains(err.Error(), "Limit") {
		t.Fatalf("err = %v, want it to name Limit", err)
	}
}

func TestSynchronizedRepanicsAfterTheCallsAreDone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var done atomic.Int64
		f := deco.ConcurrentCtx(func(ctx context.Context, i int) {
			if i == 1 {
				panic("boom")
			}
			time.Sleep(time.Millisecond)
			done.Add(1)
		})
		defer func() {
			pe, ok := recover().(*deco.PanicError)
			if !ok || pe.Value != "boom" {
				t.Fatalf("recovered %v, want the task's *PanicError", pe)
			}
			if done.Load() != 4 {
				t.Fatalf("re-panicked with %d of 4 other calls done", done.Load())
			}
		}()
		deco.Synchronized(t.Context(), func(ctx context.Context) error {
			for i := range 5 {
				f.GoContext(ctx, i)
			}
			return nil
		})
	})
}

// A waiting call helps with its scope's calls while other calls keep
// adding grandchildren to that scope: a call must be complete (owner,
// index, sample) before the helper can see it.
func TestNestedScopeTakesCallsAddedWhileItHelps(t *testing.T) {
	pool := deco.NewPool(2)
	var leaves atomic.Int64
	var spawn *deco.Func[int, struct{}]
	spawn = deco.ConcurrentCtx(func(ctx context.Context, depth int) {
		if depth == 0 {
			leaves.Add(1)
			return
		}
		for range 4 {
			spawn.GoContext(ctx, depth-1) // joins the enclosing scope
		}
	}, deco.Shared(pool))
	outer := deco.ConcurrentCtxErr(func(ctx context.Context, _ int) error {
		return deco.Synchronized(ctx, func(ctx context.Context) error {
			for range 4 {
				spawn.GoContext(ctx, 3)
			}
			return nil
		})
	}, deco.Shared(pool))
	for i := range 4 {
		outer.Go(i)
	}
	if _, err := outer.Wait(); err != nil {
		t.Fatal(err)
	}
	if got := leaves.Load(); got != 4*4*64 {
		t.Fatalf("%d leaves, want %d", got, 4*4*64)
	}
}

// TestAContextKeptFromAFinishedScopeFailsClearly: a call started with the
// context of a Synchronized scope that has returned fails with an error
// naming it, and leaves no worker parked on the pool.
func TestAContextKeptFromAFinishedScopeFailsClearly(t *testing.T) {
	p := deco.NewPool(2)
	f := deco.ConcurrentCtx(func(context.Context, int) {}, deco.Shared(p))
	var kept context.Context
	deco.Synchronized(t.Context(), func(ctx context.Context) error {
		kept = ctx
		f.GoContext(ctx, 0)
		return nil
	})
	_, err := f.GoContext(kept, 1).Wait()
	if err == nil || !strings.Contains(err.Error(), "Synchronized") {
		t.Fatalf("err = %v, want one naming the finished scope", err)
	}
	f.Go(2)
	f.Wait()
	checkNoWorkers(t, "after a call with a kept scope context")
}

// TestGoexitInASynchronizedBodyStillWaitsForItsCalls: a body that ends its
// goroutine (t.FailNow in a test) leaves no call unwaited and no worker
// parked.
func TestGoexitInASynchronizedBodyStillWaitsForItsCalls(t *testing.T) {
	var ran atomic.Int64
	f := deco.ConcurrentCtx(func(context.Context, int) {
		time.Sleep(time.Millisecond)
		ran.Add(1)
	}, deco.Limit(2))
	done := make(chan struct{})
	go func() {
		defer close(done)
		deco.Synchronized(context.Background(), func(ctx context.Context) error {
			for i := range 4 {
				f.GoContext(ctx, i)
			}
			runtime.Goexit()
			return nil
		})
	}()
	<-done
	if ran.Load() != 4 {
		t.Fatalf("the goroutine ended with %d of 4 calls done", ran.Load())
	}
	checkNoWorkers(t, "after a Goexit in a scope's body")
}

// A scope hands out each function's calls from a slab of that function's
// own calls, also when the calls of two functions of different sizes
// alternate, and when a function's calls come in runs: every call runs
// once, with its own argument. (A scope that took one function's call
// from the other's slab would overwrite queued calls of the other.)
func TestAScopeKeepsEachFunctionsCallsApart(t *testing.T) {
	type wide [5]int // a call of wide is larger than one of int
	const n = 600    // several slabs of each
	small := make([]atomic.Int32, n)
	large := make([]atomic.Int32, n)
	pool := deco.NewPool(2)
	f := deco.Concurrent(func(i int) { small[i].Add(1) }, deco.Shared(pool))
	g := deco.Concurrent(func(w wide) {
		if w[1] != w[0]*3 || w[4] != -w[0] {
			t.Errorf("call of g with %v: not the argument it was started with", w)
			return
		}
		large[w[0]].Add(1)
	}, deco.Shared(pool))
	err := deco.Synchronized(context.Background(), func(ctx context.Context) error {
		startF := func(i int) { f.GoContext(ctx, i) }
		startG := func(i int) { g.GoContext(ctx, wide{i, i * 3, 0, 0, -i}) }
		for block := 0; block < n; block += 50 {
			if block%100 == 0 { // alternating
				for i := block; i < block+50; i++ {
					startF(i)
					startG(i)
				}
				continue
			}
			for i := block; i < block+50; i++ { // in runs
				startF(i)
			}
			for i := block; i < block+50; i++ {
				startG(i)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if a, b := small[i].Load(), large[i].Load(); a != 1 || b != 1 {
			t.Fatalf("argument %d: f ran %d times, g %d; want 1 and 1", i, a, b)
		}
	}
}

// A scope whose waiter is not a worker (here the test's goroutine) keeps
// no list of its calls, so a call is garbage once it is done, as in a
// function's batch: 100,000 finished calls of a scope still open keep
// ~0 bytes each, where listing them kept every call (64 bytes) and its
// place in the list (8) until the scope returned. With StatsTo the scope
// lists its calls to count them, and says how many it ran.
func TestAScopeWhoseWaiterIsNoWorkerKeepsNoFinishedCall(t *testing.T) {
	const n = 100_000
	var ran sync.WaitGroup
	f := deco.Concurrent(func(int) { ran.Done() })
	for _, stats := range []bool{false, true} {
		var st deco.Stats
		var opts []deco.Option
		if stats {
			opts = append(opts, deco.StatsTo(&st))
		}
		var kept float64
		err := deco.Synchronized(context.Background(), func(ctx context.Context) error {
			ran.Add(n)
			before := liveHeap()
			for i := range n {
				f.GoContext(ctx, i)
			}
			ran.Wait() // every task has returned; a call or two may still be finishing
			kept = float64(liveHeap()-before) / n
			return nil
		}, opts...)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case !stats && kept > 16:
			t.Errorf("the scope keeps %.0f bytes per finished call until it returns, want at most 16", kept)
		case stats && st.Calls != n:
			t.Errorf("with StatsTo: Stats.Calls = %d, want %d", st.Calls, n)
		case stats && st.Done != n:
			t.Errorf("with StatsTo: Stats.Done = %d, want %d", st.Done, n)
		}
	}
}
