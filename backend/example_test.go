package backend_test

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/deco-go/deco"
	"github.com/deco-go/deco/backend"
)

// loopback is the smallest Executor: it runs each call in this process
// through the same bytes a worker process would see, by handing the
// encoded argument to Invoke and its encoded outcome back to deco.
type loopback struct{}

func (loopback) Execute(ctx context.Context, name string, arg []byte) ([]byte, error) {
	return backend.Invoke(ctx, name, arg)
}

func ExampleExecutor() {
	square := deco.ConcurrentValue(func(n int) int { return n * n },
		deco.Name("ExampleExecutor/square"), deco.On(loopback{}))
	for n := range 4 {
		square.Go(n)
	}
	fmt.Println(square.Wait())
	// Output: [0 1 4 9] <nil>
}

// one runs one call at a time: functions on it get Limit(1) by default,
// so every call holds lane 0.
type one struct{ maxLane *atomic.Int64 }

func (one) Workers() int { return 1 }

func (o one) Execute(ctx context.Context, name string, arg []byte) ([]byte, error) {
	if info, ok := backend.CallOf(ctx); ok && int64(info.Lane) > o.maxLane.Load() {
		o.maxLane.Store(int64(info.Lane))
	}
	return backend.Invoke(ctx, name, arg)
}

func ExampleSized() {
	e := one{maxLane: new(atomic.Int64)}
	f := deco.ConcurrentValue(func(n int) int { return n }, deco.Name("ExampleSized/id"), deco.On(e))
	for i := range 20 {
		f.Go(i)
	}
	f.Wait()
	fmt.Println("highest lane:", e.maxLane.Load())
	// Output: highest lane: 0
}

func ExampleInvoke() {
	deco.ConcurrentValue(func(s string) int { return len(s) }, deco.Name("ExampleInvoke/len"))
	// Invoke runs the named function on an argument deco encoded; an
	// unknown name is an error, not a panic.
	_, err := backend.Invoke(context.Background(), "ExampleInvoke/nope", nil)
	fmt.Println(err != nil)
	// Output: true
}

func ExampleNames() {
	deco.Concurrent(func(string) {}, deco.Name("ExampleNames/thumbnail"))
	fmt.Println(slices.Contains(backend.Names(), "ExampleNames/thumbnail"))
	// Output: true
}

func ExampleFingerprint() {
	// A worker reports its fingerprint; the parent compares it with its
	// own before it sends a call. Functions decorated after package
	// initialisation, like this one, do not change it.
	before := backend.Fingerprint()
	deco.Concurrent(func(int) {}, deco.Name("ExampleFingerprint/late"))
	fmt.Println(before == backend.Fingerprint(), len(before))
	// Output: true 24
}

// lanes reports the call's lane and index through CallOf.
type lanes struct{}

func (lanes) Execute(ctx context.Context, name string, arg []byte) ([]byte, error) {
	info, _ := backend.CallOf(ctx)
	fmt.Println(info.Func, info.Index)
	return backend.Invoke(ctx, name, arg)
}

func ExampleCallOf() {
	f := deco.ConcurrentValue(func(n int) int { return n }, deco.Name("ExampleCallOf/id"), deco.On(lanes{}), deco.Limit(1))
	f.Go(7)
	f.Go(8)
	f.Wait()
	// Output:
	// ExampleCallOf/id 0
	// ExampleCallOf/id 1
}

func ExampleRegisterExecutor() {
	// A backend package registers its scheme from init; then
	// DECO_EXECUTOR=loopback moves every named function onto it.
	backend.RegisterExecutor("loopback", func(arg string) (backend.Executor, error) {
		if arg != "" {
			return nil, fmt.Errorf("loopback takes no argument, got %q", arg)
		}
		return loopback{}, nil
	})
	fmt.Println("registered")
	// Output: registered
}

func ExampleMarkWorker() {
	// A worker process marks itself before it serves, so that its own
	// named functions run in it and never on executors of their own.
	fmt.Println(backend.InWorker())
	// (In a worker: backend.MarkWorker(); then InWorker reports true.)
	// Output: false
}

// remoteish runs each call in this process and says it ran on a worker
// named for the call's lane, as a cluster's executor says which worker
// process answered.
type remoteish struct{}

func (remoteish) Execute(ctx context.Context, name string, arg []byte) ([]byte, error) {
	info, _ := backend.CallOf(ctx)
	start := time.Now()
	out, err := backend.Invoke(ctx, name, arg)
	backend.Ran(ctx, backend.Run{Worker: fmt.Sprintf("example-host:%d", 4000+info.Lane), Start: start, End: time.Now()})
	return out, err
}

func ExampleRan() {
	var rec deco.Recorder
	f := deco.ConcurrentValue(func(n int) int { return n * n },
		deco.Name("ExampleRan/square"), deco.On(remoteish{}), deco.Limit(1), deco.Record(&rec))
	for n := range 3 {
		f.Go(n)
	}
	f.Wait()
	for _, w := range f.Stats().Workers {
		fmt.Println(w.Worker, w.Calls, "calls")
	}
	fmt.Println(rec.Trace("squares").LaneNames)
	// Output:
	// example-host:4000 3 calls
	// [example-host:4000]
}
