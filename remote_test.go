package deco_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/deco-go/deco"
)

// These tests run calls through viaBytes (map_test.go): the bytes a worker
// process would see, in this process.

type job struct {
	Name   string
	weight int
}

func TestOnRefusesTypesThatCannotCross(t *testing.T) {
	for _, tc := range []struct {
		decorate func()
		want     string
	}{
		{func() {
			//decocheck:ignore this test checks that the same refusal happens at run time
			deco.ConcurrentValue(func(j job) int { return len(j.Name) + 100*j.weight }, deco.Name(t.Name()+"/job"), deco.On(viaBytes{}))
		}, "field arg.weight is unexported"},
		{func() {
			//decocheck:ignore this test checks that the same refusal happens at run time
			deco.ConcurrentValue(func(c struct{ Done chan bool }) int { return 0 }, deco.Name(t.Name()+"/chan"), deco.On(viaBytes{}))
		}, "arg.Done (chan bool) is a chan"},
		{func() {
			//decocheck:ignore this test checks that the same refusal happens at run time
			deco.ConcurrentValue(func(int) job { return job{} }, deco.Name(t.Name()+"/result"), deco.On(viaBytes{}))
		}, "field result.weight is unexported"},
	} {
		func() {
			defer func() {
				r := recover()
				if s, _ := r.(string); !strings.Contains(s, tc.want) {
					t.Errorf("decoration panicked with %v, want %q", r, tc.want)
				}
			}()
			tc.decorate()
		}()
	}
	// In this process the same function is fine.
	local := deco.ConcurrentValue(func(j job) int { return len(j.Name) + 100*j.weight })
	local.Go(job{"abc", 7})
	if got, _ := local.Wait(); got[0] != 703 {
		t.Fatalf("in-process: %v", got)
	}
}

type node struct {
	Next *node
	N    int
}

var (
	nilProbe = deco.ConcurrentValue(func(n *node) *node {
		if n == nil {
			return nil
		}
		return &node{N: n.N + 1}
	}, deco.Name("deco_test.nilProbe"), deco.On(viaBytes{}))

	cycleProbe = deco.ConcurrentValue(func(n *node) int { return n.N },
		deco.Name("deco_test.cycleProbe"), deco.On(viaBytes{}))
)

func TestNilPointersCrossAsNil(t *testing.T) {
	nilProbe.Go(nil)
	nilProbe.Go(&node{N: 1})
	got, err := nilProbe.Wait()
	if err != nil || got[0] != nil || got[1] == nil || got[1].N != 2 {
		t.Fatalf("got %v, %v; want [nil, &{N:2}]", got, err)
	}
}

func TestACyclicArgumentFailsItsCall(t *testing.T) {
	n := &node{N: 1}
	n.Next = n
	cycleProbe.Go(n)
	cycleProbe.Go(&node{N: 2})
	got, err := cycleProbe.Wait()
	if err == nil || !strings.Contains(err.Error(), "cyclic") || !strings.Contains(err.Error(), "call #0") || got[1] != 2 {
		t.Fatalf("got %v, %v; want call #0 refused as cyclic and call #1 run", got, err)
	}
}

var (
	errNotFound = errors.New("deco_test: not found")
	errOther    = errors.New("deco_test: other")
)

type quotaError struct {
	User  string
	Limit int
}

func (e *quotaError) Error() string { return fmt.Sprintf("%s is over quota %d", e.User, e.Limit) }

func init() {
	deco.RegisterError(errNotFound)
	deco.RegisterErrorType[*quotaError]()
}

var failsAcross = deco.ConcurrentCtxErr(func(ctx context.Context, i int) error {
	switch i {
	case 0:
		return fmt.Errorf("looking up %d: %w", i, errNotFound)
	case 1:
		return &quotaError{User: "ann", Limit: 3}
	case 2:
		<-ctx.Done()
		return ctx.Err()
	case 3:
		return context.Canceled
	case 4:
		return errOther // not registered: crosses as text
	case 5:
		panic(fmt.Errorf("boom: %w", errNotFound))
	}
	return nil
}, deco.Name("deco_test.failsAcross"), deco.On(viaBytes{}), deco.PanicAsError())

func TestErrorsKeepTheirIdentityAcrossTheBoundary(t *testing.T) {
	var futs []*deco.Future[struct{}]
	for i := range 6 {
		ctx := context.Background()
		if i == 2 {
			// Call 2 waits for its deadline, which passes while it runs.
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, 20*time.Millisecond)
			defer cancel()
		}
		futs = append(futs, failsAcross.GoContext(ctx, i))
	}
	failsAcross.Wait()
	errs := make([]error, len(futs))
	for i, f := range futs {
		_, errs[i] = f.Wait()
	}
	if !errors.Is(errs[0], errNotFound) || errs[0].Error() != "looking up 0: deco_test: not found" {
		t.Errorf("a wrapped registered sentinel: %v", errs[0])
	}
	var qe *quotaError
	if !errors.As(errs[1], &qe) || qe.User != "ann" || qe.Limit != 3 {
		t.Errorf("a registered error type: %v (%#v)", errs[1], qe)
	}
	if !errors.Is(errs[2], context.DeadlineExceeded) {
		t.Errorf("the caller's deadline: %v", errs[2])
	}
	if !errors.Is(errs[3], context.Canceled) {
		t.Errorf("context.Canceled: %v", errs[3])
	}
	if errs[4] == nil || errs[4].Error() != errOther.Error() || errors.Is(errs[4], errOther) {
		t.Errorf("an unregistered sentinel crosses as its text: %v", errs[4])
	}
	var pe *deco.PanicError
	if !errors.As(errs[5], &pe) || !errors.Is(errs[5], errNotFound) || pe.Func != "deco_test.failsAcross" || pe.Index != 5 || len(pe.Stack) == 0 {
		t.Errorf("a panic with a registered error: %v", errs[5])
	}
}

// A task's own *CallError (from a nested Wait) keeps its fields.
var nestedFails = deco.ConcurrentErr(func(i int) error {
	return &deco.CallError{Func: "inner", Index: i, Key: "k", Err: errNotFound}
}, deco.Name("deco_test.nestedFails"), deco.On(viaBytes{}))

func TestACallErrorKeepsItsFields(t *testing.T) {
	f := nestedFails.Go(4)
	nestedFails.Wait()
	_, err := f.Wait()
	var ce *deco.CallError
	if !errors.As(err, &ce) || ce.Func != "inner" || ce.Index != 4 || ce.Key != `"k"` || !errors.Is(err, errNotFound) {
		t.Fatalf("err = %v (%#v)", err, ce)
	}
}

var (
	// changesSlice changes its argument in place, which the caller of a
	// remote call cannot see.
	changesSlice = deco.ConcurrentValue(func(xs []int64) int {
		if len(xs) > 2 {
			xs[2] = 7
		}
		return len(xs)
	},
		deco.Name("deco_test.changesSlice"), deco.On(viaBytes{}))
	sumsText = deco.ConcurrentValue(func(s string) int { return len(s) },
		deco.Name("deco_test.sumsText"), deco.On(viaBytes{}))
)

// Strings and slices of numbers cross in their raw form: the same values,
// nil as nil, and in-place changes are still refused, naming the element.
func TestFlatValuesCrossRawAndKeepTheirRules(t *testing.T) {
	changesSlice.Go([]int64{1, 2, 3, 4})
	changesSlice.Go(nil)
	got, err := changesSlice.Wait()
	if !errors.Is(err, deco.ErrLostMutation) || !strings.Contains(err.Error(), "arg[2]") || got[0] != 4 || got[1] != 0 {
		t.Fatalf("got %v, %v; want call #0 refused for arg[2] and call #1 to see an empty slice", got, err)
	}
	sumsText.Go("héllo")
	if got, err := sumsText.Wait(); err != nil || got[0] != len("héllo") {
		t.Fatalf("a string: %v, %v", got, err)
	}
}
