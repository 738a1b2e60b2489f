// Package timeline draws recorded call timelines: which function call ran on
// which slot ("lane") of a concurrency limit, and when.
//
// A [Trace] is one run, for example "thumbnails, serial" or "thumbnails,
// concurrent (8 cores)". It has a number of lanes (the slots 0..Lanes-1 a
// limited pool runs calls on, or the workers of a cluster, named by
// [Trace.LaneNames]) and one [Span] per call, with its start and end
// measured from the run's origin. Two writers export traces:
//
//   - [WriteChrome] writes Chrome trace-event JSON. Save it as trace.json and
//     open it at https://ui.perfetto.dev ("Open trace file") or in Chrome at
//     chrome://tracing ("Load"). Each trace becomes a process, each lane a
//     thread named by its lane name ("slot N" unless LaneNames says
//     otherwise), each call a slice.
//   - [WriteSVG] writes one self-contained SVG picture (no fonts, scripts or
//     style sheets are fetched) that any browser, image viewer or Markdown
//     renderer shows. All traces share one time scale, so a serial run drawn
//     above a concurrent one is visibly longer: one busy row against all rows
//     busy, the "Activity Monitor screenshot" of a run.
//
// Both writers validate every trace with [Trace.Validate] before they write
// anything, and on success write the whole document with a single Write
// call, so a failed export never leaves a partial file behind.
//
// The package uses only the standard library.
package timeline

import (
	"fmt"
	"time"
)

// Span is one call of a function: the lane (slot) it ran on and when,
// relative to the trace's origin.
type Span struct {
	Name     string        // function name, e.g. "thumbnail"
	Index    int           // call index in call order
	Lane     int           // 0 <= Lane < Trace.Lanes
	Start    time.Duration // since the trace's origin
	End      time.Duration
	Failed   bool
	Panicked bool
}

// Trace is the timeline of one run, e.g. "thumbnails, serial" or
// "thumbnails, concurrent (2 cores)".
//
// Spans may be in any order; the writers keep the order given. A trace's
// wall time is the latest [Span.End], measured from the origin.
type Trace struct {
	Title string
	Lanes int
	Spans []Span
	// LaneNames, if not nil, names the lanes: LaneNames[i] names lane i,
	// such as "host:pid" for a lane that is a cluster's worker. A lane
	// past its end, or named "", is "slot N". It has at most Lanes names.
	LaneNames []string
}

// Validate reports the first problem with t (negative or reversed times, lane
// out of range, Lanes < 1) as an error naming it.
//
// Lanes is checked first, then the number of LaneNames, then the spans in slice order, each for its Lane,
// then its Start (must not be negative), then its End (must not be before
// Start). The error names the trace by its Title and the span by its position
// in Spans, its Name and its Index. Validate returns nil for a valid trace,
// including one without spans. Overlapping spans on one lane are allowed.
func (t Trace) Validate() error {
	if problem := t.check(); problem != "" {
		return fmt.Errorf("timeline: trace %q: %s", t.Title, problem)
	}
	return nil
}

// check describes the first problem with t, or returns "" if there is none.
// It leaves naming the trace to its callers, so that the writers can name it
// by its position as well.
func (t Trace) check() string {
	if t.Lanes < 1 {
		return fmt.Sprintf("Lanes is %d, want at least 1", t.Lanes)
	}
	if len(t.LaneNames) > t.Lanes {
		return fmt.Sprintf("LaneNames has %d names for %d lanes", len(t.LaneNames), t.Lanes)
	}
	for i, s := range t.Spans {
		var problem string
		switch {
		case s.Lane < 0 || s.Lane >= t.Lanes:
			problem = fmt.Sprintf("Lane %d out of range [0, %d)", s.Lane, t.Lanes)
		case s.Start < 0:
			problem = fmt.Sprintf("Start %v is negative", s.Start)
		case s.End < s.Start:
			problem = fmt.Sprintf("End %v is before Start %v", s.End, s.Start)
		default:
			continue
		}
		return fmt.Sprintf("Spans[%d] (%q #%d): %s", i, s.Name, s.Index, problem)
	}
	return ""
}

// validateAll checks the traces in argument order and returns the first
// problem, naming the trace by its position and Title.
func validateAll(traces []Trace) error {
	for i, t := range traces {
		if problem := t.check(); problem != "" {
			return fmt.Errorf("timeline: traces[%d] %q: %s", i, t.Title, problem)
		}
	}
	return nil
}

// wall is the trace's wall time: the latest span end since the origin.
func (t Trace) wall() time.Duration {
	var w time.Duration
	for _, s := range t.Spans {
		w = max(w, s.End)
	}
	return w
}

// busy is the sum of all span durations.
func (t Trace) busy() time.Duration {
	var b time.Duration
	for _, s := range t.Spans {
		b += s.End - s.Start
	}
	return b
}

// title is the trace's Title, or "trace N" (N counting from 1) when it is
// empty.
func (t Trace) title(i int) string {
	if t.Title == "" {
		return fmt.Sprintf("trace %d", i+1)
	}
	return t.Title
}

// laneName is the name of a lane in both outputs: its name in LaneNames,
// or "slot N".
func (t Trace) laneName(lane int) string {
	if lane < len(t.LaneNames) && t.LaneNames[lane] != "" {
		return t.LaneNames[lane]
	}
	return fmt.Sprintf("slot %d", lane)
}
