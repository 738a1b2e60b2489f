package process_test

import (
	"errors"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/deco-go/deco"
	"github.com/deco-go/deco/process"
)

// napExec's worker runs calls that sleep, long or short, or exit.
var (
	napExec = process.New(1, process.Stderr(testLog))
	napCall = deco.ConcurrentValue(func(d time.Duration) int {
		if d < 0 {
			os.Exit(3)
		}
		time.Sleep(d)
		return os.Getpid()
	}, deco.Name("test.nap"), deco.On(napExec), deco.Limit(1))
)

// napOne runs one call of nap, failing the test if it takes more than 10 s.
func napOne(t *testing.T, d time.Duration) (int, error) {
	t.Helper()
	type outcome struct {
		pid int
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		napCall.Go(d)
		pids, err := napCall.Wait()
		o := outcome{err: err}
		if len(pids) == 1 {
			o.pid = pids[0]
		}
		done <- o
	}()
	select {
	case o := <-done:
		return o.pid, o.err
	case <-time.After(10 * time.Second):
		t.Fatalf("a call of %v has not returned in 10 s", d)
		return 0, nil
	}
}

func TestTheResultAfterALongCallIsAwaitedThroughThePoller(t *testing.T) {
	// A threshold far above what a call of 0 takes on a loaded machine
	// under the race detector, and below the long calls.
	process.SetLongCall(t, 50*time.Millisecond)
	long := 60 * time.Millisecond
	if err := napExec.Start(); err != nil {
		t.Fatal(err)
	}
	defer napExec.Close()
	steps := []struct {
		d    time.Duration
		long bool // how the next result is awaited
	}{
		{0, false},
		{long, true},
		{long, true}, // awaited through the poller
		{0, false},   // awaited through the poller too
		{0, false},
		{long, true},
	}
	for i, s := range steps {
		pid, err := napOne(t, s.d)
		if err != nil || pid == 0 {
			t.Fatalf("step %d (%v): pid %d, err %v", i, s.d, pid, err)
		}
		if got := process.LongWaits(napExec); !slices.Equal(got, []bool{s.long}) {
			t.Fatalf("step %d, after a call of %v: long waits %v, want [%v]", i, s.d, got, s.long)
		}
	}
	// A worker that dies while its result is awaited through the poller
	// fails the call with a *WorkerError; the next call runs on a new one.
	_, err := napOne(t, -1)
	var we *process.WorkerError
	if !errors.As(err, &we) {
		t.Fatalf("err = %v, want a *process.WorkerError", err)
	}
	if pid, err := napOne(t, 0); err != nil || pid == 0 {
		t.Fatalf("after the crash: pid %d, err %v", pid, err)
	}
}
