package cluster_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/deco-go/deco"
	"github.com/deco-go/deco/cluster"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
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

// lateBeaten notes each run of x; its first run (of all processes) waits
// until the file release is in $DECO_CLUSTER_TEST_DIR (at most a minute)
// and returns 1, any later one returns 2 at once.
var lateBeaten = deco.ConcurrentValue(func(x int) int {
	appendLine(strconv.Itoa(x))
	dir := os.Getenv(envTestDir)
	f, err := os.OpenFile(filepath.Join(dir, "first"), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return 2
	}
	f.Close()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if _, err := os.Stat(filepath.Join(dir, "release")); err == nil {
			break
		}
	}
	return 1
}, deco.Name("test.lateBeaten"))

func TestACallWhoseBeatCameLateRunsTwiceAndKeepsItsFirstOutcome(t *testing.T) {
	// A worker starved of CPU for most of AckWait beats too late: JetStream
	// gives its call out again and the call runs twice. The promise
	// (AckWait's doc, the package's Semantics): its caller gets exactly one
	// outcome, the first written, and the second run's outcome is dropped.
	// Here the worker sends no beats at all (EnvNoBeats): the first run
	// waits, unbeaten, past AckWait (500 ms), the call's second delivery
	// runs in the worker's other slot and writes its outcome (2) first; the
	// first run then returns 1, its write is refused, and it acks.
	dir := t.TempDir()
	t.Setenv(envTestDir, dir)
	t.Setenv(cluster.EnvNoBeats, "1")
	srv := startServer(t, t.TempDir(), 0, "")
	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	// Both runs' acks, seen on their subject:
	// $JS.ACK.<stream>.<consumer>.<delivery>.<stream seq>....
	acks := make(chan string, 16)
	if _, err := nc.Subscribe("$JS.ACK.DECO_TASKS.>", func(m *nats.Msg) {
		if string(m.Data) == "+ACK" {
			acks <- strings.Split(m.Subject, ".")[4]
		}
	}); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	e := cluster.New(cluster.URL(srv.ClientURL()), cluster.Workers(1), cluster.Slots(2),
		cluster.AckWait(500*time.Millisecond), cluster.Pack(1))
	t.Cleanup(func() { closeAndCheckServer(t, e, false) })
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	var progress atomicInt
	f := lateBeaten.With(deco.On(e), deco.OnProgress(func(deco.Progress) { progress.add(1) }))
	f.Go(0)
	got, err := waitWithin(t, e, time.Minute, f.Wait)
	if err != nil || len(got) != 1 || got[0] != 2 {
		t.Fatalf("Wait = %v, %v: want [2], the outcome of the second run, written first", got, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "release"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	// Each run acks after its write (the first's refused): once both acks
	// came, both writes are done.
	deliveries := map[string]int{}
	for len(deliveries) < 2 {
		select {
		case d := <-acks:
			deliveries[d]++
		case <-time.After(30 * time.Second):
			t.Fatalf("acks of deliveries %v within 30 s: want those of the first and second", deliveries)
		}
	}
	if deliveries["1"] != 1 || deliveries["2"] != 1 {
		t.Fatalf("acks of deliveries %v: want one of the first and one of the second", deliveries)
	}
	if n, _ := executions(t, dir); n[0] != 2 {
		t.Fatalf("the call ran %d times, want twice (its first run beaten in time?)", n[0])
	}
	// The results bucket was written once, by the first write: its stream
	// (on this test's server, which served no other call) stored one
	// message. The bucket keeps one entry per key, so an outcome written
	// over the first would show as a second message, not in History.
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := js.Stream(ctx, "KV_deco_results")
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.LastSeq != 1 {
		t.Fatalf("the results bucket stored %d messages, want 1: the call's first outcome, kept", info.State.LastSeq)
	}
	if n := progress.load(); n != 1 {
		t.Fatalf("OnProgress reported %d calls done, want 1", n)
	}
}
