package deco_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/deco-go/deco"
)

func TestStatsCountAndTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := deco.ConcurrentErr(func(i int) error {
			time.Sleep(time.Second)
			if i%4 == 3 {
				return errOdd
			}
			return nil
		}, deco.Limit(2), deco.Name("TestStatsCountAndTime"))
		for i := range 8 {
			f.Go(i)
		}
		if _, err := f.Wait(); !errors.Is(err, errOdd) {
			t.Fatalf("Wait: %v, want the calls' errOdd", err)
		}
		s := f.Stats()
		if s.Calls != 8 || s.Done != 8 || s.Failed != 2 || s.Panicked != 0 || s.Running != 0 || s.MaxParallel != 2 {
			t.Fatalf("counts: %+v", s)
		}
		// 8 one-second calls, two at a time: 4 s of wall, 8 s of work.
		if s.Took != 4*time.Second || s.WouldHaveTaken != 8*time.Second || s.Speedup() != 2 {
			t.Fatalf("took %v, would have taken %v, speed-up %v; want 4s, 8s, 2", s.Took, s.WouldHaveTaken, s.Speedup())
		}
		// Calls 0 and 1 start at once; 2-3 wait 1 s, 4-5 2 s, 6-7 3 s. The
		// sample (one call in 8) holds call 0 only.
		if s.QueueWaitMedian != 0 {
			t.Fatalf("queue wait median %v, want 0 for the sampled first call", s.QueueWaitMedian)
		}
		if !strings.Contains(s.String(), "TestStatsCountAndTime: 8 calls") {
			t.Fatalf("String() = %q", s.String())
		}
	})
}

func TestStatsQueueWaitPercentiles(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := deco.Concurrent(func(int) { time.Sleep(time.Second) }, deco.Limit(1))
		for i := range 80 {
			f.Go(i)
		}
		f.Wait()
		s := f.Stats()
		// Sampled calls 0, 8, ..., 72 waited 0, 8, ..., 72 s.
		if s.QueueWaitMedian < 32*time.Second || s.QueueWaitMedian > 48*time.Second {
			t.Fatalf("median queue wait %v, want about 32-40 s", s.QueueWaitMedian)
		}
		if s.QueueWaitP99 < 72*time.Second || s.QueueWaitP99 > 90*time.Second {
			t.Fatalf("p99 queue wait %v, want about 72 s", s.QueueWaitP99)
		}
	})
}

// TestStatsQueueWaitWeighsTheSparseSample: past a function's first 512 calls
// one call in 64 is sampled, standing for 64 calls, so the percentiles are
// those of all the calls: call i of 2,000 at limit 1 waits i seconds, so
// the median is near 1,000 s (unweighted, the 64 dense samples would pull
// it down to about 350 s).
func TestStatsQueueWaitWeighsTheSparseSample(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := deco.Concurrent(func(int) { time.Sleep(time.Second) }, deco.Limit(1))
		for i := range 2000 {
			f.Go(i)
		}
		f.Wait()
		s := f.Stats()
		if s.QueueWaitMedian < 850*time.Second || s.QueueWaitMedian > 1150*time.Second {
			t.Fatalf("median queue wait %v, want about 1000 s", s.QueueWaitMedian)
		}
		if s.QueueWaitP99 < 1800*time.Second || s.QueueWaitP99 > 2000*time.Second {
			t.Fatalf("p99 queue wait %v, want about 1984 s", s.QueueWaitP99)
		}
	})
}

func TestOnProgressReportsEveryCall(t *testing.T) {
	var reports []deco.Progress
	done := make(chan deco.Progress, 100)
	f := deco.ConcurrentErr(func(i int) error {
		if i == 5 {
			return errOdd
		}
		return nil
	}, deco.OnProgress(func(p deco.Progress) { done <- p }))
	for i := range 10 {
		f.Go(i)
	}
	if _, err := f.Wait(); !errors.Is(err, errOdd) {
		t.Fatalf("Wait: %v, want call 5's errOdd", err)
	}
	close(done)
	for p := range done {
		reports = append(reports, p)
	}
	if len(reports) != 10 {
		t.Fatalf("%d reports, want 10", len(reports))
	}
	var last deco.Progress
	for _, p := range reports {
		if p.Done > last.Done {
			last = p
		}
	}
	if last.Done != 10 || last.Total != 10 || last.Failed != 1 {
		t.Fatalf("final report %+v, want 10/10 with 1 failed", last)
	}
}

func TestStatsToDescribesAScope(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := deco.ConcurrentCtxErr(func(ctx context.Context, i int) error {
			time.Sleep(time.Second)
			if i == 0 {
				return errOdd
			}
			return nil
		}, deco.Limit(2))
		var s deco.Stats
		deco.Synchronized(t.Context(), func(ctx context.Context) error {
			for i := range 6 {
				f.GoContext(ctx, i)
			}
			return nil
		}, deco.StatsTo(&s))
		if s.Calls != 6 || s.Done != 6 || s.Failed != 1 || s.MaxParallel != 2 {
			t.Fatalf("scope stats %+v", s)
		}
		if s.Took != 3*time.Second || s.WouldHaveTaken != 6*time.Second || s.Speedup() != 2 {
			t.Fatalf("took %v, would have taken %v", s.Took, s.WouldHaveTaken)
		}
		// Two calls start at once, two wait 1 s, two wait 2 s.
		if s.QueueWaitMedian < time.Second || s.QueueWaitMedian > 1300*time.Millisecond || s.QueueWaitP99 < 2*time.Second {
			t.Fatalf("queue waits p50 %v p99 %v", s.QueueWaitMedian, s.QueueWaitP99)
		}
	})
	mustPanic(t, "StatsTo is an option of Synchronized", func() { deco.Concurrent(func(int) {}, deco.StatsTo(new(deco.Stats))) })
}

// TestAPanicInOnProgressIsReportedLikeATaskPanic: the callback runs outside
// the task, but its panic fails the call it reports, never the process.
func TestAPanicInOnProgressIsReportedLikeATaskPanic(t *testing.T) {
	f := deco.Concurrent(func(int) {}, deco.Limit(1), deco.PanicAsError(),
		deco.OnProgress(func(p deco.Progress) {
			if p.Done == 3 {
				panic("report")
			}
		}))
	for i := range 5 {
		f.Go(i)
	}
	_, err := f.Wait()
	var pe *deco.PanicError
	if !errors.As(err, &pe) || pe.Value != "report" || pe.Index != 2 {
		t.Fatalf("err = %v, want call #2 failed with the callback's panic", err)
	}
	if s := f.Stats(); s.Panicked != 1 || s.Done != 5 {
		t.Fatalf("stats %+v, want 1 panicked of 5 done", s)
	}
}

// TestProgressTotalCountsCallsAsTheyStart: a report counts every call
// started so far, not only those of waited batches.
func TestProgressTotalCountsCallsAsTheyStart(t *testing.T) {
	release := make(chan struct{})
	first := make(chan deco.Progress, 10)
	f := deco.Concurrent(func(i int) {
		if i == 0 {
			<-release
		}
	}, deco.Limit(1), deco.OnProgress(func(p deco.Progress) { first <- p }))
	for i := range 10 {
		f.Go(i)
	}
	close(release)
	p := <-first
	f.Wait()
	if p.Done != 1 || p.Total != 10 {
		t.Fatalf("first report %+v, want 1 done of 10 started", p)
	}
}

func TestStatsAndProgressNameTheWorkers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		reported := map[string]int64{}
		exec := namedWorkers{worker: byLane, deliver: time.Millisecond}
		f := deco.ConcurrentErr(func(n int) error {
			time.Sleep(time.Second)
			if n%3 == 0 {
				return errOdd
			}
			return nil
		}, deco.Name("TestStatsAndProgressNameTheWorkers"), deco.On(exec), deco.Limit(2),
			deco.OnProgress(func(p deco.Progress) {
				mu.Lock()
				reported[p.Worker]++
				mu.Unlock()
			}))
		for i := range 9 {
			f.Go(i)
		}
		f.Wait()
		s := f.Stats()
		if len(s.Workers) != 2 || s.Workers[0].Worker != "host:100" || s.Workers[1].Worker != "host:101" {
			t.Fatalf("workers %+v, want host:100 and host:101", s.Workers)
		}
		var calls, failed int64
		for _, w := range s.Workers {
			calls += w.Calls
			failed += w.Failed
			if w.Ran != time.Duration(w.Calls)*time.Second {
				t.Fatalf("worker %+v: want a run time of 1 s per call", w)
			}
			if reported[w.Worker] != w.Calls {
				t.Fatalf("OnProgress reported %d calls of %s, Stats %d (reports %v)", reported[w.Worker], w.Worker, w.Calls, reported)
			}
		}
		if calls != 9 || failed != 3 || len(reported) != 2 {
			t.Fatalf("workers %+v, reports %v: want 9 calls, 3 failed, on 2 workers", s.Workers, reported)
		}
		if !strings.Contains(s.String(), "; 2 workers: host:100 ") {
			t.Fatalf("String %q does not name the workers", s)
		}

		// A scope's stats count its calls by worker too.
		var scoped deco.Stats
		deco.Synchronized(t.Context(), func(ctx context.Context) error {
			for i := range 4 {
				f.GoContext(ctx, i+1)
			}
			return nil
		}, deco.StatsTo(&scoped))
		calls, failed = 0, 0
		for _, w := range scoped.Workers {
			calls += w.Calls
			failed += w.Failed
		}
		if len(scoped.Workers) != 2 || calls != 4 || failed != 1 {
			t.Fatalf("scope's workers %+v, want 4 calls (1 failed) on 2", scoped.Workers)
		}
	})
	// In this process, no worker is named.
	f := deco.Concurrent(func(int) {})
	f.Go(1)
	f.Wait()
	if s := f.Stats(); s.Workers != nil || strings.Contains(s.String(), "workers") {
		t.Fatalf("in-process stats name workers: %+v", s)
	}
}
