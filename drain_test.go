package deco_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/deco-go/deco"
)

// A worker's loop recovers the panics of the calls it runs itself, with
// no deferred function per call (callFunc's is not on the panic's stack),
// and goes on with the next call; a call run inline by a waiting call
// keeps its own recovery (callFunc is on its stack), which the waiting
// call's frames never see. Every panic, error and result is reported, in
// call order, and the stats count them.
func TestAWorkersLoopRecoversItsCallsPanicsAndGoesOn(t *testing.T) {
	const n = 60
	pool := deco.NewPool(1) // one slot: a waiting call runs its child inline
	child := deco.ConcurrentValue(func(i int) int {
		if i%2 == 0 {
			panic(fmt.Sprintf("child %d", i))
		}
		return i
	}, deco.Shared(pool), deco.PanicAsError())
	f := deco.ConcurrentCtxResult(func(ctx context.Context, i int) (int, error) {
		switch i % 4 {
		case 0:
			panic(fmt.Sprintf("call %d", i))
		case 1:
			return 0, fmt.Errorf("error %d", i)
		case 2:
			// A child started with the call's context and waited for:
			// run inline in this call's slot if it is still queued.
			v, err := child.GoContext(ctx, i).Wait()
			var pe *deco.PanicError
			if !errors.As(err, &pe) || !strings.Contains(string(pe.Stack), ").callFunc") {
				return 0, fmt.Errorf("child %d: err %v, want a panic recovered by its own callFunc", i, err)
			}
			_ = v
			return i, nil
		}
		return i, nil
	}, deco.Shared(pool), deco.PanicAsError())
	for i := range n {
		f.Go(i)
	}
	res, err := f.Wait()
	child.Wait() // the children's batch, whose panics the calls checked
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	if len(errs) != n/2 {
		t.Fatalf("%d errors, want %d: %v", len(errs), n/2, err)
	}
	for k, e := range errs {
		i := k * 2 // calls 0, 1, 4, 5, ... fail: two of every four
		if k%2 == 1 {
			i = (k-1)*2 + 1
		}
		var ce *deco.CallError
		if !errors.As(e, &ce) || ce.Index != i {
			t.Fatalf("error %d = %v, want call #%d's", k, e, i)
		}
		var pe *deco.PanicError
		if i%4 == 0 {
			if !errors.As(e, &pe) || pe.Value != fmt.Sprintf("call %d", i) {
				t.Fatalf("call #%d: %v, want its panic", i, e)
			}
			if !strings.Contains(string(pe.Stack), "TestAWorkersLoopRecoversItsCallsPanicsAndGoesOn") {
				t.Fatalf("call #%d's stack does not show the task:\n%s", i, pe.Stack)
			}
			if strings.Contains(string(pe.Stack), ").callFunc") {
				t.Fatalf("call #%d, run by its worker's loop, was recovered by a deferred function of its own:\n%s", i, pe.Stack)
			}
		} else if errors.As(e, &pe) {
			t.Fatalf("call #%d: %v, want its error, not a panic", i, e)
		}
	}
	for i, v := range res {
		if i%4 >= 2 && v != i {
			t.Fatalf("result %d = %d, want %d", i, v, i)
		}
	}
	if s := f.Stats(); s.Done != n || s.Failed != n/2 || s.Panicked != n/4 {
		t.Fatalf("stats %v: want %d done, %d failed, %d panicked", s, n, n/2, n/4)
	}
	checkNoWorkers(t, "after both batches")
}
