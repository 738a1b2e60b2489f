package process

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
