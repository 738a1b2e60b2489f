package deco

import (
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Stats describes the calls of one decorated function since it was made.
// It is always collected: each worker counts the calls of a streak locally
// and adds them up when the streak ends (one clock reading per streak),
// and the caller reads the clock for every eighth call (every 64th after
// the function's first 512). BenchmarkOverhead measures the cost (deco
// against deco-nostats): 113–232 ns (median 148) and 109–177 ns (median
// 135) per no-op call on 2 cores, 12 alternated rounds of -count 1 on a
// nearly idle machine (load average 0.4–2.6) — a difference within the
// rounds' spread.
type Stats struct {
	Name        string // the function's name, or ""
	Calls       int64  // calls started
	Done        int64  // calls finished, failed or not
	Failed      int64  // calls that returned an error or panicked
	Panicked    int64  // calls that panicked
	Running     int    // calls of the function's pool running now (a worker counts from the first call of a streak to its last)
	MaxParallel int    // the most calls of the pool seen running at once, counted alike

	// Took is the wall time of the waited batches: from each batch's
	// first call to its last call's end, summed over batches.
	Took time.Duration
	// WouldHaveTaken is the sum of the calls' own run times: what the
	// calls would have taken one after the other.
	WouldHaveTaken time.Duration
	// QueueWaitMedian and QueueWaitP99 are the time calls waited for a
	// slot, from a sample of one call in eight (one in 64, weighted, after
	// the function's first 512 calls); accurate within 1/8.
	QueueWaitMedian time.Duration
	QueueWaitP99    time.Duration

	// Workers counts the calls by the worker that ran them, sorted by
	// name, for a function on an executor that names its workers (a
	// cluster's, through [github.com/deco-go/deco/backend.Ran]); nil
	// otherwise, and for calls in this process.
	Workers []WorkerStats
}

// WorkerStats counts the calls of a function that one worker of its
// executor ran, as the executor reported them: see [Stats.Workers].
type WorkerStats struct {
	Worker string        // the worker's name, such as "host:pid"
	Calls  int64         // calls it ran, counted when they finish
	Failed int64         // of those, calls that returned an error or panicked
	Ran    time.Duration // the calls' run time on the worker, when the executor measured it
}

// Speedup reports WouldHaveTaken / Took, or 0 before any batch is waited.
func (s Stats) Speedup() float64 {
	if s.Took <= 0 {
		return 0
	}
	return float64(s.WouldHaveTaken) / float64(s.Took)
}

func (s Stats) String() string {
	name := s.Name
	if name == "" {
		name = "func"
	}
	text := fmt.Sprintf("%s: %d calls, %d done, %d failed, %d panicked; took %v, would have taken %v (%.2fx); max parallel %d; queue wait p50 %v p99 %v",
		name, s.Calls, s.Done, s.Failed, s.Panicked, s.Took.Round(time.Microsecond), s.WouldHaveTaken.Round(time.Microsecond),
		s.Speedup(), s.MaxParallel, s.QueueWaitMedian, s.QueueWaitP99)
	if len(s.Workers) == 0 {
		return text
	}
	var b strings.Builder
	b.WriteString(text)
	fmt.Fprintf(&b, "; %d workers:", len(s.Workers))
	for i, w := range s.Workers {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, " %s %d", w.Worker, w.Calls)
	}
	return b.String()
}

// Stats returns a snapshot of f's statistics. Counters are read one by one,
// so a snapshot taken while calls run may be off by the calls finishing
// meanwhile.
func (f *Func[A, R]) Stats() Stats {
	c := &f.core.stats
	s := Stats{
		Name:           f.core.name,
		Calls:          f.startedCalls(),
		Done:           c.done.Load(),
		Failed:         c.failed.Load(),
		Panicked:       c.panicked.Load(),
		Took:           time.Duration(c.wall.Load()),
		WouldHaveTaken: time.Duration(c.busy.Load()),
	}
	s.Running, s.MaxParallel = f.core.pool.parallelism()
	s.QueueWaitMedian = c.queueWait.quantile(0.5)
	s.QueueWaitP99 = c.queueWait.quantile(0.99)
	s.Workers = c.workers.snapshot()
	return s
}

// Progress is what [OnProgress] reports as calls finish.
type Progress struct {
	Func   string // the function's name, or ""
	Done   int64  // calls finished so far
	Total  int64  // calls started so far
	Failed int64  // calls finished with an error or a panic
	// Worker names the worker that ran the call that just finished, for
	// a function on an executor that names its workers (see
	// [Stats.Workers]); else "".
	Worker string
}

// statsOn is always true in programs. Tests turn it off (export_test.go)
// to measure what the always-on statistics cost per call, in
// BenchmarkOverhead.
var statsOn = true

// queueSampled reports the weight in the sample of the queue wait of a
// function's call number i (from 0, over all its batches and scopes), or 0
// if it is not measured: one call in eight of the first queueDense, each
// standing for eight calls, then one in 64, each standing for 64. A
// sampled call reads the clock twice (when it is queued and when it
// starts), so the sparser tail keeps a busy function's cost per call down,
// also when it runs in many small batches or scopes, and the weights keep
// the percentiles those of all the calls.
func queueSampled(i int64) int64 {
	if i < queueDense {
		if i&7 == 0 {
			return 1
		}
		return 0
	}
	if i&63 == 0 {
		return 8
	}
	return 0
}

const queueDense = 512

// counters are a function's statistics.
type counters struct {
	calls, done, failed, panicked atomic.Int64
	busy, wall                    atomic.Int64 // nanoseconds
	queueWait                     histogram
	workers                       workerTally
}

// record counts a finished call: its failure at once, its worker's count
// if an executor named one, and, if countDone, the call itself (otherwise
// its worker counts it when it settles).
func (s *counters) record(c *callCore, countDone bool) {
	if e := c.extra.Load(); e != nil { // what c.fault and c.ranOn read, loaded once
		if e.panicked != nil {
			s.panicked.Add(1)
			s.failed.Add(1)
		} else if e.err != nil {
			s.failed.Add(1)
		}
		if r := e.ran.Load(); r != nil {
			s.workers.add(r, e.err != nil || e.panicked != nil)
		}
	}
	if countDone {
		s.done.Add(1)
	}
}

// workerTally counts calls by the worker that ran them. Only calls whose
// executor named a worker reach it, calls that crossed to another process
// at a far higher cost than its lock.
type workerTally struct {
	mu sync.Mutex
	m  map[string]*WorkerStats
}

func (t *workerTally) add(r *ranOn, failed bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil {
		t.m = map[string]*WorkerStats{}
	}
	w := t.m[r.worker]
	if w == nil {
		w = &WorkerStats{Worker: r.worker}
		t.m[r.worker] = w
	}
	w.Calls++
	if failed {
		w.Failed++
	}
	if r.start != 0 && r.end > r.start {
		w.Ran += time.Duration(r.end - r.start)
	}
}

// snapshot returns the counts sorted by worker, or nil if there are none.
func (t *workerTally) snapshot() []WorkerStats {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.m) == 0 {
		return nil
	}
	out := make([]WorkerStats, 0, len(t.m))
	for _, w := range t.m {
		out = append(out, *w)
	}
	slices.SortFunc(out, func(a, b WorkerStats) int { return strings.Compare(a.Worker, b.Worker) })
	return out
}

func (s *counters) addWall(ns int64) {
	if ns > 0 {
		s.wall.Add(ns)
	}
}

// storeMax raises a to v if v is larger, atomically.
func storeMax(a *atomic.Int64, v int64) {
	for m := a.Load(); v > m && !a.CompareAndSwap(m, v); m = a.Load() {
	}
}

// histogram counts durations in buckets of 1/4 of a power of two, from
// 1 ns to about 290 years, with atomic adds.
type histogram struct {
	buckets [64 * 4]atomic.Int64
	max     atomic.Int64 // the largest duration counted: no quantile exceeds it
}

func bucketOf(ns int64) int {
	if ns < 4 {
		if ns < 0 {
			return 0
		}
		return int(ns)
	}
	e := 63 - bits.LeadingZeros64(uint64(ns)) // ns in [2^e, 2^(e+1))
	sub := int(ns>>(e-2)) & 3                 // the two bits after the leading one
	return e*4 + sub
}

// bucketUpper is the largest duration counted in bucket i.
func bucketUpper(i int) int64 {
	if i < 4 {
		return int64(i)
	}
	e, sub := i/4, int64(i%4)
	return (1<<e + (sub+1)<<(e-2)) - 1
}

func (h *histogram) add(ns int64) { h.addN(ns, 1) }

// addN counts ns n times.
func (h *histogram) addN(ns, n int64) {
	h.buckets[bucketOf(ns)].Add(n)
	storeMax(&h.max, ns)
}

// quantile returns the upper bound of the bucket holding quantile q, or the
// largest duration seen if that is smaller: within a quarter of a power of
// two of the true value, and never above the largest.
func (h *histogram) quantile(q float64) time.Duration {
	var total int64
	for i := range h.buckets {
		total += h.buckets[i].Load()
	}
	if total == 0 {
		return 0
	}
	rank := int64(math.Ceil(q * float64(total))) // nearest rank
	rank = max(rank, 1)
	var seen int64
	for i := range h.buckets {
		seen += h.buckets[i].Load()
		if seen >= rank {
			return time.Duration(min(bucketUpper(i), h.max.Load()))
		}
	}
	return time.Duration(h.max.Load())
}

// timing measures every call of a scope, for [StatsTo]: unlike a
// function's streak-based stats, it reads the clock twice per call, so it
// is only on when asked for.
type timing struct {
	busy, running, maxRunning atomic.Int64
	queueWait                 histogram
}

func (t *timing) enter(queued int64) {
	storeMax(&t.maxRunning, t.running.Add(1))
	if queued >= 0 {
		t.queueWait.add(queued)
	}
}

func (t *timing) leave(ran int64) {
	t.running.Add(-1)
	if ran > 0 {
		t.busy.Add(ran)
	}
}

// scopeStats describes a finished scope.
func (s *scope) stats(took int64) Stats {
	st := Stats{Name: "Synchronized", Calls: int64(s.calls.n), Took: time.Duration(took)}
	var workers workerTally
	for i := range s.calls.n {
		t := s.calls.at(i)
		c := t.core()
		if c.state.Load() == stateDone {
			st.Done++
		}
		err, pe := c.fault()
		if pe != nil {
			st.Panicked++
		}
		if pe != nil || err != nil {
			st.Failed++
		}
		if r := c.ranOn(); r != nil {
			workers.add(r, pe != nil || err != nil)
		}
	}
	st.Workers = workers.snapshot()
	if t := s.timing; t != nil {
		st.WouldHaveTaken = time.Duration(t.busy.Load())
		st.MaxParallel = int(t.maxRunning.Load())
		st.QueueWaitMedian = t.queueWait.quantile(0.5)
		st.QueueWaitP99 = t.queueWait.quantile(0.99)
	}
	return st
}
