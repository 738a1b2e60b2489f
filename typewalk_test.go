package deco

import (
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

type withPointer struct {
	Name string
	Out  *struct{ Width int }
	Tags map[string][]int
	List []float64
	Any  any
	When time.Time
	priv []int
}

func TestLostChangeNamesTheFirstChange(t *testing.T) {
	fresh := func() withPointer {
		return withPointer{
			Name: "x", Out: &struct{ Width int }{1}, Tags: map[string][]int{"a": {1}},
			List: []float64{math.NaN(), 1}, Any: &[]int{1}, When: time.Unix(5, 0),
		}
	}
	for _, tc := range []struct {
		change func(*withPointer)
		want   string
	}{
		{func(w *withPointer) {}, ""},
		{func(w *withPointer) { w.Name = "y" }, ""}, // a value field: the task has a copy
		{func(w *withPointer) { w.Out.Width = 2 }, "arg.Out.Width"},
		{func(w *withPointer) { w.Tags["a"][0] = 2 }, `arg.Tags["a"][0]`},
		{func(w *withPointer) { w.Tags["b"] = nil }, "arg.Tags"},
		{func(w *withPointer) { w.List[1] = 2 }, "arg.List[1]"},
		{func(w *withPointer) { (*w.Any.(*[]int))[0] = 2 }, "arg.Any[0]"},
		{func(w *withPointer) { w.priv = []int{1} }, ""}, // gob does not send it
	} {
		live, orig := fresh(), fresh()
		tc.change(&live)
		if got := lostChange(valueOfPtr(&live), valueOfPtr(&orig)); got != tc.want {
			t.Errorf("lostChange = %q, want %q", got, tc.want)
		}
	}
}

func valueOfPtr[T any](p *T) reflect.Value { return reflect.ValueOf(p).Elem() }

func TestCyclesAreFoundBeforeEncoding(t *testing.T) {
	a := &recursive{}
	a.Next = &recursive{Next: a}
	if _, err := checkValue(&a, "argument"); err == nil || !strings.Contains(err.Error(), "cyclic") || !strings.Contains(err.Error(), "arg.Next.Next") {
		t.Fatalf("a pointer cycle: %v", err)
	}
	b := &recursive{}
	b.Any = []any{b}
	if _, err := checkValue(&b, "argument"); err == nil || !strings.Contains(err.Error(), "cyclic") {
		t.Fatalf("a cycle through an interface and a slice: %v", err)
	}
	// Sharing is not a cycle.
	shared := &recursive{}
	dag := []*recursive{shared, shared}
	if _, err := checkValue(&dag, "argument"); err != nil {
		t.Fatalf("a shared pointer: %v", err)
	}
}

func TestDynamicValuesAreChecked(t *testing.T) {
	v := any(jobWithPrivate{Name: "x"})
	if _, err := checkValue(&v, "argument"); err == nil || !strings.Contains(err.Error(), "weight is unexported") {
		t.Fatalf("an interface holding a struct with an unexported field: %v", err)
	}
}
