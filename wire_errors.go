package deco

import (
	"context"
	"fmt"
	"reflect"
	"sync"
)

// Errors cross a process boundary as a tree that keeps what errors.Is and
// errors.As look at: each error's text, and for the errors deco knows —
// context.Canceled and context.DeadlineExceeded, the sentinels and types
// registered with [RegisterError] and [RegisterErrorType], *CallError and
// *PanicError — their identity or their fields; the errors an error wraps
// are its children. The caller's side rebuilds the same tree.

// wireError is one error of the tree.
type wireError struct {
	Text     string
	Sentinel string     // a known sentinel's key
	Type     string     // a registered error type's name
	Data     []byte     // the value of that type, gob-encoded
	Call     *wireCall  // a *CallError's fields; its Err is Wrapped[0]
	Panic    *wirePanic // a *PanicError's fields
	Wrapped  []*wireError
}

type wireCall struct {
	Func   string
	Index  int
	Key    string // the key's %#v, when there is one
	HasKey bool
}

type wirePanic struct {
	Func  string
	Index int
	Value string
	Stack []byte
}

// errorKinds are the sentinels and error types that cross as themselves.
var errorKinds = struct {
	mu        sync.Mutex
	sentinels map[string]error
	types     map[string]errorType
	byType    map[reflect.Type]string
}{
	sentinels: map[string]error{
		"context.Canceled":         context.Canceled,
		"context.DeadlineExceeded": context.DeadlineExceeded,
		"deco.ErrCancelled":        ErrCancelled,
	},
	types:  map[string]errorType{},
	byType: map[reflect.Type]string{},
}

type errorType struct {
	encode func(error) ([]byte, error)
	decode func([]byte) (error, error)
}

// sentinelKey returns err's key if it is a known sentinel.
func sentinelKey(err error) (string, bool) {
	if !reflect.TypeOf(err).Comparable() {
		return "", false
	}
	errorKinds.mu.Lock()
	defer errorKinds.mu.Unlock()
	for k, s := range errorKinds.sentinels {
		if s == err {
			return k, true
		}
	}
	return "", false
}

// maxErrorDepth bounds the tree, against an error that wraps itself.
const maxErrorDepth = 32

// toWire describes err for the other side.
func toWire(err error) *wireError {
	return toWireDepth(err, 0)
}

func toWireDepth(err error, depth int) *wireError {
	if err == nil {
		return nil
	}
	w := &wireError{Text: err.Error()}
	if depth >= maxErrorDepth {
		return w
	}
	if k, ok := sentinelKey(err); ok {
		w.Sentinel = k
		return w
	}
	switch e := err.(type) {
	case *CallError:
		w.Call = &wireCall{Func: e.Func, Index: e.Index}
		if e.Key != nil {
			w.Call.Key, w.Call.HasKey = fmt.Sprintf("%#v", e.Key), true
		}
		w.Wrapped = []*wireError{toWireDepth(e.Err, depth+1)}
		return w
	case *PanicError:
		w.Panic = &wirePanic{Func: e.Func, Index: e.Index, Value: fmt.Sprint(e.Value), Stack: e.Stack}
		if v, ok := e.Value.(error); ok {
			w.Wrapped = []*wireError{toWireDepth(v, depth+1)}
		}
		return w
	}
	errorKinds.mu.Lock()
	name, ok := errorKinds.byType[reflect.TypeOf(err)]
	et := errorKinds.types[name]
	errorKinds.mu.Unlock()
	if ok {
		if data, eerr := et.encode(err); eerr == nil {
			w.Type, w.Data = name, data
			return w
		}
	}
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		if inner := u.Unwrap(); inner != nil {
			w.Wrapped = []*wireError{toWireDepth(inner, depth+1)}
		}
	case interface{ Unwrap() []error }:
		for _, inner := range u.Unwrap() {
			if inner != nil {
				w.Wrapped = append(w.Wrapped, toWireDepth(inner, depth+1))
			}
		}
	}
	return w
}

// fromWire rebuilds the error w describes.
func fromWire(w *wireError) error {
	if w == nil {
		return nil
	}
	if w.Sentinel != "" {
		errorKinds.mu.Lock()
		s, ok := errorKinds.sentinels[w.Sentinel]
		errorKinds.mu.Unlock()
		if ok {
			return s
		}
	}
	var wrapped []error
	for _, c := range w.Wrapped {
		wrapped = append(wrapped, fromWire(c))
	}
	switch {
	case w.Call != nil:
		ce := &CallError{Func: w.Call.Func, Index: w.Call.Index}
		if w.Call.HasKey {
			ce.Key = w.Call.Key
		}
		if len(wrapped) > 0 {
			ce.Err = wrapped[0]
		}
		return ce
	case w.Panic != nil:
		pe := &PanicError{Func: w.Panic.Func, Index: w.Panic.Index, Value: w.Panic.Value, Stack: w.Panic.Stack, remote: true}
		if len(wrapped) > 0 {
			pe.Value = wrapped[0]
		}
		return pe
	case w.Type != "":
		errorKinds.mu.Lock()
		et, ok := errorKinds.types[w.Type]
		errorKinds.mu.Unlock()
		if ok {
			if err, derr := et.decode(w.Data); derr == nil {
				return err
			}
		}
	}
	return &remoteError{text: w.Text, wrapped: wrapped}
}

// remoteError is an error from another process that deco does not know:
// its text, and the errors it wrapped, so that errors.Is and errors.As see
// through it to the known ones.
type remoteError struct {
	text    string
	wrapped []error
}

func (e *remoteError) Error() string   { return e.text }
func (e *remoteError) Unwrap() []error { return e.wrapped }

// registerErrorType records E under its type's name.
func registerErrorType[E error]() {
	t := reflect.TypeFor[E]()
	name := typeName(t)
	et := errorType{
		encode: func(err error) ([]byte, error) {
			e := err.(E)
			return appendValue(nil, &e)
		},
		decode: func(b []byte) (error, error) {
			var e E
			if err := decodeValue(b, &e); err != nil {
				return nil, err
			}
			return e, nil
		},
	}
	errorKinds.mu.Lock()
	defer errorKinds.mu.Unlock()
	errorKinds.types[name] = et
	errorKinds.byType[t] = name
}

// typeName names t the same way in every build of a program: its package
// path and name.
func typeName(t reflect.Type) string {
	prefix := ""
	for t.Kind() == reflect.Pointer {
		prefix += "*"
		t = t.Elem()
	}
	return prefix + t.PkgPath() + "." + t.Name()
}
