package backend

import "github.com/deco-go/deco/internal/registry"

// EnvWorker is the environment variable a backend sets, to any non-empty
// value, in the worker processes it starts: deco then treats the process
// as a worker ([InWorker]) from the very start, while packages are still
// being initialised, and ignores DECO_EXECUTOR in it, so that a worker
// never sends its calls to workers of its own. Programs do not set it.
const EnvWorker = "DECO_WORKER"

// MarkWorker tells deco that this process is a worker of an executor, as
// [EnvWorker] does, for a backend that must remove EnvWorker from the
// environment (so that programs the tasks start are not workers). It is
// the same signal: there is one per process. Safe for concurrent use.
func MarkWorker() { registry.MarkWorker() }

// InWorker reports whether this process is a worker: it was started with
// [EnvWorker] set, or [MarkWorker] was called. Cost: an atomic load.
func InWorker() bool { return registry.InWorker() }
