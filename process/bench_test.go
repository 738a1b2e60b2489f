package process_test

import (
	"cmp"
	"slices"
	"testing"
	"time"

	"github.com/deco-go/deco"
	"github.com/deco-go/deco/process"
)

// The benchmarks' executors and functions are declared at package level,
// as functions that run on workers must be; each benchmark closes its
// executor when it ends.
var (
	bench1 = process.New(1, process.Stderr(testLog))
	bench2 = process.New(2, process.Stderr(testLog))
	// A call sent ahead to each busy worker (Pipeline(2), the default,
	// said explicitly), and none (Pipeline(1)).
	bench1a = process.New(1, process.Pipeline(2), process.Stderr(testLog))
	bench2a = process.New(2, process.Pipeline(2), process.Stderr(testLog))
	bench2w = process.New(2, process.Pipeline(1), process.Stderr(testLog))

	noopProc1 = deco.ConcurrentValue(noop, deco.Name("bench.noop.proc1"), deco.On(bench1), deco.Limit(1))
	noopProc2 = deco.ConcurrentValue(noop, deco.Name("bench.noop.proc2"), deco.On(bench2), deco.Limit(2))
	noopLocal = deco.ConcurrentValue(noop, deco.Limit(2))
	// The executors' default limits: 2 calls per worker, one sent ahead.
	noopAhead1 = deco.ConcurrentValue(noop, deco.Name("bench.noop.ahead1"), deco.On(bench1a))
	noopAhead2 = deco.ConcurrentValue(noop, deco.Name("bench.noop.ahead2"), deco.On(bench2a))

	structProc2   = deco.ConcurrentValue(movePoint, deco.Name("bench.struct.proc2"), deco.On(bench2), deco.Limit(2))
	noResultProc2 = deco.Concurrent(func(int) {}, deco.Name("bench.noresult.proc2"), deco.On(bench2), deco.Limit(2))

	cpuProc2  = deco.ConcurrentValue(spin, deco.Name("bench.cpu.proc2"), deco.On(bench2), deco.Record(&cpuRec))
	cpuProc2a = deco.ConcurrentValue(spin, deco.Name("bench.cpu.proc2a"), deco.On(bench2a))
	cpuProc2w = deco.ConcurrentValue(spin, deco.Name("bench.cpu.proc2w"), deco.On(bench2w))
	cpuLocal2 = deco.ConcurrentValue(spin, deco.Limit(2), deco.Record(&localRec))

	// cpuRec records the calls of cpuProc2, for the gaps between a
	// worker's calls (worker-gap-ns/call, see usage.report), and localRec
	// those of cpuLocal2, for the gaps between a slot's calls
	// (slot-gap-ns/call of inprocess-2).
	cpuRec, localRec deco.Recorder
)

func noop(i int) int { return i }

// point is the struct shape of BenchmarkRoundTrip.
type point struct {
	X, Y int
	Tag  string
}

func movePoint(p point) point { return point{p.X + 1, p.Y + 1, p.Tag} }

// sink keeps the serial loop's calls of spin from being optimised away.
var sink int

// spinIterations makes spin take about 1 ms of CPU on this project's
// machines (2 cores, Go 1.26).
const spinIterations = 600_000

// spin is ~1 ms of deterministic CPU work: a xorshift generator.
//
//go:noinline
func spin(seed int) int {
	x := uint64(seed) | 1
	for range spinIterations {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	return int(x & 0xffff)
}

// BenchmarkRoundTrip measures the cost per call of a no-op call,
// including its share of one Wait, for each shape of function on two
// workers with a limit of 2 (one call per worker at a time): int (an int
// in, an int out), struct (a struct of two ints and a string in and out)
// and noresult (Concurrent: an int in, nothing out); int-ahead, int on
// two workers with Pipeline(2) and its default limit of 4 (a call sent
// ahead to each worker); then int on one worker with a limit of 1 (each
// call's full round trip, one at a time), int-1worker-ahead on one worker
// with Pipeline(2) and its limit of 2, and in this process with a limit
// of 2, the baseline, in the same run. Workers are started before the timer.
func BenchmarkRoundTrip(b *testing.B) {
	run := func(b *testing.B, e *process.Executor, call func(i int), wait func() error) {
		if e != nil {
			if err := e.Start(); err != nil {
				b.Fatal(err)
			}
			defer e.Close()
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			call(i)
		}
		if err := wait(); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("int", func(b *testing.B) {
		run(b, bench2, func(i int) { noopProc2.Go(i) }, func() error { _, err := noopProc2.Wait(); return err })
	})
	b.Run("struct", func(b *testing.B) {
		run(b, bench2, func(i int) { structProc2.Go(point{i, i, "p"}) }, func() error { _, err := structProc2.Wait(); return err })
	})
	b.Run("noresult", func(b *testing.B) {
		run(b, bench2, func(i int) { noResultProc2.Go(i) }, func() error { _, err := noResultProc2.Wait(); return err })
	})
	b.Run("int-ahead", func(b *testing.B) {
		run(b, bench2a, func(i int) { noopAhead2.Go(i) }, func() error { _, err := noopAhead2.Wait(); return err })
	})
	b.Run("int-1worker", func(b *testing.B) {
		run(b, bench1, func(i int) { noopProc1.Go(i) }, func() error { _, err := noopProc1.Wait(); return err })
	})
	b.Run("int-1worker-ahead", func(b *testing.B) {
		run(b, bench1a, func(i int) { noopAhead1.Go(i) }, func() error { _, err := noopAhead1.Wait(); return err })
	})
	b.Run("inprocess", func(b *testing.B) {
		run(b, nil, func(i int) { noopLocal.Go(i) }, func() error { _, err := noopLocal.Wait(); return err })
	})
}

// cpuTasks is the batch of BenchmarkCPU: 200 calls of ~1 ms of CPU.
const cpuTasks = 200

// serialBatch runs the batch in a loop, the baseline of the speed-ups.
func serialBatch() {
	for i := range cpuTasks {
		sink += spin(i)
	}
}

// decoBatch runs the batch through f and waits for it.
func decoBatch(b *testing.B, f *deco.Func[int, int]) {
	for i := range cpuTasks {
		f.Go(i)
	}
	if _, err := f.Wait(); err != nil {
		b.Fatal(err)
	}
}

// usage is what the parent, and the workers of an executor, have spent
// since it was taken.
type usage struct {
	e                  *process.Executor
	stats              process.Stats
	f                  *deco.Func[int, int]
	pids               []int
	cpu, workerCPU     time.Duration
	switches, workerSw int64
	workersOK          bool
	took, ran          time.Duration // f's Stats: its batches' wall time, its calls' run time on the workers
}

func takeUsage(e *process.Executor, f *deco.Func[int, int]) usage {
	if f == cpuProc2 {
		cpuRec.Reset()
	}
	u := usage{e: e, f: f, pids: e.PIDs(), stats: e.Stats()}
	u.took, u.ran = tookRan(f)
	u.cpu, u.switches = selfUsage()
	u.workerCPU, u.workerSw, u.workersOK = workersUsage(u.pids)
	return u
}

// tookRan returns f's batches' wall time and its calls' run time on the
// workers, summed, from its Stats.
func tookRan(f *deco.Func[int, int]) (took, ran time.Duration) {
	s := f.Stats()
	for _, w := range s.Workers {
		ran += w.Ran
	}
	return s.Took, ran
}

// gaps returns the time the workers of the calls r recorded spent between
// the end of a call and the start of their next, on their own clocks,
// summed over the workers: the part of worker-idle-ns/call that is
// neither a batch's start nor its tail. For calls in this process, it is
// the same for the pool's slots.
func gaps(r *deco.Recorder) time.Duration {
	type run struct{ start, end time.Duration }
	byWorker := map[int][]run{}
	for _, s := range r.Trace("").Spans {
		byWorker[s.Lane] = append(byWorker[s.Lane], run{s.Start, s.End})
	}
	var gaps time.Duration
	for _, runs := range byWorker {
		slices.SortFunc(runs, func(a, b run) int { return cmp.Compare(a.start, b.start) })
		for i := 1; i < len(runs); i++ {
			gaps += max(runs[i].start-runs[i-1].end, 0)
		}
	}
	return gaps
}

// report reports what this process, the parent of the workers, spent per
// call since u was taken: its CPU time (parent-ns/call) and its context
// switches (parent-switches/call), which on cores busy with the workers'
// calls take a core from a worker; the calls sent ahead that were given
// back for an idle worker (given-back/call, see Pipeline); the time each worker process did not
// run a call while the batches ran, per call (worker-idle-ns/call: the
// gaps between calls, the first call's start and the batch's tail), and,
// for cpuProc2, the gaps alone (worker-gap-ns/call, from the calls' times on
// the workers: a gap spans the worker's sending of a result and reading of
// its next call, and the parent's handling of the result when it runs on
// that worker's core meanwhile); and,
// where /proc tells (Linux), what the worker processes spent per call
// (worker-ns/call, ~1 ms of it the task's, and worker-switches/call),
// unless a worker was replaced meanwhile.
func (u usage) report(b *testing.B) {
	c, s := selfUsage()
	calls := float64(b.N * cpuTasks)
	took, ran := tookRan(u.f)
	b.ReportMetric(float64(time.Duration(len(u.pids))*(took-u.took)-(ran-u.ran))/calls, "worker-idle-ns/call")
	if u.f == cpuProc2 {
		b.ReportMetric(float64(gaps(&cpuRec))/calls, "worker-gap-ns/call")
	}
	b.ReportMetric(float64(c-u.cpu)/calls, "parent-ns/call")
	b.ReportMetric(float64(s-u.switches)/calls, "parent-switches/call")
	b.ReportMetric(float64(u.e.Stats().GivenBack-u.stats.GivenBack)/calls, "given-back/call")
	if !u.workersOK || !slices.Equal(u.pids, u.e.PIDs()) {
		return
	}
	if wc, ws, ok := workersUsage(u.pids); ok {
		b.ReportMetric(float64(wc-u.workerCPU)/calls, "worker-ns/call")
		b.ReportMetric(float64(ws-u.workerSw)/calls, "worker-switches/call")
	}
}

// BenchmarkCPU measures a batch of 200 calls of ~1 ms of CPU each, per
// batch: serially, in this process with a limit of 2, on 2 worker
// processes with the executor's defaults (Pipeline(2): a limit of 4, a
// call sent ahead to each worker), on 2 workers with Pipeline(2) said
// explicitly, and on 2 with Pipeline(1) (a limit of 2, no call sent
// ahead). Each is also a sub-benchmark of its own; speedups runs one batch
// of each form per iteration, one after the other, and reports the
// speed-ups over the serial batch of the same iteration (x-inprocess,
// x-process, x-process-ahead, x-process-window1) and
// process-vs-inprocess, the default process speed-up as a fraction of the
// in-process one, so that the ratios share their baseline's load; it then
// runs the in-process batch again and reports inprocess-vs-inprocess, the
// first in-process batch's time over the second's: the ratio that
// process-vs-inprocess would show were the process batch an in-process
// one, which tells how far the machine alone moves it. The process rows also report the parent's CPU
// time and context switches per call, and the workers' (see
// usage.report); inprocess-2 reports the gaps between the calls of each
// of its pool's slots (slot-gap-ns/call), to set against process-2's
// worker-gap-ns/call. Workers are
// started before the timer.
func BenchmarkCPU(b *testing.B) {
	start := func(b *testing.B, es ...*process.Executor) {
		for _, e := range es {
			if err := e.Start(); err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { e.Close() })
		}
		b.ResetTimer()
	}
	b.Run("serial", func(b *testing.B) {
		for range b.N {
			serialBatch()
		}
	})
	b.Run("inprocess-2", func(b *testing.B) {
		localRec.Reset()
		for range b.N {
			decoBatch(b, cpuLocal2)
		}
		b.ReportMetric(float64(gaps(&localRec))/float64(b.N*cpuTasks), "slot-gap-ns/call")
	})
	b.Run("process-2", func(b *testing.B) {
		start(b, bench2)
		u := takeUsage(bench2, cpuProc2)
		for range b.N {
			decoBatch(b, cpuProc2)
		}
		u.report(b)
	})
	b.Run("process-2-ahead", func(b *testing.B) {
		start(b, bench2a)
		u := takeUsage(bench2a, cpuProc2a)
		for range b.N {
			decoBatch(b, cpuProc2a)
		}
		u.report(b)
	})
	b.Run("process-2-window1", func(b *testing.B) {
		start(b, bench2w)
		u := takeUsage(bench2w, cpuProc2w)
		for range b.N {
			decoBatch(b, cpuProc2w)
		}
		u.report(b)
	})
	b.Run("speedups", func(b *testing.B) {
		start(b, bench2, bench2a, bench2w)
		var serial, local, proc, procAhead, procWindow1, local2 time.Duration
		timed := func(d *time.Duration, f func()) {
			t := time.Now()
			f()
			*d += time.Since(t)
		}
		for range b.N {
			timed(&serial, serialBatch)
			timed(&local, func() { decoBatch(b, cpuLocal2) })
			timed(&proc, func() { decoBatch(b, cpuProc2) })
			timed(&procAhead, func() { decoBatch(b, cpuProc2a) })
			timed(&procWindow1, func() { decoBatch(b, cpuProc2w) })
			timed(&local2, func() { decoBatch(b, cpuLocal2) })
			cpuRec.Reset() // only process-2 and inprocess-2 read them
			localRec.Reset()
		}
		b.ReportMetric(float64(serial)/float64(local), "x-inprocess")
		b.ReportMetric(float64(serial)/float64(proc), "x-process")
		b.ReportMetric(float64(serial)/float64(procAhead), "x-process-ahead")
		b.ReportMetric(float64(serial)/float64(procWindow1), "x-process-window1")
		b.ReportMetric(float64(local)/float64(proc), "process-vs-inprocess")
		b.ReportMetric(float64(local)/float64(local2), "inprocess-vs-inprocess")
	})
}
