// Package backend is for authors of executors: the packages that run the
// calls of deco's decorated functions outside the calling process, such
// as github.com/deco-go/deco/process (worker processes) or a cluster
// backend. Users of decorated functions never need it; they pass an
// executor to [github.com/deco-go/deco.On] or name one in DECO_EXECUTOR.
//
// The contract, in order of a call's life:
//
//   - The caller's side of deco encodes the argument and calls
//     [Executor.Execute] with the function's name, from a slot of the
//     function's pool; [CallOf] tells the executor which call and lane it
//     runs.
//   - The executor carries the name and the bytes to a process of the
//     same program (same binary, or a build with the same functions:
//     compare [Fingerprint]s) and calls [Invoke] there, which runs the
//     function and encodes its whole outcome.
//   - The executor hands Invoke's bytes back unchanged as Execute's
//     result; deco decodes them on the caller's side. An executor whose
//     calls run on workers it can name (the processes of a cluster) says
//     first, with [Ran], which worker ran the call and when: deco's Stats,
//     progress reports and timelines then show the workers, not the
//     slots of the function's pool.
//
// Large read-only inputs (deco.Static) are not in the argument: an
// executor carries each value once per worker its own way. On the
// calling side [Statics] and [LookupStatic] give the program's Statics,
// and [Static.Encoded] a value's bytes and their hash; in the worker, the
// executor installs a [StaticSource] with [ServeStatics], which
// deco.Static.Get asks for the hash and, once per hash, the bytes.
//
// A process that serves calls calls [MarkWorker] (or is started with
// [EnvWorker] set), so that its own named functions never move to
// executors of their own. An executor that knows how many calls it runs
// at once implements [Sized], which sets the default limit of the
// functions that run on it. A package whose executor can be chosen by
// DECO_EXECUTOR=scheme:arg registers a factory with [RegisterExecutor]
// from init.
//
// This package imports only the standard library and deco's internal
// state; it does not import the root package.
package backend
