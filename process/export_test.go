package process

import "time"

// Hooks for the tests of package process_test.

// FromEnv is the factory DECO_EXECUTOR=processes:arg calls.
var FromEnv = fromEnv

// SetExecutable makes e start path as its workers instead of the program.
func SetExecutable(e *Executor, path string) { e.exe, e.exeErr = path, nil }

// SentAhead reports the calls sent to e's workers behind the one each
// runs: the calls waiting in their windows (Pipeline).
func SentAhead(e *Executor) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for i := range e.slots {
		if c := e.slots[i].child; c != nil {
			c.mu.Lock()
			n += max(len(c.window)-1, 0)
			c.mu.Unlock()
		}
	}
	return n
}

// EarlyCancels reports, in a worker, the cancels it holds for calls it
// has not started.
func EarlyCancels() int {
	c := worker.Load()
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.early)
}

// LongWaits reports, for each of e's workers alive, whether the parent
// waits for its next result through the runtime's poller, after a long
// call (see resultPipe).
func LongWaits(e *Executor) []bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []bool
	for i := range e.slots {
		if c := e.slots[i].child; c != nil {
			out = append(out, c.long.Load())
		}
	}
	return out
}

// SetLongCall sets how long a call must run for the next result of its
// worker to be awaited through the poller, until the test ends.
func SetLongCall(t interface{ Cleanup(func()) }, d time.Duration) {
	old := longCall
	longCall = d
	t.Cleanup(func() { longCall = old })
}

// SentAheadTo reports, by worker number, the calls sent to each of e's
// workers behind the one it runs (Pipeline).
func SentAheadTo(e *Executor) []int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := make([]int, len(e.slots))
	for i := range e.slots {
		if c := e.slots[i].child; c != nil {
			c.mu.Lock()
			n[i] = max(len(c.window)-1, 0)
			c.mu.Unlock()
		}
	}
	return n
}
