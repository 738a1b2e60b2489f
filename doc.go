// Package deco is decorated concurrency for Go: mark a function concurrent,
// call it in a loop as if it were serial, and get all the cores, every
// result, every error and every panic back, race-free.
//
// It is the Go heir of Python's deco (@concurrent and @synchronized). The
// loop from Python deco's introduction
//
//	for _, index := range []string{"1", "2", "3"} {
//		slow(index)
//	}
//
// becomes, with slow untouched,
//
//	slow := deco.Concurrent(slow)
//	for _, index := range []string{"1", "2", "3"} {
//		slow.Go(index)
//	}
//	slow.Wait()
//
// # Rules
//
// Index-based results. deco's rule is that "all mutations may only be index
// based". Here it is safe by construction: [Assign] and [AssignTo] are
// results[key] = f(x), applied when the batch is waited, in the waiting
// goroutine, so the map or slice is a plain one that no task touches; a
// [Map] takes direct writes from tasks (times[offset] = elapsed) behind a
// lock. When two calls assign the same key, the later call in call order
// wins, whatever order they finished in.
//
// Ordering. Calls start in call order — each pool has one FIFO queue, and
// no call starts more than the limit places away from its turn — but run
// and finish in any order. [Func.Wait] and [Func.InOrder] report them in
// call order; [Func.Completed] and [Func.Stream] in completion order.
//
// Limits. A function runs at most [Limit] calls at once, by default
// runtime.GOMAXPROCS(0), one per core. [Shared] lets functions share one
// [Pool] and its limit. Extra calls wait in an unbounded queue, so Go never
// blocks, unless [Queue] bounds it. A batch keeps a result cell per call
// until it is waited (see [Func] for the bytes); [Func.Stream] runs an
// unbounded producer in memory bounded by the limit.
//
// Errors. Every call runs and every failure is reported: Wait and
// [Synchronized] return an error joining one [CallError] per failed call,
// naming the function, the call's index and its key. [FailFast] stops
// queued calls at the first failure instead, and cancels the contexts of
// the running ones.
//
// Panics. A task's panic never crashes the process from a worker
// goroutine: by default the waiting goroutine re-panics with a *[PanicError]
// carrying the task's own stack; with [PanicAsError] the panic is returned
// as an error instead. [runtime.Goexit] in a task fails that call only.
// errgroup decided against carrying panics to Wait (it tried, in Go issue
// 53757, and reverted it), because a panic then surfaces only when Wait is
// called, which may be far later or never. deco carries them anyway: its
// promise is that the decorated loop behaves like the serial one, where a
// panic is recoverable by the caller, and its waits are not optional —
// every call belongs to a batch or scope that Wait, [Synchronized] or
// [WaitAll] ends, and the decocheck analyzer reports calls that nothing
// waits for. The panic is re-raised once the batch's other calls are done
// (or stopped, under [FailFast]), so no call is left running behind it.
//
// Memory model. Everything a goroutine does before it starts a call (Go,
// GoContext, Assign, Stream) synchronizes before the call runs; the end
// of a call synchronizes before the return of every wait that reports it:
// [Future.Wait] and [Future.Done] returning true, [Func.Wait],
// [Synchronized], [WaitAll], and each yield of [Func.Completed],
// [Func.InOrder] and [Func.Stream]. So a task may read what the caller
// wrote before Go without a lock, and the caller may read what a task
// wrote (its result, or data it owns) after the wait, as with
// sync.WaitGroup. Two calls running at once are not ordered: that is what
// [Map], [Assign] and index-based writes are for.
//
// Cancellation. A call whose context is done before it starts never runs;
// with a bounded [Queue], a caller blocked on a full pool returns when its
// context is done; running tasks of ctx-shaped functions see ctx.Done().
//
// Nesting. A task may start calls, of any function including its own, and
// wait for them any way deco offers — [Future.Wait], [Func.Wait],
// [Synchronized], [Func.Completed], [Func.InOrder], [Func.Stream],
// [WaitAll] — with its context or without: while it waits it lends its
// slot to them (join by helping, see [Pool]), so nesting never deadlocks,
// at any depth, any limit and any mix of pools, and the limit still holds.
// A call that would wait for itself panics with a message saying so.
//
// No silent loss, no leaks. Calls nobody waited for still run; [WaitAll]
// lets main flush them before it exits. Worker goroutines live while a
// batch is open and exit when it is waited: after Wait, Synchronized or
// WaitAll returns, no goroutine of deco's is left.
//
// Beyond one process. A named function ([Name]) can run on an executor
// ([github.com/deco-go/deco/backend.Executor]) — worker processes (package
// github.com/deco-go/deco/process) today, other machines through a
// cluster backend on the same interface — chosen by [On] or by the
// DECO_EXECUTOR environment variable ([EnvExecutor]), without changing
// the code that calls it. Worker processes are the
// program's own binary: call process.Main() first thing in main (and in
// TestMain), and decorate such functions at package level, where the
// workers find them by name; [Func.With] gives them per-run settings.
// Writes a task makes into a [Map] in its argument come back with its
// result; a change that cannot be carried back fails the call with
// [ErrLostMutation]. Large read-only inputs are a [Static]: set once,
// read by the tasks with [Static.Get] on any executor, sent to each
// worker once rather than with every call. In-process calls pay nothing
// for any of this.
//
// Visibility. [Func.Stats] counts calls, failures, parallelism, wall time
// against the calls' own time and queue waits, always on; [OnProgress]
// reports calls as they finish; [Record] keeps a timeline that package
// github.com/deco-go/deco/timeline draws as SVG or Chrome trace JSON, one
// lane per slot of the pool. On a cluster all three name the worker
// process ("host:pid") that ran each call: [Stats.Workers],
// [Progress.Worker], one timeline lane per worker.
package deco
