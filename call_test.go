package deco_test

import (
	"errors"
	"runtime"
	"strings"
	"testing"
	"testing/synctest"
	"time"

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
