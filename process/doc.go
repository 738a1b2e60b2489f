// Package process runs deco's decorated functions in worker processes: the
// same functions, the same call sites and waits, in other processes.
//
// In Go, goroutines already use every core, so processes are not for
// speed: they are for isolation. A panic that escapes a task, os.Exit, a
// "fatal error: concurrent map writes", a crash in cgo code or a memory
// blow-up kills one worker, fails the call it was running with a
// *[WorkerError], and leaves the program and the other calls running; a
// replacement worker starts. They are also the first step to running the
// same functions on other machines.
//
// # Setting up
//
// Workers are the program's own binary, started again with a marker in
// their environment. One call at the top of main turns such a process
// into a worker, and does nothing in the program itself:
//
//	func main() {
//		process.Main()
//		...
//	}
//
// Tests whose functions run on workers call it in TestMain, before m.Run.
// A worker never runs the rest of main: functions that run on workers are
// found by name ([github.com/deco-go/deco.Name]) in a registry that package initialisation
// fills, so they must be decorated at package level.
//
// Then either give functions an [Executor] with [github.com/deco-go/deco.On]:
//
//	var cpu = process.New(4)
//	var resize = deco.ConcurrentValue(resizeImage, deco.Name("resize"), deco.On(cpu))
//
// (the function's limit defaults to the executor's 4 workers, one call in
// flight per worker), or set DECO_EXECUTOR=processes:4 in the environment
// to run every named function on 4 workers (see [Scheme]); call sites do
// not change. Using an unnamed function with deco.On is refused when it is
// decorated. A worker checks that it has the same named functions as its
// parent, with the same argument and result types; one that does not
// (another build of the program) fails the calls with a *[StartError]
// matching [ErrMismatch].
//
// # What crosses
//
// Arguments and results cross as gob, and what gob would not carry as it
// is — an unexported field (gob drops it), a chan, a func or an
// unsafe.Pointer anywhere in the type — is refused when the function is
// decorated, with a message naming the field (a type with its own
// GobEncode or MarshalBinary is taken as it encodes itself). A value
// behind an interface is checked when the call starts, a cyclic value
// fails its call, and a nil pointer crosses as nil. Strings and slices of
// numbers cross as their memory: a 100 MiB []byte argument costs the
// worker 2x its size (the message and the argument; see memory_test.go).
// A task's error comes back with its text and the errors it wraps;
// context.Canceled, context.DeadlineExceeded and the errors registered
// with [github.com/deco-go/deco.RegisterError] and [github.com/deco-go/deco.RegisterErrorType] come back as
// themselves, so errors.Is and errors.As work as in the caller. A panic
// comes back as a *[github.com/deco-go/deco.PanicError] with the task's stack, re-raised by
// the waiting goroutine as deco does.
//
// Writes into a *[github.com/deco-go/deco.Map] reachable from the argument are recorded in
// the worker and replayed into the caller's Map when the call's outcome
// arrives (see [github.com/deco-go/deco.Map] for the rules). Other changes a task makes in
// place to what its argument shares with the caller (a slice element, a
// field behind a pointer, a value held by a Map) cannot be carried back,
// and fail the call with [github.com/deco-go/deco.ErrLostMutation] naming the first one.
//
// Large read-only inputs are [github.com/deco-go/deco.Static] values, the
// same on every executor. A worker process asks its parent for a value
// the first time a task there reads it, and keeps it for its life: one
// round trip and one decode per Static and worker process, not a copy
// with every call (Stats.StaticSends counts them; a replacement worker
// asks again). The parent encodes each value once, at the first request.
// A value whose encoding is over [MaxMessage], or a Static the parent
// never set, fails the call that reads it, naming the Static.
//
// # Workers, lanes and output
//
// Each worker runs one call at a time. By default the executor takes two
// calls per worker at once, which is the default limit of the functions on
// it ([Executor.Workers]): it sends a call ahead to a busy worker, which
// starts it as soon as it has sent the result of the one it runs, and
// takes it back for a worker that becomes idle first ([Pipeline]). The
// executor tells deco which worker process ran each call and when, on the
// worker's clock ([github.com/deco-go/deco/backend.Ran]), so that stats
// (Stats.Workers), progress and timelines show each worker process, named
// host:pid, as one lane, and draw a call for the time it ran there. The
// protocol runs over three extra pipes (and one more per call sent ahead)
// and a word of shared memory (file descriptors 3 to 6 of the worker, and
// 7 to 9 for the calls sent ahead, closed in the programs its tasks start;
// see protocol.go), never over standard output or error, which
// belong to the program: a worker's standard output goes to the parent's,
// as it is; its standard error too, each line prefixed with
// "[deco worker N] " ([Stderr], [StderrPrefix]). A message is at most
// [MaxMessage] bytes; a worker that breaks the protocol is killed, and its
// call fails saying so.
//
// # Faults
//
// A worker that dies fails the call it had started, and only that one: a
// call handed to a worker that was already dead, or sent ahead to it and
// not started, goes to another worker.
// [Timeout] fails exactly the call that ran past it, as its worker
// measures it.
//
// # Systems
//
// Workers run on Linux and the other Unix systems, such as macOS. Only
// Linux has the parent-death signal (see below); elsewhere a worker exits
// when it reads the end of its pipes. On other systems, such as Windows,
// the package builds and every call fails with a *[StartError] saying
// that worker processes are not supported there.
//
// # No orphans
//
// Workers live until [Executor.Close] (or [IdleTimeout]), waiting between
// batches. After Close, none remains. When the program exits, however it
// does, its workers exit too: each reads the end of its pipe, and on
// Linux the kernel kills it with SIGKILL when its parent dies, SIGKILL of
// the parent included, even a worker that is stopped or stuck.
package process
