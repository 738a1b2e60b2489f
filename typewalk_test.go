package deco

import (
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
	"unsafe"
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

func TestShapes(t *testing.T) {
	for _, tc := range []struct {
		typ               any
		hasMaps, mayAlias bool
	}{
		{0, false, false},
		{"", false, false},
		{struct{ A, B int }{}, false, false},
		{[]int{}, false, true},
		{time.Time{}, false, false},
		{&Map[int, int]{}, true, false},
		{&Map[int, []int]{}, true, true},
		{struct{ M *Map[int, int] }{}, true, false},
		{struct{ m *Map[int, int] }{}, false, false},
		{map[string]*Map[int, int]{}, true, true},
	} {
		s := shapeOf(reflect.TypeOf(tc.typ))
		if s.hasMaps != tc.hasMaps || s.mayAlias != tc.mayAlias {
			t.Errorf("shape of %T = %+v, want hasMaps %t, mayAlias %t", tc.typ, s, tc.hasMaps, tc.mayAlias)
		}
	}
}

func valueOfPtr[T any](p *T) reflect.Value { return reflect.ValueOf(p).Elem() }

type (
	jobWithPrivate struct {
		Name   string
		weight int
	}
	withChan   struct{ Items []struct{ C chan int } }
	withFunc   struct{ F func() }
	withUnsafe struct{ P map[string][2]unsafe.Pointer }
	selfCoded  struct{ hidden int } // encodes itself: accepted
	recursive  struct {
		Next *recursive
		Any  any
	}
)

func (s selfCoded) GobEncode() ([]byte, error) { return []byte{byte(s.hidden)}, nil }
func (s *selfCoded) GobDecode(b []byte) error  { s.hidden = int(b[0]); return nil }

func TestTypesThatCannotCrossNameTheField(t *testing.T) {
	for _, tc := range []struct {
		typ  reflect.Type
		want string // "" when the type crosses
	}{
		{reflect.TypeFor[int](), ""},
		{reflect.TypeFor[struct{}](), ""},
		{reflect.TypeFor[time.Time](), ""},
		{reflect.TypeFor[selfCoded](), ""},
		{reflect.TypeFor[*recursive](), ""},
		{reflect.TypeFor[*Map[string, []int]](), ""},
		{reflect.TypeFor[jobWithPrivate](), "field arg.weight is unexported"},
		{reflect.TypeFor[[]*jobWithPrivate](), "field arg[].weight is unexported"},
		{reflect.TypeFor[withChan](), "arg.Items[].C (chan int) is a chan"},
		{reflect.TypeFor[withFunc](), "arg.F (func()) is a func"},
		{reflect.TypeFor[withUnsafe](), "arg.P[][] (unsafe.Pointer) is a unsafe.Pointer"},
		{reflect.TypeFor[chan int](), "the value (chan int) is a chan"},
		{reflect.TypeFor[*Map[string, jobWithPrivate]](), "field arg[].weight is unexported"},
	} {
		err := checkCrossing(tc.typ, "argument")
		if tc.want == "" {
			if err != nil {
				t.Errorf("%v: %v, want it accepted", tc.typ, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.typ, err, tc.want)
		}
	}
	if err := checkCrossing(reflect.TypeFor[jobWithPrivate](), "result"); err == nil || !strings.Contains(err.Error(), "field result.weight") {
		t.Errorf("a result type: %v", err)
	}
}

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
