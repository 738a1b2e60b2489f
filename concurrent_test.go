package deco_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/deco-go/deco"
)

// inflight counts calls running at once and remembers the most seen.
type inflight struct{ now, max atomic.Int64 }

func (c *inflight) enter() {
	n := c.now.Add(1)
	for {
		m := c.max.Load()
		if n <= m || c.max.CompareAndSwap(m, n) {
			return
		}
	}
}
func (c *inflight) leave() { c.now.Add(-1) }

func TestLimitIsNeverExceeded(t *testing.T) {
	for _, limit := range []int{1, 3, 8} {
		t.Run(fmt.Sprint(limit), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var c inflight
				f := deco.Concurrent(func(int) {
					c.enter()
					defer c.leave()
					time.Sleep(time.Millisecond)
				}, deco.Limit(limit))
				for i := range 100 {
					f.Go(i)
				}
				if _, err := f.Wait(); err != nil {
					t.Fatal(err)
				}
				if got := c.max.Load(); got != int64(limit) {
					t.Fatalf("most calls running at once = %d, want exactly the limit %d", got, limit)
				}
				if s := f.Stats(); s.MaxParallel != limit {
					t.Errorf("Stats().MaxParallel = %d, want %d", s.MaxParallel, limit)
				}
			})
		})
	}
}

func TestDefaultLimitIsGOMAXPROCS(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var c inflight
		f := deco.Concurrent(func(int) {
			c.enter()
			defer c.leave()
			time.Sleep(time.Millisecond)
		})
		for i := range 50 {
			f.Go(i)
		}
		f.Wait()
		if got, want := c.max.Load(), int64(runtime.GOMAXPROCS(0)); got != want {
			t.Fatalf("most calls at once = %d, want GOMAXPROCS = %d", got, want)
		}
	})
}

func TestSharedPoolSharesTheLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var c inflight
		p := deco.NewPool(2)
		body := func(int) {
			c.enter()
			defer c.leave()
			time.Sleep(time.Millisecond)
		}
		a := deco.Concurrent(body, deco.Shared(p))
		b := deco.Concurrent(body, deco.Shared(p))
		for i := range 20 {
			a.Go(i)
			b.Go(i)
		}
		a.Wait()
		b.Wait()
		if got := c.max.Load(); got != 2 {
			t.Fatalf("two functions sharing a pool of 2 ran %d calls at once", got)
		}
	})
}

func TestWaitReturnsResultsInCallOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n = 50
		var finished []int
		done := make(chan int, n)
		square := deco.ConcurrentValue(func(i int) int {
			// Later calls finish first.
			time.Sleep(time.Duration(n-i) * time.Millisecond)
			done <- i
			return i * i
		}, deco.Limit(n))
		for i := range n {
			square.Go(i)
		}
		got, err := square.Wait()
		if err != nil {
			t.Fatal(err)
		}
		close(done)
		for i := range done {
			finished = append(finished, i)
		}
		if finished[0] != n-1 {
			t.Fatalf("test is broken: the last call did not finish first (%v)", finished[:3])
		}
		if len(got) != n {
			t.Fatalf("got %d results, want %d", len(got), n)
		}
		for i, v := range got {
			if v != i*i {
				t.Fatalf("result %d = %d, want %d (results must be in call order)", i, v, i*i)
			}
		}
	})
}

var errOdd = errors.New("odd")

func TestWaitReportsEveryErrorWithItsCall(t *testing.T) {
	f := deco.ConcurrentErr(func(i int) error {
		if i%2 == 1 {
			return fmt.Errorf("input %d: %w", i, errOdd)
		}
		return nil
	}, deco.Name("TestWaitReportsEveryErrorWithItsCall"))
	for i := range 10 {
		f.Go(i)
	}
	_, err := f.Wait()
	if !errors.Is(err, errOdd) {
		t.Fatalf("errors.Is(err, errOdd) = false for %v", err)
	}
	var ce *deco.CallError
	if !errors.As(err, &ce) || ce.Index != 1 || ce.Func != "TestWaitReportsEveryErrorWithItsCall" {
		t.Fatalf("errors.As: first CallError = %+v, want call #1 of the named function", ce)
	}
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok {
		t.Fatalf("error %T does not join the calls' errors", err)
	}
	var indexes []int
	for _, e := range joined.Unwrap() {
		indexes = append(indexes, e.(*deco.CallError).Index)
	}
	if fmt.Sprint(indexes) != "[1 3 5 7 9]" {
		t.Fatalf("failed calls reported = %v, want [1 3 5 7 9] in call order", indexes)
	}
	if !strings.Contains(err.Error(), "call #7: input 7: odd") {
		t.Fatalf("message does not name the call: %q", err)
	}
}

func TestWaitWithNothingStarted(t *testing.T) {
	f := deco.ConcurrentValue(func(i int) int { return i })
	got, err := f.Wait()
	if got != nil || err != nil {
		t.Fatalf("Wait with no calls = %v, %v; want nil, nil", got, err)
	}
}

func TestFuncIsReusableAcrossBatches(t *testing.T) {
	f := deco.ConcurrentValue(func(i int) int { return i + 1 })
	for round := range 3 {
		for i := range 5 {
			f.Go(i * round)
		}
		got, err := f.Wait()
		if err != nil || len(got) != 5 || got[4] != 4*round+1 {
			t.Fatalf("round %d: %v, %v", round, got, err)
		}
	}
	if s := f.Stats(); s.Calls != 15 || s.Done != 15 {
		t.Fatalf("stats after 3 batches = %+v, want 15 calls done", s)
	}
}

func TestEveryShapeRuns(t *testing.T) {
	ctx := context.Background()
	var n atomic.Int64
	inc := func() { n.Add(1) }
	a := deco.Concurrent(func(int) { inc() })
	b := deco.ConcurrentErr(func(int) error { inc(); return nil })
	c := deco.ConcurrentValue(func(i int) int { inc(); return i })
	d := deco.ConcurrentResult(func(i int) (int, error) { inc(); return i, nil })
	e := deco.ConcurrentCtx(func(context.Context, int) { inc() })
	f := deco.ConcurrentCtxErr(func(context.Context, int) error { inc(); return nil })
	g := deco.ConcurrentCtxValue(func(_ context.Context, i int) int { inc(); return i })
	h := deco.ConcurrentCtxResult(func(_ context.Context, i int) (int, error) { inc(); return i, nil })
	a.Go(1)
	b.Go(1)
	c.Go(1)
	d.Go(1)
	e.GoContext(ctx, 1)
	f.GoContext(ctx, 1)
	g.GoContext(ctx, 1)
	h.GoContext(ctx, 1)
	a.Wait()
	b.Wait()
	c.Wait()
	d.Wait()
	e.Wait()
	f.Wait()
	g.Wait()
	h.Wait()
	if n.Load() != 8 {
		t.Fatalf("%d of 8 shapes ran", n.Load())
	}
}

func TestNoGoroutineIsLeftAfterWait(t *testing.T) {
	f := deco.Concurrent(func(int) { time.Sleep(100 * time.Microsecond) }, deco.Limit(4))
	for i := range 100 {
		f.Go(i)
	}
	if workerGoroutines() == 0 {
		t.Fatal("test is broken: no worker seen while calls run")
	}
	f.Wait()
	checkNoWorkers(t, "right after Wait")
}

// namedInflight counts the running calls of named.
var namedInflight inflight

var named = deco.ConcurrentValue(func(i int) int {
	namedInflight.enter()
	defer namedInflight.leave()
	time.Sleep(time.Millisecond)
	return i * 2
}, deco.Name("concurrent_test.named"), deco.Limit(1))

func TestWithKeepsTheNameAndChangesTheSettings(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		namedInflight = inflight{}
		var rec deco.Recorder
		wide := named.With(deco.Limit(4), deco.Record(&rec))
		if wide.Name() != "concurrent_test.named" {
			t.Fatalf("With lost the name: %q", wide.Name())
		}
		for i := range 8 {
			wide.Go(i)
		}
		got, _ := wide.Wait()
		if got[7] != 14 || rec.Len() != 8 {
			t.Fatalf("results %v, %d recorded", got, rec.Len())
		}
		if namedInflight.max.Load() != 4 || wide.Stats().MaxParallel != 4 {
			t.Fatalf("With(Limit(4)) ran %d at once", namedInflight.max.Load())
		}
		if wide.Stats().Calls != 8 || named.Stats().Calls != 0 {
			t.Fatalf("stats are not separate: wide %d calls, named %d", wide.Stats().Calls, named.Stats().Calls)
		}
		// Without a Limit, the original's limit carries over.
		namedInflight = inflight{}
		same := named.With(deco.PanicAsError())
		for i := range 4 {
			same.Go(i)
		}
		same.Wait()
		if namedInflight.max.Load() != 1 {
			t.Fatalf("With() without Limit ran %d at once, want the original's 1", namedInflight.max.Load())
		}
	})
	mustPanic(t, "keeps its name", func() { named.With(deco.Name("other")) })
	mustPanic(t, "Limit(0)", func() { named.With(deco.Limit(0)) })
}

func TestGoContextWithADoneContextFailsAtOnce(t *testing.T) {
	var ran atomic.Int64
	f := deco.Concurrent(func(int) { ran.Add(1) })
	ctx, cancel := context.WithCancelCause(t.Context())
	cause := errors.New("shutting down")
	cancel(cause)
	if _, err := f.GoContext(ctx, 1).Wait(); !errors.Is(err, cause) {
		t.Fatalf("err = %v, want the context's cause", err)
	}
	f.Wait()
	if ran.Load() != 0 {
		t.Fatal("a call with a done context ran")
	}
}
