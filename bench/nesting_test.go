package bench

// The nesting workloads: tasks that start tasks on the same executor, at
// limit 2 (nestedLimit). Nested is fork-join (each outer task waits for its
// inner tasks), Spawn is spawn-only (outer tasks start inner tasks and
// return; the batch waits for everything). Both run every library under a
// guard: a bounded executor written the idiomatic way deadlocks in Nested,
// and one whose submit blocks at the limit deadlocks in Spawn, and the
// guard reports that as a row instead of hanging.

import (
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// nestedTimeout is how long a nesting batch may make no progress before it
// is declared deadlocked: $DECO_BENCH_NESTED_TIMEOUT (a Go duration, e.g.
// 1s), or def.
func nestedTimeout(tb testing.TB, def time.Duration) time.Duration {
	s := os.Getenv("DECO_BENCH_NESTED_TIMEOUT")
	if s == "" {
		return def
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		tb.Fatalf("DECO_BENCH_NESTED_TIMEOUT=%q: want a positive Go duration such as 1s", s)
	}
	return d
}

// deadlockSeen remembers, per workload and library ("Nested/handpool"),
// that a guarded benchmark saw it deadlock in this process.
var deadlockSeen sync.Map

// batchFunc is one nesting batch of an executor: nested or spawn.
type batchFunc func(ex executor, outer, inner int, w work)

// guardedBatches runs batches of batch on ex, each on a goroutine of its
// own, until n have finished or one makes no progress for timeout. It
// returns the number that finished, and whether the last one is stuck
// (then its goroutines stay blocked until the process exits: nothing can
// unblock them from outside).
func guardedBatches(ex executor, n int, batch func(), timeout time.Duration) (done int, stuck bool) {
	progress := make(chan struct{}, n) // buffered: a batch unblocked late still ends
	go func() {
		for range n {
			batch()
			progress <- struct{}{}
		}
	}()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for done < n {
		timer.Reset(timeout)
		select {
		case <-progress:
			done++
		case <-timer.C:
			return done, true
		}
	}
	return done, false
}

// benchGuarded is one row of a nesting workload: b.N batches of batch at
// limit nestedLimit, nestedOuter x nestedInner tasks each, in form f.
//
// If a batch makes no progress for $DECO_BENCH_NESTED_TIMEOUT (default 1 s,
// hundreds of times what a batch takes), the row reports the metric
// deadlocked=1 and ns/op 0 (there is no time to report), logs the reason
// and returns normally, so the run goes on and benchstat still gets a row.
// deadlocked=0 rows report real ns/op, and cpu-ns/op: the CPU time (user
// and system) the whole process used per batch, which another program
// sharing the machine inflates far less than the wall time (the process
// runs nothing else meanwhile; a deadlocked library's goroutines are
// blocked).
//
// A deadlocked library leaks: the batch goroutine, the outer tasks and the
// executor's workers stay blocked until the process exits. The executor is
// deliberately not closed (pond's StopAndWait would wait for them forever).
// The process still exits, since blocked goroutines do not keep a Go
// program alive. To leak once, not once per form and -count run, a library
// that deadlocked in a workload is not run again in it in the same process:
// its later rows report deadlocked=1 at once and say so in the log (the
// other form differs only in the inner task's func value, which does not
// decide whether the executor can make progress).
func benchGuarded(b *testing.B, workload string, lib library, f form, batch batchFunc) {
	key := workload + "/" + lib.name
	deadlocked := func() {
		b.StopTimer()
		b.ReportMetric(1, "deadlocked")
		b.ReportMetric(0, "ns/op")
	}
	if _, ok := deadlockSeen.Load(key); ok {
		b.Logf("%s deadlocked earlier in this process; not run again (each run would leak more goroutines)", key)
		deadlocked()
		return
	}
	timeout := nestedTimeout(b, time.Second)
	var ran atomic.Int64
	w := f.work(func() { ran.Add(1) }, func(int) { ran.Add(1) })
	ex := lib.open(nestedLimit)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := processCPU()
	done, stuck := guardedBatches(ex, b.N, func() { batch(ex, nestedOuter, nestedInner, w) }, timeout)
	cpu := processCPU() - cpu0
	if stuck {
		deadlocked()
		deadlockSeen.Store(key, true)
		b.Logf("%s: batch %d made no progress for %v (%d of %d inner tasks ran): deadlocked; its goroutines stay blocked until the process exits",
			key, done+1, timeout, ran.Load()-int64(done*nestedOuter*nestedInner), nestedOuter*nestedInner)
		return
	}
	b.StopTimer()
	ex.close()
	if got, want := ran.Load(), int64(b.N*nestedOuter*nestedInner); got != want {
		b.Fatalf("ran %d inner tasks, want %d", got, want)
	}
	b.ReportMetric(0, "deadlocked")
	if cpu > 0 {
		b.ReportMetric(float64(cpu)/float64(b.N), "cpu-ns/op")
	}
}

// BenchmarkNested: one iteration is nestedOuter (100) outer tasks, each
// starting nestedInner (100) inner tasks on the SAME executor, limit 2, and
// waiting for them inside the outer task (fork-join). Once the outer tasks
// hold every slot, their inner tasks can never start: every bounded
// executor written the idiomatic way deadlocks, which the row shows; deco
// waits with Synchronized, which lends the waiting task's slot to its inner
// tasks. The unbounded baselines (goroutines: go + sync.WaitGroup) cannot
// deadlock and are the reference. ns/op and B/op are per batch.
func BenchmarkNested(b *testing.B) {
	eachForm(b, "Nested", func(b *testing.B, lib library, f form) {
		benchGuarded(b, "Nested", lib, f, executor.nested)
	})
}

// BenchmarkSpawn: BenchmarkNested without the join: each outer task starts
// its 100 inner tasks on the same executor, limit 2, and returns; the batch
// waits for all 10,100 tasks. Executors with an unbounded queue (pond, deco)
// run it; those whose submit blocks while the limit is reached (errgroup,
// conc, ants, the semaphore, a hand pool whose channel fills) deadlock, as
// both slots are held by outer tasks blocked in submit. ns/op and B/op are
// per batch.
func BenchmarkSpawn(b *testing.B) {
	eachForm(b, "Spawn", func(b *testing.B, lib library, f form) {
		benchGuarded(b, "Spawn", lib, f, executor.spawn)
	})
}

// TestNestedDeadlockReport is a report: it runs the nesting workloads
// (smaller: 20 outer x 20 inner tasks, so that the unbounded baselines stay
// under the race detector's goroutine limit) with limit 2 on every library
// at once, and logs which ones deadlock. Read it with
//
//	go test -run TestNestedDeadlockReport -v
//
// A peer's deadlock is logged, never a failure: that is how those
// libraries behave. The test fails if an unbounded baseline, which cannot
// deadlock, is reported as deadlocked (the detector would then be wrong),
// if deco deadlocks (its nesting is documented never to), or if the
// handpool does not deadlock in Nested (20 outer tasks holding both slots
// and waiting: it must, and the detector must see it). Deadlocked
// libraries leak their goroutines, as in BenchmarkNested; the test binary
// exits all the same. All libraries start together and share one
// deadline, so the test takes one timeout: $DECO_BENCH_NESTED_TIMEOUT,
// default 2s.
func TestNestedDeadlockReport(t *testing.T) {
	const limit, outer, inner = 2, 20, 20
	timeout := nestedTimeout(t, 2*time.Second)
	type outcome struct {
		ran     atomic.Int64
		done    chan struct{}
		elapsed time.Duration
	}
	type job struct {
		name  string
		lib   library
		batch batchFunc
		out   *outcome
	}
	var jobs []job
	for _, wl := range []struct {
		name  string
		batch batchFunc
	}{{"Nested", executor.nested}, {"Spawn", executor.spawn}} {
		for _, lib := range libraries() {
			if lib.in(wl.name, formShared) {
				jobs = append(jobs, job{wl.name + "/" + lib.name, lib, wl.batch, &outcome{done: make(chan struct{})}})
			}
		}
	}
	start := time.Now()
	for _, j := range jobs {
		o := j.out
		go func() {
			ex := j.lib.open(limit)
			t0 := time.Now()
			j.batch(ex, outer, inner, work{shared: func() { o.ran.Add(1) }})
			o.elapsed = time.Since(t0)
			ex.close()
			close(o.done)
		}()
	}
	deadline := time.NewTimer(time.Until(start.Add(timeout)))
	defer deadline.Stop()
	expired := false
	for _, j := range jobs {
		o := j.out
		t.Run(j.name, func(t *testing.T) {
			if !expired {
				select {
				case <-o.done:
				case <-deadline.C:
					expired = true
				}
			}
			select {
			case <-o.done:
				t.Logf("%-24s completed: %d inner tasks in %v", j.name, o.ran.Load(), o.elapsed.Round(time.Microsecond))
				if j.name == "Nested/handpool" {
					t.Errorf("%s completed: 20 outer tasks waiting in both slots must deadlock it; the detector is wrong", j.name)
				}
			default:
				t.Logf("%-24s DEADLOCKED: %d of %d inner tasks ran, no progress for %v (goroutines leaked)", j.name, o.ran.Load(), outer*inner, timeout)
				if j.lib.unbounded {
					t.Errorf("%s is unbounded and cannot deadlock: the detector is wrong", j.name)
				}
				if j.lib.rank >= decoRank {
					t.Errorf("%s deadlocked: deco's nesting must never deadlock", j.name)
				}
			}
		})
	}
}

// TestGuardedBatches checks the guard on its own: batches that finish are
// counted, and a batch that blocks is reported stuck after the timeout
// instead of hanging the caller.
func TestGuardedBatches(t *testing.T) {
	var calls atomic.Int64
	if done, stuck := guardedBatches(nil, 5, func() { calls.Add(1) }, time.Second); done != 5 || stuck || calls.Load() != 5 {
		t.Errorf("5 quick batches: done %d, stuck %v, %d calls; want 5, false, 5", done, stuck, calls.Load())
	}
	block := make(chan struct{})
	defer close(block) // let the stuck batch go once the test is over
	calls.Store(0)
	done, stuck := guardedBatches(nil, 5, func() {
		if calls.Add(1) == 3 {
			<-block
		}
	}, 50*time.Millisecond)
	if done != 2 || !stuck {
		t.Errorf("third batch blocks: done %d, stuck %v; want 2, true", done, stuck)
	}
}
