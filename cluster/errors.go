package cluster

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrClosed is the error of a call that was waiting for its result when
// [Executor.Close] ran. The call may still run on a worker.
var ErrClosed = errors.New("cluster: the executor was closed")

// WorkerError is the error of a call that did not end by returning on a
// worker: it ran past [Timeout]; or the workers it was given died, one
// after the other, [Retries]+1 times (a call that crashes or kills its
// worker, or a worker set that keeps dying); or the task ended its
// goroutine with runtime.Goexit. A task's own error or panic is not a
// WorkerError: it comes back as it does in-process.
type WorkerError struct {
	Func       string // the function's name
	Call       int    // the call's index in its batch or scope, as deco.CallOf reported it
	Worker     string // the worker (host:pid) that reported the outcome
	Deliveries int    // calls delivered without an answer, when the workers died
	TimedOut   bool
	Timeout    time.Duration
	Goexit     bool
}

func (e *WorkerError) Error() string {
	switch {
	case e.TimedOut:
		return fmt.Sprintf("cluster: %s call #%d ran past its %v timeout on worker %s", e.Func, e.Call, e.Timeout, e.Worker)
	case e.Goexit:
		return fmt.Sprintf("cluster: %s call #%d ended its goroutine with runtime.Goexit on worker %s", e.Func, e.Call, e.Worker)
	}
	return fmt.Sprintf("cluster: %s call #%d killed its workers %d times (each died or lost its connection while running it): it is not given to another one", e.Func, e.Call, e.Deliveries)
}

// Unwrap returns context.DeadlineExceeded for a call that timed out.
func (e *WorkerError) Unwrap() error {
	if e.TimedOut {
		return context.DeadlineExceeded
	}
	return nil
}
