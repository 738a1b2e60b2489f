package cluster_test

import (
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/deco-go/deco"
	"github.com/deco-go/deco/cluster"
)

// nap sleeps ms milliseconds on its worker and returns the worker's PID.
var nap = deco.ConcurrentValue(func(ms int) int {
	time.Sleep(time.Duration(ms) * time.Millisecond)
	return os.Getpid()
}, deco.Name("test.nap"))

// TestTimelineAndStatsShowTheWorkers: a run on 2 local workers is drawn
// on exactly 2 lanes, named host:pid of the live worker processes, each
// call on the lane of the worker that ran it; Stats count the same.
func TestTimelineAndStatsShowTheWorkers(t *testing.T) {
	e := newLocal(t, 2, cluster.Slots(1))
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	var want []string
	for _, p := range e.PIDs() {
		want = append(want, fmt.Sprintf("%s:%d", host, p))
	}
	slices.Sort(want)
	var rec deco.Recorder
	reports := make(chan deco.Progress, 20)
	f := nap.With(deco.On(e), deco.Record(&rec), deco.OnProgress(func(p deco.Progress) { reports <- p }))
	for range 20 {
		f.Go(30)
	}
	pids, err := f.Wait()
	if err != nil {
		t.Fatal(err)
	}
	ranOn := map[string]int64{} // calls per worker, from the results
	for _, p := range pids {
		ranOn[fmt.Sprintf("%s:%d", host, p)]++
	}
	tr := rec.Trace("20 calls on 2 workers")
	if err := tr.Validate(); err != nil {
		t.Fatal(err)
	}
	if tr.Lanes != 2 || !slices.Equal(tr.LaneNames, want) {
		t.Fatalf("%d lanes named %q, want the workers' %q", tr.Lanes, tr.LaneNames, want)
	}
	for _, p := range e.PIDs() {
		if !alive(p) {
			t.Fatalf("worker %d is not alive", p)
		}
	}
	if len(tr.Spans) != 20 {
		t.Fatalf("%d spans, want 20", len(tr.Spans))
	}
	for _, s := range tr.Spans {
		if got, ran := tr.LaneNames[s.Lane], fmt.Sprintf("%s:%d", host, pids[s.Index]); got != ran {
			t.Fatalf("call #%d is on %s's lane, but ran on %s", s.Index, got, ran)
		}
		if d := s.End - s.Start; d < 30*time.Millisecond {
			t.Fatalf("call #%d drawn for %v, less than it slept", s.Index, d)
		}
	}
	ws := f.Stats().Workers
	if len(ws) != 2 {
		t.Fatalf("Stats.Workers %+v, want the 2 workers", ws)
	}
	for i, w := range ws {
		if w.Worker != want[i] || w.Calls != ranOn[w.Worker] || w.Ran < time.Duration(w.Calls)*30*time.Millisecond {
			t.Fatalf("Stats.Workers[%d] = %+v, want %s with %d calls of at least 30 ms", i, w, want[i], ranOn[w.Worker])
		}
	}
	close(reports)
	for p := range reports {
		if !slices.Contains(want, p.Worker) {
			t.Fatalf("progress %+v names no worker of %q", p, want)
		}
	}
}

// TestACollectedResultNamesNoWorker: the calls of a durable batch whose
// results are collected from an earlier run ran on no worker now, and
// are not counted or drawn as if they had.
func TestACollectedResultNamesNoWorker(t *testing.T) {
	e := newLocal(t, 1)
	ctx := cluster.Durable(t.Context(), "lanes")
	for run, want := range []int64{3, 0} {
		var rec deco.Recorder
		f := nap.With(deco.On(e), deco.Record(&rec))
		for range 3 {
			f.GoContext(ctx, 1)
		}
		if _, err := f.Wait(); err != nil {
			t.Fatal(err)
		}
		var calls int64
		for _, w := range f.Stats().Workers {
			calls += w.Calls
		}
		if tr := rec.Trace(""); calls != want || (want == 0) != (tr.LaneNames == nil) {
			t.Fatalf("run %d: %d calls counted on workers, lanes %q; want %d", run+1, calls, tr.LaneNames, want)
		}
	}
	if c := e.Stats().Collected; c != 3 {
		t.Fatalf("%d results collected, want 3", c)
	}
}
