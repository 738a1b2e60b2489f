package process_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/deco-go/deco"
	"github.com/deco-go/deco/process"
)

// Calls sent ahead to a busy worker (Pipeline(2)) keep every
// promise of a call sent to an idle one: their results, errors and panics,
// one call at a time per worker, cancellation, Static values, MaxMessage,
// and the blame of a worker's death, which falls on the call it ran and
// never on one waiting behind it.

// waitFor waits until cond holds, failing t if it does not within 20 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("never happened: %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// running counts the calls of pipeProbe running in this process (a
// worker).
var running atomic.Int32

type probe struct {
	Double, PID int
	Overlap     bool // another call ran in the same worker at the same time
}

var (
	pipeExec = process.New(2, process.Pipeline(2), process.Stderr(testLog))
	pipeRec  deco.Recorder
	// pipeProbe has the executor's default limit: 2 calls per worker.
	pipeProbe = deco.ConcurrentValue(func(i int) probe {
		overlap := running.Add(1) > 1
		time.Sleep(500 * time.Microsecond)
		running.Add(-1)
		return probe{2 * i, os.Getpid(), overlap}
	}, deco.Name("test.pipeProbe"), deco.On(pipeExec), deco.Record(&pipeRec))
)

// workerCalls sums the calls of f that its executor's workers ran.
func workerCalls[A, R any](f *deco.Func[A, R]) int64 {
	n := int64(0)
	for _, w := range f.Stats().Workers {
		n += w.Calls
	}
	return n
}

func host(t *testing.T) string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "localhost"
	}
	return h
}

func TestCallsSentAheadRunOneAtATimeAndReturnTheirResults(t *testing.T) {
	var pids pidSet
	use(t, pipeExec, &pids)
	if err := pipeExec.Start(); err != nil {
		t.Fatal(err)
	}
	before := pipeExec.Stats()
	callsBefore := workerCalls(pipeProbe)
	pipeRec.Reset()
	const calls = 200
	for i := range calls {
		pipeProbe.Go(i)
	}
	got, err := pipeProbe.Wait()
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range got {
		pids.add(p.PID)
		if p.Double != 2*i {
			t.Fatalf("call %d returned %d, want %d", i, p.Double, 2*i)
		}
		if p.Overlap {
			t.Fatalf("call %d ran in worker %d while another call ran there", i, p.PID)
		}
	}
	if ahead := pipeExec.Stats().Ahead - before.Ahead; ahead == 0 {
		t.Fatalf("Stats().Ahead did not grow: no call was sent ahead, the test lost its point")
	}
	// The executor names the worker of each call (backend.Ran): the
	// timeline has one lane per worker process, drawn for the calls' run
	// times on it, which never overlap (else a lane "host:pid #2").
	tr := pipeRec.Trace("ahead")
	names := map[string]bool{}
	for _, n := range tr.LaneNames {
		names[n] = true
	}
	for _, p := range got {
		if !names[fmt.Sprintf("%s:%d", host(t), p.PID)] {
			t.Fatalf("no timeline lane for worker %d: lanes %q", p.PID, tr.LaneNames)
		}
	}
	if len(tr.LaneNames) != 2 {
		t.Fatalf("timeline lanes %q, want one per worker process", tr.LaneNames)
	}
	if n := workerCalls(pipeProbe) - callsBefore; n != calls {
		t.Fatalf("Stats().Workers counts %d more calls, want %d", n, calls)
	}
	if st := pipeProbe.Stats(); st.MaxParallel > pipeExec.Workers() {
		t.Fatalf("Stats().MaxParallel = %d, more than Workers() = %d", st.MaxParallel, pipeExec.Workers())
	}
}

var pipeFault = deco.ConcurrentResult(func(i int) (int, error) {
	time.Sleep(200 * time.Microsecond)
	switch i % 3 {
	case 1:
		return 0, fmt.Errorf("call %d failed", i)
	case 2:
		panic(fmt.Sprintf("call %d panicked", i))
	}
	return i, nil
}, deco.Name("test.pipeFault"), deco.On(pipeExec), deco.PanicAsError())

func TestCallsSentAheadReturnTheirOwnErrorsAndPanics(t *testing.T) {
	var pids pidSet
	use(t, pipeExec, &pids)
	before := pipeExec.Stats()
	const calls = 90
	futs := make([]*deco.Future[int], calls)
	for i := range calls {
		futs[i] = pipeFault.Go(i)
	}
	pipeFault.Wait()
	for i, f := range futs {
		v, err := f.Wait()
		var pe *deco.PanicError
		switch i % 3 {
		case 0:
			if err != nil || v != i {
				t.Fatalf("call %d: %d, %v; want %d", i, v, err, i)
			}
		case 1:
			if err == nil || err.Error() != fmt.Sprintf("call %d failed", i) {
				t.Fatalf("call %d: err = %v, want its own error", i, err)
			}
		case 2:
			if !errors.As(err, &pe) || fmt.Sprint(pe.Value) != fmt.Sprintf("call %d panicked", i) || pe.Index != i {
				t.Fatalf("call %d: err = %v, want its own panic", i, err)
			}
		}
	}
	after := pipeExec.Stats()
	if after.Ahead == before.Ahead || after.Crashes != before.Crashes {
		t.Fatalf("Ahead %d→%d, Crashes %d→%d: want calls sent ahead and no crash", before.Ahead, after.Ahead, before.Crashes, after.Crashes)
	}
}

// aheadCall is the argument of the functions below: what the call does,
// and a directory for its marker files.
type aheadCall struct {
	Role, Dir string
}

func (a aheadCall) mark(name string) {
	f, err := os.OpenFile(filepath.Join(a.Dir, name), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err == nil {
		f.WriteString(a.Role + "\n")
		f.Close()
	}
}

// waitInWorker waits, in a worker, until cond holds, for at most 20 s.
func waitInWorker(cond func() bool) bool {
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(time.Millisecond)
	}
	return true
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// aheadTask plays a role in the tests of calls sent ahead: "hold" marks
// its start and waits until its worker holds the cancel of a call it has
// not started; "crash" marks its start and exits its worker once the
// test creates "go"; "hang" marks its start and never returns; any other
// role marks that it ran and returns its worker's PID.
func aheadTask(ctx context.Context, a aheadCall) (int, error) {
	switch a.Role {
	case "hold":
		a.mark("started")
		if !waitInWorker(func() bool { return process.EarlyCancels() > 0 }) {
			return 0, errors.New("the cancel of the call sent ahead never reached the worker")
		}
	case "crash":
		a.mark("started")
		if waitInWorker(func() bool { return exists(filepath.Join(a.Dir, "go")) }) {
			os.Exit(3)
		}
		return 0, errors.New("the test never said go")
	case "hang":
		a.mark("started")
		<-ctx.Done()
		select {}
	default:
		a.mark("ran")
	}
	return os.Getpid(), nil
}

var (
	aheadExec = process.New(1, process.Pipeline(2), process.Stderr(testLog))
	aheadFn   = deco.ConcurrentCtxResult(aheadTask, deco.Name("test.ahead"), deco.On(aheadExec))
)

// ran returns the roles that marked they ran.
func ran(t *testing.T, dir string) []string {
	b, err := os.ReadFile(filepath.Join(dir, "ran"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return strings.Fields(string(b))
}

// sendAhead starts a call of role first, waits until it runs, then starts
// a call of role second and waits until it has been sent ahead, behind the
// first, to the same worker.
func sendAhead(t *testing.T, dir, first string, ctx context.Context, second string) (*deco.Future[int], *deco.Future[int]) {
	t.Helper()
	a := aheadFn.Go(aheadCall{first, dir})
	waitForFile(t, filepath.Join(dir, "started"))
	b := aheadFn.GoContext(ctx, aheadCall{second, dir})
	waitFor(t, "the second call is sent ahead", func() bool { return process.SentAhead(aheadExec) == 1 })
	return a, b
}

func TestACallCancelledWhileSentAheadDoesNotRun(t *testing.T) {
	var pids pidSet
	use(t, aheadExec, &pids)
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	a, b := sendAhead(t, dir, "hold", ctx, "victim")
	cancel()
	pa, errA := a.Wait()
	_, errB := b.Wait()
	aheadFn.Wait()
	pids.add(pa)
	if errA != nil {
		t.Fatalf("the running call: %v", errA)
	}
	if !errors.Is(errB, context.Canceled) {
		t.Fatalf("the call cancelled while sent ahead: err = %v, want context.Canceled", errB)
	}
	if r := ran(t, dir); len(r) != 0 {
		t.Fatalf("the cancelled call ran (%v)", r)
	}
	// The worker is fine and serves the next call.
	p, err := aheadFn.Go(aheadCall{"next", dir}).Wait()
	aheadFn.Wait()
	if err != nil || p != pa {
		t.Fatalf("the next call ran in %d (%v), want the same worker %d", p, err, pa)
	}
}

func TestACallSentAheadOfACrashRunsOnAnotherWorker(t *testing.T) {
	var pids pidSet
	use(t, aheadExec, &pids)
	dir := t.TempDir()
	before := aheadExec.Stats()
	a, b := sendAhead(t, dir, "crash", context.Background(), "behind")
	crashed := aheadExec.PIDs()[0]
	pids.add(crashed)
	if err := os.WriteFile(filepath.Join(dir, "go"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, errA := a.Wait()
	pb, errB := b.Wait()
	aheadFn.Wait()
	pids.add(pb)
	var we *process.WorkerError
	if !errors.As(errA, &we) || we.Call != 0 || we.Status != "exit status 3" || we.PID != crashed {
		t.Fatalf("the crashing call: err = %v, want a WorkerError of call #0, exit status 3, pid %d", errA, crashed)
	}
	// Retries is 0: a call blamed for the crash would fail. It did not
	// run on the dead worker, so it runs, once, on its replacement.
	if errB != nil || pb == crashed || pb == 0 {
		t.Fatalf("the call sent ahead of the crash: %d, %v; want it run on a new worker, not %d", pb, errB, crashed)
	}
	if r := ran(t, dir); len(r) != 1 {
		t.Fatalf("the call sent ahead ran %d times (%v), want once", len(r), r)
	}
	after := aheadExec.Stats()
	if after.Crashes != before.Crashes+1 || after.Retries != before.Retries {
		t.Fatalf("Crashes %d→%d, Retries %d→%d: want one crash and no retry", before.Crashes, after.Crashes, before.Retries, after.Retries)
	}
}

func TestACallSentAheadWhenCloseKillsItsWorkerRunsAfterClose(t *testing.T) {
	var pids pidSet
	use(t, aheadExec, &pids)
	dir := t.TempDir()
	a, b := sendAhead(t, dir, "hang", context.Background(), "behind")
	closed := aheadExec.PIDs()[0]
	pids.add(closed)
	aheadExec.Close()
	_, errA := a.Wait()
	pb, errB := b.Wait()
	aheadFn.Wait()
	pids.add(pb)
	if !errors.Is(errA, process.ErrClosed) {
		t.Fatalf("the running call: err = %v, want ErrClosed", errA)
	}
	if errB != nil || pb == closed || pb == 0 {
		t.Fatalf("the call sent ahead: %d, %v; want it run on a worker started after Close", pb, errB)
	}
	if r := ran(t, dir); len(r) != 1 {
		t.Fatalf("the call sent ahead ran %d times (%v), want once", len(r), r)
	}
}

var (
	pipeTable    = deco.NewStatic[[]int]("test.pipeTable")
	setPipeTable atomic.Bool
	// tableLen reads a Static while other calls are sent ahead to its
	// worker: the value and the calls travel on different pipes.
	tableLen = deco.ConcurrentValue(func(int) [2]int {
		time.Sleep(200 * time.Microsecond)
		return [2]int{len(pipeTable.Get()), os.Getpid()}
	}, deco.Name("test.tableLen"), deco.On(pipeExec))
)

func TestStaticValuesReachWorkersWithCallsSentAhead(t *testing.T) {
	var pids pidSet
	use(t, pipeExec, &pids)
	if setPipeTable.CompareAndSwap(false, true) {
		pipeTable.Set(make([]int, 100_000))
	}
	before := pipeExec.Stats()
	for i := range 100 {
		tableLen.Go(i)
	}
	got, err := tableLen.Wait()
	if err != nil {
		t.Fatal(err)
	}
	workers := map[int]bool{}
	for i, g := range got {
		pids.add(g[1])
		workers[g[1]] = true
		if g[0] != 100_000 {
			t.Fatalf("call %d read a table of %d, want 100000", i, g[0])
		}
	}
	after := pipeExec.Stats()
	if after.Ahead == before.Ahead {
		t.Fatalf("no call was sent ahead: the test lost its point")
	}
	if sends := after.StaticSends - before.StaticSends; sends < 1 || sends > int64(len(workers)) {
		t.Fatalf("the Static was sent %d times to %d workers, want once per worker", sends, len(workers))
	}
}

var (
	smallExec = process.New(1, process.MaxMessage(64<<10), process.Pipeline(2), process.Stderr(testLog))
	byteLen   = deco.ConcurrentValue(func(b []byte) int {
		time.Sleep(100 * time.Microsecond)
		return len(b)
	}, deco.Name("test.byteLen"), deco.On(smallExec))
)

func TestMaxMessageHoldsWithCallsSentAhead(t *testing.T) {
	var pids pidSet
	use(t, smallExec, &pids)
	before := smallExec.Stats()
	// Small calls are sent ahead; 8 KiB ones wait for an idle worker;
	// 100 KiB ones are over the limit.
	sizes := []int{}
	for i := range 60 {
		switch i % 10 {
		case 3:
			sizes = append(sizes, 8<<10)
		case 7:
			sizes = append(sizes, 100<<10)
		default:
			sizes = append(sizes, i)
		}
	}
	futs := make([]*deco.Future[int], len(sizes))
	for i, n := range sizes {
		futs[i] = byteLen.Go(make([]byte, n))
	}
	byteLen.Wait()
	for i, f := range futs {
		n, err := f.Wait()
		if sizes[i] > 64<<10 {
			if err == nil || !strings.Contains(err.Error(), "MaxMessage") {
				t.Fatalf("call %d of %d bytes: err = %v, want it refused for MaxMessage", i, sizes[i], err)
			}
			continue
		}
		if err != nil || n != sizes[i] {
			t.Fatalf("call %d: %d, %v; want %d", i, n, err, sizes[i])
		}
	}
	if after := smallExec.Stats(); after.Ahead == before.Ahead || after.Crashes != before.Crashes {
		t.Fatalf("Ahead %d→%d, Crashes %d→%d: want calls sent ahead and no crash", before.Ahead, after.Ahead, before.Crashes, after.Crashes)
	}
	for _, pid := range smallExec.PIDs() {
		pids.add(pid)
	}
}
