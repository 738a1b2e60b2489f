package deco

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"runtime/debug"
	"unsafe"

	"github.com/deco-go/deco/internal/registry"
)

// register records fn under name in the registry of named functions
// (internal/registry), which backend.Invoke reads, refusing a duplicate.
func register[A, R any](name string, fn func(context.Context, A) (R, error), where string) {
	err := registry.Register(name, registry.Func{
		Where:     where,
		Signature: fmt.Sprintf("func(%v) %v", reflect.TypeFor[A](), reflect.TypeFor[R]()),
		Invoke: func(ctx context.Context, arg []byte) ([]byte, error) {
			return invoke(ctx, name, fn, arg)
		},
	})
	if err != nil {
		panic(err.Error())
	}
}

// invoke runs one call of fn, sent by another process, and encodes its
// outcome for remote (see executor.go): the result; the task's error or
// panic; the writes recorded in the Maps reachable from the argument; and
// the first change the task made in place to data the argument shares
// with the caller, which cannot be carried back.
func invoke[A, R any](ctx context.Context, name string, fn func(context.Context, A) (R, error), arg []byte) ([]byte, error) {
	var a A
	if err := decode(arg, &a); err != nil {
		return nil, fmt.Errorf("deco: %s: cannot decode argument of type %T: %w", name, a, err)
	}
	sh := shapeOf(reflect.TypeFor[A]())
	var recs []replayable
	if sh.hasMaps {
		walkMaps(reflect.ValueOf(&a).Elem(), func(m replayable) {
			m.record()
			recs = append(recs, m)
		})
	}
	r, err, pe := runRecovered(ctx, name, fn, a)
	var o outcome
	var errs []string
	if err != nil {
		errs = append(errs, err.Error())
	}
	if pe != nil {
		o.Panicked, o.PanicValue, o.PanicStack = true, fmt.Sprint(pe.Value), pe.Stack
	}
	if sh.mayAlias {
		var orig A
		if decode(arg, &orig) == nil {
			o.Lost = lostChange(reflect.ValueOf(&a).Elem(), reflect.ValueOf(&orig).Elem())
		}
	}
	for _, m := range recs {
		w, ok, werr := m.recorded()
		if werr != nil {
			errs = append(errs, werr.Error())
		} else if ok {
			o.Writes = append(o.Writes, w)
		}
	}
	o.Err = joinText(errs)
	hasOutcome := o.Err != "" || o.Panicked || o.Lost != "" || len(o.Writes) > 0
	op := &o
	if !hasOutcome {
		op = nil
	}
	out, eerr := sendOutcome(&r, pe == nil, op)
	if eerr == nil {
		return out, nil
	}
	// The result cannot be encoded: report that, unless the call failed
	// anyway.
	if err == nil && pe == nil {
		o.Err = joinText(append(errs, fmt.Sprintf("deco: %s: cannot encode result of type %T: %v", name, r, eerr)))
	}
	out, eerr = sendOutcome[R](nil, false, &o)
	if eerr != nil {
		return nil, fmt.Errorf("deco: %s: cannot encode the call's outcome: %w", name, eerr)
	}
	return out, nil
}

func joinText(errs []string) string {
	switch len(errs) {
	case 0:
		return ""
	case 1:
		return errs[0]
	}
	s := errs[0]
	for _, e := range errs[1:] {
		s += "\n" + e
	}
	return s
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

// lostChange compares the argument after the task ran (live) with a fresh
// decoding of the same bytes (orig) and returns the path of the first
// difference, such as arg.Out.Width, or "". The task received a copy of
// live, so a difference is a change made through a pointer, a slice, a Go
// map or a value held by a Map: in this process the caller would have
// seen it. Writes made with Map.Set are not differences.
func lostChange(live, orig reflect.Value) string {
	d := differ{seen: map[unsafe.Pointer]bool{}}
	return d.diff("arg", live, orig, false)
}

type differ struct {
	seen map[unsafe.Pointer]bool
}

// diff compares live and orig, of the same type, at path. shared is true
// below a pointer, a slice or a map, where every difference is a change;
// above it, parts of types without references cannot have changed and
// are skipped.
func (d *differ) diff(path string, live, orig reflect.Value, shared bool) string {
	t := live.Type()
	sh := shapeOf(t)
	if !shared && !sh.mayAlias {
		return ""
	}
	if t.Kind() == reflect.Pointer && t.Implements(replayableType) {
		if live.IsNil() || orig.IsNil() {
			return nilDiff(path, live, orig)
		}
		found := ""
		live.Interface().(replayable).eachUnset(orig.Interface().(replayable), func(key any, lv, ov reflect.Value) bool {
			found = d.diff(path+keyText(key), lv, ov, true)
			return found == ""
		})
		return found
	}
	if t.Kind() != reflect.Interface && isMarshaler(t) {
		lb, lerr := marshalled(live)
		ob, oerr := marshalled(orig)
		if lerr != nil || oerr != nil || !bytes.Equal(lb, ob) {
			return path
		}
		return ""
	}
	switch t.Kind() {
	case reflect.Pointer:
		if live.IsNil() || orig.IsNil() {
			return nilDiff(path, live, orig)
		}
		p := live.UnsafePointer()
		if d.seen[p] {
			return ""
		}
		d.seen[p] = true
		return d.diff(path, live.Elem(), orig.Elem(), true)
	case reflect.Interface:
		if live.IsNil() || orig.IsNil() {
			return nilDiff(path, live, orig)
		}
		if live.Elem().Type() != orig.Elem().Type() {
			return path
		}
		return d.diff(path, live.Elem(), orig.Elem(), shared)
	case reflect.Slice:
		if live.Len() != orig.Len() {
			return path
		}
		if live.Len() == 0 {
			return ""
		}
		if flat(t.Elem()) {
			n := live.Len() * int(t.Elem().Size())
			lb := unsafe.Slice((*byte)(live.UnsafePointer()), n)
			ob := unsafe.Slice((*byte)(orig.UnsafePointer()), n)
			if bytes.Equal(lb, ob) {
				return ""
			}
		}
		for i := range live.Len() {
			if s := d.diff(fmt.Sprintf("%s[%d]", path, i), live.Index(i), orig.Index(i), true); s != "" {
				return s
			}
		}
		return ""
	case reflect.Array:
		for i := range live.Len() {
			if s := d.diff(fmt.Sprintf("%s[%d]", path, i), live.Index(i), orig.Index(i), shared); s != "" {
				return s
			}
		}
		return ""
	case reflect.Map:
		if live.IsNil() != orig.IsNil() || live.Len() != orig.Len() {
			return path
		}
		if !plainKey(t.Key()) {
			return "" // keys that hold pointers differ between the copies
		}
		it := live.MapRange()
		for it.Next() {
			ov := orig.MapIndex(it.Key())
			if !ov.IsValid() {
				return path + keyText(it.Key().Interface())
			}
			if s := d.diff(path+keyText(it.Key().Interface()), it.Value(), ov, true); s != "" {
				return s
			}
		}
		return ""
	case reflect.Struct:
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			if s := d.diff(path+"."+f.Name, live.Field(i), orig.Field(i), shared); s != "" {
				return s
			}
		}
		return ""
	case reflect.Bool:
		return same(path, live.Bool() == orig.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return same(path, live.Int() == orig.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return same(path, live.Uint() == orig.Uint())
	case reflect.Float32, reflect.Float64:
		return same(path, math.Float64bits(live.Float()) == math.Float64bits(orig.Float()))
	case reflect.Complex64, reflect.Complex128:
		lc, oc := live.Complex(), orig.Complex()
		return same(path, math.Float64bits(real(lc)) == math.Float64bits(real(oc)) && math.Float64bits(imag(lc)) == math.Float64bits(imag(oc)))
	case reflect.String:
		return same(path, live.String() == orig.String())
	}
	return ""
}

func same(path string, eq bool) string {
	if eq {
		return ""
	}
	return path
}

func nilDiff(path string, live, orig reflect.Value) string {
	if live.IsNil() == orig.IsNil() {
		return ""
	}
	return path
}

// keyText formats a map key for a path: [3], ["x"].
func keyText(k any) string {
	s := fmt.Sprintf("%#v", k)
	if len(s) > 40 {
		s = s[:37] + "..."
	}
	return "[" + s + "]"
}

// flat reports whether values of t are plain bits without padding, so
// that two slices of them compare as memory.
func flat(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		return true
	}
	return false
}

// plainKey reports whether map keys of type t compare equal across two
// decodings of the same bytes: no pointers, no interfaces.
func plainKey(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Pointer, reflect.Interface, reflect.Chan, reflect.UnsafePointer:
		return false
	case reflect.Array:
		return plainKey(t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			if !plainKey(t.Field(i).Type) {
				return false
			}
		}
	}
	return true
}

// marshalled returns the bytes gob would send for v, whose type encodes
// itself.
func marshalled(v reflect.Value) ([]byte, error) {
	if v.Kind() == reflect.Pointer && v.IsNil() {
		return nil, nil
	}
	if !v.CanInterface() {
		return nil, errors.New("unexported")
	}
	x := v.Interface()
	if v.CanAddr() {
		x = v.Addr().Interface()
	}
	return encode(x)
}
