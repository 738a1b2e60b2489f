package deco

import (
	"fmt"
	"math"
	"math/bits"
	"sync/atomic"
	"time"
)

// Stats describes the calls of one decorated function since it was made.
// It is always collected: each worker counts the calls of a streak locally
// and adds them up when the streak ends (one clock reading per streak),
// and the caller reads the clock for every eighth call. BenchmarkOverhead
// puts the cost at about 9 ns per call (deco against deco-nostats).
type Stats struct {
	Name        string // the function's name, or ""
	Calls       int64  // calls started
	Done        int64  // calls finished, failed or not
	Failed      int64  // calls that returned an error or panicked
	Panicked    int64  // calls that panicked
	Running     int    // calls of the function's pool running now
	MaxParallel int    // the most calls of the pool seen running at once

	// Took is the wall time of the waited batches: from each batch's
	// first call to its last call's end, summed over batches.
	Took time.Duration
	// WouldHaveTaken is the sum of the calls' own run times: what the
	// calls would have taken one after the other.
	WouldHaveTaken time.Duration
	// QueueWaitMedian and QueueWaitP99 are the time calls waited for a
	// slot, from a sample of one call in eight; accurate within 1/8.
	QueueWaitMedian time.Duration
	QueueWaitP99    time.Duration
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
	return fmt.Sprintf("%s: %d calls, %d done, %d failed, %d panicked; took %v, would have taken %v (%.2fx); max parallel %d; queue wait p50 %v p99 %v",
		name, s.Calls, s.Done, s.Failed, s.Panicked, s.Took.Round(time.Microsecond), s.WouldHaveTaken.Round(time.Microsecond),
		s.Speedup(), s.MaxParallel, s.QueueWaitMedian, s.QueueWaitP99)
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
	return s
}

// Progress is what [OnProgress] reports as calls finish.
type Progress struct {
	Func   string // the function's name, or ""
	Done   int64  // calls finished so far
	Total  int64  // calls started so far
	Failed int64  // calls finished with an error or a panic
}

// statsOn is always true in programs. Tests turn it off (export_test.go)
// to measure what the always-on statistics cost per call, in
// BenchmarkOverhead.
var statsOn = true

// queueSample selects the calls whose queue wait is measured: index&7 == 0.
const queueSample = 7

// counters are a function's statistics.
type counters struct {
	calls, done, failed, panicked atomic.Int64
	busy, wall                    atomic.Int64 // nanoseconds
	queueWait                     histogram
}

// record counts a finished call: its failure at once, and, if countDone,
// the call itself (otherwise its worker counts it when it settles).
func (s *counters) record(c *callCore, countDone bool) {
	if err, pe := c.fault(); pe != nil {
		s.panicked.Add(1)
		s.failed.Add(1)
	} else if err != nil {
		s.failed.Add(1)
	}
	if countDone {
		s.done.Add(1)
	}
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

func (h *histogram) add(ns int64) {
	h.buckets[bucketOf(ns)].Add(1)
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
	st := Stats{Name: "Synchronized", Calls: int64(len(s.calls)), Took: time.Duration(took)}
	for _, t := range s.calls {
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
	}
	if t := s.timing; t != nil {
		st.WouldHaveTaken = time.Duration(t.busy.Load())
		st.MaxParallel = int(t.maxRunning.Load())
		st.QueueWaitMedian = t.queueWait.quantile(0.5)
		st.QueueWaitP99 = t.queueWait.quantile(0.99)
	}
	return st
}
