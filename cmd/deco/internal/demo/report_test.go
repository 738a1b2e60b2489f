package demo

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/deco-go/deco"
	"github.com/deco-go/deco/timeline"
)

const s = time.Second

func TestSumIsThePostsSumOfTimes(t *testing.T) {
	var times deco.Map[int, time.Duration]
	if sum(&times) != 0 {
		t.Error("sum of an empty map is not 0")
	}
	for offset, d := range []time.Duration{3 * s, 250 * time.Millisecond, 0, 1500 * time.Millisecond} {
		times.Set(offset, d)
	}
	if got, want := sum(&times), 4750*time.Millisecond; got != want {
		t.Errorf("sum = %v, want %v", got, want)
	}
	var data deco.Map[string, time.Duration]
	data.Set("http://a", s)
	data.Set("http://b", 2*s)
	if got := sum(&data); got != 3*s {
		t.Errorf("sum = %v, want 3s", got)
	}
}

func TestSpeedupAndParallelism(t *testing.T) {
	// The post's thumbnails: 28.9 s serial, 8.4 s with deco, 65.1 s of calls.
	r := Result{Serial: 28900 * time.Millisecond, Concurrent: 8400 * time.Millisecond, WouldHaveTaken: 65100 * time.Millisecond}
	if got := r.Speedup(); math.Abs(got-28.9/8.4) > 1e-9 {
		t.Errorf("Speedup = %v, want %v", got, 28.9/8.4)
	}
	if got := r.Parallelism(); math.Abs(got-65.1/8.4) > 1e-9 {
		t.Errorf("Parallelism = %v, want %v", got, 65.1/8.4)
	}
	var zero Result
	if zero.Speedup() != 0 || zero.Parallelism() != 0 {
		t.Error("a result without a concurrent run has a speed-up")
	}
	if got := cores(3*s, 2*s); got != 1.5 {
		t.Errorf("cores(3s, 2s) = %v", got)
	}
	if cores(s, 0) != 0 {
		t.Error("cores over no wall time")
	}
}

func TestSeconds(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                           "0.000s",
		1234 * time.Microsecond:     "0.001s",
		648 * time.Millisecond:      "0.648s",
		time.Second:                 "1.00s",
		9770 * time.Millisecond:     "9.77s",
		19449 * time.Millisecond:    "19.4s",
		125 * s:                     "125s",
		59*s + 999*time.Millisecond: "60.0s",
	} {
		if got := seconds(d); got != want {
			t.Errorf("seconds(%v) = %q, want %q", d, got, want)
		}
	}
}

// sampleReport is a report of two experiments.
func sampleReport() *Report {
	return &Report{
		Cores: 2, Out: "/tmp/o", Trace: "/tmp/o/trace.json", SVG: "/tmp/o/timeline.svg",
		Results: []Result{
			{Experiment: Sleep, Calls: 3, Workers: 3, Cores: 2, Serial: 3 * s, Concurrent: s, SerialSum: 3 * s, WouldHaveTaken: 3 * s,
				Stats:  deco.Stats{Calls: 3, Done: 3, MaxParallel: 3},
				traces: []timeline.Trace{{Lanes: 1, Spans: make([]timeline.Span, 3)}, {Lanes: 3, Spans: make([]timeline.Span, 3)}}},
			{Experiment: Thumbnails, Calls: 100, Workers: 2, Cores: 2, Serial: 19400 * time.Millisecond, Concurrent: 10 * s,
				SerialSum: 19400 * time.Millisecond, WouldHaveTaken: 20 * s, SerialCPU: 19 * s, ConcurrentCPU: 19500 * time.Millisecond,
				Stats: deco.Stats{Calls: 100, Done: 100, Failed: 0, MaxParallel: 2, QueueWaitP99: 9 * s,
					Workers: []deco.WorkerStats{{Worker: "vm:41", Calls: 60, Failed: 1, Ran: 12 * s}, {Worker: "vm:42", Calls: 40, Ran: 8 * s}}}},
		},
	}
}

func TestWriteSummary(t *testing.T) {
	var buf bytes.Buffer
	if err := sampleReport().WriteSummary(&buf); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	want := [][]string{
		summaryColumns,
		{"sleep", "3", "3", "2", "3.00s", "1.00s", "3.00s", "3.00x"},
		{"thumbnails", "100", "2", "2", "19.4s", "10.0s", "20.0s", "1.94x"},
	}
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(want), buf.String())
	}
	for i, line := range lines {
		if got := strings.Fields(line); strings.Join(got, "|") != strings.Join(want[i], "|") {
			t.Errorf("line %d: %q, want fields %q", i, line, want[i])
		}
		if len(line) != len(lines[0]) {
			t.Errorf("line %d is %d wide, the header %d: columns not aligned", i, len(line), len(lines[0]))
		}
	}
}

func TestWriteJSON(t *testing.T) {
	var buf bytes.Buffer
	if err := sampleReport().WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Cores       int
		Out, Trace  string
		SVG         string
		Experiments []map[string]any
	}
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("%v:\n%s", err, buf.String())
	}
	if got.Cores != 2 || got.Trace != "/tmp/o/trace.json" || got.SVG != "/tmp/o/timeline.svg" || len(got.Experiments) != 2 {
		t.Fatalf("report %+v", got)
	}
	th := got.Experiments[1]
	for key, want := range map[string]any{
		"experiment": "thumbnails", "calls": 100.0, "workers": 2.0, "serial_seconds": 19.4, "concurrent_seconds": 10.0,
		"would_have_taken_seconds": 20.0, "speedup": 1.94, "parallelism": 2.0, "concurrent_cpu_seconds": 19.5,
	} {
		if f, ok := want.(float64); ok {
			if g, _ := th[key].(float64); math.Abs(g-f) > 1e-9 {
				t.Errorf("%s = %v, want %v", key, th[key], want)
			}
		} else if th[key] != want {
			t.Errorf("%s = %v, want %v", key, th[key], want)
		}
	}
	stats := th["deco_stats"].(map[string]any)
	if stats["calls"] != 100.0 || stats["queue_wait_p99_seconds"] != 9.0 {
		t.Errorf("deco_stats %v", stats)
	}
	if ws, _ := stats["workers"].([]any); len(ws) != 2 || fmt.Sprint(ws[0]) != "map[calls:60 failed:1 ran_seconds:12 worker:vm:41]" {
		t.Errorf("deco_stats workers %v, want vm:41 and vm:42", stats["workers"])
	}
	if _, ok := got.Experiments[0]["deco_stats"].(map[string]any)["workers"]; ok {
		t.Errorf("an in-process run's deco_stats name workers")
	}
	tl := got.Experiments[0]["timeline"].(map[string]any)
	if tl["serial_spans"] != 3.0 || tl["concurrent_spans"] != 3.0 || tl["concurrent_lanes"] != 3.0 {
		t.Errorf("timeline %v", tl)
	}
}
