package process

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrMismatch is matched, through [errors.Is], by the *[StartError] of a
// worker whose program has other named functions than its parent's (names
// and argument and result types, compared by backend.Fingerprint): another
// build of the program. Such a worker could run another function under a
// name, so it is never used.
var ErrMismatch = errors.New("process: the worker's functions differ from its parent's")

// ErrClosed is matched, through [errors.Is], by the error of a call that
// was running on a worker when [Executor.Close] stopped it.
var ErrClosed = errors.New("process: the executor was closed")

// WorkerError is the error of a call whose worker died while running it
// — a panic that escaped the task (in a goroutine the task started),
// os.Exit, a fatal runtime error such as concurrent map writes, a signal —
// or was ended: by [Timeout], by [Executor.Close], or for breaking the
// protocol (Protocol says how). The other calls are
// not affected, and a replacement worker starts (but not after Close).
// [github.com/deco-go/deco.Func.Wait] reports it inside a [github.com/deco-go/deco.CallError].
type WorkerError struct {
	Func     string        // the function's name
	Call     int           // the call's position in its batch or scope (backend.CallInfo.Index), or -1
	Worker   int           // the worker's number, 0 to n-1
	PID      int           // the worker's process ID
	Status   string        // how the worker ended, as os.ProcessState reports it: "exit status 3", "signal: killed"
	Cause    string        // the last line of its standard error that reports a panic or a fatal error, if any
	Stderr   string        // the last lines of its standard error
	Attempts int           // the calls made, retries included (see Retries)
	TimedOut bool          // killed because the call ran past Timeout
	Timeout  time.Duration // the timeout, when TimedOut
	Closed   bool          // killed by Close
	Protocol string        // the protocol violation for which it was killed, if any
}

func (e *WorkerError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "process: %s call #%d", e.Func, e.Call)
	switch {
	case e.TimedOut:
		fmt.Fprintf(&b, " ran past its %v timeout on worker %d (pid %d), which was ended", e.Timeout, e.Worker, e.PID)
	case e.Closed:
		fmt.Fprintf(&b, ": the executor was closed while worker %d (pid %d) ran the call", e.Worker, e.PID)
	case e.Protocol != "":
		fmt.Fprintf(&b, ": worker %d (pid %d) was killed for a %s", e.Worker, e.PID, e.Protocol)
	default:
		fmt.Fprintf(&b, ": worker %d (pid %d) died: %s", e.Worker, e.PID, e.Status)
		if e.Cause != "" {
			fmt.Fprintf(&b, " (%s)", e.Cause)
		}
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, "; %d attempts", e.Attempts)
	}
	return b.String()
}

// Unwrap returns [context.DeadlineExceeded] for a call that timed out and
// [ErrClosed] for one stopped by Close.
func (e *WorkerError) Unwrap() error {
	switch {
	case e.TimedOut:
		return context.DeadlineExceeded
	case e.Closed:
		return ErrClosed
	}
	return nil
}

// StartError is the error of a call when its worker could not start: the
// program's binary could not be run, or it exited before serving, which
// is what happens when main (or TestMain) does not call [Main] first. The
// executor then fails every call with it until [Executor.Close].
type StartError struct {
	Worker int    // the worker's number
	Status string // how the process ended, if it ran
	Stderr string // the last lines of its standard error
	Err    error  // the error starting it, if it did not run
}

func (e *StartError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("process: cannot start worker %d: %v", e.Worker, e.Err)
	}
	msg := fmt.Sprintf("process: worker %d exited before it served a call (%s): does main (or TestMain) call process.Main() first?", e.Worker, e.Status)
	if e.Stderr != "" {
		msg += " Its last lines of standard error:\n" + e.Stderr
	}
	return msg
}

// Unwrap returns the error that kept the worker from starting, if any.
func (e *StartError) Unwrap() error { return e.Err }
