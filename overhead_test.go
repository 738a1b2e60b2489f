package deco_test

import (
	"runtime"
	"sync"
	"testing"

	"github.com/deco-go/deco"
)

// BenchmarkOverhead measures the cost per call of a no-op func(int) call
// plus its share of one Wait, with the limit at GOMAXPROCS, next to the
// practical floor for a bounded executor: a hand-written pool of GOMAXPROCS
// goroutines fed by a buffered channel of GOMAXPROCS slots, measured in the
// same run, and the same with long-lived workers on a channel of 256 slots
// and a WaitGroup per batch (handpool-wg).
func BenchmarkOverhead(b *testing.B) {
	b.Run("deco", func(b *testing.B) {
		b.ReportAllocs()
		f := deco.Concurrent(func(int) {})
		for i := range b.N {
			f.Go(i)
		}
		if _, err := f.Wait(); err != nil {
			b.Fatal(err)
		}
	})
	// The same without the always-on statistics, to show their cost.
	b.Run("deco-nostats", func(b *testing.B) {
		deco.SetStats(false)
		defer deco.SetStats(true)
		b.ReportAllocs()
		f := deco.Concurrent(func(int) {})
		for i := range b.N {
			f.Go(i)
		}
		if _, err := f.Wait(); err != nil {
			b.Fatal(err)
		}
	})
	b.Run("handpool", func(b *testing.B) {
		b.ReportAllocs()
		n := runtime.GOMAXPROCS(0)
		work := make(chan int, n)
		var wg sync.WaitGroup
		task := func(int) {}
		for range n {
			wg.Go(func() {
				for x := range work {
					task(x)
				}
			})
		}
		for i := range b.N {
			work <- i
		}
		close(work)
		wg.Wait()
	})
	// The hand pool a program keeps for its whole life: its workers do not
	// exit between batches, so each task counts itself done on the batch's
	// WaitGroup; a channel of 256 slots, as bench/'s handpool.wg.
	b.Run("handpool-wg", func(b *testing.B) {
		b.ReportAllocs()
		n := runtime.GOMAXPROCS(0)
		work := make(chan int, 256)
		var batch, workers sync.WaitGroup
		task := func(int) {}
		for range n {
			workers.Go(func() {
				for x := range work {
					task(x)
					batch.Done()
				}
			})
		}
		defer workers.Wait()
		defer close(work)
		b.ResetTimer()
		for i := range b.N {
			batch.Add(1)
			work <- i
		}
		batch.Wait()
	})
}

// BenchmarkAssign measures results[i] = f(i) with deco.Assign of a no-op
// function, per call, into a map sized beforehand, and with deco.AssignTo
// into a slice, beside the same calls through Go.
func BenchmarkAssign(b *testing.B) {
	b.Run("assign", func(b *testing.B) {
		b.ReportAllocs()
		f := deco.ConcurrentValue(func(i int) int { return i })
		m := make(map[int]int, b.N) // the map's own growth is not deco's
		b.ResetTimer()
		for i := range b.N {
			deco.Assign(m, i, f, i)
		}
		if _, err := f.Wait(); err != nil {
			b.Fatal(err)
		}
	})
	b.Run("assign-to", func(b *testing.B) {
		b.ReportAllocs()
		f := deco.ConcurrentValue(func(i int) int { return i })
		out := make([]int, b.N)
		b.ResetTimer()
		for i := range b.N {
			deco.AssignTo(&out[i], f, i)
		}
		if _, err := f.Wait(); err != nil {
			b.Fatal(err)
		}
	})
	b.Run("go", func(b *testing.B) {
		b.ReportAllocs()
		f := deco.ConcurrentValue(func(i int) int { return i })
		for i := range b.N {
			f.Go(i)
		}
		if _, err := f.Wait(); err != nil {
			b.Fatal(err)
		}
	})
}
