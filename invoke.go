package deco

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"runtime/debug"
)

// The worker's side of a call on an executor: backend.Invoke finds the
// function by name (registry.go) and calls invoke, which decodes the
// argument, runs the task and encodes its whole outcome for receive
// (remote.go) in the caller's process.

// invoke runs one call of fn, sent by another process, and encodes its
// outcome: the result; the task's error or panic; the writes recorded in
// the Maps reachable from the argument; and the first change the task
// made in place to data the argument shares with the caller, which
// cannot be carried back.
func invoke[A, R any](ctx context.Context, name string, fn func(context.Context, A) (R, error), arg []byte) ([]byte, error) {
	var a A
	if err := decodeValue(arg, &a); err != nil {
		return nil, fmt.Errorf("deco: %s: cannot decode argument of type %v: %w", name, typeFor[A](), err)
	}
	sh := shapeOf(typeFor[A]())
	var recs []replayable
	if sh.hasMaps {
		eachMap(reflect.ValueOf(&a).Elem(), func(m replayable) {
			m.record()
			recs = append(recs, m)
		})
	}
	r, err, pe := runRecovered(ctx, name, fn, a)
	var o outcome
	var errs []error
	if err != nil {
		errs = append(errs, err)
	}
	if pe != nil {
		o.Panicked, o.PanicValue, o.PanicStack = true, fmt.Sprint(pe.Value), pe.Stack
		if v, ok := pe.Value.(error); ok {
			o.PanicErr = toWire(v)
		}
	}
	if sh.mayAlias {
		if len(arg) > 0 && arg[0] == valueRaw {
			o.Lost = rawChange(reflect.ValueOf(&a).Elem(), arg)
		} else {
			var orig A
			if decodeValue(arg, &orig) == nil {
				o.Lost = lostChange(reflect.ValueOf(&a).Elem(), reflect.ValueOf(&orig).Elem())
			}
		}
	}
	for _, m := range recs {
		w, ok, werr := m.recorded()
		if werr != nil {
			errs = append(errs, werr)
		} else if ok {
			o.Writes = append(o.Writes, w)
		}
	}
	hasResult := pe == nil
	if hasResult {
		if _, cerr := checkValue(&r, "result"); cerr != nil {
			hasResult = false
			if err == nil {
				errs = append(errs, fmt.Errorf("deco: %s: %w", name, cerr))
			}
		}
	}
	o.Err = toWire(joinErrors(errs))
	var op *outcome
	if o.Err != nil || o.Panicked || o.Lost != "" || len(o.Writes) > 0 {
		op = &o
	}
	out, eerr := encodeOutcome(&r, hasResult, op)
	if eerr == nil {
		return out, nil
	}
	// The result cannot be encoded: report that, unless the call failed
	// anyway.
	if err == nil && pe == nil {
		o.Err = toWire(joinErrors(append(errs, fmt.Errorf("deco: %s: cannot encode result of type %s: %v", name, typeText(r), eerr))))
	}
	out, eerr = encodeOutcome[R](nil, false, &o)
	if eerr != nil {
		return nil, fmt.Errorf("deco: %s: cannot encode the call's outcome: %w", name, eerr)
	}
	return out, nil
}

func joinErrors(errs []error) error {
	if len(errs) == 1 {
		return errs[0]
	}
	return errors.Join(errs...)
}

// runRecovered calls fn, turning a panic into a *PanicError.
func runRecovered[A, R any](ctx context.Context, name string, fn func(context.Context, A) (R, error), a A) (r R, err error, pe *PanicError) {
	defer func() {
		if v := recover(); v != nil {
			pe = &PanicError{Func: name, Value: v, Stack: debug.Stack()}
		}
	}()
	r, err = fn(ctx, a)
	return r, err, nil
}

// typeText names the type of v: its dynamic type when T is an interface
// type.
func typeText[T any](v T) string {
	if any(v) == nil {
		return typeFor[T]().String()
	}
	return fmt.Sprintf("%T", v)
}
