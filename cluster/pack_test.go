package cluster_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deco-go/deco"
	"github.com/deco-go/deco/cluster"
)

func TestCallsThatQueueGoInPacksAndKeepTheirOwnResults(t *testing.T) {
	e := newLocal(t, 2, cluster.Pack(16))
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	// The first pack waits for all n calls (they all start at once under
	// Limit(n)), so that every pack is one of Pack's 16: had it waited for
	// fewer, the calls queued after it could go in packs of a few, more
	// of them than n/8 (1 run in ~40 before).
	const n = 64
	defer cluster.PackNext(n)()
	f := failOdd.With(deco.On(e), deco.Limit(n))
	for i := range n {
		f.Go(i)
	}
	got, err := f.Wait()
	errs := unjoin(err)
	if len(errs) != n/2 {
		t.Fatalf("%d errors, want one per odd call: %v", len(errs), err)
	}
	for _, err := range errs {
		var ce *deco.CallError
		if !errors.As(err, &ce) || ce.Index%2 != 1 || !strings.Contains(err.Error(), fmt.Sprintf("odd %d", ce.Index)) {
			t.Fatalf("error %v is not its own call's", err)
		}
	}
	for i := 0; i < n; i += 2 {
		if got[i] != i {
			t.Fatalf("call %d = %d", i, got[i])
		}
	}
	st := e.Stats()
	if st.Packs < 1 || st.Packs > n/8 || st.Published != n {
		t.Fatalf("Stats %+v: want %d calls published, in packs of 8 or more", st, n)
	}
}

// killer: call 0 kills its worker (after 300 ms once it has killed one,
// so that the calls a worker holds beside it end first); the others wait
// until it has killed once, so that the first death finds them unfinished.
var killer = deco.ConcurrentValue(func(x int) int {
	dir := os.Getenv(envTestDir)
	died := filepath.Join(dir, "killer.died")
	if x == 0 {
		appendLine("0")
		if _, err := os.Stat(died); err == nil {
			time.Sleep(300 * time.Millisecond)
		}
		mark("killer.died")
		p, _ := os.FindProcess(os.Getpid())
		p.Kill()
		time.Sleep(time.Minute)
	}
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if _, err := os.Stat(died); err == nil {
			break
		}
	}
	return x
}, deco.Name("test.killer"))

func TestAPackWhoseWorkerDiedIsSplitAndOnlyTheCallThatKillsFails(t *testing.T) {
	// Retries(0): the pack reaches MaxDeliver at its first death and is
	// split then; Retries(1): the worker it goes to next splits it.
	for _, retries := range []int{0, 1} {
		t.Run(fmt.Sprintf("retries=%d", retries), func(t *testing.T) {
			dir := t.TempDir()
			t.Setenv(envTestDir, dir)
			e := newLocal(t, 2, cluster.AckWait(400*time.Millisecond), cluster.Retries(retries), cluster.Pack(16))
			if err := e.Start(); err != nil {
				t.Fatal(err)
			}
			defer cluster.PackNext(3)()
			f := killer.With(deco.On(e))
			for i := range 3 {
				f.Go(i)
			}
			got, err := waitWithin(t, e, time.Minute, f.Wait)
			if e.Stats().Packs != 1 {
				t.Fatalf("Stats %+v: the calls did not go in one pack", e.Stats())
			}
			errs := unjoin(err)
			var we *cluster.WorkerError
			if len(errs) != 1 || !errors.As(errs[0], &we) || we.Call != 0 || we.Deliveries != retries+1 {
				t.Fatalf("errors (%d) %v: want call #0's alone, after %d deliveries of it alone", len(errs), err, retries+1)
			}
			if got[1] != 1 || got[2] != 2 {
				t.Fatalf("results %v: the other calls of the pack lost theirs", got)
			}
		})
	}
}

func TestAPackOfCancelledCallsIsRemoved(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(envTestDir, dir)
	e := newLocal(t, 1, cluster.Slots(1), cluster.Pack(16))
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	f := block.With(deco.On(e), deco.Limit(8))
	ctx, cancel := context.WithCancel(context.Background())
	f.GoContext(ctx, "running")
	waitFile(t, dir, "running.started")
	undo := cluster.PackNext(3)
	for i := range 3 {
		f.GoContext(ctx, fmt.Sprintf("packed%d", i))
	}
	waitFor(t, func() bool { return e.Stats().Packs == 1 })
	undo()
	cancel()
	if _, err := f.Wait(); len(unjoin(err)) != 4 || !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait: %v, want 4 errors matching context.Canceled", err)
	}
	waitFor(t, func() bool { return e.Stats().Removed >= 3 })
	snap, err := e.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range snap.Queues {
		if q.Pending != 0 {
			t.Fatalf("queue %+v: the cancelled pack is still in the stream", q)
		}
	}
	for i := range 3 {
		if _, err := os.Stat(dir + fmt.Sprintf("/packed%d.finished", i)); err == nil {
			t.Fatalf("packed call %d ran to its end after it was cancelled", i)
		}
	}
}

// waitWithin returns wait's results, or fails t after d with what the
// queues hold.
func waitWithin[R any](t *testing.T, e *cluster.Executor, d time.Duration, wait func() ([]R, error)) ([]R, error) {
	t.Helper()
	type res struct {
		got []R
		err error
	}
	ch := make(chan res, 1)
	go func() { got, err := wait(); ch <- res{got, err} }()
	select {
	case r := <-ch:
		return r.got, r.err
	case <-time.After(d):
		snap, err := e.List(context.Background())
		t.Fatalf("no results within %v; stats %+v; queues %+v (%v); workers %+v", d, e.Stats(), snap.Queues, err, snap.Workers)
		return nil, nil
	}
}

// slowPID sleeps 100 ms and returns its process's ID.
var slowPID = deco.ConcurrentValue(func(int) int {
	time.Sleep(100 * time.Millisecond)
	return os.Getpid()
}, deco.Name("test.slowPID"))

func TestAPackOfLongCallsSpreadsOverTheWorkers(t *testing.T) {
	e := newLocal(t, 2, cluster.Slots(1), cluster.Pack(16))
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	defer cluster.PackNext(8)()
	f := slowPID.With(deco.On(e), deco.Limit(8))
	for i := range 8 {
		f.Go(i)
	}
	got, err := waitWithin(t, e, time.Minute, f.Wait)
	if err != nil {
		t.Fatal(err)
	}
	if e.Stats().Packs != 1 {
		t.Fatalf("Stats %+v: the calls did not go in one pack", e.Stats())
	}
	pids := map[int]int{}
	for _, p := range got {
		pids[p]++
	}
	if len(pids) != 2 {
		t.Fatalf("the pack's 8 calls of 100 ms ran on %d worker(s) %v: its rest did not go back to the stream for the idle one", len(pids), pids)
	}
}

func TestPacksAreTheDefaultOnlyForCallsBeyondTheWorkersRoom(t *testing.T) {
	// 2 workers of 2 slots: up to 4 calls in flight go alone; beyond
	// that, as at the default limit (256), calls that queue go in packs,
	// unless Pack(1).
	for _, c := range []struct {
		name  string
		limit int
		opts  []cluster.Option
		packs bool
	}{
		{"default limit", 0, nil, true},
		{"limit 4", 4, nil, false},
		{"InFlight(4)", 0, []cluster.Option{cluster.InFlight(4)}, false},
		{"limit 256", 256, nil, true},
		{"limit 256, Pack(1)", 256, []cluster.Option{cluster.Pack(1)}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newLocal(t, 2, c.opts...)
			if err := e.Start(); err != nil {
				t.Fatal(err)
			}
			f := square.With(deco.On(e))
			if c.limit > 0 {
				f = f.With(deco.Limit(c.limit))
			}
			const n = 1024
			for i := range n {
				f.Go(i)
			}
			got, err := waitWithin(t, e, time.Minute, f.Wait)
			wantResults(t, got, err, func(i int) int { return i * i })
			st := e.Stats()
			if st.Published != n || (st.Packs > 0) != c.packs {
				t.Fatalf("Stats %+v: want %d calls published, packs %v", st, n, c.packs)
			}
		})
	}
}

// napPID sleeps 50 ms and returns its process's ID.
var napPID = deco.ConcurrentValue(func(int) int {
	time.Sleep(50 * time.Millisecond)
	return os.Getpid()
}, deco.Name("test.napPID"))

func TestAPackWithCallsQueuedBehindItRunsOnItsWorker(t *testing.T) {
	// 4 calls in a pack, a fifth behind it: the pack's worker, its one
	// slot busy, keeps the pack's calls rather than publishing the rest
	// again.
	e := newLocal(t, 2, cluster.Slots(1), cluster.Pack(4))
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	defer cluster.PackNext(5)()
	f := napPID.With(deco.On(e), deco.Limit(8))
	for i := range 5 {
		f.Go(i)
	}
	got, err := waitWithin(t, e, time.Minute, f.Wait)
	if err != nil {
		t.Fatal(err)
	}
	if st := e.Stats(); st.Packs != 1 || st.Published != 5 {
		t.Fatalf("Stats %+v: want 4 calls in one pack, one alone", st)
	}
	n, err := cluster.TasksPublished(e)
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("the tasks stream stored %d messages, want 2 (the pack and the call alone): the pack's worker published its rest again", n)
	}
	// The call alone may go to either worker (the pack's pulls it once
	// the pack holds a slot, and holds it waiting for one, or the other
	// pulls it).
	pids := map[int]int{}
	most := 0
	for _, p := range got {
		pids[p]++
		most = max(most, pids[p])
	}
	if most < 4 {
		t.Fatalf("the calls ran on workers %v, want the pack's 4 on one", got)
	}
}

// nap1ms sleeps 1 ms and returns x.
var nap1ms = deco.ConcurrentValue(func(x int) int {
	time.Sleep(time.Millisecond)
	return x
}, deco.Name("test.nap1ms"))

// meetInPairs returns x once two of its calls run at once in this
// process (or after 10 s); call 1 then sleeps 2 ms more, so that it
// ends after call 0.
var meetInPairs = deco.ConcurrentValue(func(x int) int {
	pairs.Lock()
	if pairs.met == nil {
		pairs.met = make(chan struct{})
	}
	if pairs.n++; pairs.n == 2 {
		close(pairs.met)
	}
	met := pairs.met
	pairs.Unlock()
	select {
	case <-met:
	case <-time.After(10 * time.Second):
	}
	if x == 1 {
		time.Sleep(2 * time.Millisecond)
	}
	return x
}, deco.Name("test.meetInPairs"))

var pairs struct {
	sync.Mutex
	n   int
	met chan struct{}
}

func TestAPacksCallsThatRunSideBySideEndInOnePart(t *testing.T) {
	// A pack of 2 calls on a worker of 2 slots: both run at once, and the
	// first to end waits for the other's outcome (2 ms later) rather
	// than going in a part of its own.
	e := newLocal(t, 1, cluster.Slots(2))
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	defer cluster.PackNext(2)()
	f := meetInPairs.With(deco.On(e), deco.Limit(2))
	f.Go(0)
	f.Go(1)
	got, err := waitWithin(t, e, time.Minute, f.Wait)
	if err != nil {
		t.Fatal(err)
	}
	if got[0] != 0 || got[1] != 1 {
		t.Fatalf("got %v", got)
	}
	if st := e.Stats(); st.Packs != 1 {
		t.Fatalf("Stats %+v: want the 2 calls in one pack", st)
	}
	parts, err := cluster.OutcomeParts(e)
	if err != nil {
		t.Fatal(err)
	}
	if parts != 1 {
		t.Errorf("the pack's 2 outcomes went in %d parts, want 1", parts)
	}
}

func TestAPackOfLongerCallsWritesItsOutcomesInFewParts(t *testing.T) {
	// 64 calls of 1 ms in a pack (a 65th behind it) on a worker of 2
	// slots: their outcomes wait for each other's (up to 50 ms) rather
	// than each going in a part of its own, or of two.
	e := newLocal(t, 1, cluster.Slots(2), cluster.Pack(64))
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	defer cluster.PackNext(65)()
	f := nap1ms.With(deco.On(e), deco.Limit(128))
	for i := range 65 {
		f.Go(i)
	}
	got, err := waitWithin(t, e, time.Minute, f.Wait)
	wantResults(t, got, err, func(i int) int { return i })
	if st := e.Stats(); st.Packs != 1 || st.Published != 65 {
		t.Fatalf("Stats %+v: want 64 calls in one pack, one alone", st)
	}
	parts, err := cluster.OutcomeParts(e)
	if err != nil {
		t.Fatal(err)
	}
	if parts >= 32 {
		t.Errorf("the pack's 64 outcomes went in %d parts, want fewer than 32", parts)
	}
	t.Logf("%d parts", parts)
}
