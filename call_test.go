package deco_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
	"weak"

	"github.com/deco-go/deco"
)

func TestGoexitInATaskFailsTheCallOnly(t *testing.T) {
	f := deco.ConcurrentErr(func(i int) error {
		if i == 3 {
			runtime.Goexit()
		}
		return nil
	}, deco.Limit(1))
	for i := range 10 {
		f.Go(i)
	}
	_, err := f.Wait()
	var ce *deco.CallError
	if !errors.As(err, &ce) || ce.Index != 3 || !strings.Contains(err.Error(), "Goexit") {
		t.Fatalf("err = %v, want call #3 failed by Goexit", err)
	}
	if s := f.Stats(); s.Done != 10 {
		t.Fatalf("%d calls done, want 10", s.Done)
	}
}

// TestACallOfANoOpFuncTakes56Bytes measures the bytes allocated per call
// of a no-op func(int) over a batch, Wait included: the call (56 bytes, a
// slab's share), its result cell, the extra part of the 1 in 64 calls
// stamped for the queue-wait sample and the batch's share. A call found
// its cell through a pointer of its own before, 8 bytes more, and kept
// its queue stamp in a field of its own, 8 bytes more again (68.7
// bytes a call measured then, 61.6 now).
func TestACallOfANoOpFuncTakes56Bytes(t *testing.T) {
	const n = 1 << 16
	bytes, _ := allocsOfANoOpBatch(t, n)
	perCall := float64(bytes) / n
	t.Logf("%.1f bytes per call", perCall)
	if perCall > 64 {
		t.Errorf("%.1f bytes allocated per call of a no-op func(int), want at most 64 (a call of 56 bytes, its cell, a sampled call's extra part and the batch's share)", perCall)
	}
}

// TestABatchAllocatesAboutOneObjectPerSlabAndChunk counts the allocations
// of a batch of 16,384 calls of a no-op func(int), Wait included: one per
// slab of calls (146 calls each) and one per chunk of 256 result cells,
// 7 for the extra parts of the 312 calls stamped for the queue-wait sample
// (slabs of 4, 8, ... 64, then of 102), and a handful per batch. (Publishing the list of
// chunks allocated its header anew at every chunk before: one allocation
// more per 256 calls.)
func TestABatchAllocatesAboutOneObjectPerSlabAndChunk(t *testing.T) {
	const n = 64 * 256
	_, got := allocsOfANoOpBatch(t, n)
	const slabs, chunks = n/146 + 1 + 7, n / 256
	t.Logf("%d allocations: %d slabs, %d chunks of cells and %d more", got, slabs, chunks, int(got)-slabs-chunks)
	if want := uint64(slabs + chunks + 48); got > want {
		t.Errorf("%d allocations for a batch of %d calls, want at most %d (%d slabs of calls and extras, %d chunks of cells and 48 more)", got, n, want, slabs, chunks)
	}
}

// allocsOfANoOpBatch runs a batch of n calls of a new no-op func(int),
// Wait included, and returns the bytes and the objects it allocated.
func allocsOfANoOpBatch(t *testing.T, n int) (bytes, objects uint64) {
	t.Helper()
	f := deco.Concurrent(func(int) {})
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range n {
		f.Go(i)
	}
	if _, err := f.Wait(); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc, after.Mallocs - before.Mallocs
}

// A call that succeeds with no OnProgress, no recorder and no context of
// its own takes the worker's common path (call.run), which still counts
// where an executor said it ran: the extra part the executor made while
// the call ran sends it to finish's general case.
func TestStatsNameTheWorkersOfPlainCalls(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		exec := namedWorkers{worker: byLane, deliver: time.Millisecond}
		f := deco.Concurrent(func(int) { time.Sleep(time.Second) },
			deco.Name("TestStatsNameTheWorkersOfPlainCalls"), deco.On(exec), deco.Limit(2))
		for i := range 6 {
			f.Go(i)
		}
		if _, err := f.Wait(); err != nil {
			t.Fatal(err)
		}
		var calls int64
		for _, w := range f.Stats().Workers {
			calls += w.Calls
		}
		if s := f.Stats(); len(s.Workers) != 2 || calls != 6 {
			t.Fatalf("workers %+v, want 6 calls on 2", s.Workers)
		}
	})
}

// The common paths of starting and running a call are written out beside
// the general ones they shortcut: Func.Go's private path beside launch,
// call.run's common case beside runSlow and finish, Pool.pushAndUnlock
// beside queue.pushLocked (TestPushAndUnlockPushesAsPushLocked drives
// that pair). The test below runs the same calls down each of the other
// pairs of paths and holds both to the same observable outcome, so that a
// change made to one copy alone fails here (dropping the finished call's
// argument from run's common case alone, or from finish alone, did).

// callPath is one way to start the calls of a function: which of Go's and
// run's paths they take is in its name.
type callPath struct {
	name string
	opts []deco.Option
	// start starts call i of f; a path with a context gives it one that
	// sends the call to launch and, with its extra part, to runSlow.
	start func(f *deco.Func[*int, struct{}], i int, arg *int) *deco.Future[struct{}]
}

func callPaths() []callPath {
	goCall := func(f *deco.Func[*int, struct{}], _ int, arg *int) *deco.Future[struct{}] { return f.Go(arg) }
	return []callPath{
		{"private Go, run's common case", []deco.Option{deco.Limit(1)}, goCall},
		{"launch (Queue), run's common case", []deco.Option{deco.Limit(1), deco.Queue(math.MaxInt)}, goCall},
		{"launch (Shared), run's common case", []deco.Option{deco.Shared(deco.NewPool(1))}, goCall},
		{"private Go, runSlow and finish (OnProgress)", []deco.Option{deco.Limit(1), deco.OnProgress(func(deco.Progress) {})}, goCall},
		{"launch with a context, runSlow and finish", []deco.Option{deco.Limit(1)}, func(f *deco.Func[*int, struct{}], _ int, arg *int) *deco.Future[struct{}] {
			return f.GoContext(context.Background(), arg)
		}},
	}
}

// TestEveryPathOfACallHasTheSameOutcome runs the same batch of calls of a
// func(*int) down each path (see callPaths), one slot so that the start
// order is the call order, and wants the same outcome from each: the calls
// start in call order, the panicking ones are reported as errors in call
// order, the Futures are done with their index, the stats count every
// call, and a finished call lets its argument go although its Future is
// kept.
func TestEveryPathOfACallHasTheSameOutcome(t *testing.T) {
	const n = 300 // more than a chunk of cells, fewer than a slab of calls
	for _, p := range callPaths() {
		t.Run(p.name, func(t *testing.T) {
			var mu sync.Mutex
			var order []int
			fn := func(arg *int) {
				mu.Lock()
				order = append(order, *arg)
				mu.Unlock()
				if *arg%7 == 3 {
					panic(fmt.Sprint("call ", *arg))
				}
			}
			f := deco.Concurrent(fn, append([]deco.Option{deco.PanicAsError()}, p.opts...)...)
			futures := make([]*deco.Future[struct{}], n)
			args := make([]weak.Pointer[int], n)
			for i := range n {
				// In a block of 3 ints: a lone new(int) would come from the
				// tiny allocator, whose 16-byte blocks hold other small
				// objects that can keep it alive.
				arg := &new([3]int)[0]
				*arg = i
				args[i] = weak.Make(arg)
				futures[i] = p.start(f, i, arg)
			}
			results, err := f.Wait()
			if len(results) != n {
				t.Fatalf("Wait returned %d results, want %d", len(results), n)
			}
			if !slices.Equal(order, seq(n)) {
				t.Errorf("calls started in the order %v, want call order", order)
			}
			var failed []int
			for i := range n {
				if i%7 == 3 {
					failed = append(failed, i)
				}
			}
			var got []int
			for _, e := range unjoin(err) {
				var ce *deco.CallError
				var pe *deco.PanicError
				if !errors.As(e, &ce) || !errors.As(e, &pe) || pe.Value != fmt.Sprint("call ", ce.Index) {
					t.Fatalf("error %v: want a CallError wrapping its call's PanicError", e)
				}
				got = append(got, ce.Index)
			}
			if !slices.Equal(got, failed) {
				t.Errorf("Wait reported the calls %v as failed, want %v", got, failed)
			}
			for i, fu := range futures {
				if !fu.Done() || fu.Index() != i {
					t.Fatalf("future %d: Done %v, Index %d; want true, %d", i, fu.Done(), fu.Index(), i)
				}
				if _, err := fu.Wait(); (err != nil) != (i%7 == 3) {
					t.Fatalf("future %d: Wait's error %v", i, err)
				}
			}
			s := f.Stats()
			if s.Calls != n || s.Done != n || s.Failed != int64(len(failed)) || s.Panicked != int64(len(failed)) {
				t.Errorf("Stats: %d calls, %d done, %d failed, %d panicked; want %d, %d, %d, %d", s.Calls, s.Done, s.Failed, s.Panicked, n, n, len(failed), len(failed))
			}
			runtime.GC()
			runtime.GC()
			kept := 0
			for _, a := range args {
				if a.Value() != nil {
					kept++
				}
			}
			if kept > 0 {
				t.Errorf("%d of %d finished calls keep their argument alive through their kept Future", kept, n)
			}
			runtime.KeepAlive(futures)
		})
	}
}

// seq returns 0, 1, ... n-1.
func seq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

// unjoin returns the errors that errors.Join joined into err.
func unjoin(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
