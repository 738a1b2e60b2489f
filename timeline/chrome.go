package timeline

import (
	"bytes"
	"encoding/json"
	"io"
	"time"
)

// WriteChrome writes the traces as one Chrome trace-event JSON document
// (object form {"traceEvents":[...],"displayTimeUnit":"ms"}): one process
// (pid = 1 + trace number) per trace, named by its Title with a
// "process_name" metadata event; one thread (tid = lane) per lane named by
// [Trace.LaneNames], or "slot N", with "thread_name" metadata; one complete event (ph "X", ts and
// dur in microseconds as numbers) per span, name = Span.Name, args
// {"index":..., "failed":..., "panicked":...}.
//
// Open the result at https://ui.perfetto.dev or chrome://tracing.
//
// Traces are written in argument order, trace number 0 first. For each trace
// the document holds, in this order: its "process_name" and
// "process_sort_index" metadata events, then "thread_name" and
// "thread_sort_index" for lanes 0 through Lanes-1 (every lane is named, even
// one without spans, and the sort indexes keep viewers from ordering "slot
// 10" before "slot 2"), then one "X" event per span in [Trace.Spans] order.
// A trace with an empty Title is named "trace N", N being its trace number
// plus one. Metadata events carry no "ts". Times are [Span.Start] and the
// span's duration in microseconds, fractional when not whole. Each event is
// on a line of its own, so documents diff well.
//
// WriteChrome validates every trace with [Trace.Validate] first and returns
// the first error, naming the trace by its position, without writing
// anything. Otherwise it writes the whole document with one call to w.Write
// and returns that call's error. With no traces it writes a document with an
// empty traceEvents list.
func WriteChrome(w io.Writer, traces ...Trace) error {
	if err := validateAll(traces); err != nil {
		return err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	first := true
	emit := func(e chromeEvent) {
		if !first {
			buf.WriteByte(',')
		}
		first = false
		buf.WriteByte('\n')
		// Encoding these fixed types cannot fail.
		_ = enc.Encode(e)
		buf.Truncate(buf.Len() - 1) // Encode's trailing newline
	}

	buf.WriteString(`{"traceEvents":[`)
	for i, t := range traces {
		pid := 1 + i
		emit(chromeEvent{Name: "process_name", Ph: "M", Pid: pid, Args: metaName{t.title(i)}})
		emit(chromeEvent{Name: "process_sort_index", Ph: "M", Pid: pid, Args: metaSort{i}})
		for lane := range t.Lanes {
			emit(chromeEvent{Name: "thread_name", Ph: "M", Pid: pid, Tid: lane, Args: metaName{t.laneName(lane)}})
			emit(chromeEvent{Name: "thread_sort_index", Ph: "M", Pid: pid, Tid: lane, Args: metaSort{lane}})
		}
		for _, s := range t.Spans {
			ts, dur := micros(s.Start), micros(s.End-s.Start)
			emit(chromeEvent{
				Name: s.Name, Ph: "X", Pid: pid, Tid: s.Lane, Ts: &ts, Dur: &dur,
				Args: spanArgs{Index: s.Index, Failed: s.Failed, Panicked: s.Panicked},
			})
		}
	}
	if !first {
		buf.WriteByte('\n')
	}
	buf.WriteString(`],"displayTimeUnit":"ms"}` + "\n")
	_, err := w.Write(buf.Bytes())
	return err
}

// chromeEvent is one entry of traceEvents. Ts and Dur are pointers so that
// metadata events leave them out while a span at time zero keeps "ts":0.
type chromeEvent struct {
	Name string   `json:"name"`
	Ph   string   `json:"ph"`
	Pid  int      `json:"pid"`
	Tid  int      `json:"tid"`
	Ts   *float64 `json:"ts,omitempty"`
	Dur  *float64 `json:"dur,omitempty"`
	Args any      `json:"args"`
}

type metaName struct {
	Name string `json:"name"`
}

type metaSort struct {
	SortIndex int `json:"sort_index"`
}

type spanArgs struct {
	Index    int  `json:"index"`
	Failed   bool `json:"failed"`
	Panicked bool `json:"panicked"`
}

// micros converts d to microseconds, keeping fractions of a microsecond.
func micros(d time.Duration) float64 {
	return float64(d) / float64(time.Microsecond)
}
