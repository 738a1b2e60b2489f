package deco_test

import (
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/deco-go/deco"
)

func explode(i int) {
	if i == 2 {
		panic(errOdd)
	}
}

func TestWaitRepanicsWithTheTaskStack(t *testing.T) {
	var done atomic.Int64
	f := deco.Concurrent(func(i int) {
		explode(i)
		done.Add(1)
	})
	for i := range 5 {
		f.Go(i)
	}
	defer func() {
		pe, ok := recover().(*deco.PanicError)
		if !ok {
			t.Fatal("Wait did not re-panic with a *PanicError")
		}
		if pe.Index != 2 || !errors.Is(pe, errOdd) {
			t.Fatalf("PanicError = call #%d %v, want call #2 wrapping errOdd", pe.Index, pe.Value)
		}
		if !strings.Contains(string(pe.Stack), "deco_test.explode") {
			t.Fatalf("stack does not show the task's frames:\n%s", pe.Stack)
		}
		if !strings.Contains(pe.Error(), "deco_test.explode") {
			t.Fatal("the panic message must carry the task's stack")
		}
		if done.Load() != 4 {
			t.Fatalf("re-panicked with %d of 4 other calls done", done.Load())
		}
	}()
	f.Wait()
}

func TestPanicAsErrorReturnsThePanic(t *testing.T) {
	f := deco.Concurrent(explode, deco.PanicAsError())
	for i := range 5 {
		f.Go(i)
	}
	_, err := f.Wait()
	var pe *deco.PanicError
	if !errors.As(err, &pe) || pe.Index != 2 {
		t.Fatalf("err = %v, want call #2's *PanicError", err)
	}
	var ce *deco.CallError
	if !errors.As(err, &ce) || ce.Index != 2 {
		t.Fatalf("err = %v, want a CallError for call #2", err)
	}
	if !errors.Is(err, errOdd) {
		t.Fatal("errors.Is must see through the panic to the panicked error")
	}
}

func TestFutureWaitRepanics(t *testing.T) {
	f := deco.Concurrent(explode)
	fut := f.Go(2)
	func() {
		defer func() {
			if _, ok := recover().(*deco.PanicError); !ok {
				t.Fatal("Future.Wait did not re-panic")
			}
		}()
		fut.Wait()
	}()
	g := deco.Concurrent(explode, deco.PanicAsError())
	if _, err := g.Go(2).Wait(); !errors.Is(err, errOdd) {
		t.Fatalf("Future.Wait under PanicAsError = %v", err)
	}
	// The batches still hold the panicked calls.
	func() {
		defer func() { recover() }()
		f.Wait()
	}()
	g.Wait()
}

func TestCallErrorMessage(t *testing.T) {
	e := &deco.CallError{Func: "fetch", Index: 3, Key: "https://example.org", Err: errOdd}
	want := `deco: fetch call #3 (key "https://example.org"): odd`
	if e.Error() != want {
		t.Fatalf("Error() = %q, want %q", e.Error(), want)
	}
}

// TestAPanicAsErrorNamesTheCallOnce checks that a panic returned as an
// error under PanicAsError says "deco: f call #0 panicked: boom", not the
// call's name and index twice (the CallError's, then the PanicError's),
// and that a key, when there is one, is in it.
func TestAPanicAsErrorNamesTheCallOnce(t *testing.T) {
	f := deco.ConcurrentValue(func(int) int { panic("boom") }, deco.PanicAsError(), deco.Name("test.panicOnce"))
	f.Go(0)
	_, err := f.Wait()
	if err == nil {
		t.Fatal("no error for a panicking call")
	}
	if msg, want := err.Error(), "deco: test.panicOnce call #0 panicked: boom\n"; !strings.HasPrefix(msg, want) {
		t.Errorf("error begins %q, want %q", msg[:min(len(msg), 80)], want)
	}
	m := map[string]int{}
	deco.Assign(m, "k", f, 1)
	_, err = f.Wait()
	if msg, want := fmt.Sprint(err), `deco: test.panicOnce call #0 (key "k") panicked: boom`+"\n"; !strings.HasPrefix(msg, want) {
		t.Errorf("error begins %q, want %q", msg[:min(len(msg), 80)], want)
	}
}
