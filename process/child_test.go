package process_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/deco-go/deco"
	"github.com/deco-go/deco/process"
)

// Faults are blamed on the right call: the one that ran past its timeout,
// never one that waited; a call handed to a worker that was already dead
// goes to another; a worker that breaks the protocol fails its call
// saying so; a worker's pipes never leak into processes its tasks start.

// deadlineWithin fails t if wait has not returned within d: a hang.
func deadlineWithin(t *testing.T, d time.Duration, what string, wait func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		wait()
	}()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%s: still waiting after %v", what, d)
	}
}

// attributionTimeout leaves room for the scheduling stalls of a loaded
// 2-core machine under the race detector before a task's first line (its
// start marker); calls are spread around it.
const attributionTimeout = 300 * time.Millisecond

type sleepCall struct {
	Index  int
	Sleep  time.Duration
	Starts string // a file each call appends its index to when it starts
}

var (
	// Limit(4) on 2 workers with Pipeline(2): calls are sent ahead.
	timeoutExec2 = process.New(2, process.Timeout(attributionTimeout), process.Pipeline(2), process.Stderr(testLog))
	// sleeper records its start, sleeps and returns how long it ran, as
	// it measured it.
	sleeper = deco.ConcurrentValue(func(c sleepCall) time.Duration {
		f, err := os.OpenFile(c.Starts, os.O_APPEND|os.O_WRONLY, 0)
		if err == nil {
			f.WriteString(strconv.Itoa(c.Index) + "\n")
			f.Close()
		}
		start := time.Now()
		time.Sleep(c.Sleep)
		return time.Since(start)
	}, deco.Name("test.sleeper"), deco.On(timeoutExec2), deco.Limit(4))
)

// Over 2,000 calls, some around a 300 ms timeout, a call reported OK ran
// within it, and a call blamed for the timeout is that call, and it had
// started. (On 63430cb, with 5 ms, 280–476 calls that ran past it were
// reported OK and 78–94 blamed without having started.)
func TestATimeoutFailsExactlyTheCallThatRanPastIt(t *testing.T) {
	var pids pidSet
	use(t, timeoutExec2, &pids)
	starts := filepath.Join(t.TempDir(), "starts")
	if err := os.WriteFile(starts, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	const calls = 2000
	aheadBefore := timeoutExec2.Stats().Ahead
	r := rand.New(rand.NewPCG(1, 2))
	futs := make([]*deco.Future[time.Duration], calls)
	for i := range calls {
		d := time.Duration(0)
		if i%100 == 0 { // one in 100 near or past the timeout
			d = attributionTimeout/2 + time.Duration(r.IntN(int(attributionTimeout)))
		}
		futs[i] = sleeper.Go(sleepCall{Index: i, Sleep: d, Starts: starts})
	}
	deadlineWithin(t, 5*time.Minute, "2,000 calls", func() { sleeper.Wait() })
	b, _ := os.ReadFile(starts)
	started := map[int]bool{}
	for _, l := range strings.Fields(string(b)) {
		n, _ := strconv.Atoi(l)
		started[n] = true
	}
	timedOut := 0
	for i, f := range futs {
		ran, err := f.Wait()
		var we *process.WorkerError
		switch {
		case err == nil:
			if ran > attributionTimeout {
				t.Errorf("call %d ran %v, past its %v timeout, and was reported OK", i, ran, attributionTimeout)
			}
		case errors.As(err, &we) && we.TimedOut:
			timedOut++
			if we.Call != i {
				t.Errorf("call %d failed with the timeout of call %d", i, we.Call)
			}
			if !started[i] {
				t.Errorf("call %d was blamed for the timeout, but never started", i)
			}
		default:
			t.Errorf("call %d: %v", i, err)
		}
	}
	if timedOut == 0 {
		t.Errorf("no call timed out: the test lost its point")
	}
	if timeoutExec2.Stats().Ahead == aheadBefore {
		t.Errorf("no call was sent ahead (Pipeline(2)): the test lost half its point")
	}
}

var (
	idleKills = process.New(2, process.Stderr(testLog))
	pidOnIdle = deco.ConcurrentValue(func(int) int { return os.Getpid() },
		deco.Name("test.pidOnIdle"), deco.On(idleKills), deco.Limit(2))
)

// A worker killed between calls never fails the next call handed to it:
// that call had not started, and goes to another worker.
func TestAWorkerKilledBetweenCallsFailsNoCall(t *testing.T) {
	var pids pidSet
	use(t, idleKills, &pids)
	for round := range 20 {
		if err := idleKills.Start(); err != nil {
			t.Fatal(err)
		}
		victim := idleKills.PIDs()[round%2]
		pids.add(victim)
		kill(victim)
		for i := range 4 {
			pidOnIdle.Go(i)
		}
		var got []int
		var err error
		deadlineWithin(t, time.Minute, "the calls after a kill", func() { got, err = pidOnIdle.Wait() })
		if err != nil {
			t.Fatalf("round %d: a call failed after worker %d was killed between calls: %v", round, victim, err)
		}
		for _, p := range got {
			pids.add(p)
		}
	}
}

var (
	corruptExec = process.New(1, process.Stderr(testLog))
	// corrupt writes a frame length of 1 GiB into the results pipe, as a
	// broken worker might, and then waits for ever.
	corrupt = deco.ConcurrentValue(func(int) int {
		os.NewFile(4, "results").Write([]byte{0x40, 0, 0, 0})
		select {}
	}, deco.Name("test.corrupt"), deco.On(corruptExec), deco.Limit(1))
)

func TestACorruptFrameFailsTheCallAsAProtocolViolation(t *testing.T) {
	var pids pidSet
	use(t, corruptExec, &pids)
	corrupt.Go(0)
	var err error
	deadlineWithin(t, 20*time.Second, "a corrupt frame", func() { _, err = corrupt.Wait() })
	var we *process.WorkerError
	if !errors.As(err, &we) || !strings.Contains(we.Protocol, "protocol violation") || !strings.Contains(err.Error(), "over the limit") {
		t.Fatalf("err = %v, want a WorkerError naming the protocol violation", err)
	}
	if alive(we.PID) {
		t.Fatalf("the worker %d that broke the protocol still runs", we.PID)
	}
}

var (
	bgExec = process.New(1, process.Stderr(testLog))
	// startsSleep starts a background process that outlives the task, and
	// returns the worker's PID and the background process's.
	startsSleep = deco.ConcurrentValue(func(int) [2]int {
		cmd := exec.Command("sleep", "30")
		if err := cmd.Start(); err != nil {
			return [2]int{os.Getpid(), 0}
		}
		return [2]int{os.Getpid(), cmd.Process.Pid}
	}, deco.Name("test.startsSleep"), deco.On(bgExec), deco.Limit(1))
)

// After a worker whose task started a background process dies, the next
// call does not wait for that process: it never held the worker's pipes.
func TestAProcessATaskStartsDoesNotHoldTheWorkersPipes(t *testing.T) {
	var pids pidSet
	use(t, bgExec, &pids)
	for range 3 {
		f := startsSleep.Go(0)
		startsSleep.Wait()
		p, err := f.Wait()
		if err != nil || p[1] == 0 {
			t.Fatalf("startsSleep: %v, %v", p, err)
		}
		t.Cleanup(func() { kill(p[1]) })
		pids.add(p[0])
		kill(p[0])
		startsSleep.Go(1)
		var got [][2]int
		deadlineWithin(t, 15*time.Second, "the call after the worker died", func() { got, err = startsSleep.Wait() })
		if err != nil {
			t.Fatalf("the call after the kill: %v", err)
		}
		pids.add(got[0][0])
		kill(got[0][1])
	}
}

var (
	deadlineExec = process.New(1, process.Stderr(testLog))
	waitsForCtx  = deco.ConcurrentCtxErr(func(ctx context.Context, _ int) error {
		<-ctx.Done()
		return fmt.Errorf("gave up: %w", ctx.Err())
	}, deco.Name("test.waitsForCtx"), deco.On(deadlineExec), deco.Limit(1))
)

// The caller's deadline reaches the task as a deadline, and its error
// comes back as context.DeadlineExceeded.
func TestTheCallersDeadlineArrivesAsDeadlineExceeded(t *testing.T) {
	var pids pidSet
	use(t, deadlineExec, &pids)
	if err := deadlineExec.Start(); err != nil {
		t.Fatal(err)
	}
	// Long enough for the call to reach the worker on a loaded machine.
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	f := waitsForCtx.GoContext(ctx, 0)
	waitsForCtx.Wait()
	_, err := f.Wait()
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "gave up") {
		t.Fatalf("err = %v, want the task's error wrapping context.DeadlineExceeded", err)
	}
}
