package timeline

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

type chromeDoc struct {
	TraceEvents     []chromeEventIn `json:"traceEvents"`
	DisplayTimeUnit string          `json:"displayTimeUnit"`
}

// chromeEventIn is a decoded event; pointers tell missing fields from zero.
type chromeEventIn struct {
	Name string         `json:"name"`
	Ph   string         `json:"ph"`
	Pid  *int           `json:"pid"`
	Tid  *int           `json:"tid"`
	Ts   *float64       `json:"ts"`
	Dur  *float64       `json:"dur"`
	Args map[string]any `json:"args"`
}

func writeChromeDoc(t *testing.T, traces ...Trace) (chromeDoc, []byte) {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteChrome(&buf, traces...); err != nil {
		t.Fatalf("WriteChrome: %v", err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(buf.Bytes(), &raw); err != nil {
		t.Fatalf("output is not a JSON object: %v\n%s", err, buf.Bytes())
	}
	if len(raw) != 2 || raw["traceEvents"] == nil || raw["displayTimeUnit"] == nil {
		t.Errorf("top-level keys = %v, want exactly traceEvents and displayTimeUnit", raw)
	}
	dec := json.NewDecoder(bytes.NewReader(buf.Bytes()))
	dec.DisallowUnknownFields()
	var doc chromeDoc
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("decoding: %v\n%s", err, buf.Bytes())
	}
	if doc.DisplayTimeUnit != "ms" {
		t.Errorf("displayTimeUnit = %q, want %q", doc.DisplayTimeUnit, "ms")
	}
	if doc.TraceEvents == nil {
		t.Errorf("traceEvents is missing or null, want a list:\n%s", buf.Bytes())
	}
	for i, e := range doc.TraceEvents {
		if e.Pid == nil || e.Tid == nil {
			t.Errorf("event %d %+v lacks pid or tid", i, e)
		}
	}
	return doc, buf.Bytes()
}

func TestWriteChromeSpans(t *testing.T) {
	serial, concurrent := serialAndConcurrent()
	concurrent.Spans[1].Failed = true
	concurrent.Spans[2].Panicked = true
	concurrent.Spans[3].Start = 1500 * time.Nanosecond // fractional microseconds
	concurrent.Spans[3].End = 12*ms + 250*time.Nanosecond
	traces := []Trace{serial, concurrent}
	doc, _ := writeChromeDoc(t, traces...)

	type key struct{ pid, tid, index int }
	got := map[key][]chromeEventIn{}
	for _, e := range doc.TraceEvents {
		if e.Ph != "X" {
			continue
		}
		idx, ok := e.Args["index"].(float64)
		if !ok {
			t.Fatalf("X event %+v: args.index is not a number", e)
		}
		k := key{*e.Pid, *e.Tid, int(idx)}
		got[k] = append(got[k], e)
	}
	nspans := 0
	for n, tr := range traces {
		for _, s := range tr.Spans {
			nspans++
			k := key{1 + n, s.Lane, s.Index}
			es := got[k]
			if len(es) != 1 {
				t.Errorf("trace %d span #%d: %d X events with pid %d tid %d, want 1", n, s.Index, len(es), k.pid, k.tid)
				continue
			}
			e := es[0]
			if e.Name != s.Name {
				t.Errorf("trace %d span #%d: name %q, want %q", n, s.Index, e.Name, s.Name)
			}
			wantTs := float64(s.Start) / 1e3
			wantDur := float64(s.End-s.Start) / 1e3
			if e.Ts == nil || *e.Ts != wantTs {
				t.Errorf("trace %d span #%d: ts %v, want %v", n, s.Index, ptrString(e.Ts), wantTs)
			}
			if e.Dur == nil || *e.Dur != wantDur {
				t.Errorf("trace %d span #%d: dur %v, want %v", n, s.Index, ptrString(e.Dur), wantDur)
			}
			if e.Args["failed"] != s.Failed || e.Args["panicked"] != s.Panicked {
				t.Errorf("trace %d span #%d: args %v, want failed %v panicked %v", n, s.Index, e.Args, s.Failed, s.Panicked)
			}
			if len(e.Args) != 3 {
				t.Errorf("trace %d span #%d: args %v, want exactly index, failed, panicked", n, s.Index, e.Args)
			}
		}
	}
	var xs int
	for _, es := range got {
		xs += len(es)
	}
	if xs != nspans {
		t.Errorf("%d X events, want %d (one per span)", xs, nspans)
	}
	// Spot-check the fractional conversion explicitly.
	e := got[key{2, 3, 3}]
	if len(e) == 1 && (*e[0].Ts != 1.5 || *e[0].Dur != 11998.75) {
		t.Errorf("fractional span: ts %v dur %v, want 1.5 and 11998.75", *e[0].Ts, *e[0].Dur)
	}
}

func ptrString(f *float64) string {
	if f == nil {
		return "missing"
	}
	return fmt.Sprint(*f)
}

func TestWriteChromeMetadata(t *testing.T) {
	serial, concurrent := serialAndConcurrent()
	concurrent.Title = `odd <&> "title"`
	untitled := Trace{Lanes: 12}
	traces := []Trace{serial, concurrent, untitled}
	doc, raw := writeChromeDoc(t, traces...)

	processNames := map[int][]string{}
	threadNames := map[[2]int][]string{}
	threadSort := map[[2]int]float64{}
	for _, e := range doc.TraceEvents {
		if e.Ph != "M" {
			continue
		}
		if e.Ts != nil || e.Dur != nil {
			t.Errorf("metadata event %+v has ts or dur", e)
		}
		switch e.Name {
		case "process_name":
			processNames[*e.Pid] = append(processNames[*e.Pid], e.Args["name"].(string))
		case "thread_name":
			k := [2]int{*e.Pid, *e.Tid}
			threadNames[k] = append(threadNames[k], e.Args["name"].(string))
		case "thread_sort_index":
			threadSort[[2]int{*e.Pid, *e.Tid}] = e.Args["sort_index"].(float64)
		case "process_sort_index":
		default:
			t.Errorf("unexpected metadata event %q", e.Name)
		}
	}
	wantTitles := []string{"work, serial", `odd <&> "title"`, "trace 3"}
	if len(processNames) != len(traces) {
		t.Errorf("process_name for pids %v, want pids 1..%d", processNames, len(traces))
	}
	for n, tr := range traces {
		pid := 1 + n
		if got := processNames[pid]; len(got) != 1 || got[0] != wantTitles[n] {
			t.Errorf("pid %d process_name %q, want [%q]", pid, got, wantTitles[n])
		}
		for lane := range tr.Lanes {
			k := [2]int{pid, lane}
			want := fmt.Sprintf("slot %d", lane)
			if got := threadNames[k]; len(got) != 1 || got[0] != want {
				t.Errorf("pid %d tid %d thread_name %q, want [%q]", pid, lane, got, want)
			}
			if got, ok := threadSort[k]; !ok || got != float64(lane) {
				t.Errorf("pid %d tid %d thread_sort_index %v (present %v), want %d", pid, lane, got, ok, lane)
			}
		}
	}
	var nthreads int
	for _, tr := range traces {
		nthreads += tr.Lanes
	}
	if len(threadNames) != nthreads {
		t.Errorf("%d thread_name events, want %d (one per lane)", len(threadNames), nthreads)
	}
	if !bytes.Contains(raw, []byte(`odd <&> \"title\"`)) {
		t.Errorf("title not written readably (HTML-escaped?):\n%s", raw)
	}
}

// TestWriteChromeOrder checks the documented order: traces in argument
// order, each trace's metadata before its spans, spans in slice order.
func TestWriteChromeOrder(t *testing.T) {
	serial, concurrent := serialAndConcurrent()
	// Reverse the concurrent spans so that slice order differs from lanes.
	for i, j := 0, len(concurrent.Spans)-1; i < j; i, j = i+1, j-1 {
		concurrent.Spans[i], concurrent.Spans[j] = concurrent.Spans[j], concurrent.Spans[i]
	}
	doc, raw := writeChromeDoc(t, serial, concurrent)
	lastPid, seenX := 0, false
	var indexes []int
	for i, e := range doc.TraceEvents {
		switch {
		case *e.Pid < lastPid:
			t.Fatalf("event %d: pid %d after pid %d", i, *e.Pid, lastPid)
		case *e.Pid > lastPid:
			lastPid, seenX = *e.Pid, false
		}
		if e.Ph == "X" {
			seenX = true
			if *e.Pid == 2 {
				indexes = append(indexes, int(e.Args["index"].(float64)))
			}
		} else if seenX {
			t.Errorf("event %d: metadata %q after a span of the same process", i, e.Name)
		}
	}
	if fmt.Sprint(indexes) != "[3 2 1 0]" {
		t.Errorf("span order %v, want slice order [3 2 1 0]", indexes)
	}
	// One event per line.
	if lines := bytes.Count(raw, []byte("\n")); lines != len(doc.TraceEvents)+2 {
		t.Errorf("%d lines for %d events, want one event per line:\n%s", lines, len(doc.TraceEvents), raw)
	}
}

func TestWriteChromeNoTraces(t *testing.T) {
	doc, raw := writeChromeDoc(t)
	if len(doc.TraceEvents) != 0 {
		t.Errorf("events = %v, want none", doc.TraceEvents)
	}
	if want := "{\"traceEvents\":[],\"displayTimeUnit\":\"ms\"}\n"; string(raw) != want {
		t.Errorf("got %q, want %q", raw, want)
	}
}

func TestWriteChromeInvalidWritesNothing(t *testing.T) {
	serial, _ := serialAndConcurrent()
	for _, tc := range badTraces {
		t.Run(tc.name, func(t *testing.T) {
			w := &writeCounter{}
			err := WriteChrome(w, serial, tc.trace)
			if err == nil {
				t.Fatal("WriteChrome = nil, want an error")
			}
			if w.calls != 0 {
				t.Errorf("WriteChrome wrote %d times (%d bytes) before failing, want nothing", w.calls, w.bytes)
			}
			if !strings.HasPrefix(err.Error(), "timeline: traces[1] ") {
				t.Errorf("error %q does not name traces[1]", err)
			}
			for _, want := range tc.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
		})
	}
}

func TestWriteChromeOneWrite(t *testing.T) {
	serial, concurrent := serialAndConcurrent()
	w := &writeCounter{}
	if err := WriteChrome(w, serial, concurrent); err != nil {
		t.Fatal(err)
	}
	if w.calls != 1 {
		t.Errorf("%d Write calls, want 1", w.calls)
	}
	boom := errors.New("disk full")
	if err := WriteChrome(&writeCounter{err: boom}, serial); !errors.Is(err, boom) {
		t.Errorf("WriteChrome with a failing writer = %v, want %v", err, boom)
	}
}

func TestWriteChromeNamesLanesByLaneNames(t *testing.T) {
	tr := Trace{Title: "cluster", Lanes: 3, LaneNames: []string{"", "host:12"}, Spans: []Span{{Name: "f", Lane: 1, End: ms}}}
	doc, _ := writeChromeDoc(t, tr)
	var names []string
	for _, e := range doc.TraceEvents {
		if e.Name == "thread_name" {
			names = append(names, e.Args["name"].(string))
		}
	}
	if want := []string{"slot 0", "host:12", "slot 2"}; !slices.Equal(names, want) {
		t.Fatalf("thread names %q, want %q", names, want)
	}
}
