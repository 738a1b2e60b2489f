package cluster_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/deco-go/deco"
	"github.com/deco-go/deco/cluster"
)

// long runs 2.5 s, noting each run, and returns x.
var long = deco.ConcurrentValue(func(x int) int {
	appendLine("long " + strconv.Itoa(x))
	time.Sleep(2500 * time.Millisecond)
	return x
}, deco.Name("test.long"))

func TestCallsLongerThanAckWaitAreHeartbeatNotRedelivered(t *testing.T) {
	// AckWait 1 s, calls of 2.5 s: without a heartbeat every 333 ms
	// each call would go to the other worker (and back) and run 3 times.
	// A beat may come up to 667 ms late before a call is redelivered: with
	// AckWait 300 ms (a 200 ms margin) the test failed now and then on
	// 2 cores busy with other tests (three failures seen, at load ~6).
	//
	// Alone, 2 calls, one per worker (each has 2 slots): calls queued
	// on a busy worker are TestCallsQueuedOnABusyWorkerLongerThanAckWaitRunOnce's.
	// A pack is one message, beaten whole from the moment it is taken.
	for _, c := range []struct {
		name  string
		pack  bool
		calls int
	}{{"alone", false, 2}, {"pack", true, 4}} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			t.Setenv(envTestDir, dir)
			e := newLocal(t, 2, cluster.AckWait(time.Second), cluster.Pack(4))
			if err := e.Start(); err != nil {
				t.Fatal(err)
			}
			if c.pack {
				defer cluster.PackNext(4)()
			}
			f := long.With(deco.On(e), deco.Limit(4))
			for i := range c.calls {
				f.Go(i)
			}
			got, err := waitWithin(t, e, time.Minute, f.Wait)
			wantResults(t, got, err, func(i int) int { return i })
			if st := e.Stats(); (st.Packs == 1) != c.pack {
				t.Fatalf("Stats %+v: want packs %v", st, c.pack)
			}
			runs := map[string]int{}
			files, _ := filepath.Glob(filepath.Join(dir, "exec.*"))
			for _, p := range files {
				b, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				for _, l := range strings.Fields(strings.ReplaceAll(string(b), "long ", "long")) {
					runs[l]++
				}
			}
			for i := range c.calls {
				if n := runs["long"+strconv.Itoa(i)]; n != 1 {
					t.Errorf("call %d ran %d times, want once: %v", i, n, runs)
				}
			}
		})
	}
}

// queuedTwoSeconds notes each run and returns x after 2 s.
var queuedTwoSeconds = deco.ConcurrentValue(func(x int) int {
	appendLine(strconv.Itoa(x))
	time.Sleep(2 * time.Second)
	return x
}, deco.Name("test.queuedTwoSeconds"))

func TestCallsQueuedOnABusyWorkerLongerThanAckWaitRunOnce(t *testing.T) {
	// One worker of 2 slots, AckWait 1 s, calls of 2 s: while the first
	// 2 run, the worker holds the third (or the second pack) waiting for
	// a slot, heartbeat. It used to pull one more, which waited 2 s in
	// its iterator's prefetch with no heartbeat, so that JetStream gave it
	// out again after 1 s and it ran twice. Now a worker pulls no call it
	// has no slot or hold for: nothing it took waits unbeaten. Alone, 6
	// calls (6 s); 2 calls alone and 2 packs of 2 behind them (4 s).
	// AckWait 1 s, not the minimum 300 ms: a beat (every AckWait/3) may
	// come up to 2/3 of AckWait late before its call is given out again,
	// and at 300 ms the heartbeat test above failed now and then on 2
	// cores busy with other tests.
	for _, c := range []struct {
		name  string
		pack  int
		calls int
	}{{"alone", 1, 6}, {"packs", 2, 6}} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			t.Setenv(envTestDir, dir)
			e := newLocal(t, 1, cluster.Slots(2), cluster.AckWait(time.Second), cluster.Pack(c.pack))
			if err := e.Start(); err != nil {
				t.Fatal(err)
			}
			f := queuedTwoSeconds.With(deco.On(e))
			i := 0
			if c.pack > 1 {
				// 2 calls alone, running before the packs queue behind them.
				f.Go(0)
				f.Go(1)
				for deadline := time.Now().Add(time.Minute); ; time.Sleep(10 * time.Millisecond) {
					if n, _ := executions(t, dir); len(n) == 2 {
						break
					}
					if time.Now().After(deadline) {
						t.Fatal("the first 2 calls did not start within a minute")
					}
				}
				defer cluster.PackNext(c.calls - 2)()
				i = 2
			}
			for ; i < c.calls; i++ {
				f.Go(i)
			}
			got, err := waitWithin(t, e, time.Minute, f.Wait)
			wantResults(t, got, err, func(i int) int { return i })
			if st := e.Stats(); (st.Packs >= 2) != (c.pack > 1) {
				t.Fatalf("Stats %+v: want packs %v", st, c.pack > 1)
			}
			n, _ := executions(t, dir)
			for i := range c.calls {
				if n[i] != 1 {
					t.Errorf("call %d ran %d times, want once: %v", i, n[i], n)
				}
			}
		})
	}
}

func TestCallsOfAPullRequestTakenForLostRunOnce(t *testing.T) {
	// After a reconnection, or heartbeats missed, a worker asks for calls
	// again while its earlier request may still stand on the server
	// (nats.go's iterator did so too). Here every request goes twice, the
	// second unknown to the worker: one worker of 2 slots gets up to 6
	// calls of 2 s at once, 2 run and 4 wait for a slot. Each is beaten
	// from the moment it arrives, so none is given out again after
	// AckWait (1 s) and each runs once; with nats.go's iterator those
	// beyond its one call held waited in its buffer unbeaten.
	dir := t.TempDir()
	t.Setenv(envTestDir, dir)
	t.Setenv(cluster.EnvStalePulls, "1")
	e := newLocal(t, 1, cluster.Slots(2), cluster.AckWait(time.Second), cluster.Pack(1))
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	f := queuedTwoSeconds.With(deco.On(e))
	const calls = 6
	for i := range calls {
		f.Go(i)
	}
	got, err := waitWithin(t, e, time.Minute, f.Wait)
	wantResults(t, got, err, func(i int) int { return i })
	n, _ := executions(t, dir)
	for i := range calls {
		if n[i] != 1 {
			t.Errorf("call %d ran %d times, want once: %v", i, n[i], n)
		}
	}
}
