package deco

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/deco-go/deco/backend"
	"github.com/deco-go/deco/internal/registry"
)

// These tests look at the executor boundary from inside the package: the
// environment switch and what the walkers see of types.

// runs numbers the runs of a test, for names that must differ when a
// test runs more than once (-count).
var runs atomic.Int64

func unique(name string) string { return fmt.Sprintf("%s.%d", name, runs.Add(1)) }

type countingExecutor struct{ calls int }

func (c *countingExecutor) Execute(ctx context.Context, name string, arg []byte) ([]byte, error) {
	c.calls++
	return backend.Invoke(ctx, name, arg)
}

func TestEnvExecutorIsMadeOncePerValue(t *testing.T) {
	made := 0
	scheme := unique("test-env")
	backend.RegisterExecutor(scheme, func(arg string) (backend.Executor, error) {
		made++
		if arg == "bad" {
			return nil, errors.New("bad argument")
		}
		return &countingExecutor{}, nil
	})
	t.Setenv(EnvExecutor, scheme+":2")
	a := executorFromEnv()
	b := executorFromEnv()
	if a == nil || a != b || made != 1 {
		t.Fatalf("executorFromEnv = %v (%v); made %d times, want one shared executor", a, b, made)
	}
	t.Setenv(EnvExecutor, scheme+":bad")
	bad := executorFromEnv()
	if _, err := bad.Execute(context.Background(), "x", nil); err == nil || !strings.Contains(err.Error(), "bad argument") || !strings.Contains(err.Error(), EnvExecutor) {
		t.Fatalf("a failing factory: err = %v", err)
	}
	t.Setenv(EnvExecutor, "local")
	if e := executorFromEnv(); e != nil {
		t.Fatalf("local: %v", e)
	}
}

// A scheme registered after a function was decorated (package
// initialisation order) is resolved at the first call.
func TestEnvExecutorOfALaterPackageIsMadeAtTheFirstCall(t *testing.T) {
	scheme := unique("test-late")
	t.Setenv(EnvExecutor, scheme)
	e := executorFromEnv()
	if e == nil {
		t.Fatal("executorFromEnv = nil")
	}
	if _, err := e.Execute(context.Background(), "x", nil); err == nil || !strings.Contains(err.Error(), "no executor") {
		t.Fatalf("before registration: %v", err)
	}
	// A later value finds it registered.
	t.Setenv(EnvExecutor, scheme+"-2")
	e2 := executorFromEnv()
	backend.RegisterExecutor(scheme+"-2", func(string) (backend.Executor, error) { return &countingExecutor{}, nil })
	name := unique("TestEnvExecutorOfALaterPackage")
	register(name, func(_ context.Context, i int) (int, error) { return i + 1, nil }, site{where: "here", stack: "here"})
	out, err := e2.Execute(context.Background(), name, mustEncode(t, 1))
	if err != nil {
		t.Fatal(err)
	}
	got, err := receive[int](context.Background(), name, out, nil)
	if err != nil || got != 2 {
		t.Fatalf("got %d, %v", got, err)
	}
}

func mustEncode[T any](t *testing.T, v T) []byte {
	b, err := appendValue(nil, &v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestWorkersIgnoreTheEnvironment(t *testing.T) {
	t.Setenv(EnvExecutor, "anything:1")
	old := registry.SetWorker(true)
	defer registry.SetWorker(old)
	if e := executorFromEnv(); e != nil {
		t.Fatalf("in a worker: %v", e)
	}
}

func TestCallOfDescribesTheRunningCall(t *testing.T) {
	f := ConcurrentCtxValue(func(ctx context.Context, i int) int {
		info, ok := backend.CallOf(ctx)
		if !ok {
			return -1
		}
		return info.Index*100 + info.Lane
	}, Name(unique("TestCallOfDescribesTheRunningCall")), Limit(2))
	for i := range 6 {
		f.Go(i)
	}
	got, _ := f.Wait()
	for i, v := range got {
		if v < 0 || v/100 != i || v%100 > 1 {
			t.Fatalf("call %d saw %d: want its index and a lane below the limit", i, v)
		}
	}
	if _, ok := backend.CallOf(context.Background()); ok {
		t.Fatal("CallOf(Background) reported a call")
	}
}

type privateJob struct {
	Name   string
	weight int
}

// A type that cannot cross fails the calls of a function DECO_EXECUTOR
// moves, naming the field, instead of panicking while packages are
// initialised.
func TestAnEnvironmentExecutorRefusesTypesAtCallTime(t *testing.T) {
	scheme := unique("test-types")
	backend.RegisterExecutor(scheme, func(string) (backend.Executor, error) { return &countingExecutor{}, nil })
	t.Setenv(EnvExecutor, scheme)
	f := ConcurrentValue(func(j privateJob) int { return j.weight }, Name(unique("TestAnEnvironmentExecutorRefusesTypes")))
	f.Go(privateJob{"a", 7})
	_, err := f.Wait()
	if err == nil || !strings.Contains(err.Error(), "field arg.weight is unexported") || !strings.Contains(err.Error(), EnvExecutor) {
		t.Fatalf("err = %v, want the field and the variable named", err)
	}
}

// sizedExecutor runs one call at a time and records the highest lane.
type sizedExecutor struct{ maxLane atomic.Int64 }

func (*sizedExecutor) Workers() int { return 1 }

func (s *sizedExecutor) Execute(ctx context.Context, name string, arg []byte) ([]byte, error) {
	if info, ok := backend.CallOf(ctx); ok && int64(info.Lane) > s.maxLane.Load() {
		s.maxLane.Store(int64(info.Lane))
	}
	return backend.Invoke(ctx, name, arg)
}

// The executor DECO_EXECUTOR makes sets the default limit as one given
// with On does (backend.Sized).
func TestAnEnvironmentExecutorsSizeIsTheDefaultLimit(t *testing.T) {
	e := &sizedExecutor{}
	scheme := unique("test-sized")
	backend.RegisterExecutor(scheme, func(string) (backend.Executor, error) { return e, nil })
	t.Setenv(EnvExecutor, scheme)
	f := ConcurrentValue(func(i int) int { return i }, Name(unique("TestAnEnvironmentExecutorsSize")))
	for i := range 50 {
		f.Go(i)
	}
	if _, err := f.Wait(); err != nil {
		t.Fatal(err)
	}
	if got := e.maxLane.Load(); got != 0 {
		t.Fatalf("a call ran in lane %d: the limit is not the executor's 1 worker", got)
	}
}
