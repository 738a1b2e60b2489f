package deco_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/deco-go/deco"
)

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
			if !ok || !strings.Contains(pe.Error(), "task panic") || !strings.Contains(pe.Error(), "invoke_test.go") {
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
