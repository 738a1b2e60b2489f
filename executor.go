package deco

import (
	"bytes"
	"context"
	"encoding"
	"encoding/gob"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"sync"
	"unsafe"

	"github.com/deco-go/deco/backend"
	"github.com/deco-go/deco/internal/registry"
)

// EnvExecutor is the environment variable that moves every named function
// onto an executor, as in DECO_EXECUTOR=processes:4. Empty or "local"
// keeps calls in this process. It is read when a named function is
// decorated; a worker process ignores it. A value that names no
// registered scheme, or that its scheme refuses, never panics: every call
// of the functions it moves fails with an error naming the variable and
// the problem.
const EnvExecutor = "DECO_EXECUTOR"

// envExecutors are the executors made from DECO_EXECUTOR, by its value:
// all functions share the one a value makes.
var envExecutors = struct {
	mu sync.Mutex
	m  map[string]backend.Executor
}{m: map[string]backend.Executor{}}

// executorFromEnv returns the executor DECO_EXECUTOR names, or nil. When
// the scheme's package has not been initialised yet (package
// initialisation order), the executor is made at the first call instead.
// A bad value gives an executor that fails every call with the reason:
// decoration happens at package initialisation, where a panic would be a
// stack trace before main.
func executorFromEnv() backend.Executor {
	v := os.Getenv(EnvExecutor)
	if v == "" || v == "local" || registry.InWorker() {
		return nil
	}
	envExecutors.mu.Lock()
	defer envExecutors.mu.Unlock()
	if e, ok := envExecutors.m[v]; ok {
		return e
	}
	scheme, _, _ := strings.Cut(v, ":")
	var e backend.Executor
	if _, ok := registry.Scheme(scheme); ok {
		e = makeEnvExecutor(v)
	} else {
		e = &lateExecutor{value: v}
	}
	envExecutors.m[v] = e
	return e
}

// makeEnvExecutor runs the factory DECO_EXECUTOR=v names, or returns an
// executor that fails every call with the reason it cannot.
func makeEnvExecutor(v string) backend.Executor {
	scheme, arg, _ := strings.Cut(v, ":")
	factory, ok := registry.Scheme(scheme)
	if !ok {
		return failing{fmt.Errorf("deco: %s=%q: no executor %q is registered (import its package, e.g. github.com/deco-go/deco/process)", EnvExecutor, v, scheme)}
	}
	e, err := factory(arg)
	if err == nil && e == nil {
		err = errors.New("the executor's factory returned no executor")
	}
	if err != nil {
		return failing{fmt.Errorf("deco: %s=%q: %w", EnvExecutor, v, err)}
	}
	return e
}

// failing is the executor of a bad DECO_EXECUTOR: every call fails with
// err, which names the variable and the problem.
type failing struct{ err error }

func (f failing) Execute(context.Context, string, []byte) ([]byte, error) { return nil, f.err }

// lateExecutor is the executor of a DECO_EXECUTOR scheme whose package was
// not yet initialised when a function was decorated: it is made at the
// first call.
type lateExecutor struct {
	value string
	once  sync.Once
	e     backend.Executor
}

func (l *lateExecutor) Execute(ctx context.Context, name string, arg []byte) ([]byte, error) {
	l.once.Do(func() { l.e = makeEnvExecutor(l.value) })
	return l.e.Execute(ctx, name, arg)
}

// The backend package describes running calls through this hook (see
// backend.CallOf), since it cannot import this package.
func init() {
	registry.CallOf = func(ctx context.Context) (string, int, int, bool) {
		c := runningCall(ctx)
		if c == nil {
			return "", 0, 0, false
		}
		return c.fn.name, c.index, c.lane, true
	}
}

// ErrLostMutation is wrapped by the error of a call that ran on an
// executor ([github.com/deco-go/deco/backend.Executor]) and changed, in
// place, data that its argument shares with the caller — an element of
// a slice, an entry of a Go map, a field behind a pointer, or a value
// held by a [Map] (a nested write). In this process
// the caller would have seen such a change; from another process it
// cannot be carried back, so deco refuses it rather than lose it
// silently, as Python's deco did. The error names the path of the first
// change found, such as arg.Out.Width or arg.Times[3][0]. Writes made with
// [Map.Set] are not refused: they are replayed (see [Map]).
var ErrLostMutation = errors.New("deco: the task changed data its argument shares with the caller, which cannot be carried back from another process")

// remote returns a function that runs calls of name on e. Its cost per
// call, beyond e's: encoding the argument and decoding the outcome, and,
// only for argument types that can hold a *Map, a walk to find the Maps.
func remote[A, R any](e backend.Executor, name string) func(context.Context, A) (R, error) {
	hasMaps := shapeOf(typeFor[A]()).hasMaps
	return func(ctx context.Context, a A) (R, error) {
		var zero R
		arg, err := encodeValue(&a)
		if err != nil {
			return zero, fmt.Errorf("deco: %s: cannot encode argument of type %T: %w", name, a, err)
		}
		var maps map[uint64]replayable
		if hasMaps {
			maps = findMaps(&a)
		}
		out, err := e.Execute(ctx, name, arg)
		if err != nil {
			var pe *PanicError
			if errors.As(err, &pe) {
				panic(pe)
			}
			return zero, err
		}
		return receive[R](ctx, name, out, maps)
	}
}

// The outcome of a call, as Invoke encodes it: a flags byte, then a gob
// stream of the result (if outResult) and of an outcome (if outOutcome).
// A call that succeeded and wrote into no Map sends only its result.
const (
	outResult  = 1 << 0
	outOutcome = 1 << 1
)

// outcome is what a call reports beyond its result.
type outcome struct {
	Err        string // the task's error, or a failure to encode the result
	Lost       string // a refused in-place change (ErrLostMutation)
	Panicked   bool
	PanicValue string // fmt's %v of the panic value
	PanicStack []byte
	Writes     []mapWrites // the writes of the Maps reachable from the argument
}

// mapWrites are the writes recorded in one Map, encoded by that Map.
type mapWrites struct {
	ID   uint64 // the caller's Map, as its GobEncode identified it
	Data []byte
}

// sendOutcome encodes what Invoke returns: *r if hasResult (see
// valueOf), and o if it is not nil.
func sendOutcome[R any](r *R, hasResult bool, o *outcome) ([]byte, error) {
	var buf bytes.Buffer
	flags := byte(0)
	if hasResult {
		flags |= outResult
	}
	if o != nil {
		flags |= outOutcome
	}
	buf.WriteByte(flags)
	enc := gob.NewEncoder(&buf)
	if hasResult {
		if err := enc.Encode(valueOf(r)); err != nil {
			return nil, err
		}
	}
	if o != nil {
		if err := enc.Encode(o); err != nil {
			return nil, err
		}
	}
	return buf.Bytes(), nil
}

// receive decodes the outcome of a call of name, replays its Map writes
// into maps and returns its result and error, or re-panics with its panic.
func receive[R any](ctx context.Context, name string, out []byte, maps map[uint64]replayable) (R, error) {
	var r R
	if len(out) == 0 {
		return r, fmt.Errorf("deco: %s: the executor returned no outcome", name)
	}
	flags := out[0]
	dec := gob.NewDecoder(bytes.NewReader(out[1:]))
	if flags&outResult != 0 {
		if err := dec.Decode(&r); err != nil {
			var zero R
			return zero, fmt.Errorf("deco: %s: cannot decode result of type %T: %w", name, r, err)
		}
	}
	if flags&outOutcome == 0 {
		return r, nil
	}
	var o outcome
	if err := dec.Decode(&o); err != nil {
		return r, fmt.Errorf("deco: %s: cannot decode the call's outcome: %w", name, err)
	}
	var errs []error
	for _, w := range o.Writes {
		m, ok := maps[w.ID]
		if !ok {
			errs = append(errs, fmt.Errorf("deco: %s: the task wrote into a deco.Map that is not reachable from the argument (inside a type with its own GobEncode?): its writes are lost", name))
			continue
		}
		if err := m.replay(w.Data); err != nil {
			errs = append(errs, fmt.Errorf("deco: %s: cannot replay the task's writes into a deco.Map: %w", name, err))
		}
	}
	if o.Panicked {
		pe := &PanicError{Func: name, Value: o.PanicValue, Stack: o.PanicStack, remote: true}
		if c := runningCall(ctx); c != nil {
			pe.Index = c.index
		}
		panic(pe)
	}
	if o.Err != "" {
		errs = append([]error{errors.New(o.Err)}, errs...)
	}
	if o.Lost != "" {
		errs = append(errs, fmt.Errorf("%w: %s", ErrLostMutation, o.Lost))
	}
	return r, errors.Join(errs...)
}

// encodeValue encodes *p (see valueOf).
func encodeValue[T any](p *T) ([]byte, error) { return encode(valueOf(p)) }

// valueOf returns what to give gob to encode *p: p itself when T is an
// interface type, so that the value crosses as an interface value and
// decodes into a T; else *p (gob mishandles a pointer to a pointer whose
// target has its own GobEncode, such as **Map).
func valueOf[T any](p *T) any {
	if reflect.TypeFor[T]().Kind() == reflect.Interface {
		return p
	}
	return *p
}

func encode(v any) ([]byte, error) {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func decode(b []byte, v any) error {
	return gob.NewDecoder(bytes.NewReader(b)).Decode(v)
}

// shape is what deco needs to know about a type that crosses a process
// boundary. It is worked out once per type.
type shape struct {
	// hasMaps: a *Map may be reachable from a value of the type, through
	// what gob encodes (exported fields, pointers, slices, arrays, maps,
	// interface values).
	hasMaps bool
	// mayAlias: a value of the type may share memory with the value it
	// was copied from (pointers, slices, maps, interface values), so that
	// a task can change what its caller sees.
	mayAlias bool
}

var shapes sync.Map // reflect.Type → shape

func typeFor[T any]() reflect.Type { return reflect.TypeFor[T]() }

func shapeOf(t reflect.Type) shape {
	if s, ok := shapes.Load(t); ok {
		return s.(shape)
	}
	s := computeShape(t, map[reflect.Type]bool{})
	shapes.Store(t, s)
	return s
}

// computeShape works out t's shape by a depth-first walk of the types it
// holds. A type seen before contributes nothing the second time: its
// properties reached the root through its first visit, and only the
// root's result is kept.
func computeShape(t reflect.Type, seen map[reflect.Type]bool) shape {
	if seen[t] {
		return shape{}
	}
	seen[t] = true
	if isMapType(t) {
		v := mapValueType(t)
		return shape{hasMaps: true, mayAlias: computeShape(v, seen).mayAlias}
	}
	if t.Kind() != reflect.Interface && isMarshaler(t) {
		// gob sends what its methods make of it: opaque.
		switch t.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Map:
			return shape{mayAlias: true}
		}
		return shape{}
	}
	switch t.Kind() {
	case reflect.Pointer:
		s := computeShape(t.Elem(), seen)
		return shape{hasMaps: s.hasMaps, mayAlias: true}
	case reflect.Slice:
		s := computeShape(t.Elem(), seen)
		return shape{hasMaps: s.hasMaps, mayAlias: true}
	case reflect.Map:
		k, v := computeShape(t.Key(), seen), computeShape(t.Elem(), seen)
		return shape{hasMaps: k.hasMaps || v.hasMaps, mayAlias: true}
	case reflect.Array:
		return computeShape(t.Elem(), seen)
	case reflect.Interface:
		return shape{hasMaps: true, mayAlias: true}
	case reflect.Struct:
		var s shape
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			fs := computeShape(f.Type, seen)
			s.hasMaps = s.hasMaps || fs.hasMaps
			s.mayAlias = s.mayAlias || fs.mayAlias
		}
		return s
	}
	return shape{}
}

// isMapType reports whether t is *Map[K, V] or Map[K, V].
func isMapType(t reflect.Type) bool {
	if t.Kind() == reflect.Pointer {
		return t.Implements(replayableType)
	}
	return t.Kind() == reflect.Struct && reflect.PointerTo(t).Implements(replayableType)
}

// mapValueType returns V of *Map[K, V] or Map[K, V].
func mapValueType(t reflect.Type) reflect.Type {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	f, _ := t.FieldByName("m")
	return f.Type.Elem()
}

var (
	gobEncoderType      = reflect.TypeFor[gob.GobEncoder]()
	binaryMarshalerType = reflect.TypeFor[encoding.BinaryMarshaler]()
	textMarshalerType   = reflect.TypeFor[encoding.TextMarshaler]()
)

// isMarshaler reports whether gob encodes t with t's own methods.
func isMarshaler(t reflect.Type) bool {
	for _, i := range []reflect.Type{gobEncoderType, binaryMarshalerType, textMarshalerType} {
		if t.Implements(i) || (t.Kind() != reflect.Pointer && reflect.PointerTo(t).Implements(i)) {
			return true
		}
	}
	return false
}

// findMaps returns the Maps reachable from *p, by identity.
func findMaps[T any](p *T) map[uint64]replayable {
	found := map[uint64]replayable{}
	walkMaps(reflect.ValueOf(p).Elem(), func(m replayable) { found[m.identity()] = m })
	return found
}

// walkMaps calls visit for each Map reachable from v the way gob reaches
// values, once per Map.
func walkMaps(v reflect.Value, visit func(replayable)) {
	w := mapWalker{visit: visit, seen: map[unsafe.Pointer]bool{}}
	w.walk(v)
}

type mapWalker struct {
	visit func(replayable)
	seen  map[unsafe.Pointer]bool
}

func (w *mapWalker) walk(v reflect.Value) {
	t := v.Type()
	if !shapeOf(t).hasMaps {
		return
	}
	if isMapType(t) {
		if t.Kind() == reflect.Struct {
			if !v.CanAddr() {
				return
			}
			v = v.Addr()
		}
		if v.IsNil() || w.seen[v.UnsafePointer()] {
			return
		}
		w.seen[v.UnsafePointer()] = true
		w.visit(v.Interface().(replayable))
		return
	}
	switch t.Kind() {
	case reflect.Pointer:
		if v.IsNil() || w.seen[v.UnsafePointer()] {
			return
		}
		w.seen[v.UnsafePointer()] = true
		w.walk(v.Elem())
	case reflect.Interface:
		if !v.IsNil() {
			w.walk(v.Elem())
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			w.walk(v.Index(i))
		}
	case reflect.Map:
		it := v.MapRange()
		for it.Next() {
			w.walk(it.Key())
			w.walk(it.Value())
		}
	case reflect.Struct:
		for i := range t.NumField() {
			if t.Field(i).IsExported() {
				w.walk(v.Field(i))
			}
		}
	}
}
