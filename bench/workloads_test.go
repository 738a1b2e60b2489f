package bench

// The workloads, the helpers they share, and their Benchmark functions
// (the nesting workloads are in nesting_test.go). What a row is, and the
// two forms of a task, are in executor_test.go.

import (
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

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

	nestedOuter = 100 // outer tasks per nested or spawn batch
	nestedInner = 100 // inner tasks started by each outer task
	nestedLimit = 2   // the nesting workloads' limit

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

// cpuWork returns the cpu workload's task in form f: ~50 µs of spin on
// this machine, seeded with the task's index in the closure form.
func cpuWork(f form) work {
	rounds := cpuRounds()
	return f.work(
		func() { cpuSink.Add(spin(rounds, 1)) },
		func(i int) { cpuSink.Add(spin(rounds, uint64(i))) },
	)
}

// serialWork runs n tasks of w on the calling goroutine and returns how
// long they took.
func serialWork(n int, w work) time.Duration {
	t0 := time.Now()
	for i := range n {
		if w.shared != nil {
			w.shared()
		} else {
			w.indexed(i)
		}
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

// staticIO is the io batch on a perfect static executor: ioLimit
// goroutines, started for the batch, each running its ioRounds tasks back
// to back (goroutine g runs tasks g, g+ioLimit, ...), with no queue, no
// hand-off between tasks and a sync.WaitGroup for the batch. No executor
// that takes its tasks from a queue can beat it; what it costs over the
// timer floor is what Go's scheduler and timers cost 200 sleeping
// goroutines on this machine.
func staticIO(w work) {
	var wg sync.WaitGroup
	wg.Add(ioLimit)
	for g := range ioLimit {
		go func() {
			defer wg.Done()
			for i := g; i < ioTasks; i += ioLimit {
				if w.shared != nil {
					w.shared()
				} else {
					w.indexed(i)
				}
			}
		}()
	}
	wg.Wait()
}

// square is the gather workload's task.
func square(i int) int { return i * i }

// gatherSlice is how executors without result support gather: task i writes
// element i of a preallocated slice (no lock: every task owns its element),
// and the map is built after the wait. errgroup's documentation gathers this
// way; the baselines and handpool do too.
func gatherSlice(ex executor, n int, f func(int) int) gathered {
	results := make([]int, n)
	forEach(ex, n, func(i int) { results[i] = f(i) })
	m := make(gatherMap, n)
	for i, v := range results {
		m[i] = v
	}
	return m
}

// gatherLocked is the other common way: every task writes the map itself,
// under a mutex.
func gatherLocked(ex executor, n int, f func(int) int) gathered {
	var mu sync.Mutex
	m := make(gatherMap, n)
	forEach(ex, n, func(i int) {
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
	forEach(ex, n, func(offset int) { store.put(offset, seedTask(offset)) })
}

// BenchmarkOverhead: b.N no-op tasks submitted from one goroutine, then one
// wait, limit GOMAXPROCS. ns/op, B/op and allocs/op are per task. In the
// shared form the task is one func value that costs nothing to submit, so
// all of it is the executor's; in the closure form each task is a closure
// capturing its index (24 B, one allocation, for the libraries that take
// a func()), what a real loop submits. cpu-ns/op is the CPU time (user and
// system) the whole process used per task while the tasks ran, as in the
// nesting rows: another program sharing the machine inflates it far less
// than the wall time, so it compares two builds measured under load.
func BenchmarkOverhead(b *testing.B) {
	eachForm(b, "Overhead", func(b *testing.B, lib library, f form) {
		w := f.work(func() {}, func(int) {})
		ex := lib.open(cores())
		b.ReportAllocs()
		b.ResetTimer()
		cpu0 := processCPU()
		ex.run(b.N, w)
		cpu := processCPU() - cpu0
		b.StopTimer()
		ex.close()
		if cpu > 0 {
			b.ReportMetric(float64(cpu)/float64(b.N), "cpu-ns/op")
		}
	})
}

// BenchmarkCPU: one iteration is a batch of cpuTasks tasks of ~50 µs of
// spin each, limit GOMAXPROCS. ns/op is per batch.
//
// speedup is serial time / parallel time of the same batch. The serial time
// is measured inside the same benchmark function, right before b.ResetTimer,
// as one serial batch on the benchmark goroutine: the ratio
// then compares two measurements taken seconds apart under the same machine
// state (frequency, other load), which a separate serial row could not
// guarantee. It is timed afresh each time the framework calls the function,
// so the reported value belongs to the final b.N run. The serial rows show
// the serial batch itself (speedup 1 by definition); on an idle machine the
// ideal speedup is GOMAXPROCS.
func BenchmarkCPU(b *testing.B) {
	for _, fm := range forms {
		b.Run(fm.name, func(b *testing.B) {
			w := cpuWork(fm.form)
			if rowsWanted(b, false) {
				b.Run("serial", func(b *testing.B) {
					for range b.N {
						serialWork(cpuTasks, w)
					}
					b.ReportMetric(1, "speedup")
				})
			}
			eachLibrary(b, "CPU", fm.form, func(b *testing.B, lib library) {
				ex := lib.open(cores())
				serial := serialWork(cpuTasks, w)
				b.ResetTimer()
				for range b.N {
					ex.run(cpuTasks, w)
				}
				b.StopTimer()
				ex.close()
				perBatch := b.Elapsed() / time.Duration(b.N)
				b.ReportMetric(float64(serial)/float64(perBatch), "speedup")
			})
		})
	}
}

// BenchmarkIO: one iteration is a batch of ioTasks sleeps of 2 ms, limit
// ioLimit (200), so ideally 10 rounds: 20 ms. ns/op is per batch. The sleeps
// are real (time.Sleep on the machine's timers): this is what the row
// measures.
//
// x-ideal is wall / 20 ms. x-floor is wall / floor, where floor is 10 sleeps
// of 2 ms in a row measured in the same benchmark function just before the
// timer starts (timerFloor): what the batch would cost with a perfect
// executor and this machine's real timers. The timerfloor rows time the
// floor itself; the static rows run the batch on a perfect static executor
// (staticIO: 200 goroutines, 10 sleeps each back to back, no queue), the
// floor of any executor in Go on this machine. The unbounded baselines ignore the limit and sleep all 2000
// at once, hence x-ideal near 0.1.
func BenchmarkIO(b *testing.B) {
	report := func(b *testing.B, floor time.Duration) {
		wall := float64(b.Elapsed()) / float64(b.N)
		b.ReportMetric(wall/float64(ioIdeal), "x-ideal")
		b.ReportMetric(wall/float64(floor), "x-floor")
	}
	for _, fm := range forms {
		b.Run(fm.name, func(b *testing.B) {
			w := fm.form.work(func() { time.Sleep(ioSleep) }, func(int) { time.Sleep(ioSleep) })
			if rowsWanted(b, false) { // the rows of no library
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
				b.Run("static", func(b *testing.B) {
					floor := timerFloor()
					b.ResetTimer()
					for range b.N {
						staticIO(w)
					}
					b.StopTimer()
					report(b, floor)
				})
			}
			eachLibrary(b, "IO", fm.form, func(b *testing.B, lib library) {
				ex := lib.open(ioLimit)
				floor := timerFloor()
				b.ResetTimer()
				for range b.N {
					ex.run(ioTasks, w)
				}
				b.StopTimer()
				ex.close()
				report(b, floor)
			})
		})
	}
}

// BenchmarkIOLatency is BenchmarkIO taken apart: where a batch's time
// over the timer floor goes. Each task notes when its sleep starts and
// ends (two clock readings more per task than BenchmarkIO, the same for
// every row), and each row reports, besides x-floor:
//
//   - overshoot-µs: the mean time a task's time.Sleep(2 ms) took beyond
//     2 ms — the timer's latency plus the wait for a processor once it
//     fired, which grows with the CPU every woken goroutine needs before
//     it sleeps again (200 wake at once per round);
//   - gap-µs: per round, the batch's wall time / 10 minus the mean sleep —
//     the time a slot spends between the end of one sleep and the start
//     of the next: the executor's hand-off (for the limit-200 rows; the
//     unbounded ones run one round);
//   - ramp-µs: the mean time from the batch's start until its first 200
//     tasks (one per slot) have all started their sleep — what starting
//     the slots costs while the caller is still submitting the rest;
//   - tail-µs: the mean time from the end of the batch's last sleep until
//     the batch returns — the executor's wait for its last tasks and, for
//     deco, for its workers to exit.
//
// The static row is the perfect static executor of BenchmarkIO (no queue,
// no hand-off): its overshoot and gap are the runtime's alone. Closure
// form only (every task needs its index). ns/op is per batch.
func BenchmarkIOLatency(b *testing.B) {
	var starts, ends [ioTasks]time.Time
	w := work{indexed: func(i int) {
		starts[i] = time.Now()
		time.Sleep(ioSleep)
		ends[i] = time.Now()
	}}
	// phases sums a batch's sleeps, ramp and tail (see above).
	type phases struct{ sleeps, ramp, tail time.Duration }
	report := func(b *testing.B, floor time.Duration, sum phases) {
		wall := time.Duration(int64(b.Elapsed()) / int64(b.N))
		mean := sum.sleeps / time.Duration(b.N*ioTasks)
		b.ReportMetric(float64(wall)/float64(floor), "x-floor")
		b.ReportMetric(float64(mean-ioSleep)/1e3, "overshoot-µs")
		b.ReportMetric(float64(wall/ioRounds-mean)/1e3, "gap-µs")
		b.ReportMetric(float64(sum.ramp/time.Duration(b.N))/1e3, "ramp-µs")
		b.ReportMetric(float64(sum.tail/time.Duration(b.N))/1e3, "tail-µs")
	}
	// measure adds the phases of the batch that ran from t0 to t1; it
	// runs with the timer stopped.
	var sorted [ioTasks]time.Time
	measure := func(b *testing.B, sum *phases, t0, t1 time.Time) {
		b.StopTimer()
		last := t0
		for i := range ioTasks {
			sum.sleeps += ends[i].Sub(starts[i])
			if ends[i].After(last) {
				last = ends[i]
			}
		}
		sorted = starts
		slices.SortFunc(sorted[:], time.Time.Compare)
		sum.ramp += sorted[ioLimit-1].Sub(t0)
		sum.tail += t1.Sub(last)
		b.StartTimer()
	}
	if rowsWanted(b, false) {
		b.Run("static", func(b *testing.B) {
			floor := timerFloor()
			var sum phases
			b.ResetTimer()
			for range b.N {
				t0 := time.Now()
				staticIO(w)
				measure(b, &sum, t0, time.Now())
			}
			b.StopTimer()
			report(b, floor, sum)
		})
	}
	eachLibrary(b, "IOLatency", formClosure, func(b *testing.B, lib library) {
		ex := lib.open(ioLimit)
		floor := timerFloor()
		var sum phases
		b.ResetTimer()
		for range b.N {
			t0 := time.Now()
			ex.run(ioTasks, w)
			measure(b, &sum, t0, time.Now())
		}
		b.StopTimer()
		ex.close()
		report(b, floor, sum)
	})
}

// BenchmarkIOChains is the static IO batch (BenchmarkIO's static row, no
// executor at all) with 1 to 200 chains of ioRounds sleeps side by side,
// each chain a goroutine of its own: how the timer floor of one chain
// grows into a batch of many, which bounds every row of BenchmarkIO from
// below. Each row reports, against its own timerFloor:
//
//   - x-floor: the batch's wall time / floor, as BenchmarkIO;
//   - mean-x: the mean chain's time / floor: what a chain's ten sleeps cost
//     with that many goroutines waking beside it;
//   - max-x: the slowest chain's time / floor, which ends the batch.
//
// chains=1 is the floor's own workload timed as a row: its spread is the
// floor's noise. The stagger row starts chain g g/200 of a sleep late, so
// that the chains' wake-ups do not coincide (no herd); its x-floor
// includes that delay, mean-x and max-x do not. ns/op is per batch.
func BenchmarkIOChains(b *testing.B) {
	if !rowsWanted(b, false) {
		b.Skip("DECO_BENCH_ROWS=unbounded: no library rows here")
	}
	for _, row := range []struct {
		chains  int
		stagger bool
	}{{1, false}, {10, false}, {100, false}, {ioLimit, false}, {ioLimit, true}} {
		name := fmt.Sprintf("chains=%d", row.chains)
		if row.stagger {
			name += "/stagger"
		}
		b.Run(name, func(b *testing.B) {
			floor := timerFloor()
			took := make([]time.Duration, row.chains)
			var mean, slowest float64
			b.ResetTimer()
			for range b.N {
				var wg sync.WaitGroup
				wg.Add(row.chains)
				for g := range row.chains {
					go func() {
						defer wg.Done()
						if row.stagger {
							time.Sleep(time.Duration(g) * ioSleep / time.Duration(row.chains))
						}
						t0 := time.Now()
						for range ioRounds {
							time.Sleep(ioSleep)
						}
						took[g] = time.Since(t0)
					}()
				}
				wg.Wait()
				var sum time.Duration
				for _, d := range took {
					sum += d
				}
				mean += float64(sum) / float64(row.chains) / float64(floor)
				slowest += float64(slices.Max(took)) / float64(floor)
			}
			b.StopTimer()
			b.ReportMetric(float64(b.Elapsed())/float64(b.N)/float64(floor), "x-floor")
			b.ReportMetric(mean/float64(b.N), "mean-x")
			b.ReportMetric(slowest/float64(b.N), "max-x")
		})
	}
}

// BenchmarkGather: one iteration is a batch of gatherTasks tasks, task i
// returning i*i, limit GOMAXPROCS; the results end up keyed by i, gathered
// each library's idiomatic way (see the library files), or by hand with a
// mutex-protected map (handpool.mutexmap), or through a deco.Map written
// from the tasks (deco.Map). Every task needs its index, so the workload has
// one form: a closure per task (deco: the index as the call's argument;
// deco.closure: a closure, as the peers). ns/op and B/op are per batch;
// ns/task is ns/op / gatherTasks.
func BenchmarkGather(b *testing.B) {
	eachLibrary(b, "Gather", 0, func(b *testing.B, lib library) {
		ex := lib.open(cores())
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			if m := ex.gather(gatherTasks, square); m.Len() != gatherTasks {
				b.Fatalf("gathered %d results, want %d", m.Len(), gatherTasks)
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
// would change. One form, a closure per task (every task needs its offset).
// ns/op and B/op are per batch; ns/task is ns/op / seedTasks.
func BenchmarkSeed(b *testing.B) {
	eachLibrary(b, "Seed", 0, func(b *testing.B, lib library) {
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
			ex := handpool{limit: cores(), queue: handpoolQueue}
			b.ReportAllocs()
			for range b.N {
				times := st.new(seedTasks)
				runSeed(ex, seedTasks, times)
			}
			b.ReportMetric(float64(b.Elapsed())/float64(b.N)/seedTasks, "ns/task")
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
	d := serialWork(100, cpuWork(formShared)) / 100
	t.Logf("cpu task: %d spin rounds, %v per task (target %v)", cpuRounds(), d, cpuTaskTime)
}
