package deco

import (
	"sync"
	"time"

	"github.com/deco-go/deco/timeline"
)

// A Recorder keeps the start, end and slot of every call of the functions
// decorated with [Record], for a timeline picture: [Recorder.Trace] turns
// it into a [timeline.Trace] that [timeline.WriteSVG] and
// [timeline.WriteChrome] draw. The zero Recorder is ready to use and safe
// for concurrent use. Recording costs one short critical section per call.
type Recorder struct {
	mu    sync.Mutex
	spans []span
	lanes int
}

type span struct {
	name             string
	index, lane      int
	start, end       int64
	failed, panicked bool
}

func (r *Recorder) record(c *callCore, start, end int64) {
	err, pe := c.fault()
	r.mu.Lock()
	r.spans = append(r.spans, span{
		name: c.fn.name, index: c.index, lane: int(c.lane),
		start: start, end: end,
		failed: err != nil || pe != nil, panicked: pe != nil,
	})
	r.lanes = max(r.lanes, int(c.lane)+1) // the slots used, not the limit: Limit(1e12) draws what ran
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
func (r *Recorder) Trace(title string) timeline.Trace {
	r.mu.Lock()
	defer r.mu.Unlock()
	t := timeline.Trace{Title: title, Lanes: max(r.lanes, 1)}
	var origin int64 = -1
	for _, s := range r.spans {
		if s.start > 0 && (origin < 0 || s.start < origin) {
			origin = s.start
		}
	}
	for _, s := range r.spans {
		if s.start <= 0 {
			continue
		}
		t.Spans = append(t.Spans, timeline.Span{
			Name: s.name, Index: s.index, Lane: s.lane,
			Start: time.Duration(s.start - origin), End: time.Duration(s.end - origin),
			Failed: s.failed, Panicked: s.panicked,
		})
	}
	return t
}
