package deco

import (
	"bytes"
	"context"
	"encoding/gob"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
)

// An Executor runs calls of named functions outside this process: in worker
// processes, on other machines. The same decorated function runs on any
// executor, chosen by the [On] option or by the DECO_EXECUTOR environment
// variable, without a change to the code that calls it or waits for it.
//
// Arguments and results cross the boundary gob-encoded: Execute receives
// the function's name and its encoded argument and returns the encoded
// result, which the other side produces with [Invoke]. A call's own error
// comes back as an error; a panic as a *[PanicError]. Execute is called from
// the function's pool, at most its limit at a time, and must honour ctx.
//
// In-process calls never touch this path: a function without an executor
// pays nothing for it.
type Executor interface {
	Execute(ctx context.Context, name string, arg []byte) ([]byte, error)
}

// ExecutorFactory makes an executor from the text after "scheme:" in
// DECO_EXECUTOR, such as "4" in "processes:4".
type ExecutorFactory func(arg string) (Executor, error)

var executors = struct {
	mu    sync.Mutex
	byKey map[string]ExecutorFactory
	env   map[string]Executor // executors made from DECO_EXECUTOR, by its value
}{byKey: map[string]ExecutorFactory{}, env: map[string]Executor{}}

// RegisterExecutor makes scheme usable in DECO_EXECUTOR=scheme:arg.
// Backend packages call it from init. Registering a scheme twice panics.
func RegisterExecutor(scheme string, factory ExecutorFactory) {
	executors.mu.Lock()
	defer executors.mu.Unlock()
	if _, dup := executors.byKey[scheme]; dup {
		panic(fmt.Sprintf("deco: RegisterExecutor(%q) called twice", scheme))
	}
	executors.byKey[scheme] = factory
}

// EnvExecutor is the environment variable that moves every named function
// onto an executor, as in DECO_EXECUTOR=processes:4. Empty or "local"
// keeps calls in this process.
const EnvExecutor = "DECO_EXECUTOR"

// executorFromEnv returns the executor DECO_EXECUTOR names, or nil. All
// functions share the one it makes.
func executorFromEnv() (Executor, error) {
	v := os.Getenv(EnvExecutor)
	if v == "" || v == "local" || inWorker() {
		return nil, nil
	}
	scheme, arg, _ := strings.Cut(v, ":")
	executors.mu.Lock()
	defer executors.mu.Unlock()
	if e, ok := executors.env[v]; ok {
		return e, nil
	}
	factory, ok := executors.byKey[scheme]
	if !ok {
		return nil, fmt.Errorf("deco: %s=%q: no executor %q is registered (import its package, e.g. github.com/deco-go/deco/process)", EnvExecutor, v, scheme)
	}
	e, err := factory(arg)
	if err != nil {
		return nil, fmt.Errorf("deco: %s=%q: %w", EnvExecutor, v, err)
	}
	executors.env[v] = e
	return e, nil
}

// workerMarker is set by backends in the processes they start, so that a
// worker never sends its calls to workers of its own.
var workerMarker struct {
	mu sync.Mutex
	on bool
}

// MarkWorker tells deco that this process is a worker of an executor: it
// then ignores DECO_EXECUTOR, so a worker never spawns workers of its own.
// Backends call it; programs do not need to.
func MarkWorker() {
	workerMarker.mu.Lock()
	workerMarker.on = true
	workerMarker.mu.Unlock()
}

func inWorker() bool {
	workerMarker.mu.Lock()
	defer workerMarker.mu.Unlock()
	return workerMarker.on
}

// remote returns a function that runs calls of name on e.
func remote[A, R any](e Executor, name string) func(context.Context, A) (R, error) {
	return func(ctx context.Context, a A) (R, error) {
		var zero R
		arg, err := encode(a)
		if err != nil {
			return zero, fmt.Errorf("deco: %s: cannot encode argument of type %T: %w", name, a, err)
		}
		out, err := e.Execute(ctx, name, arg)
		if err != nil {
			var pe *PanicError
			if errors.As(err, &pe) {
				panic(pe)
			}
			return zero, err
		}
		var r R
		if err := decode(out, &r); err != nil {
			return zero, fmt.Errorf("deco: %s: cannot decode result of type %T: %w", name, r, err)
		}
		return r, nil
	}
}

func encode(v any) ([]byte, error) {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func decode(b []byte, v any) error {
	return gob.NewDecoder(bytes.NewReader(b)).Decode(v)
}
