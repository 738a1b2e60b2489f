package timeline

import (
	"strings"
	"testing"
	"time"
)

const ms = time.Millisecond

// serialAndConcurrent returns the same four 10ms calls run one after another
// on one lane, and all at once on four lanes.
func serialAndConcurrent() (serial, concurrent Trace) {
	serial = Trace{Title: "work, serial", Lanes: 1}
	concurrent = Trace{Title: "work, concurrent (4 cores)", Lanes: 4}
	for i := range 4 {
		start := time.Duration(i) * 10 * ms
		serial.Spans = append(serial.Spans, Span{Name: "work", Index: i, Lane: 0, Start: start, End: start + 10*ms})
		concurrent.Spans = append(concurrent.Spans, Span{Name: "work", Index: i, Lane: i, Start: 0, End: 10 * ms})
	}
	return serial, concurrent
}

// badTraces are invalid traces, each with the words its error must contain.
var badTraces = []struct {
	name  string
	trace Trace
	want  []string
}{
	{
		name:  "lanes zero",
		trace: Trace{Title: "no lanes", Lanes: 0},
		want:  []string{`"no lanes"`, "Lanes is 0", "at least 1"},
	},
	{
		name:  "lanes negative",
		trace: Trace{Title: "t", Lanes: -2, Spans: []Span{{Lane: 0, End: ms}}},
		want:  []string{"Lanes is -2"},
	},
	{
		name: "lane out of range",
		trace: Trace{Title: "t", Lanes: 2, Spans: []Span{
			{Name: "ok", Index: 0, Lane: 1, End: ms},
			{Name: "resize", Index: 7, Lane: 2, End: ms},
		}},
		want: []string{"Spans[1]", `"resize" #7`, "Lane 2 out of range [0, 2)"},
	},
	{
		name:  "lane negative",
		trace: Trace{Title: "t", Lanes: 2, Spans: []Span{{Name: "f", Lane: -1, End: ms}}},
		want:  []string{"Spans[0]", "Lane -1 out of range"},
	},
	{
		name:  "start negative",
		trace: Trace{Title: "t", Lanes: 1, Spans: []Span{{Name: "f", Index: 3, Start: -ms, End: ms}}},
		want:  []string{"Spans[0]", `"f" #3`, "Start -1ms is negative"},
	},
	{
		name:  "end before start",
		trace: Trace{Title: "t", Lanes: 1, Spans: []Span{{Name: "f", Index: 1, Start: 2 * ms, End: ms}}},
		want:  []string{"Spans[0]", "End 1ms is before Start 2ms"},
	},
	{
		name: "first problem wins",
		trace: Trace{Title: "t", Lanes: 1, Spans: []Span{
			{Name: "a", Index: 0, Start: 2 * ms, End: ms},
			{Name: "b", Index: 1, Lane: 5, End: ms},
		}},
		want: []string{"Spans[0]", `"a" #0`, "End 1ms is before Start 2ms"},
	},
	{
		name:  "more lane names than lanes",
		trace: Trace{Title: "t", Lanes: 1, LaneNames: []string{"a:1", "b:2"}},
		want:  []string{"LaneNames has 2 names for 1 lanes"},
	},
	{
		name:  "lane checked before times",
		trace: Trace{Title: "t", Lanes: 1, Spans: []Span{{Name: "a", Lane: 1, Start: 2 * ms, End: ms}}},
		want:  []string{"Lane 1 out of range"},
	},
}

func TestValidateRejects(t *testing.T) {
	for _, tc := range badTraces {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.trace.Validate()
			if err == nil {
				t.Fatal("Validate() = nil, want an error")
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "timeline: trace ") {
				t.Errorf("Validate() = %q, want prefix %q", msg, "timeline: trace ")
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("Validate() = %q, want it to contain %q", msg, w)
				}
			}
		})
	}
}

func TestValidateAccepts(t *testing.T) {
	serial, concurrent := serialAndConcurrent()
	for _, tr := range []Trace{
		serial,
		concurrent,
		{Title: "empty", Lanes: 1},
		{Lanes: 3, Spans: []Span{{Lane: 2, Start: ms, End: ms}}},           // zero length, no title
		{Lanes: 1, Spans: []Span{{End: 2 * ms}, {Start: ms, End: 3 * ms}}}, // overlap is allowed
		{Lanes: 3, LaneNames: []string{"", "host:1"}},                      // fewer names than lanes
	} {
		if err := tr.Validate(); err != nil {
			t.Errorf("Validate(%+v) = %v, want nil", tr, err)
		}
	}
}

func TestValidateAllNamesPosition(t *testing.T) {
	serial, _ := serialAndConcurrent()
	bad := Trace{Title: "bad one", Lanes: 1, Spans: []Span{{Lane: 1, End: ms}}}
	err := validateAll([]Trace{serial, bad})
	if err == nil {
		t.Fatal("validateAll = nil, want an error")
	}
	for _, w := range []string{"timeline: traces[1]", `"bad one"`, "Lane 1 out of range"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("validateAll = %q, want it to contain %q", err, w)
		}
	}
}

func TestWallAndBusy(t *testing.T) {
	serial, concurrent := serialAndConcurrent()
	if got := serial.wall(); got != 40*ms {
		t.Errorf("serial wall = %v, want 40ms", got)
	}
	if got := concurrent.wall(); got != 10*ms {
		t.Errorf("concurrent wall = %v, want 10ms", got)
	}
	if got := concurrent.busy(); got != 40*ms {
		t.Errorf("concurrent busy = %v, want 40ms", got)
	}
	if got := (Trace{Lanes: 1}).wall(); got != 0 {
		t.Errorf("empty wall = %v, want 0", got)
	}
	// Spans in any order: wall is the latest end, not the last span's.
	unordered := Trace{Lanes: 1, Spans: []Span{{Start: 0, End: 9 * ms}, {Start: ms, End: 2 * ms}}}
	if got := unordered.wall(); got != 9*ms {
		t.Errorf("unordered wall = %v, want 9ms", got)
	}
}

func TestTitleFallback(t *testing.T) {
	if got := (Trace{Title: "x"}).title(4); got != "x" {
		t.Errorf("title = %q, want %q", got, "x")
	}
	if got := (Trace{}).title(4); got != "trace 5" {
		t.Errorf("title = %q, want %q", got, "trace 5")
	}
}

// writeCounter counts Write calls and bytes, and can fail.
type writeCounter struct {
	calls int
	bytes int
	err   error
}

func (w *writeCounter) Write(p []byte) (int, error) {
	w.calls++
	if w.err != nil {
		return 0, w.err
	}
	w.bytes += len(p)
	return len(p), nil
}
