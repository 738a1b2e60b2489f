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

// The tests' executors and functions are declared at package level, as
// functions that run on workers must be (workers never run the tests).
// Each test closes the executors it uses when it ends (use).
var (
	pool2 = process.New(2, process.Stderr(testLog))

	// pidOf returns the PID of the process the call ran in.
	pidOf = deco.ConcurrentValue(func(int) int { return os.Getpid() },
		deco.Name("test.pidOf"), deco.On(pool2), deco.Limit(pool2.Workers()))
)

func TestCallsRunInWorkerProcesses(t *testing.T) {
	var pids pidSet
	use(t, pool2, &pids)
	for i := range 20 {
		pidOf.Go(i)
	}
	got, err := pidOf.Wait()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, pid := range got {
		if pid == os.Getpid() {
			t.Fatalf("a call ran in the test process, not in a worker")
		}
		seen[pid] = true
		pids.add(pid)
	}
	if len(seen) > 2 {
		t.Fatalf("calls ran in %d processes, more than the 2 workers: %v", len(seen), seen)
	}
	if s := pool2.Stats(); s.Running == 0 || s.Running > 2 {
		t.Fatalf("Stats().Running = %d, want 1 or 2 workers", s.Running)
	}
}

func TestWorkersWaitBetweenBatchesAndCloseRestartsThem(t *testing.T) {
	var pids pidSet
	use(t, pool2, &pids)
	if err := pool2.Start(); err != nil {
		t.Fatal(err)
	}
	first := pool2.PIDs()
	for _, p := range first {
		pids.add(p)
		if p == 0 {
			t.Fatalf("PIDs after Start = %v: a worker is not running", first)
		}
	}
	pidOf.Go(0)
	pidOf.Wait()
	if again := pool2.PIDs(); fmt.Sprint(again) != fmt.Sprint(first) {
		t.Fatalf("workers changed between batches: %v, then %v", first, again)
	}
	pool2.Close()
	for _, p := range first {
		if alive(p) {
			t.Fatalf("worker %d is running after Close", p)
		}
	}
	got, err := pidOf.Go(1).Wait()
	pidOf.Wait()
	if err != nil || got == 0 || got == first[0] || got == first[1] {
		t.Fatalf("a call after Close ran in %d (%v), want a new worker", got, err)
	}
	pids.add(got)
}

// With Pipeline(1), the pool's lane n runs on worker n, so that stats and
// timelines show the workers as lanes.
func TestEachLaneRunsOnOneWorker(t *testing.T) {
	var pids pidSet
	use(t, lanes2, &pids)
	f := laneProbe
	laneRec.Reset()
	for i := range 40 {
		f.Go(i)
	}
	got, err := f.Wait()
	if err != nil {
		t.Fatal(err)
	}
	spans := laneRec.Trace("lanes").Spans
	pidOfLane := map[int]int{}
	for _, s := range spans {
		pid := got[s.Index]
		pids.add(pid)
		if s.Lane < 0 || s.Lane >= 2 {
			t.Fatalf("call %d ran on lane %d, outside the 2 workers", s.Index, s.Lane)
		}
		if p, ok := pidOfLane[s.Lane]; ok && p != pid {
			t.Fatalf("lane %d ran calls on workers %d and %d", s.Lane, p, pid)
		}
		pidOfLane[s.Lane] = pid
	}
	if len(spans) != 40 {
		t.Fatalf("recorded %d calls, want 40", len(spans))
	}
	if st := f.Stats(); st.MaxParallel > 2 {
		t.Fatalf("Stats().MaxParallel = %d, more than the 2 workers", st.MaxParallel)
	}
}

var (
	lanes2    = process.New(2, process.Pipeline(1), process.Stderr(testLog))
	laneRec   deco.Recorder
	laneProbe = deco.ConcurrentValue(func(int) int { return os.Getpid() },
		deco.Name("test.laneProbe"), deco.On(lanes2), deco.Limit(lanes2.Workers()), deco.Record(&laneRec))
)

func TestUnnamedFunctionsAreRefused(t *testing.T) {
	defer func() {
		r := recover()
		if r == nil || !strings.Contains(fmt.Sprint(r), "only a named function") {
			t.Fatalf("decorating an unnamed function with On: panic %v, want one saying only named functions run on executors", r)
		}
	}()
	//decocheck:ignore the test checks the run-time refusal of this very mistake
	deco.Concurrent(func(int) {}, deco.On(pool2))
}

func TestFunctionsDecoratedInsideMainAreNotFoundInWorkers(t *testing.T) {
	var pids pidSet
	use(t, pool2, &pids)
	// Decorated here, in the test process only: workers do not run tests.
	name := fmt.Sprintf("test.decoratedInATest.%d", decoratedInTests.Add(1))
	//decocheck:ignore the test checks what the workers say of this very mistake
	local := deco.ConcurrentValue(func(i int) int { return i }, deco.Name(name), deco.On(pool2))
	local.Go(1)
	_, err := local.Wait()
	for _, want := range []string{fmt.Sprintf("no function is named %q", name), "test.pidOf", "package level"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("err = %v, want it to contain %q", err, want)
		}
	}
}

// decoratedInTests numbers the functions decorated inside tests, whose
// names must differ when a test runs more than once.
var decoratedInTests atomic.Int64

type secret struct{ X int }

var (
	echoAny = deco.ConcurrentValue(func(v any) any { return v },
		deco.Name("test.echoAny"), deco.On(pool2), deco.Limit(2))
	makeSecret = deco.ConcurrentValue(func(x int) any { return secret{x} },
		deco.Name("test.makeSecret"), deco.On(pool2), deco.Limit(2))
)

func TestUnencodableArgumentsAndResultsFailTheirCall(t *testing.T) {
	var pids pidSet
	use(t, pool2, &pids)
	echoAny.Go(secret{1}) // a type gob does not know inside an interface
	echoAny.Go(7)
	got, err := echoAny.Wait()
	if err == nil || !strings.Contains(err.Error(), "call #0") || !strings.Contains(err.Error(), "cannot encode argument of type process_test.secret") {
		t.Fatalf("err = %v, want call #0 to fail naming process_test.secret", err)
	}
	if got[1] != 7 {
		t.Fatalf("the other call returned %v, want 7", got[1])
	}
	makeSecret.Go(1)
	_, err = makeSecret.Wait()
	if err == nil || !strings.Contains(err.Error(), "cannot encode result of type process_test.secret") {
		t.Fatalf("err = %v, want the result's type named", err)
	}
}

// crashExec's workers are killed by their tasks.
var (
	crashExec = process.New(2, process.Stderr(testLog))
	crashy    = deco.ConcurrentValue(crash, deco.Name("test.crashy"), deco.On(crashExec), deco.Limit(2))
)

// crash returns its worker's PID, unless asked to kill it.
func crash(how string) int {
	switch how {
	case "panic":
		// A panic in a goroutine the task started escapes deco.
		go func() { panic("boom in a goroutine") }()
		select {}
	case "exit":
		os.Exit(3)
	case "fatal":
		m := map[int]int{}
		for range 2 {
			go func() {
				for i := 0; ; i++ {
					m[i%64] = i
				}
			}()
		}
		select {}
	case "signal":
		kill(os.Getpid())
		select {}
	}
	return os.Getpid()
}

func TestACrashFailsItsCallOnly(t *testing.T) {
	for _, tc := range []struct{ how, status, cause string }{
		{"panic", "exit status 2", "panic: boom in a goroutine"},
		{"exit", "exit status 3", ""},
		{"fatal", "exit status 2", "fatal error: concurrent map writes"},
		{"signal", "signal: killed", ""},
	} {
		t.Run(tc.how, func(t *testing.T) {
			var pids pidSet
			use(t, crashExec, &pids)
			before := crashExec.Stats()
			for i := range 8 {
				how := "ok"
				if i == 3 {
					how = tc.how
				}
				crashy.Go(how)
			}
			got, err := crashy.Wait()
			var we *process.WorkerError
			if !errors.As(err, &we) {
				t.Fatalf("err = %v, want a *process.WorkerError", err)
			}
			if we.Func != "test.crashy" || we.Call != 3 || we.Status != tc.status || !strings.Contains(we.Cause, tc.cause) {
				t.Fatalf("WorkerError = %+v, want test.crashy call #3, status %q, cause %q", we, tc.status, tc.cause)
			}
			msg := err.Error()
			for _, want := range []string{"test.crashy call #3", tc.status, fmt.Sprint(we.PID)} {
				if !strings.Contains(msg, want) {
					t.Fatalf("message %q does not contain %q", msg, want)
				}
			}
			if alive(we.PID) {
				t.Fatalf("the dead worker %d still runs", we.PID)
			}
			for i, pid := range got {
				pids.add(pid)
				if i != 3 && (pid == 0 || pid == os.Getpid()) {
					t.Fatalf("call %d returned %d: the other calls must finish normally", i, pid)
				}
			}
			after := crashExec.Stats()
			if after.Crashes != before.Crashes+1 {
				t.Fatalf("Stats().Crashes went from %d to %d, want one more", before.Crashes, after.Crashes)
			}
			if after.Started < before.Started+1 {
				t.Fatalf("no replacement worker was started (%d started before, %d after)", before.Started, after.Started)
			}
		})
	}
}

var (
	retryExec = process.New(1, process.Retries(2), process.Stderr(testLog))
	// crashOnce exits its worker unless the file it is given exists, and
	// creates it: its second attempt succeeds.
	crashOnce = deco.ConcurrentValue(func(marker string) int {
		if _, err := os.Stat(marker); err != nil {
			os.WriteFile(marker, nil, 0o600)
			os.Exit(3)
		}
		return os.Getpid()
	}, deco.Name("test.crashOnce"), deco.On(retryExec), deco.Limit(1))
	crashAlways = deco.ConcurrentValue(crash, deco.Name("test.crashAlways"), deco.On(retryExec), deco.Limit(1))
)

func TestRetriesRunACrashedCallAgain(t *testing.T) {
	var pids pidSet
	use(t, retryExec, &pids)
	before := retryExec.Stats()
	got, err := crashOnce.Go(filepath.Join(t.TempDir(), "marker")).Wait()
	crashOnce.Wait()
	if err != nil || got == 0 {
		t.Fatalf("the retried call returned %d, %v; want its second attempt's PID", got, err)
	}
	pids.add(got)
	after := retryExec.Stats()
	if after.Retries != before.Retries+1 || after.Crashes != before.Crashes+1 {
		t.Fatalf("Retries %d→%d, Crashes %d→%d; want one more of each", before.Retries, after.Retries, before.Crashes, after.Crashes)
	}

	crashAlways.Go("exit")
	_, err = crashAlways.Wait()
	var we *process.WorkerError
	if !errors.As(err, &we) || we.Attempts != 3 || !strings.Contains(err.Error(), "3 attempts") {
		t.Fatalf("err = %v, want a WorkerError after 3 attempts (Retries(2))", err)
	}
}

var (
	timeoutExec = process.New(1, process.Timeout(500*time.Millisecond), process.Stderr(testLog))
	hangOrPID   = deco.ConcurrentValue(func(hang bool) int {
		if hang {
			select {}
		}
		return os.Getpid()
	}, deco.Name("test.hangOrPID"), deco.On(timeoutExec), deco.Limit(1))
)

func TestTimeoutKillsAndReplacesTheWorker(t *testing.T) {
	var pids pidSet
	use(t, timeoutExec, &pids)
	if err := timeoutExec.Start(); err != nil {
		t.Fatal(err)
	}
	before := timeoutExec.Stats()
	hangOrPID.Go(true)
	hangOrPID.Go(false)
	got, err := hangOrPID.Wait()
	var we *process.WorkerError
	if !errors.As(err, &we) || !we.TimedOut || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want a timed-out WorkerError matching context.DeadlineExceeded", err)
	}
	// The worker reports its own timeout and exits (status 87); a worker
	// that cannot is killed by the parent.
	if we.Call != 0 || (we.Status != "exit status 87" && we.Status != "signal: killed") || !strings.Contains(err.Error(), "500ms timeout") {
		t.Fatalf("WorkerError = %+v (%v), want call #0 killed after 500ms", we, err)
	}
	if alive(we.PID) {
		t.Fatalf("the timed-out worker %d still runs", we.PID)
	}
	if got[1] == 0 || got[1] == we.PID {
		t.Fatalf("the next call ran in %d, want the replacement of %d", got[1], we.PID)
	}
	pids.add(got[1])
	after := timeoutExec.Stats()
	if after.Timeouts != before.Timeouts+1 || after.Started != before.Started+1 {
		t.Fatalf("Timeouts %d→%d, Started %d→%d: want one more of each", before.Timeouts, after.Timeouts, before.Started, after.Started)
	}
}

var (
	// waitForCancel creates the file it is given, then waits for its
	// context to be cancelled, and returns the context's error.
	waitForCancel = deco.ConcurrentCtxValue(func(ctx context.Context, marker string) string {
		os.WriteFile(marker, nil, 0o600)
		<-ctx.Done()
		return ctx.Err().Error()
	}, deco.Name("test.waitForCancel"), deco.On(pool2), deco.Limit(2))
)

// waitForFile waits until the file exists: the worker has started the
// call.
func waitForFile(t *testing.T, path string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := os.Stat(path); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the worker never started the call (no %s)", path)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestCancellingTheCallersContextReachesTheTask(t *testing.T) {
	var pids pidSet
	use(t, pool2, &pids)
	marker := filepath.Join(t.TempDir(), "started")
	ctx, cancel := context.WithCancel(context.Background())
	fut := waitForCancel.GoContext(ctx, marker)
	waitForFile(t, marker)
	cancel()
	got, err := fut.Wait()
	waitForCancel.Wait()
	if err != nil || got != context.Canceled.Error() {
		t.Fatalf("the task returned %q, %v; want it to see %q", got, err, context.Canceled)
	}
}

var (
	closeExec = process.New(1, process.Stderr(testLog))
	hangUntil = deco.ConcurrentValue(func(marker string) int {
		os.WriteFile(marker, nil, 0o600)
		select {}
	}, deco.Name("test.hangUntil"), deco.On(closeExec), deco.Limit(1))
)

func TestCloseKillsARunningCall(t *testing.T) {
	var pids pidSet
	use(t, closeExec, &pids)
	marker := filepath.Join(t.TempDir(), "started")
	fut := hangUntil.Go(marker)
	waitForFile(t, marker)
	running := closeExec.PIDs()[0]
	pids.add(running)
	closeExec.Close()
	if alive(running) {
		t.Fatalf("worker %d runs after Close", running)
	}
	_, err := fut.Wait()
	hangUntil.Wait()
	var we *process.WorkerError
	if !errors.As(err, &we) || !we.Closed || !errors.Is(err, process.ErrClosed) {
		t.Fatalf("err = %v, want a WorkerError matching ErrClosed", err)
	}
}

var (
	idleExec = process.New(1, process.IdleTimeout(20*time.Millisecond), process.Stderr(testLog))
	idlePID  = deco.ConcurrentValue(func(int) int { return os.Getpid() },
		deco.Name("test.idlePID"), deco.On(idleExec), deco.Limit(1))
)

func TestIdleWorkersExit(t *testing.T) {
	var pids pidSet
	use(t, idleExec, &pids)
	first, err := idlePID.Go(0).Wait()
	idlePID.Wait()
	if err != nil {
		t.Fatal(err)
	}
	pids.add(first)
	waitGone(t, []int{first})
	deadline := time.Now().Add(20 * time.Second)
	for idleExec.Stats().Running != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the idle worker's exit was never noticed")
		}
		time.Sleep(time.Millisecond)
	}
	second, err := idlePID.Go(1).Wait()
	idlePID.Wait()
	if err != nil || second == first || second == 0 {
		t.Fatalf("the call after the idle exit ran in %d (%v), want a new worker", second, err)
	}
	pids.add(second)
}
