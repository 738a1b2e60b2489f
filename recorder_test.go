package deco_test

import (
	"bytes"
	"math"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/deco-go/deco"
	"github.com/deco-go/deco/backend"
	"github.com/deco-go/deco/timeline"
)

func TestRecorderDrawsOneLanePerSlot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var rec deco.Recorder
		f := deco.Concurrent(func(int) { time.Sleep(time.Second) }, deco.Limit(3), deco.Record(&rec), deco.Name("TestRecorderDrawsOneLanePerSlot"))
		for i := range 9 {
			f.Go(i)
		}
		f.Wait()
		tr := rec.Trace("nine calls")
		if err := tr.Validate(); err != nil {
			t.Fatal(err)
		}
		if tr.Lanes != 3 || len(tr.Spans) != 9 {
			t.Fatalf("%d lanes, %d spans; want 3 and 9", tr.Lanes, len(tr.Spans))
		}
		busy := map[int]time.Duration{}
		for _, s := range tr.Spans {
			if s.End-s.Start != time.Second || s.Name != "TestRecorderDrawsOneLanePerSlot" {
				t.Fatalf("span %+v", s)
			}
			busy[s.Lane] += s.End - s.Start
		}
		for lane := range 3 {
			if busy[lane] != 3*time.Second {
				t.Fatalf("lane %d busy %v, want 3s (lanes %v)", lane, busy[lane], busy)
			}
		}
		rec.Reset()
		if rec.Len() != 0 {
			t.Fatal("Reset kept spans")
		}
	})
}

// TestRecorderLanesAreTheSlotsUsed: a huge limit draws the slots the calls
// used, not one lane per slot of the limit.
func TestRecorderLanesAreTheSlotsUsed(t *testing.T) {
	var rec deco.Recorder
	f := deco.Concurrent(func(int) {}, deco.Limit(math.MaxInt), deco.Record(&rec))
	for i := range 5 {
		f.Go(i).Wait()
	}
	f.Wait()
	if tr := rec.Trace("huge limit"); tr.Lanes > 5 || len(tr.Spans) != 5 {
		t.Fatalf("%d lanes for %d calls run one at a time", tr.Lanes, len(tr.Spans))
	}
}

func TestRecorderDrawsOneLanePerRemoteWorker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var rec deco.Recorder
		exec := namedWorkers{worker: byLane, publish: 10 * time.Millisecond, deliver: 5 * time.Millisecond}
		f := deco.ConcurrentValue(func(n int) int { time.Sleep(time.Second); return n },
			deco.Name("TestRecorderDrawsOneLanePerRemoteWorker"), deco.On(exec), deco.Limit(2), deco.Record(&rec))
		for i := range 6 {
			f.Go(i)
		}
		if _, err := f.Wait(); err != nil {
			t.Fatal(err)
		}
		tr := rec.Trace("six calls on two workers")
		if err := tr.Validate(); err != nil {
			t.Fatal(err)
		}
		if tr.Lanes != 2 || !slices.Equal(tr.LaneNames, []string{"host:100", "host:101"}) || len(tr.Spans) != 6 {
			t.Fatalf("%d lanes named %q, %d spans; want the 2 workers' and 6", tr.Lanes, tr.LaneNames, len(tr.Spans))
		}
		perLane := map[int][]timeline.Span{}
		for _, s := range tr.Spans {
			// The run on the worker, not the 1.015 s its caller waited,
			// within the caller's wait despite the worker's clock.
			if s.End-s.Start != time.Second || s.Start < 10*time.Millisecond {
				t.Fatalf("span %+v: want the 1 s the call ran, from 10 ms on", s)
			}
			perLane[s.Lane] = append(perLane[s.Lane], s)
		}
		for lane, spans := range perLane {
			if len(spans) != 3 {
				t.Fatalf("lane %d has %d calls, want 3 (lanes %v)", lane, len(spans), perLane)
			}
			for i := 1; i < len(spans); i++ {
				if spans[i].Start < spans[i-1].End {
					t.Fatalf("calls overlap on one worker's lane: %+v", spans)
				}
			}
		}
		var chrome bytes.Buffer
		if err := timeline.WriteChrome(&chrome, tr); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{`"tid":0,"args":{"name":"host:100"}`, `"tid":1,"args":{"name":"host:101"}`} {
			if !strings.Contains(chrome.String(), want) {
				t.Fatalf("the Chrome trace lacks %s:\n%s", want, chrome.String())
			}
		}
	})
}

func TestRecorderGivesAWorkerALanePerCallAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var rec deco.Recorder
		exec := namedWorkers{worker: func(backend.CallInfo) string { return "solo:1" }}
		f := deco.Concurrent(func(int) { time.Sleep(time.Second) },
			deco.Name("TestRecorderGivesAWorkerALanePerCallAtOnce"), deco.On(exec), deco.Limit(3), deco.Record(&rec))
		for i := range 6 {
			f.Go(i)
		}
		f.Wait()
		tr := rec.Trace("")
		if err := tr.Validate(); err != nil {
			t.Fatal(err)
		}
		if want := []string{"solo:1", "solo:1 #2", "solo:1 #3"}; tr.Lanes != 3 || !slices.Equal(tr.LaneNames, want) {
			t.Fatalf("%d lanes named %q, want %q", tr.Lanes, tr.LaneNames, want)
		}
	})
}

func TestRecorderPutsSlotsBeforeWorkers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var rec deco.Recorder
		local := deco.Concurrent(func(int) { time.Sleep(time.Second) }, deco.Limit(2), deco.Record(&rec))
		exec := namedWorkers{worker: byLane, noTimes: true, deliver: time.Millisecond}
		remote := deco.Concurrent(func(int) { time.Sleep(time.Second) },
			deco.Name("TestRecorderPutsSlotsBeforeWorkers"), deco.On(exec), deco.Limit(1), deco.Record(&rec))
		for i := range 4 {
			local.Go(i)
			remote.Go(i)
		}
		local.Wait()
		remote.Wait()
		tr := rec.Trace("")
		if err := tr.Validate(); err != nil {
			t.Fatal(err)
		}
		if tr.Lanes != 3 || !slices.Equal(tr.LaneNames, []string{"", "", "host:100"}) {
			t.Fatalf("%d lanes named %q, want 2 slots and host:100", tr.Lanes, tr.LaneNames)
		}
		for _, s := range tr.Spans {
			remoteSpan := s.Name == "TestRecorderPutsSlotsBeforeWorkers"
			if remoteSpan != (s.Lane == 2) {
				t.Fatalf("span %+v on the wrong lane", s)
			}
			// Without the worker's times, the time its caller waited.
			if remoteSpan && s.End-s.Start != time.Second+time.Millisecond {
				t.Fatalf("span %+v: want the 1.001 s its caller waited", s)
			}
		}
		var svg bytes.Buffer
		if err := timeline.WriteSVG(&svg, tr); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{">slot 0<", ">slot 1<", ">host:100<", "3 lanes"} {
			if !strings.Contains(svg.String(), want) {
				t.Fatalf("the SVG lacks %s", want)
			}
		}
	})
}
