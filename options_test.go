package deco_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/deco-go/deco"
	"github.com/deco-go/deco/backend"
)

func mustPanic(t *testing.T, want string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		if r == nil {
			t.Fatalf("no panic, want one naming %q", want)
		}
		if msg := fmt.Sprint(r); !strings.Contains(msg, want) {
			t.Fatalf("panic %q does not name %q", msg, want)
		}
	}()
	f()
}

func TestBadOptionsAreRefusedAtDecoration(t *testing.T) {
	noop := func(int) {}
	mustPanic(t, "Limit(0)", func() { deco.Concurrent(noop, deco.Limit(0)) })
	mustPanic(t, "Limit(-3)", func() { deco.Concurrent(noop, deco.Limit(-3)) })
	mustPanic(t, "Queue(-1)", func() { deco.Concurrent(noop, deco.Queue(-1)) })
	mustPanic(t, `Name("")`, func() { deco.Concurrent(noop, deco.Name("")) })
	mustPanic(t, "Shared(nil)", func() { deco.Concurrent(noop, deco.Shared(nil)) })
	mustPanic(t, "exclude", func() { deco.Concurrent(noop, deco.Limit(2), deco.Shared(deco.NewPool(2))) })
	mustPanic(t, "On(nil)", func() { deco.Concurrent(noop, deco.On(nil)) })
	mustPanic(t, "OnProgress(nil)", func() { deco.Concurrent(noop, deco.OnProgress(nil)) })
	mustPanic(t, "Record(nil)", func() { deco.Concurrent(noop, deco.Record(nil)) })
	mustPanic(t, "nil Option", func() { deco.Concurrent(noop, nil) })
	mustPanic(t, "nil function", func() { deco.Concurrent[int](nil) })
	mustPanic(t, "NewPool(0)", func() { deco.NewPool(0) })
}

func TestDuplicateNamesAreRefused(t *testing.T) {
	deco.Concurrent(func(int) {}, deco.Name("TestDuplicateNamesAreRefused"))
	mustPanic(t, `Name("TestDuplicateNamesAreRefused") is already taken by the function decorated at`, func() {
		deco.ConcurrentValue(func(int) int { return 0 }, deco.Name("TestDuplicateNamesAreRefused"))
	})
	found := false
	for _, n := range backend.Names() {
		found = found || n == "TestDuplicateNamesAreRefused"
	}
	if !found {
		t.Fatal("Names() does not list the named function")
	}
}

func TestOnNeedsAName(t *testing.T) {
	mustPanic(t, "only a named function", func() {
		deco.Concurrent(func(int) {}, deco.On(loopback{}))
	})
}

// loopback is an Executor that runs calls in this process through the same
// encode, Invoke, decode path a remote executor uses.
type loopback struct{ calls *int64 }

func (l loopback) Execute(ctx context.Context, name string, arg []byte) ([]byte, error) {
	if l.calls != nil {
		atomic.AddInt64(l.calls, 1)
	}
	return backend.Invoke(ctx, name, arg)
}

func TestOnRunsNamedFunctionsThroughTheExecutor(t *testing.T) {
	var calls int64
	square := deco.ConcurrentValue(func(i int) int { return i * i },
		deco.Name("TestOnRunsNamedFunctionsThroughTheExecutor"), deco.On(loopback{&calls}))
	for i := range 10 {
		square.Go(i)
	}
	got, err := square.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if calls != 10 || got[9] != 81 {
		t.Fatalf("executor saw %d calls, results %v", calls, got)
	}
}

// sizedLoopback is a loopback executor that knows its number of workers.
type sizedLoopback struct{ loopback }

func (sizedLoopback) Workers() int { return 3 }

func TestAnExecutorsSizeIsTheDefaultLimit(t *testing.T) {
	var c inflight
	f := deco.Concurrent(func(int) {
		c.enter()
		defer c.leave()
		time.Sleep(time.Millisecond)
	}, deco.Name("TestAnExecutorsSizeIsTheDefaultLimit"), deco.On(sizedLoopback{}))
	for i := range 30 {
		f.Go(i)
	}
	f.Wait()
	if got := f.Stats().MaxParallel; got != 3 {
		t.Fatalf("MaxParallel = %d, want the executor's 3 workers", got)
	}
}

func TestARemotePanicIsReportedOnce(t *testing.T) {
	f := deco.Concurrent(func(i int) { panic(fmt.Sprint("bad ", i)) },
		deco.Name("TestARemotePanicIsReportedOnce"), deco.On(loopback{}), deco.PanicAsError())
	f.Go(7)
	_, err := f.Wait()
	var pe *deco.PanicError
	if !errors.As(err, &pe) || pe.Index != 0 || pe.Value != "bad 7" {
		t.Fatalf("err = %v", err)
	}
	if n := strings.Count(err.Error(), "panicked"); n != 1 {
		t.Fatalf("the panic is wrapped %d times: %v", n, err)
	}
}
