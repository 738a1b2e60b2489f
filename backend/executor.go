package backend

import (
	"context"
	"fmt"

	"github.com/deco-go/deco/internal/registry"
)

// An Executor runs calls of named functions outside this process: in
// worker processes (package github.com/deco-go/deco/process), or on other
// machines for a cluster backend. The same decorated function runs on any
// executor, chosen by [github.com/deco-go/deco.On] or by the
// DECO_EXECUTOR environment variable, without a change to the code that
// calls it or waits for it.
//
// The boundary is bytes. Execute receives the function's name and its
// argument, encoded by deco, and must return exactly what [Invoke]
// returns for them on the other side: the encoded outcome of the call —
// its result, its error or its panic, and the writes it made into
// deco.Maps reachable from its argument. Execute's own error is for what
// went wrong around the call (a worker that died, a timeout, a closed
// executor): deco reports it as the call's error, unchanged, except that
// a *deco.PanicError is re-raised as a panic. Execute is called from the
// function's pool, at most its limit at a time, and must honour ctx: when
// ctx is done the call should end with ctx's error.
//
// In-process calls never touch this path: a function without an executor
// pays nothing for it.
type Executor interface {
	Execute(ctx context.Context, name string, arg []byte) ([]byte, error)
}

// Sized is implemented by an executor that runs a fixed number of calls at
// once, such as one per worker process. A function decorated with
// deco.On(e) and without deco.Limit gets e.Workers() as its limit, when it
// is positive, so that each lane of the function's pool is one worker.
type Sized interface {
	Workers() int
}

// ExecutorFactory makes an executor from the text after "scheme:" in
// DECO_EXECUTOR, such as "4" in "processes:4". Its error is reported,
// with the variable's value, as the error of every call of every function
// that DECO_EXECUTOR moves: a bad value never panics.
type ExecutorFactory func(arg string) (Executor, error)

// RegisterExecutor makes scheme usable in DECO_EXECUTOR=scheme:arg. Backend
// packages call it from init; the factory runs at most once per value of
// DECO_EXECUTOR, when the first function needs it. Registering a scheme
// twice panics: it is a bug in the program.
func RegisterExecutor(scheme string, factory ExecutorFactory) {
	if factory == nil {
		panic(fmt.Sprintf("deco: RegisterExecutor(%q, nil): the factory must not be nil", scheme))
	}
	err := registry.RegisterScheme(scheme, func(arg string) (registry.Executor, error) {
		e, err := factory(arg)
		if err != nil || e == nil {
			return nil, err
		}
		return e, nil
	})
	if err != nil {
		panic(err.Error())
	}
}
