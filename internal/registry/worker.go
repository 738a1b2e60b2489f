package registry

import (
	"os"
	"sync/atomic"
)

// EnvWorker is the environment variable a backend sets in the worker
// processes it starts (see backend.EnvWorker).
const EnvWorker = "DECO_WORKER"

// worker is the one worker signal of the process: set when the process
// starts with EnvWorker in its environment — read here, while packages
// are initialised, before any package that imports deco decorates a
// function — or later by MarkWorker.
var worker atomic.Bool

func init() { worker.Store(os.Getenv(EnvWorker) != "") }

// MarkWorker sets the worker signal.
func MarkWorker() { worker.Store(true) }

// InWorker reports the worker signal.
func InWorker() bool { return worker.Load() }

// SetWorker sets or clears the signal, for tests; it returns the old value.
func SetWorker(on bool) bool { return worker.Swap(on) }
