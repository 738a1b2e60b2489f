package deco

import (
	"reflect"
	"strings"
	"testing"
	"time"
	"unsafe"
)

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
