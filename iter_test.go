package deco_test

import (
	"errors"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/deco-go/deco"
)

// sleeper returns i after sleeping (n-i) ms, so calls finish in reverse.
func sleeper(n int) func(int) (int, error) {
	return func(i int) (int, error) {
		time.Sleep(time.Duration(n-i) * time.Millisecond)
		if i == 1 {
			return i, errOdd
		}
		return i, nil
	}
}

func TestCompletedYieldsInCompletionOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n = 6
		f := deco.ConcurrentResult(sleeper(n), deco.Limit(n))
		for i := range n {
			f.Go(i)
		}
		var order []int
		for i, r := range f.Completed() {
			if r.Value != i {
				t.Fatalf("index %d yielded value %d", i, r.Value)
			}
			if (i == 1) != (r.Err != nil) || (r.Err != nil && !errors.Is(r.Err, errOdd)) {
				t.Fatalf("index %d err %v", i, r.Err)
			}
			order = append(order, i)
		}
		for k, i := range order {
			if i != n-1-k {
				t.Fatalf("completion order %v, want reverse call order", order)
			}
		}
		if got, err := f.Wait(); got != nil || err != nil {
			t.Fatalf("Completed must take the batch: Wait gave %v, %v", got, err)
		}
	})
}

func TestInOrderYieldsInCallOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n = 6
		f := deco.ConcurrentResult(sleeper(n), deco.Limit(n))
		for i := range n {
			f.Go(i)
		}
		next := 0
		for i, r := range f.InOrder() {
			if i != next || r.Value != i {
				t.Fatalf("yielded %d (value %d), want %d", i, r.Value, next)
			}
			next++
		}
		if next != n {
			t.Fatalf("yielded %d of %d", next, n)
		}
	})
}

func TestBreakingOutOfCompletedStopsTheBatch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var ran atomic.Int64
		f := deco.ConcurrentValue(func(i int) int {
			ran.Add(1)
			time.Sleep(time.Millisecond)
			return i
		}, deco.Limit(2))
		for i := range 100 {
			f.Go(i)
		}
		for range f.Completed() {
			break
		}
		// The loop has ended: nothing runs any more.
		after := ran.Load()
		time.Sleep(time.Second)
		if ran.Load() != after || after > 4 {
			t.Fatalf("%d calls ran, %d after the break; queued calls must not start", after, ran.Load())
		}
	})
}

func TestBreakingOutOfInOrderLeavesNoGoroutine(t *testing.T) {
	f := deco.ConcurrentValue(func(i int) int { time.Sleep(50 * time.Microsecond); return i }, deco.Limit(3))
	for i := range 200 {
		f.Go(i)
	}
	for i := range f.InOrder() {
		if i == 5 {
			break
		}
	}
	checkNoWorkers(t, "after the loop")
}

func TestCompletedRepanics(t *testing.T) {
	f := deco.Concurrent(explode)
	for i := range 4 {
		f.Go(i)
	}
	defer func() {
		if _, ok := recover().(*deco.PanicError); !ok {
			t.Fatal("ranging over a panicked call did not re-panic")
		}
	}()
	for range f.Completed() {
	}
}

// TestAPanicInTheBodyOfACompletedLoopLeavesNoWorker: the loop body panics
// and the caller recovers; the batch is over and no worker stays parked.
func TestAPanicInTheBodyOfACompletedLoopLeavesNoWorker(t *testing.T) {
	for _, ordered := range []bool{false, true} {
		f := deco.ConcurrentValue(func(i int) int { time.Sleep(50 * time.Microsecond); return i }, deco.Limit(2))
		for i := range 50 {
			f.Go(i)
		}
		seq := f.Completed()
		if ordered {
			seq = f.InOrder()
		}
		func() {
			defer func() {
				if recover() != "body" {
					t.Fatal("the body's panic was lost")
				}
			}()
			for range seq {
				panic("body")
			}
		}()
		checkNoWorkers(t, "after a panic in the loop body")
	}
}

// TestBreakStartsAtMostLimitMoreCalls: after a break out of Completed, at
// most limit further calls start.
func TestBreakStartsAtMostLimitMoreCalls(t *testing.T) {
	for _, limit := range []int{1, 2, 4} {
		synctest.Test(t, func(t *testing.T) {
			var started atomic.Int64
			f := deco.ConcurrentValue(func(i int) int {
				started.Add(1)
				time.Sleep(time.Millisecond)
				return i
			}, deco.Limit(limit))
			for i := range 200 {
				f.Go(i)
			}
			var atBreak int64
			for range f.Completed() {
				atBreak = started.Load()
				break
			}
			if after := started.Load() - atBreak; after > int64(limit) {
				t.Fatalf("limit %d: %d calls started after the break", limit, after)
			}
		})
	}
}
