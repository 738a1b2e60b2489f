package process_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/deco-go/deco"
	"github.com/deco-go/deco/process"
)

// A call sent ahead to a busy worker is given back, unstarted, when
// another worker becomes idle with nothing else to run, and runs there:
// it does not wait behind a long call. Every call runs once.

// gateCall is the argument of gateFn: a call named Name that, if Hold is
// set, writes its worker's PID to started-Name and waits until the test
// creates go-Name (or crash-Name: then it exits its worker), marking
// meanwhile (in the file early) when its worker holds the cancel of a call
// sent ahead; then it sleeps for Sleep, marks that it ran (the file ran,
// one line per run) and returns its worker's PID.
type gateCall struct {
	Name, Dir string
	Hold      bool
	Sleep     time.Duration
}

func gateTask(g gateCall) (int, error) {
	if g.Hold {
		if err := os.WriteFile(filepath.Join(g.Dir, "started-"+g.Name), []byte(strconv.Itoa(os.Getpid())), 0o600); err != nil {
			return 0, err
		}
		crash := filepath.Join(g.Dir, "crash-"+g.Name)
		early := false
		if !waitInWorker(func() bool {
			if !early && process.EarlyCancels() > 0 {
				// The worker holds the cancel of a call sent ahead.
				early = true
				aheadCall{g.Name, g.Dir}.mark("early")
			}
			return exists(filepath.Join(g.Dir, "go-"+g.Name)) || exists(crash)
		}) {
			return 0, fmt.Errorf("%s: the test never let it go", g.Name)
		}
		if exists(crash) {
			os.Exit(3)
		}
	}
	time.Sleep(g.Sleep)
	aheadCall{g.Name, g.Dir}.mark("ran")
	return os.Getpid(), nil
}

var (
	revokeExec = process.New(2, process.Pipeline(2), process.Stderr(testLog))
	// gateFn has the executor's default limit: 4, two calls per worker.
	gateFn = deco.ConcurrentResult(gateTask, deco.Name("test.gate"), deco.On(revokeExec))
)

// runs counts the lines of dir's ran file by name.
func runs(t *testing.T, dir string) map[string]int {
	t.Helper()
	n := map[string]int{}
	for _, name := range ran(t, dir) {
		n[name]++
	}
	return n
}

// holdCalls starts revokeExec for the test and returns the folder the
// held calls of gateFn wait in and the function that lets the call held
// as name go. Whatever happens, the calls held as "first" and "second"
// end with the test.
func holdCalls(t *testing.T, pids *pidSet) (dir string, release func(name string)) {
	t.Helper()
	use(t, revokeExec, pids)
	if err := revokeExec.Start(); err != nil {
		t.Fatal(err)
	}
	dir = t.TempDir()
	release = func(name string) {
		if err := os.WriteFile(filepath.Join(dir, "go-"+name), nil, 0o600); err != nil {
			t.Error(err)
		}
	}
	t.Cleanup(func() { release("first"); release("second"); gateFn.Wait() })
	return dir, release
}

func TestACallSentAheadBehindALongCallRunsOnAWorkerThatBecomesIdle(t *testing.T) {
	var pids pidSet
	dir, release := holdCalls(t, &pids)
	before := revokeExec.Stats()
	// Both workers run a held call; a third call is sent ahead behind
	// one. The other is let go: its worker becomes idle while the third
	// call waits behind the call still held.
	behind, other, third := heldPair(t, dir, context.Background())
	idle := revokeExec.PIDs()[1-slices.Index(process.SentAheadTo(revokeExec), 1)]
	release(other)
	if !doneWithin(third, 15*time.Second) {
		t.Fatalf("the call sent ahead still waits behind the held call %q while the other worker is idle", behind)
	}
	pid, err := third.Wait()
	if err != nil || pid != idle {
		t.Fatalf("the third call: ran in %d (%v), want the idle worker %d", pid, err, idle)
	}
	if r := runs(t, dir); r[behind] != 0 {
		t.Fatalf("the held call %q ran before the test let it go: %v", behind, r)
	}
	release(behind)
	if _, err := gateFn.Wait(); err != nil {
		t.Fatal(err)
	}
	if r := runs(t, dir); r["first"] != 1 || r["second"] != 1 || r["third"] != 1 || len(r) != 3 {
		t.Fatalf("runs %v, want each call once", r)
	}
	if n := revokeExec.Stats().GivenBack - before.GivenBack; n != 1 {
		t.Fatalf("Stats().GivenBack grew by %d, want 1", n)
	}
}

// heldPair starts two held calls, one on each worker, and a third sent
// ahead behind one of them, with ctx, and returns the name of the held
// call the third waits behind, the other's, and the third's Future.
func heldPair(t *testing.T, dir string, ctx context.Context) (behind, other string, third *deco.Future[int]) {
	t.Helper()
	gateFn.Go(gateCall{Name: "first", Dir: dir, Hold: true})
	waitForFile(t, filepath.Join(dir, "started-first"))
	gateFn.Go(gateCall{Name: "second", Dir: dir, Hold: true})
	waitForFile(t, filepath.Join(dir, "started-second"))
	third = gateFn.GoContext(ctx, gateCall{Name: "third", Dir: dir})
	waitFor(t, "the third call is sent ahead", func() bool { return process.SentAhead(revokeExec) == 1 })
	w := slices.Index(process.SentAheadTo(revokeExec), 1)
	b, err := os.ReadFile(filepath.Join(dir, "started-first"))
	if err != nil {
		t.Fatal(err)
	}
	if string(b) == strconv.Itoa(revokeExec.PIDs()[w]) {
		return "first", "second", third
	}
	return "second", "first", third
}

// doneWithin waits for f to be done, for at most d.
func doneWithin(f *deco.Future[int], d time.Duration) bool {
	deadline := time.Now().Add(d)
	for !f.Done() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(time.Millisecond)
	}
	return true
}

func TestACallSentAheadRunsOnTheReplacementOfACrashedWorker(t *testing.T) {
	var pids pidSet
	use(t, revokeExec, &pids)
	if err := revokeExec.Start(); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	touch := func(name string) {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o600); err != nil {
			t.Error(err)
		}
	}
	t.Cleanup(func() { touch("go-first"); touch("go-second"); gateFn.Wait() })
	for _, pid := range revokeExec.PIDs() {
		pids.add(pid)
	}
	before := revokeExec.Stats()
	behind, other, third := heldPair(t, dir, context.Background())
	// The other held call's worker dies; its replacement, once ready, is
	// idle while the third call waits behind the held one.
	touch("crash-" + other)
	if !doneWithin(third, 15*time.Second) {
		t.Fatalf("the call sent ahead still waits behind the held call %q while the crashed worker's replacement is idle", behind)
	}
	pid, err := third.Wait()
	pids.add(pid)
	if err != nil {
		t.Fatalf("the third call: %v", err)
	}
	if r := runs(t, dir); r[behind] != 0 || r["third"] != 1 {
		t.Fatalf("runs %v: want the third call once, and the held call %q not yet", r, behind)
	}
	touch("go-" + behind)
	_, err = gateFn.Wait()
	var we *process.WorkerError
	if !errors.As(err, &we) || we.Status != "exit status 3" {
		t.Fatalf("Wait: %v, want the crashed call's WorkerError", err)
	}
	for _, pid := range revokeExec.PIDs() {
		pids.add(pid)
	}
	after := revokeExec.Stats()
	if after.GivenBack != before.GivenBack+1 || after.Crashes != before.Crashes+1 {
		t.Fatalf("GivenBack %d→%d, Crashes %d→%d: want one of each", before.GivenBack, after.GivenBack, before.Crashes, after.Crashes)
	}
}

func TestACallCancelledWhileSentAheadAndGivenBackDoesNotRun(t *testing.T) {
	var pids pidSet
	dir, release := holdCalls(t, &pids)
	for _, pid := range revokeExec.PIDs() {
		pids.add(pid)
	}
	ctx, cancel := context.WithCancel(context.Background())
	behind, other, third := heldPair(t, dir, ctx)
	// The third call is cancelled while it waits behind a held call; once
	// its worker holds the cancel, the other worker becomes idle, and the
	// third call is given back: with its context done, it must not go to
	// the idle worker.
	cancel()
	waitFor(t, "the worker holds the cancel", func() bool { return exists(filepath.Join(dir, "early")) })
	release(other)
	if !doneWithin(third, 15*time.Second) {
		t.Fatalf("the cancelled call sent ahead still waits behind the held call %q", behind)
	}
	if _, err := third.Wait(); !errors.Is(err, context.Canceled) {
		t.Fatalf("the third call: err = %v, want context.Canceled", err)
	}
	release(behind)
	gateFn.Wait()
	if r := runs(t, dir); r["third"] != 0 {
		t.Fatalf("the cancelled call ran: runs %v", r)
	}
}

func TestEveryCallRunsOnceWhileCallsSentAheadAreGivenBack(t *testing.T) {
	var pids pidSet
	use(t, revokeExec, &pids)
	dir := t.TempDir()
	before := revokeExec.Stats()
	// Batches whose tails leave a worker idle while the other holds a
	// call sent ahead: each such call is revoked, and either given back
	// or started first, in a race the worker settles.
	const rounds, calls = 10, 24
	for r := range rounds {
		for i := range calls {
			d := 100 * time.Microsecond
			if i%5 == 0 {
				d = 2 * time.Millisecond
			}
			gateFn.Go(gateCall{Name: fmt.Sprintf("r%dc%d", r, i), Dir: dir, Sleep: d})
		}
		got, err := gateFn.Wait()
		if err != nil {
			t.Fatal(err)
		}
		for _, pid := range got {
			pids.add(pid)
		}
	}
	n := runs(t, dir)
	for r := range rounds {
		for i := range calls {
			if name := fmt.Sprintf("r%dc%d", r, i); n[name] != 1 {
				t.Fatalf("call %s ran %d times, want once", name, n[name])
			}
		}
	}
	if len(n) != rounds*calls {
		t.Fatalf("%d calls ran, want %d", len(n), rounds*calls)
	}
	after := revokeExec.Stats()
	if after.Crashes != before.Crashes || after.Retries != before.Retries {
		t.Fatalf("Crashes %d→%d, Retries %d→%d: want none", before.Crashes, after.Crashes, before.Retries, after.Retries)
	}
	t.Logf("%d calls given back", after.GivenBack-before.GivenBack)
}
