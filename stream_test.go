package deco_test

import (
	"errors"
	"sync/atomic"
	"testing"

	"github.com/deco-go/deco"
)

// TestStreamRunsAnUnboundedProducerInBoundedMemory: Stream pulls arguments
// from a producer that never ends and keeps at most 2 × limit calls
// started and not yet yielded — the calls it holds — so its memory does not
// grow with the number of calls.
func TestStreamRunsAnUnboundedProducerInBoundedMemory(t *testing.T) {
	const limit, want = 3, 20_000
	var started, yielded atomic.Int64
	var most atomic.Int64
	f := deco.ConcurrentValue(func(i int) int {
		held := started.Add(1) - yielded.Load()
		for m := most.Load(); held > m && !most.CompareAndSwap(m, held); m = most.Load() {
		}
		return 2 * i
	}, deco.Limit(limit))
	forever := func(yield func(int) bool) {
		for i := 0; ; i++ {
			if !yield(i) {
				return
			}
		}
	}
	seen := make(map[int]bool)
	for i, r := range f.Stream(forever) {
		if r.Err != nil || r.Value != 2*i || seen[i] {
			t.Fatalf("call %d: %+v (seen %v)", i, r, seen[i])
		}
		seen[i] = true
		if yielded.Add(1) == want {
			break
		}
	}
	if len(seen) != want {
		t.Fatalf("%d results, want %d", len(seen), want)
	}
	if m := most.Load(); m > 2*limit {
		t.Fatalf("%d calls held at once, want at most 2 × limit = %d", m, 2*limit)
	}
	if got, _ := f.Wait(); got != nil {
		t.Fatal("a stream's calls leaked into f's batch")
	}
	checkNoWorkers(t, "after the stream")
}

func TestStreamReportsErrorsAndPanics(t *testing.T) {
	f := deco.ConcurrentResult(func(i int) (int, error) {
		if i == 3 {
			return 0, errOdd
		}
		return i, nil
	}, deco.Limit(2))
	var failed []int
	for i, r := range f.Stream(func(yield func(int) bool) {
		for i := range 10 {
			if !yield(i) {
				return
			}
		}
	}) {
		if r.Err != nil {
			var ce *deco.CallError
			if !errors.As(r.Err, &ce) || ce.Index != i || !errors.Is(r.Err, errOdd) {
				t.Fatalf("error %v for call %d", r.Err, i)
			}
			failed = append(failed, i)
		}
	}
	if len(failed) != 1 || failed[0] != 3 {
		t.Fatalf("failed calls %v, want [3]", failed)
	}
	p := deco.Concurrent(explode, deco.Limit(2))
	func() {
		defer func() {
			if _, ok := recover().(*deco.PanicError); !ok {
				t.Fatal("a panicked call did not re-panic in the ranging goroutine")
			}
		}()
		for range p.Stream(func(yield func(int) bool) { yield(1); yield(2) }) {
		}
	}()
	checkNoWorkers(t, "after a panicked stream")
}
