package deco_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/deco-go/deco"
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
	f := deco.Concurrent(func(int) {}, deco.Limit(1e12), deco.Record(&rec))
	for i := range 5 {
		f.Go(i).Wait()
	}
	f.Wait()
	if tr := rec.Trace("huge limit"); tr.Lanes > 5 || len(tr.Spans) != 5 {
		t.Fatalf("%d lanes for %d calls run one at a time", tr.Lanes, len(tr.Spans))
	}
}
