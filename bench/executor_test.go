package bench

// The executor interface every library implements, the two forms a task
// takes, and the registry of rows.
//
// Each library lives in its own file (baseline_test.go, handpool_test.go,
// errgroup_test.go, conc_test.go, pond_test.go, ants_test.go, deco_test.go)
// as one or more types that implement executor, registered from that
// file's init. To add a library, add one file like them; every workload and
// test picks it up.
//
// Rules every executor follows, so the rows are comparable:
//   - each method is written the way that library's documentation writes
//     it, in both forms (see form): the shared form submits one func value
//     for every task; the closure form builds one closure per task that
//     captures the task's index, as real code capturing per-task state
//     does. Where a library wraps the task (a wg.Done, an error return),
//     the wrapper is that one closure, so no row pays for two;
//   - a library made for long-lived pools (ants, handpool.wg) gets its pool
//     from open and releases it in close, both outside the timer; the
//     others create their pool or group per batch, inside the timed batch,
//     as their documentation does (conc pools cannot be reused; pond's
//     README creates a pool, submits and calls StopAndWait);
//   - the limit is honoured (checked by TestExecutors), except by the two
//     unbounded baselines, goroutines and wg.Go, which are there to show
//     what no limit costs and gives.

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// form is how a batch hands its tasks to an executor.
type form int

const (
	// formShared: one func value, submitted for every task; the task needs
	// no per-task data, so every byte and allocation is the executor's.
	formShared form = 1 << iota
	// formClosure: task i is a closure capturing i, made by the submitting
	// loop (for deco: the index is the call's argument, its way of passing
	// per-task data; the deco.closure row submits closures as the peers do).
	formClosure
)

// forms are the sub-benchmarks of the two-form workloads, in table order.
var forms = []struct {
	name string
	form form
}{
	{"shared", formShared},
	{"closure", formClosure},
}

// work is one batch's task in one form: exactly one field is set.
type work struct {
	shared  func()    // formShared: call it as is, once per task
	indexed func(int) // formClosure: task i calls indexed(i)
}

// work returns the batch's task in form f: shared, or indexed.
func (f form) work(shared func(), indexed func(int)) work {
	if f == formShared {
		return work{shared: shared}
	}
	return work{indexed: indexed}
}

// gathered is a gather batch's result: a map[int]int (gatherMap) or a
// *deco.Map[int, int], read after the batch.
type gathered interface {
	Len() int
	Get(i int) (int, bool)
}

type gatherMap map[int]int

func (m gatherMap) Len() int { return len(m) }

func (m gatherMap) Get(i int) (int, bool) { v, ok := m[i]; return v, ok }

// executor is one library's bounded executor, opened with one limit.
type executor interface {
	// run runs n tasks of w, at most limit at once, and returns once every
	// one has returned. In the closure form task i calls w.indexed(i).
	run(n int, w work)
	// gather runs n tasks, task i computing f(i), and returns the results
	// keyed by i, collected the library's idiomatic way.
	gather(n int, f func(i int) int) gathered
	// nested runs outer tasks; each starts inner tasks of w (the one with
	// index o*inner+j in the closure form) on this same executor and waits
	// for its own inner tasks before it returns: fork-join. With limit <=
	// outer every bounded executor written the idiomatic way deadlocks.
	nested(outer, inner int, w work)
	// spawn is nested without the join: each outer task starts its inner
	// tasks and returns; spawn returns once every task has returned.
	// Executors whose submit blocks while the limit is reached deadlock.
	spawn(outer, inner int, w work)
	// close releases what open acquired. It is not called after a
	// deadlock: see benchGuarded.
	close()
}

// forEach runs task(i) for every i in [0, n) on ex, in the closure form.
func forEach(ex executor, n int, task func(int)) { ex.run(n, work{indexed: task}) }

// library is one row of the benchmark tables.
type library struct {
	name      string // the sub-benchmark name: Benchmark<Workload>[/<form>]/<name>
	rank      int    // table order: baselines, then peers, then deco
	unbounded bool   // ignores the limit (the goroutines and wg.Go baselines)
	// forms the row appears in (formShared|formClosure); 0: both.
	forms form
	// only lists the workloads the row appears in (Benchmark<name>); nil:
	// every workload.
	only []string
	open func(limit int) executor
}

// in reports whether lib has a row in workload (a Benchmark name without
// "Benchmark") and form (0 for the one-form workloads).
func (l library) in(workload string, f form) bool {
	if l.only != nil && !slices.Contains(l.only, workload) {
		return false
	}
	return f == 0 || l.forms == 0 || l.forms&f != 0
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

// eachLibrary runs fn as the sub-benchmark b.Run(lib.name) for every library
// with a row in workload and form f (0 for a one-form workload), of those
// $DECO_BENCH_ROWS selects (see rowsWanted).
func eachLibrary(b *testing.B, workload string, f form, fn func(b *testing.B, lib library)) {
	for _, lib := range libraries() {
		if lib.in(workload, f) && rowsWanted(b, lib.unbounded) {
			b.Run(lib.name, func(b *testing.B) { fn(b, lib) })
		}
	}
}

// rowsWanted reports whether a row runs in this process, as
// $DECO_BENCH_ROWS selects: "unbounded" runs the unbounded baselines' rows
// only (goroutines, wg.Go), "bounded" every other row, including the rows
// of no library (serial, timerfloor, static: unbounded false), and "" or
// unset every row. bench/run.sh runs each workload as the two, in two
// processes, so that every other row starts from the same runtime state:
// a Go process never frees the goroutines it has made, and the tens of
// thousands the unbounded rows start stay on its heap, which raised the
// collector's goal for every later row (Overhead: 18-51 MB at deco's
// shared row, 4 MB in a process without those rows), so that the rows
// that allocate (deco, pond, ...) were collected 3-6 times less often than
// the same row run alone (deco's Overhead/shared: 3-6 collections per
// million calls, not 19).
func rowsWanted(b *testing.B, unbounded bool) bool {
	switch v := os.Getenv("DECO_BENCH_ROWS"); v {
	case "":
		return true
	case "unbounded":
		return unbounded
	case "bounded":
		return !unbounded
	default:
		b.Fatalf("DECO_BENCH_ROWS=%q: want bounded, unbounded, or unset for every row", v)
		return false
	}
}

// eachForm runs fn for every library in both forms, as the sub-benchmarks
// <form>/<library>.
func eachForm(b *testing.B, workload string, fn func(b *testing.B, lib library, f form)) {
	for _, fm := range forms {
		b.Run(fm.name, func(b *testing.B) {
			eachLibrary(b, workload, fm.form, func(b *testing.B, lib library) { fn(b, lib, fm.form) })
		})
	}
}

// String names a form as its sub-benchmark does.
func (f form) String() string {
	for _, fm := range forms {
		if fm.form == f {
			return fm.name
		}
	}
	return fmt.Sprintf("form(%d)", int(f))
}

// TestExecutors checks every library's executor on small inputs, in every
// form it has a row in: every task runs exactly once, the limit is
// honoured, gather returns the right results, and nested and spawned work
// completes when the limit leaves room for inner tasks. Run it with -race:
// it is also the data-race check of every executor.
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
			for _, fm := range forms {
				if !lib.in("Overhead", fm.form) {
					continue
				}
				seen := make([]atomic.Int32, n)
				var shared atomic.Int64
				ex.run(n, fm.form.work(
					func() { enter(); shared.Add(1) },
					func(i int) { enter(); seen[i].Add(1) },
				))
				if fm.form == formShared {
					if got := shared.Load(); got != n {
						t.Errorf("run, shared: %d calls, want %d", got, n)
					}
				} else {
					for i := range seen {
						if c := seen[i].Load(); c != 1 {
							t.Errorf("run, closure: index %d ran %d times", i, c)
							break
						}
					}
				}
				checkPeak("run, " + fm.name)
			}

			m := ex.gather(n, func(i int) int { enter(); return square(i) })
			if m.Len() != n {
				t.Errorf("gather: %d results, want %d", m.Len(), n)
			}
			for i := range n {
				if v, ok := m.Get(i); !ok || v != i*i {
					t.Errorf("gather: result %d = %d, %v; want %d", i, v, ok, i*i)
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
			for _, b := range []struct {
				name  string
				batch batchFunc
			}{{"nested", executor.nested}, {"spawn", executor.spawn}} {
				for _, fm := range forms {
					if !lib.in("Nested", fm.form) {
						continue
					}
					seen := make([]atomic.Int32, outer*inner)
					var shared atomic.Int64
					w := fm.form.work(func() { enter(); shared.Add(1) }, func(i int) { enter(); seen[i].Add(1) })
					done, stuck := guardedBatches(ex, 1, func() { b.batch(ex, outer, inner, w) }, 10*time.Second)
					switch {
					case stuck || done != 1:
						t.Fatalf("%s, %s, limit %d > %d outer tasks: did not finish in 10s", b.name, fm.name, limit, outer)
					case fm.form == formShared && shared.Load() != outer*inner:
						t.Errorf("%s, shared: %d inner calls, want %d", b.name, shared.Load(), outer*inner)
					case fm.form == formClosure:
						for i := range seen {
							if c := seen[i].Load(); c != 1 {
								t.Errorf("%s, closure: inner task %d ran %d times", b.name, i, c)
								break
							}
						}
					}
					checkPeak(b.name + ", " + fm.name)
				}
			}
			ex.close()
		})
	}
}
