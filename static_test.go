package deco_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/deco-go/deco"
	"github.com/deco-go/deco/backend"
	"github.com/deco-go/deco/internal/registry"
)

var (
	staticTable    = deco.NewStatic[[]int]("test.static.table")
	setStaticTable sync.Once

	staticUnset = deco.NewStatic[int]("test.static.unset")
	readUnset   = deco.ConcurrentValue(func(int) int { return staticUnset.Get() }, deco.PanicAsError())
)

func setTableOnce() []int {
	setStaticTable.Do(func() { staticTable.Set([]int{3, 1, 4, 1, 5, 9, 2, 6}) })
	return staticTable.Get()
}

// In-process, Get returns the value Set stored: the same slice, not a copy.
func TestStaticInProcessIsTheValueItself(t *testing.T) {
	want := setTableOnce()
	same := deco.ConcurrentValue(func(i int) bool {
		got := staticTable.Get()
		return len(got) == len(want) && &got[0] == &want[0]
	}, deco.Limit(2))
	for i := range 20 {
		same.Go(i)
	}
	got, err := same.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(got, false) {
		t.Fatalf("a call's Get returned another slice than the one Set stored: %v", got)
	}
}

func TestAStaticWithoutValueFailsTheCallInProcess(t *testing.T) {
	readUnset.Go(0)
	_, err := readUnset.Wait()
	want := `deco: Static "test.static.unset" has no value in the calling process: call Set before the calls that read it`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("err = %v, want %q", err, want)
	}
	var pe *deco.PanicError
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v (%T), want a *deco.PanicError under PanicAsError", err, err)
	}
}

func TestStaticNamesAreUnique(t *testing.T) {
	for _, tc := range []struct{ name, want string }{
		{"test.static.table", `deco: NewStatic("test.static.table"): the name is already taken`},
		{"", "must not be empty"},
	} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), tc.want) {
					t.Fatalf("NewStatic(%q): panic %v, want %q", tc.name, r, tc.want)
				}
			}()
			deco.NewStatic[int](tc.name)
		}()
	}
}

var staticsMade sync.Map

// newStatic makes a Static of a name unique in the program, for tests run
// with -count.
func newStatic[T any](t *testing.T) *deco.Static[T] {
	for i := 0; ; i++ {
		name := fmt.Sprintf("test.static.%s.%d", t.Name(), i)
		if _, taken := staticsMade.LoadOrStore(name, true); !taken {
			return deco.NewStatic[T](name)
		}
	}
}

func TestStaticIsSetOnce(t *testing.T) {
	s := newStatic[int](t)
	s.Set(1)
	if s.Get() != 1 {
		t.Fatal("Get after Set")
	}
	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "Set called twice") {
			t.Fatalf("a second Set: panic %v", r)
		}
		if s.Get() != 1 {
			t.Fatal("a second Set changed the value")
		}
	}()
	s.Set(2)
}

// Executors see every Static, its value encoded once (gob) and named by
// the SHA-256 of the bytes.
func TestStaticIsEncodedOnceAndHashedForExecutors(t *testing.T) {
	s := newStatic[map[string]int](t)
	b, ok := backend.LookupStatic(s.Name())
	if !ok || b.Name() != s.Name() {
		t.Fatalf("LookupStatic(%q) = %v, %v", s.Name(), b.Name(), ok)
	}
	if !slices.ContainsFunc(backend.Statics(), func(x backend.Static) bool { return x.Name() == s.Name() }) {
		t.Fatal("Statics does not list the new Static")
	}
	if !slices.IsSortedFunc(backend.Statics(), func(x, y backend.Static) int { return strings.Compare(x.Name(), y.Name()) }) {
		t.Fatal("Statics is not sorted by name")
	}
	if b.IsSet() {
		t.Fatal("IsSet before Set")
	}
	if _, _, err := b.Encoded(); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("Static %q has no value in the calling process: call Set", s.Name())) {
		t.Fatalf("Encoded before Set: err = %v", err)
	}
	v0 := backend.StaticsVersion()
	value := map[string]int{"a": 1, "b": 2}
	s.Set(value)
	if backend.StaticsVersion() == v0 {
		t.Fatal("StaticsVersion did not change at Set")
	}
	if !b.IsSet() {
		t.Fatal("IsSet after Set")
	}
	enc, hash, err := b.Encoded()
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]int
	if err := gob.NewDecoder(bytes.NewReader(enc)).Decode(&back); err != nil || back["a"] != 1 || back["b"] != 2 || len(back) != 2 {
		t.Fatalf("the encoding decodes to %v (%v), want %v", back, err, value)
	}
	sum := sha256.Sum256(enc)
	if hash != hex.EncodeToString(sum[:]) || hash != backend.StaticHash(enc) {
		t.Fatalf("hash %s is not the SHA-256 of the encoding", hash)
	}
	enc2, hash2, _ := b.Encoded()
	if &enc2[0] != &enc[0] || hash2 != hash {
		t.Fatal("a second Encoded encoded the value again")
	}
}

type secretive struct{ hidden int }

func TestAStaticOfATypeThatCannotCrossFailsToEncodeNamingTheField(t *testing.T) {
	s := newStatic[secretive](t)
	s.Set(secretive{1})
	if got := s.Get(); got.hidden != 1 { // in-process it is just the value
		t.Fatalf("Get = %+v", got)
	}
	b, _ := backend.LookupStatic(s.Name())
	_, _, err := b.Encoded()
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("Static %q", s.Name())) || !strings.Contains(err.Error(), "field value.hidden is unexported") {
		t.Fatalf("err = %v, want the Static and its unexported field named", err)
	}
}

// fakeSource serves values by hash, as a worker's executor would.
type fakeSource struct {
	mu      sync.Mutex
	current map[string]string // Static name → hash of the running calls
	byHash  map[string][]byte
	fetches int
	err     error
}

func (f *fakeSource) StaticHash(name string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return "", f.err
	}
	return f.current[name], nil
}

func (f *fakeSource) FetchStatic(name, hash string) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fetches++
	return f.byHash[hash], nil
}

func gobOf(t *testing.T, v any) []byte {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(v); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// In a worker, Get asks its executor's source for the running calls'
// value: fetched and decoded once per hash, kept for later Gets.
func TestAStaticInAWorkerIsFetchedOncePerValue(t *testing.T) {
	s := newStatic[string](t)
	src := &fakeSource{current: map[string]string{}, byHash: map[string][]byte{}}
	a, b := gobOf(t, "value A"), gobOf(t, "value B")
	ha, hb := backend.StaticHash(a), backend.StaticHash(b)
	src.byHash[ha], src.byHash[hb] = a, b
	backend.ServeStatics(src)
	defer backend.ServeStatics(nil)
	for i, step := range []struct {
		hash, want string
		fetches    int
	}{
		{ha, "value A", 1}, {ha, "value A", 1}, {hb, "value B", 2}, {ha, "value A", 2}, {hb, "value B", 2},
	} {
		src.mu.Lock()
		src.current[s.Name()] = step.hash
		src.mu.Unlock()
		if got := s.Get(); got != step.want {
			t.Fatalf("step %d: Get = %q, want %q", i, got, step.want)
		}
		if src.fetches != step.fetches {
			t.Fatalf("step %d: %d fetches, want %d (once per value)", i, src.fetches, step.fetches)
		}
	}
	// The source's error is the panic's message, as it is.
	src.mu.Lock()
	src.err = errors.New(`deco: Static "x" has no value in the calling process: call Set before the calls that read it`)
	src.mu.Unlock()
	func() {
		defer func() {
			if r := recover(); fmt.Sprint(r) != src.err.Error() {
				t.Fatalf("panic %v, want the source's error %q", r, src.err)
			}
		}()
		s.Get()
	}()
}

// A worker whose executor carries no Statics says so, rather than advise
// a Set that the caller made.
func TestAStaticInAWorkerWithoutASourceSaysSo(t *testing.T) {
	s := newStatic[int](t)
	old := registry.SetWorker(true)
	defer registry.SetWorker(old)
	defer func() {
		if r := recover(); !strings.Contains(fmt.Sprint(r), fmt.Sprintf("Static %q has no value in this worker: its executor does not carry Statics", s.Name())) {
			t.Fatalf("panic %v", r)
		}
	}()
	s.Get()
}

// A Static made in main is nil in a worker, which does not run main: Get
// says how to make it, rather than fail with a nil dereference.
func TestANilStaticSaysWhereToMakeIt(t *testing.T) {
	var s *deco.Static[int]
	for name, f := range map[string]func(){"Get": func() { s.Get() }, "Set": func() { s.Set(1) }} {
		func() {
			defer func() {
				if r := recover(); !strings.Contains(fmt.Sprint(r), "a nil *Static: make each Static with NewStatic in a package-level variable") {
					t.Fatalf("%s: panic %v", name, r)
				}
			}()
			f()
		}()
	}
}

// A worker's Static, not set there, cannot be passed on to an executor of
// the worker's own: its value may differ between the worker's callers.
func TestAWorkerCannotPassAStaticOnToItsOwnExecutor(t *testing.T) {
	s := newStatic[int](t)
	old := registry.SetWorker(true)
	defer registry.SetWorker(old)
	b, _ := backend.LookupStatic(s.Name())
	_, _, err := b.Encoded()
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("Static %q has no value to pass on from this worker", s.Name())) {
		t.Fatalf("err = %v", err)
	}
}

// Statics are made at package level, like the functions that read them.
var (
	model    = deco.NewStatic[Model]("example.model")
	setModel sync.Once
	score    = deco.ConcurrentValue(func(x float64) float64 {
		w := model.Get().Weights
		return w[0] + w[1]*x + w[2]*x*x
	}, deco.Name("example.score"))

	limit    = deco.NewStatic[int]("example.limit")
	setLimit sync.Once
	table    = deco.NewStatic[[]int]("example.table")
	setTable sync.Once
	missing  = deco.NewStatic[[]int]("example.missing") // never Set
	sumOf    = func(s *deco.Static[[]int]) int {
		n := 0
		for _, v := range s.Get() {
			n += v
		}
		return n
	}
	sumTable   = deco.ConcurrentValue(func(int) int { return sumOf(table) })
	sumMissing = deco.ConcurrentValue(func(int) int { return sumOf(missing) }, deco.PanicAsError())
)

// Model is a large read-only input of the examples.
type Model struct{ Weights []float64 }

// A Static is a large read-only input, set once before the calls that
// read it. In-process, Get returns the value itself; on an executor
// (deco.On, DECO_EXECUTOR) the same call site reads a copy that went to
// each worker once.
func ExampleStatic() {
	setModel.Do(func() { model.Set(Model{Weights: []float64{0.5, 2, 4}}) }) // in main, before the calls
	for _, x := range []float64{0, 1, 2} {
		score.Go(x)
	}
	fmt.Println(score.Wait())
	// Output: [0.5 6.5 20.5] <nil>
}

// NewStatic names a Static: executors carry its value under that name.
func ExampleNewStatic() {
	fmt.Println(model.Name())
	// Output: example.model
}

// Set stores the value once; a second Set panics, since tasks may have
// read the first.
func ExampleStatic_Set() {
	setLimit.Do(func() { limit.Set(10) })
	defer func() { fmt.Println(limit.Get(), recover()) }()
	limit.Set(20)
	// Output: 10 deco: Static "example.limit": Set called twice; a Static is read-only
}

// Get returns the value; without one it panics, naming the Static, and
// the call that read it fails.
func ExampleStatic_Get() {
	setTable.Do(func() { table.Set([]int{1, 2, 3}) })
	sumTable.Go(0)
	fmt.Println(sumTable.Wait())
	sumMissing.Go(0)
	_, err := sumMissing.Wait()
	fmt.Println(strings.Contains(err.Error(), `Static "example.missing" has no value in the calling process: call Set before the calls that read it`))
	// Output:
	// [6] <nil>
	// true
}

var sink int

// BenchmarkStaticGet measures an in-process Get against reading a plain
// package-level variable, the baseline of the same run.
func BenchmarkStaticGet(b *testing.B) {
	plain := setTableOnce()
	b.Run("plain", func(b *testing.B) {
		for b.Loop() {
			sink += len(plain)
		}
	})
	b.Run("static", func(b *testing.B) {
		for b.Loop() {
			sink += len(staticTable.Get())
		}
	})
}
