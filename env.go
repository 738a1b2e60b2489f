package deco

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/deco-go/deco/backend"
	"github.com/deco-go/deco/internal/registry"
)

// EnvExecutor is the environment variable that moves every named function
// onto an executor, as in DECO_EXECUTOR=processes:4. Empty or "local"
// keeps calls in this process. It is read when a named function is
// decorated; a worker process ignores it. A value that names no
// registered scheme, or that its scheme refuses, never panics: every call
// of the functions it moves fails with an error naming the variable and
// the problem.
const EnvExecutor = "DECO_EXECUTOR"

// envExecutors are the executors made from DECO_EXECUTOR, by its value:
// all functions share the one a value makes.
var envExecutors = struct {
	mu sync.Mutex
	m  map[string]backend.Executor
}{m: map[string]backend.Executor{}}

// executorFromEnv returns the executor DECO_EXECUTOR names, or nil. When
// the scheme's package has not been initialised yet (package
// initialisation order), the executor is made at the first call instead.
// A bad value gives an executor that fails every call with the reason:
// decoration happens at package initialisation, where a panic would be a
// stack trace before main.
func executorFromEnv() backend.Executor {
	v := os.Getenv(EnvExecutor)
	if v == "" || v == "local" || registry.InWorker() {
		return nil
	}
	envExecutors.mu.Lock()
	defer envExecutors.mu.Unlock()
	if e, ok := envExecutors.m[v]; ok {
		return e
	}
	scheme, _, _ := strings.Cut(v, ":")
	var e backend.Executor
	if _, ok := registry.Scheme(scheme); ok {
		e = makeEnvExecutor(v)
	} else {
		e = &lateExecutor{value: v}
	}
	envExecutors.m[v] = e
	return e
}

// makeEnvExecutor runs the factory DECO_EXECUTOR=v names, or returns an
// executor that fails every call with the reason it cannot.
func makeEnvExecutor(v string) backend.Executor {
	scheme, arg, _ := strings.Cut(v, ":")
	factory, ok := registry.Scheme(scheme)
	if !ok {
		return failing{fmt.Errorf("deco: %s=%q: no executor %q is registered (import its package, e.g. github.com/deco-go/deco/process)", EnvExecutor, v, scheme)}
	}
	e, err := factory(arg)
	if err == nil && e == nil {
		err = errors.New("the executor's factory returned no executor")
	}
	if err != nil {
		return failing{fmt.Errorf("deco: %s=%q: %w", EnvExecutor, v, err)}
	}
	return e
}

// failing is the executor of a bad DECO_EXECUTOR: every call fails with
// err, which names the variable and the problem.
type failing struct{ err error }

func (f failing) Execute(context.Context, string, []byte) ([]byte, error) { return nil, f.err }

// lateExecutor is the executor of a DECO_EXECUTOR scheme whose package was
// not yet initialised when a function was decorated: it is made at the
// first call.
type lateExecutor struct {
	value string
	once  sync.Once
	e     backend.Executor
}

func (l *lateExecutor) Execute(ctx context.Context, name string, arg []byte) ([]byte, error) {
	l.once.Do(func() { l.e = makeEnvExecutor(l.value) })
	return l.e.Execute(ctx, name, arg)
}

// The backend package describes running calls through this hook (see
// backend.CallOf), since it cannot import this package.
func init() {
	registry.CallOf = func(ctx context.Context) (string, int, int, bool) {
		c := runningCall(ctx)
		if c == nil {
			return "", 0, 0, false
		}
		return c.fn.name, c.index, int(c.lane), true
	}
}
