package process_test

import (
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
// creates go-Name; then it marks that it ran (the file ran, one line per
// run) and returns its worker's PID.
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
		if !waitInWorker(func() bool { return exists(filepath.Join(g.Dir, "go-"+g.Name)) }) {
			return 0, fmt.Errorf("%s: the test never let it go", g.Name)
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

func TestACallSentAheadBehindALongCallRunsOnAWorkerThatBecomesIdle(t *testing.T) {
	var pids pidSet
	use(t, revokeExec, &pids)
	if err := revokeExec.Start(); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	release := func(name string) {
		if err := os.WriteFile(filepath.Join(dir, "go-"+name), nil, 0o600); err != nil {
			t.Error(err)
		}
	}
	// Whatever happens, the held calls end with the test.
	t.Cleanup(func() { release("first"); release("second"); gateFn.Wait() })
	before := revokeExec.Stats()

	// Both workers run a held call; a third call is sent ahead to one.
	first := gateFn.Go(gateCall{Name: "first", Dir: dir, Hold: true})
	waitForFile(t, filepath.Join(dir, "started-first"))
	second := gateFn.Go(gateCall{Name: "second", Dir: dir, Hold: true})
	waitForFile(t, filepath.Join(dir, "started-second"))
	third := gateFn.Go(gateCall{Name: "third", Dir: dir})
	waitFor(t, "the third call is sent ahead", func() bool { return process.SentAhead(revokeExec) == 1 })
	behind := slices.Index(process.SentAheadTo(revokeExec), 1)
	other := revokeExec.PIDs()[1-behind]
	pids.add(other)
	pids.add(revokeExec.PIDs()[behind])

	// Let the call on the other worker go: that worker becomes idle
	// while the third call waits behind the call still held.
	held, free := "first", "second"
	if b, err := os.ReadFile(filepath.Join(dir, "started-second")); err == nil && string(b) != strconv.Itoa(other) {
		held, free = "second", "first"
	}
	release(free)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for !third.Done() {
			time.Sleep(time.Millisecond)
		}
	}()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		t.Fatalf("the call sent ahead still waits behind the held call %q while the other worker is idle", held)
	}
	pid, err := third.Wait()
	if err != nil || pid != other {
		t.Fatalf("the third call: ran in %d (%v), want the idle worker %d", pid, err, other)
	}
	if r := runs(t, dir); r[held] != 0 {
		t.Fatalf("the held call %q ran before the test let it go: %v", held, r)
	}
	release(held)
	if _, err := first.Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := second.Wait(); err != nil {
		t.Fatal(err)
	}
	if r := runs(t, dir); r["first"] != 1 || r["second"] != 1 || r["third"] != 1 || len(r) != 3 {
		t.Fatalf("runs %v, want each call once", r)
	}
	if n := revokeExec.Stats().GivenBack - before.GivenBack; n != 1 {
		t.Fatalf("Stats().GivenBack grew by %d, want 1", n)
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

var _ = errors.New
