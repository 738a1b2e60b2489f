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
// found by name ([deco.Name]) in a registry that package initialisation
// fills, so they must be decorated at package level.
//
// Then either give functions an [Executor] with [deco.On]:
//
//	var cpu = process.New(4)
//	var resize = deco.ConcurrentValue(resizeImage,
//		deco.Name("resize"), deco.On(cpu), deco.Limit(cpu.Workers()))
//
// or set DECO_EXECUTOR=processes:4 in the environment to run every named
// function on 4 workers (see [Scheme]); call sites do not change. Using an
// unnamed function with deco.On is refused when it is decorated.
//
// # What crosses
//
// Arguments and results cross as gob: exported fields only, and an
// argument or result that cannot be encoded fails its call at call time
// with an error naming the type — never a hang. A task's error comes back
// as its message; a panic comes back as a *[deco.PanicError] with the
// task's stack, re-raised by the waiting goroutine as deco does.
//
// Writes into a *[deco.Map] reachable from the argument are recorded in
// the worker and replayed into the caller's Map when the call's outcome
// arrives (see [deco.Map] for the rules). Other changes a task makes in
// place to what its argument shares with the caller (a slice element, a
// field behind a pointer, a value held by a Map) cannot be carried back,
// and fail the call with [deco.ErrLostMutation] naming the first one.
//
// Large read-only inputs go through a [Static], sent to each worker once,
// not with every call.
//
// # Workers, lanes and output
//
// Worker n runs the calls of lane n of the function's pool, one at a time,
// so that with deco.Limit(e.Workers()) stats, progress and timelines show
// each worker as a lane. The protocol runs over two extra pipes (file
// descriptors 3 and 4 of the worker), never over standard output or
// error, which belong to the program: a worker's standard output goes to
// the parent's, as it is; its standard error too, each line prefixed with
// "[deco worker N] " ([Stderr], [StderrPrefix]).
//
// # No orphans
//
// Workers live until [Executor.Close] (or [IdleTimeout]), waiting between
// batches. After Close, none remains. When the program exits, however it
// does, its workers exit too: each reads the end of its pipe, and on
// Linux the kernel kills it with SIGKILL when its parent dies, SIGKILL of
// the parent included.
package process
