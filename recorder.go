package deco

import (
	"cmp"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/deco-go/deco/timeline"
)

// A Recorder keeps the start, end and slot of every call of the functions
// decorated with [Record], for a timeline picture: [Recorder.Trace] turns
// it into a [timeline.Trace] that [timeline.WriteSVG] and
// [timeline.WriteChrome] draw. Calls on an executor that names its
// workers (a cluster's) are kept with their worker, and drawn on the
// worker's lane. The zero Recorder is ready to use and safe for
// concurrent use. Recording costs one short critical section per call.
type Recorder struct {
	mu    sync.Mutex
	spans []span
	lanes int // the slots used by calls without a worker
}

type span struct {
	name             string
	index, lane      int
	start, end       int64
	failed, panicked bool
	// worker is the worker that ran the call, if its executor said
	// (backend.Ran), with when it ran there on the worker's clock (0 if
	// unknown): then lane is unused.
	worker       string
	wstart, wend int64
}

func (r *Recorder) record(c *callCore, start, end int64) {
	err, pe := c.fault()
	s := span{
		name: c.fn.name, index: c.index, lane: int(c.lane),
		start: start, end: end,
		failed: err != nil || pe != nil, panicked: pe != nil,
	}
	if on := c.ranOn(); on != nil {
		s.worker, s.wstart, s.wend = on.worker, on.start, on.end
	}
	r.mu.Lock()
	r.spans = append(r.spans, s)
	if s.worker == "" {
		r.lanes = max(r.lanes, int(c.lane)+1) // the slots used, not the limit: Limit(1e12) draws what ran
	}
	r.mu.Unlock()
}

// Len reports the number of calls recorded.
func (r *Recorder) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.spans)
}

// Reset forgets every call recorded so far.
func (r *Recorder) Reset() {
	r.mu.Lock()
	r.spans, r.lanes = nil, 0
	r.mu.Unlock()
}

// Trace returns the calls recorded so far as a timeline titled title: one
// lane per slot the calls used (at most the pool's limit, never more than
// the calls), times relative to the earliest start. Calls
// that never started (cancelled) are left out.
//
// Calls whose executor named the worker that ran them (a cluster's; see
// [github.com/deco-go/deco/backend.Ran]) are drawn on lanes of their
// worker instead, after the slots' lanes if there are any, the workers
// sorted by name and each lane named by its worker in
// [timeline.Trace.LaneNames]: "host:pid", and "host:pid #2" and on for
// the calls a worker ran at the same time as others. Such a call is drawn
// for when it ran on its worker, when the executor said: the worker's
// clock readings, moved onto this process's clock by the smallest delay
// seen between a call's end there and its result here (so a worker's
// calls keep their order and gaps, and each ends no later than its
// result arrived). Without them it is drawn for the time its caller
// waited.
func (r *Recorder) Trace(title string) timeline.Trace {
	r.mu.Lock()
	defer r.mu.Unlock()
	var origin int64 = -1
	for _, s := range r.spans {
		if s.start > 0 && (origin < 0 || s.start < origin) {
			origin = s.start
		}
	}
	t := timeline.Trace{Title: title, Lanes: r.lanes}
	placed := make([]placedSpan, 0, len(r.spans))
	byWorker := map[string][]int{} // positions in placed
	for _, s := range r.spans {
		if s.start <= 0 {
			continue
		}
		p := placedSpan{span: timeline.Span{
			Name: s.name, Index: s.index, Lane: s.lane,
			Start: time.Duration(s.start - origin), End: time.Duration(s.end - origin),
			Failed: s.failed, Panicked: s.panicked,
		}, rec: s}
		if s.worker != "" {
			byWorker[s.worker] = append(byWorker[s.worker], len(placed))
		}
		placed = append(placed, p)
	}
	if len(byWorker) > 0 {
		workers := make([]string, 0, len(byWorker))
		for w := range byWorker {
			workers = append(workers, w)
		}
		slices.Sort(workers)
		t.LaneNames = make([]string, t.Lanes, t.Lanes+len(workers))
		for _, w := range workers {
			rows := workerLanes(placed, byWorker[w], origin, t.Lanes)
			for i := range rows {
				name := w
				if i > 0 {
					name = fmt.Sprintf("%s #%d", w, i+1)
				}
				t.LaneNames = append(t.LaneNames, name)
			}
			t.Lanes += rows
		}
	}
	t.Lanes = max(t.Lanes, 1)
	for _, p := range placed {
		t.Spans = append(t.Spans, p.span)
	}
	return t
}

// placedSpan is a recorded call on its way into a trace.
type placedSpan struct {
	span timeline.Span
	rec  span
}

// workerLanes draws one worker's calls (the positions at in placed): it
// moves those with the worker's times onto the caller's clock, then puts
// each call on the worker's first lane free at its start, lanes numbered
// from first, and returns how many lanes it took.
func workerLanes(placed []placedSpan, at []int, origin int64, first int) int {
	// The smallest delay between a call's end on the worker and its
	// result here is the clocks' difference plus the fastest delivery:
	// shifting by it keeps every call inside the time its caller waited.
	shift, timed := int64(0), false
	for _, i := range at {
		if s := placed[i].rec; s.wend != 0 {
			if d := s.end - s.wend; !timed || d < shift {
				shift, timed = d, true
			}
		}
	}
	for _, i := range at {
		s := placed[i].rec
		if s.wend == 0 {
			continue
		}
		start, end := s.wstart+shift, s.wend+shift
		if start < s.start {
			continue // the worker's clock stepped: keep the caller's times
		}
		placed[i].span.Start, placed[i].span.End = time.Duration(start-origin), time.Duration(end-origin)
	}
	slices.SortStableFunc(at, func(a, b int) int { return cmp.Compare(placed[a].span.Start, placed[b].span.Start) })
	var free []time.Duration // each lane's last end
	for _, i := range at {
		sp := &placed[i].span
		lane := slices.IndexFunc(free, func(end time.Duration) bool { return end <= sp.Start })
		if lane < 0 {
			lane = len(free)
			free = append(free, 0)
		}
		free[lane] = sp.End
		sp.Lane = first + lane
	}
	return len(free)
}
