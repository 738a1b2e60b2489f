package deco_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/deco-go/deco"
	"github.com/deco-go/deco/backend"
)

func TestInvokeOfAnUnknownNameListsTheNames(t *testing.T) {
	_, err := backend.Invoke(context.Background(), "no such function", nil)
	for _, want := range []string{`no function is named "no such function"`, "deco_test.panicsAcross", "package level"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("err = %v, want it to contain %q", err, want)
		}
	}
}

type unregistered struct{ X int }

var (
	panicsAcross = deco.ConcurrentValue(func(i int) int {
		if i == 1 {
			panic(errors.New("task panic"))
		}
		return i
	}, deco.Name("deco_test.panicsAcross"), deco.On(viaBytes{}))

	resultUnencodable = deco.ConcurrentValue(func(i int) any { return unregistered{i} },
		deco.Name("deco_test.resultUnencodable"), deco.On(viaBytes{}))

	errorAndResult = deco.ConcurrentResult(func(i int) (int, error) { return i, errors.New("partial") },
		deco.Name("deco_test.errorAndResult"), deco.On(viaBytes{}))
)

func TestOutcomesCrossTheBoundaryAsInProcess(t *testing.T) {
	panicsAcross.Go(0)
	panicsAcross.Go(1)
	func() {
		defer func() {
			r := recover()
			pe, ok := r.(*deco.PanicError)
			if !ok || !strings.Contains(pe.Error(), "task panic") || !strings.Contains(pe.Error(), "registry_test.go") {
				t.Fatalf("Wait re-panicked with %v, want a *PanicError carrying the task's value and stack", r)
			}
		}()
		panicsAcross.Wait()
	}()

	resultUnencodable.Go(1)
	if _, err := resultUnencodable.Wait(); err == nil || !strings.Contains(err.Error(), "cannot encode result of type deco_test.unregistered") {
		t.Fatalf("err = %v, want the result's type named", err)
	}

	fut := errorAndResult.Go(7)
	errorAndResult.Wait()
	if v, err := fut.Wait(); v != 7 || err == nil || err.Error() != "partial" {
		t.Fatalf("Future.Wait = %v, %v; want the result and the error, as in-process", v, err)
	}
}

// named decorates through a helper, as a package might: the first caller
// outside deco is this line for every function it makes.
func namedVia(n string, fn func(int) int) *deco.Func[int, int] {
	return deco.ConcurrentValue(fn, deco.Name(n), deco.On(viaBytes{}))
}

func TestDuplicateNamesThroughAHelperAreRefused(t *testing.T) {
	double := namedVia("TestDuplicateNamesThroughAHelperAreRefused", func(x int) int { return 2 * x })
	mustPanic(t, `Name("TestDuplicateNamesThroughAHelperAreRefused") is already taken`, func() {
		namedVia("TestDuplicateNamesThroughAHelperAreRefused", func(x int) int { return 3 * x })
	})
	double.Go(5)
	if got, err := double.Wait(); err != nil || got[0] != 10 {
		t.Fatalf("double.Go(5) = %v, %v; want 10", got, err)
	}
}
