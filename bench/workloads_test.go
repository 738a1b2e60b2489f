package bench

// The workloads, the helpers they share, and every Benchmark function.
//
// Each library lives in its own file (baseline_test.go, handpool_test.go,
// errgroup_test.go, conc_test.go, pond_test.go, ants_test.go) as a type that
// implements executor, registered from that file's init. To add a library,
// add one file like them; every workload and test below picks it up.
//
// Rules every executor follows, so the rows are comparable:
//   - each method is written the way that library's documentation writes it,
//     with no handicap: where a task needs no per-task data (overhead, cpu,
//     io) the same func value is submitted n times, so no row pays for a
//     closure that the workload itself does not need;
//   - a library made for long-lived pools (ants) gets its pool from open and
//     releases it in close, both outside the timer; the others create their
//     pool or group per batch, inside the timed batch, as their documentation
//     does (conc pools cannot be reused; pond's README creates a pool, submits
//     and calls StopAndWait);
//   - the limit is honoured (checked by TestExecutors), except by the two
//     unbounded baselines, goroutines and wg.Go, which are there to show what
//     no limit costs and gives.

import (
	"math"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// executor is one library's bounded executor, opened with one limit.
type executor interface {
	// run calls task n times, at most limit calls at once, and returns
	// once every call has returned.
	run(n int, task func())
	// forEach calls task(i) for every i in [0, n), at most limit calls at
	// once, and returns once every call has returned.
	forEach(n int, task func(i int))
	// gather runs n tasks, task i computing f(i), and returns the results
	// as a map from i to f(i), collected the library's idiomatic way.
	gather(n int, f func(i int) int) map[int]int
	// nested runs outer tasks; each submits inner calls of task to this
	// same executor and waits for its own inner tasks before it returns.
	// With limit <= outer every bounded executor written the idiomatic
	// way deadlocks here; see BenchmarkNested.
	nested(outer, inner int, task func())
	// close releases what open acquired. It is not called after a
	// deadlock: see BenchmarkNested.
	close()
}

// library is one row of every benchmark table.
type library struct {
	name      string // the sub-benchmark name: Benchmark<Workload>/<name>
	rank      int    // table order: baselines, then peers, then deco
	unbounded bool   // ignores the limit (the goroutines and wg.Go baselines)
	open      func(limit int) executor
}

var registry []library

// register adds a library; call it from an init function in the library's
// own file.
func register(l library) {
	for _, r := range registry {
		if r.name == l.name {
			panic("bench: library registered twice: " + l.name)
		}
	}
	registry = append(registry, l)
}

// libraries returns the registered libraries in table order.
func libraries() []library {
	ls := slices.Clone(registry)
	slices.SortStableFunc(ls, func(a, b library) int {
		if a.rank != b.rank {
			return a.rank - b.rank
		}
		return strings.Compare(a.name, b.name)
	})
	return ls
}

// eachLibrary runs fn as the sub-benchmark b.Run(lib.name) for every library.
func eachLibrary(b *testing.B, fn func(b *testing.B, lib library)) {
	for _, lib := range libraries() {
		b.Run(lib.name, func(b *testing.B) { fn(b, lib) })
	}
}

// cores is the default limit: one running task per P.
func cores() int { return runtime.GOMAXPROCS(0) }

// Workload sizes. One benchmark iteration (b.N) is one batch, except in
// BenchmarkOverhead, where b.N is the number of tasks.
const (
	cpuTasks    = 2000                  // tasks per cpu batch
	cpuTaskTime = 50 * time.Microsecond // target CPU time of one cpu task

	ioTasks  = 2000                 // tasks per io batch
	ioLimit  = 200                  // the io workload's limit
	ioSleep  = 2 * time.Millisecond // one io task
	ioRounds = ioTasks / ioLimit    // sleeps in a row per slot: 10
	ioIdeal  = ioRounds * ioSleep   // 20 ms: the batch with perfect timers

	gatherTasks = 100_000 // tasks per gather batch

	nestedOuter = 100 // outer tasks per nested batch
	nestedInner = 100 // inner tasks started by each outer task

	seedTasks = 100_000 // tasks per seed batch
	seedWork  = 32      // spin rounds in one seed task (tens of ns)
)

// spin is deterministic integer work (a splitmix64-style hash chain): each
// round depends on the previous one, so it can neither be vectorised nor
// skipped, and its result goes to a sink so it cannot be eliminated.
func spin(rounds int, seed uint64) uint64 {
	x := seed
	for range rounds {
		x += 0x9e3779b97f4a7c15
		x ^= x >> 30
		x *= 0xbf58476d1ce4e5b9
		x ^= x >> 27
		x *= 0x94d049bb133111eb
		x ^= x >> 31
	}
	return x
}

// cpuSink receives every spin result, so the compiler must compute them.
var cpuSink atomic.Uint64

// cpuRounds is the number of spin rounds that take cpuTaskTime on this
// machine: measured once per process, as the fastest of 5 probes (the
// fastest is the one least disturbed by anything else running).
var cpuRounds = sync.OnceValue(func() int {
	const probe = 1 << 18
	best := time.Duration(math.MaxInt64)
	for range 5 {
		t0 := time.Now()
		cpuSink.Add(spin(probe, 1))
		best = min(best, time.Since(t0))
	}
	return max(1, int(float64(probe)*float64(cpuTaskTime)/float64(best)))
})

// cpuTask returns the cpu workload's task: ~50 µs of spin on this machine.
func cpuTask() func() {
	rounds := cpuRounds()
	return func() { cpuSink.Add(spin(rounds, 1)) }
}

// serialBatch runs n calls of task on the calling goroutine and returns how
// long they took.
func serialBatch(n int, task func()) time.Duration {
	t0 := time.Now()
	for range n {
		task()
	}
	return time.Since(t0)
}

// timerFloor is the io batch's floor with timers alone: ioRounds sleeps of
// ioSleep in a row on one goroutine (each slot of a limit-200 executor does
// exactly that), the fastest of 3 runs. Linux timers overshoot 2 ms by tens
// of microseconds, so this is what "perfect" really costs here.
func timerFloor() time.Duration {
	best := time.Duration(math.MaxInt64)
	for range 3 {
		t0 := time.Now()
		for range ioRounds {
			time.Sleep(ioSleep)
		}
		best = min(best, time.Since(t0))
	}
	return best
}

// square is the gather workload's task.
func square(i int) int { return i * i }

// gatherSlice is how executors without result support gather: task i writes
// element i of a preallocated slice (no lock: every task owns its element),
// and the map is built after the wait. errgroup's documentation gathers this
// way; the baselines and handpool do too.
func gatherSlice(ex executor, n int, f func(int) int) map[int]int {
	results := make([]int, n)
	ex.forEach(n, func(i int) { results[i] = f(i) })
	m := make(map[int]int, n)
	for i, v := range results {
		m[i] = v
	}
	return m
}

// gatherLocked is the other common way: every task writes the map itself,
// under a mutex.
func gatherLocked(ex executor, n int, f func(int) int) map[int]int {
	var mu sync.Mutex
	m := make(map[int]int, n)
	ex.forEach(n, func(i int) {
		v := f(i)
		mu.Lock()
		m[i] = v
		mu.Unlock()
	})
	return m
}

var seedSink atomic.Uint64

// seedTask is the blog's task, shrunk to a few dozen nanoseconds of work:
// it times itself and returns the elapsed time, which the caller records
// under the task's key (times[offset] = elapsed).
func seedTask(offset int) time.Duration {
	t0 := time.Now()
	if x := spin(seedWork, uint64(offset)); x == 1 { // never true; keeps the work
		seedSink.Store(x)
	}
	return time.Since(t0)
}

// A seed store is somewhere tasks record times[offset] = elapsed safely.
// The blog's times is a dict, so the Go translation is a map; BenchmarkSeed
// uses the mutex-protected one, BenchmarkSeedStore compares the three.
type seedStore interface {
	put(offset int, elapsed time.Duration)
}

type mutexMapStore struct {
	mu sync.Mutex
	m  map[int]time.Duration
}

func newMutexMapStore(n int) *mutexMapStore {
	return &mutexMapStore{m: make(map[int]time.Duration, n)}
}

func (s *mutexMapStore) put(offset int, elapsed time.Duration) {
	s.mu.Lock()
	s.m[offset] = elapsed
	s.mu.Unlock()
}

func (s *mutexMapStore) len() int { return len(s.m) }

type syncMapStore struct{ m sync.Map }

func (s *syncMapStore) put(offset int, elapsed time.Duration) { s.m.Store(offset, elapsed) }

// sliceStore needs dense integer keys 0..n-1 known up front (the blog's
// second example keys by URL, where it does not apply).
type sliceStore []time.Duration

func (s sliceStore) put(offset int, elapsed time.Duration) { s[offset] = elapsed }

// runSeed is one seed batch: n tasks, each recording its time in store.
func runSeed(ex executor, n int, store seedStore) {
	ex.forEach(n, func(offset int) { store.put(offset, seedTask(offset)) })
}

// nestedTimeout is how long a nested batch may make no progress before it
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

// BenchmarkOverhead: b.N no-op tasks submitted from one goroutine, then one
// wait. ns/op, B/op and allocs/op are per task: the executor's own cost,
// since the task is one shared func value that costs nothing to submit.
func BenchmarkOverhead(b *testing.B) {
	noop := func() {}
	eachLibrary(b, func(b *testing.B, lib library) {
		ex := lib.open(cores())
		b.ReportAllocs()
		b.ResetTimer()
		ex.run(b.N, noop)
		b.StopTimer()
		ex.close()
	})
}

// BenchmarkCPU: one iteration is a batch of cpuTasks tasks of ~50 µs of
// spin each, limit GOMAXPROCS. ns/op is per batch.
//
// speedup is serial time / parallel time of the same batch. The serial time
// is measured inside the same benchmark function, right before b.ResetTimer,
// as the mean of two serial batches on the benchmark goroutine: the ratio
// then compares two measurements taken seconds apart under the same machine
// state (frequency, other load), which a separate serial row could not
// guarantee. It is timed afresh each time the framework calls the function,
// so the reported value belongs to the final b.N run. The BenchmarkCPU/serial
// row shows the serial batch itself (speedup 1 by definition); on an idle
// machine the ideal speedup is GOMAXPROCS.
func BenchmarkCPU(b *testing.B) {
	task := cpuTask()
	b.Run("serial", func(b *testing.B) {
		for range b.N {
			serialBatch(cpuTasks, task)
		}
		b.ReportMetric(1, "speedup")
	})
	eachLibrary(b, func(b *testing.B, lib library) {
		ex := lib.open(cores())
		serial := (serialBatch(cpuTasks, task) + serialBatch(cpuTasks, task)) / 2
		b.ResetTimer()
		for range b.N {
			ex.run(cpuTasks, task)
		}
		b.StopTimer()
		ex.close()
		perBatch := b.Elapsed() / time.Duration(b.N)
		b.ReportMetric(float64(serial)/float64(perBatch), "speedup")
	})
}

// BenchmarkIO: one iteration is a batch of ioTasks sleeps of 2 ms, limit
// ioLimit (200), so ideally 10 rounds: 20 ms. ns/op is per batch.
//
// x-ideal is wall / 20 ms. x-floor is wall / floor, where floor is 10 sleeps
// of 2 ms in a row measured in the same benchmark function just before the
// timer starts (timerFloor): what the batch would cost with a perfect
// executor and this machine's real timers. The BenchmarkIO/timerfloor row
// times the floor itself. The unbounded baselines ignore the limit and sleep
// all 2000 at once, hence x-ideal near 0.1.
func BenchmarkIO(b *testing.B) {
	sleep := func() { time.Sleep(ioSleep) }
	report := func(b *testing.B, floor time.Duration) {
		wall := float64(b.Elapsed()) / float64(b.N)
		b.ReportMetric(wall/float64(ioIdeal), "x-ideal")
		b.ReportMetric(wall/float64(floor), "x-floor")
	}
	b.Run("timerfloor", func(b *testing.B) {
		floor := timerFloor()
		b.ResetTimer()
		for range b.N {
			for range ioRounds {
				time.Sleep(ioSleep)
			}
		}
		b.StopTimer()
		report(b, floor)
	})
	eachLibrary(b, func(b *testing.B, lib library) {
		ex := lib.open(ioLimit)
		floor := timerFloor()
		b.ResetTimer()
		for range b.N {
			ex.run(ioTasks, sleep)
		}
		b.StopTimer()
		ex.close()
		report(b, floor)
	})
}

// BenchmarkGather: one iteration is a batch of gatherTasks tasks, task i
// returning i*i, limit GOMAXPROCS; the results end up in a map[int]int,
// gathered each library's idiomatic way (see the library files). ns/op and
// B/op are per batch; ns/task is ns/op / gatherTasks.
func BenchmarkGather(b *testing.B) {
	eachLibrary(b, func(b *testing.B, lib library) {
		ex := lib.open(cores())
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			if m := ex.gather(gatherTasks, square); len(m) != gatherTasks {
				b.Fatalf("gathered %d results, want %d", len(m), gatherTasks)
			}
		}
		b.StopTimer()
		ex.close()
		b.ReportMetric(float64(b.Elapsed())/float64(b.N)/gatherTasks, "ns/task")
	})
}

// BenchmarkSeed is the blog's own pattern: every task times itself and
// records the result by key from inside the task, times[offset] = elapsed,
// for seedTasks tiny tasks, limit GOMAXPROCS. None of the peers has a way to
// record results by key, so the safe way is the user's, and the same for
// every library: the blog's times is a dict, so a map (presized, no
// handicap) behind a sync.Mutex, the textbook fix for "concurrent map
// writes". BenchmarkSeedStore shows what sync.Map or a preallocated slice
// would change. ns/op and B/op are per batch; ns/task is ns/op / seedTasks.
func BenchmarkSeed(b *testing.B) {
	eachLibrary(b, func(b *testing.B, lib library) {
		ex := lib.open(cores())
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			times := newMutexMapStore(seedTasks)
			runSeed(ex, seedTasks, times)
			if times.len() != seedTasks {
				b.Fatalf("recorded %d times, want %d", times.len(), seedTasks)
			}
		}
		b.StopTimer()
		ex.close()
		b.ReportMetric(float64(b.Elapsed())/float64(b.N)/seedTasks, "ns/task")
	})
}

// BenchmarkSeedStore is BenchmarkSeed on the handpool only, once per safe
// store: a mutex-protected map (what BenchmarkSeed uses), a sync.Map (made
// for "goroutines write disjoint sets of keys", but it boxes every key and
// value), and a preallocated slice written by index (no lock, but only for
// dense integer keys known up front).
func BenchmarkSeedStore(b *testing.B) {
	stores := []struct {
		name string
		new  func(n int) seedStore
	}{
		{"mutexmap", func(n int) seedStore { return newMutexMapStore(n) }},
		{"syncmap", func(int) seedStore { return new(syncMapStore) }},
		{"slice", func(n int) seedStore { return make(sliceStore, n) }},
	}
	for _, st := range stores {
		b.Run(st.name, func(b *testing.B) {
			ex := handpool{limit: cores()}
			b.ReportAllocs()
			for range b.N {
				times := st.new(seedTasks)
				runSeed(ex, seedTasks, times)
			}
			b.ReportMetric(float64(b.Elapsed())/float64(b.N)/seedTasks, "ns/task")
		})
	}
}

// nestedDeadlocked remembers, per library, that BenchmarkNested saw it
// deadlock in this process.
var nestedDeadlocked sync.Map

// BenchmarkNested: one iteration is nestedOuter (100) outer tasks, each
// starting nestedInner (100) inner tasks on the SAME executor, limit
// GOMAXPROCS, and waiting for them inside the outer task. Once the outer
// tasks hold every slot, their inner tasks can never start: every bounded
// executor written the idiomatic way deadlocks, which is the point of the
// row. The unbounded baselines cannot deadlock.
//
// Deadlock detection: the batches run on their own goroutine; if one makes
// no progress for $DECO_BENCH_NESTED_TIMEOUT (default 10 s, far above the
// milliseconds a batch takes) the library is reported with the metric
// deadlocked=1 and ns/op overridden to 0 (there is no time to report), the
// reason is logged, and the benchmark returns normally, so the run goes on
// and benchstat still gets a row. deadlocked=0 rows report real ns/op.
//
// A deadlocked library leaks: the batch goroutine, the outer tasks and the
// executor's workers stay blocked until the process exits, and nothing can
// unblock them from outside. The executor is deliberately not closed (pond's
// StopAndWait would wait for them forever). The process still exits, since
// blocked goroutines do not keep a Go program alive. The leak is a handful
// of parked goroutines per library, using no CPU, and this is the last
// benchmark in the file, so it also runs last in a single `go test -bench .`
// (bench/run.sh runs each workload in a process of its own anyway). To leak
// once, not once per -count, a library that deadlocked is not run again in
// the same process: its later runs report deadlocked=1 at once and say so in
// the log.
func BenchmarkNested(b *testing.B) {
	timeout := nestedTimeout(b, 10*time.Second)
	eachLibrary(b, func(b *testing.B, lib library) {
		deadlocked := func() {
			b.StopTimer()
			b.ReportMetric(1, "deadlocked")
			b.ReportMetric(0, "ns/op")
		}
		if _, ok := nestedDeadlocked.Load(lib.name); ok {
			b.Logf("%s deadlocked earlier in this process; not run again (each run would leak more goroutines)", lib.name)
			deadlocked()
			return
		}
		ex := lib.open(cores())
		var ran atomic.Int64
		task := func() { ran.Add(1) }
		progress := make(chan struct{})
		b.ResetTimer()
		go func() {
			for range b.N {
				ex.nested(nestedOuter, nestedInner, task)
				progress <- struct{}{}
			}
		}()
		timer := time.NewTimer(timeout)
		defer timer.Stop()
		for i := range b.N {
			timer.Reset(timeout)
			select {
			case <-progress:
			case <-timer.C:
				deadlocked()
				nestedDeadlocked.Store(lib.name, true)
				b.Logf("%s: batch %d made no progress for %v (%d of %d inner tasks ran): deadlocked; its goroutines stay blocked until the process exits",
					lib.name, i+1, timeout, ran.Load()-int64(i*nestedOuter*nestedInner), nestedOuter*nestedInner)
				return
			}
		}
		b.StopTimer()
		ex.close()
		if got, want := ran.Load(), int64(b.N*nestedOuter*nestedInner); got != want {
			b.Fatalf("ran %d inner tasks, want %d", got, want)
		}
		b.ReportMetric(0, "deadlocked")
	})
}

// TestExecutors checks every library's executor on small inputs: every task
// runs exactly once, the limit is honoured, gather returns the right map,
// and nested work completes when the limit leaves room for inner tasks.
// Run it with -race: it is also the data-race check of every executor.
func TestExecutors(t *testing.T) {
	const limit, n = 3, 300
	for _, lib := range libraries() {
		t.Run(lib.name, func(t *testing.T) {
			t.Parallel()
			// inflight tracks the number of running tasks and its maximum.
			var inflight, peak atomic.Int64
			enter := func() {
				v := inflight.Add(1)
				for p := peak.Load(); v > p && !peak.CompareAndSwap(p, v); p = peak.Load() {
				}
				time.Sleep(20 * time.Microsecond) // let tasks overlap
				inflight.Add(-1)
			}
			checkPeak := func(what string) {
				t.Helper()
				if p := peak.Load(); !lib.unbounded && p > limit {
					t.Errorf("%s: %d tasks ran at once, limit %d", what, p, limit)
				}
				peak.Store(0)
			}

			ex := lib.open(limit)
			var count atomic.Int64
			ex.run(n, func() { enter(); count.Add(1) })
			if got := count.Load(); got != n {
				t.Errorf("run: %d calls, want %d", got, n)
			}
			checkPeak("run")

			seen := make([]atomic.Int32, n)
			ex.forEach(n, func(i int) { enter(); seen[i].Add(1) })
			for i := range seen {
				if c := seen[i].Load(); c != 1 {
					t.Errorf("forEach: index %d ran %d times", i, c)
					break
				}
			}
			checkPeak("forEach")

			m := ex.gather(n, func(i int) int { enter(); return square(i) })
			if len(m) != n {
				t.Errorf("gather: %d results, want %d", len(m), n)
			}
			for i := range n {
				if m[i] != i*i {
					t.Errorf("gather: m[%d] = %d, want %d", i, m[i], i*i)
					break
				}
			}
			checkPeak("gather")

			times := newMutexMapStore(n)
			runSeed(ex, n, times)
			if times.len() != n {
				t.Errorf("seed: %d times recorded, want %d", times.len(), n)
			}

			// limit > outer: every outer task holds a slot and inner tasks
			// still find one, so no executor may deadlock here.
			const outer, inner = limit - 1, 20
			count.Store(0)
			done := make(chan struct{})
			go func() {
				ex.nested(outer, inner, func() { count.Add(1) })
				close(done)
			}()
			select {
			case <-done:
				if got := count.Load(); got != outer*inner {
					t.Errorf("nested: %d inner calls, want %d", got, outer*inner)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("nested with limit %d > %d outer tasks did not finish in 10s", limit, outer)
			}
			ex.close()
		})
	}
}

// TestNestedDeadlockReport is a report, not a check: it runs the nested
// workload (smaller: 20 outer x 20 inner tasks, so that the unbounded
// baselines stay under the race detector's goroutine limit) with limit 2 on
// every library at once, and logs which ones deadlock. Read it with
//
//	go test -run TestNestedDeadlockReport -v
//
// A deadlock is logged, never a failure: that is how those libraries behave.
// The test fails only if an unbounded baseline, which cannot deadlock, is
// reported as deadlocked (the detector would then be wrong). Deadlocked
// libraries leak their goroutines, as in BenchmarkNested; the test binary
// exits all the same. All libraries start together and share one deadline,
// so the test takes one timeout: $DECO_BENCH_NESTED_TIMEOUT, default 2s.
func TestNestedDeadlockReport(t *testing.T) {
	const limit, outer, inner = 2, 20, 20
	timeout := nestedTimeout(t, 2*time.Second)
	type outcome struct {
		ran     atomic.Int64
		done    chan struct{}
		elapsed time.Duration
	}
	libs := libraries()
	outcomes := make([]*outcome, len(libs))
	start := time.Now()
	for i, lib := range libs {
		o := &outcome{done: make(chan struct{})}
		outcomes[i] = o
		go func() {
			ex := lib.open(limit)
			t0 := time.Now()
			ex.nested(outer, inner, func() { o.ran.Add(1) })
			o.elapsed = time.Since(t0)
			ex.close()
			close(o.done)
		}()
	}
	deadline := time.NewTimer(time.Until(start.Add(timeout)))
	defer deadline.Stop()
	expired := false
	for i, lib := range libs {
		o := outcomes[i]
		t.Run(lib.name, func(t *testing.T) {
			if !expired {
				select {
				case <-o.done:
				case <-deadline.C:
					expired = true
				}
			}
			select {
			case <-o.done:
				t.Logf("%-10s completed: %d inner tasks in %v", lib.name, o.ran.Load(), o.elapsed.Round(time.Microsecond))
			default:
				t.Logf("%-10s DEADLOCKED: %d of %d inner tasks ran, no progress for %v (goroutines leaked)", lib.name, o.ran.Load(), outer*inner, timeout)
				if lib.unbounded {
					t.Errorf("%s is unbounded and cannot deadlock: the detector is wrong", lib.name)
				}
			}
		})
	}
}

// TestSpin checks that spin is deterministic and does work.
func TestSpin(t *testing.T) {
	if spin(10, 1) != spin(10, 1) || spin(10, 1) == spin(11, 1) {
		t.Fatal("spin is not a deterministic chain")
	}
	if testing.Short() {
		return
	}
	task := cpuTask()
	d := serialBatch(100, task) / 100
	t.Logf("cpu task: %d spin rounds, %v per task (target %v)", cpuRounds(), d, cpuTaskTime)
}
