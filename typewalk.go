package deco

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"math"
	"reflect"
	"unsafe"
)

// The value walker of deco's reading of gob's rules (shape.go has the
// types): one walk, with visitors, for finding Maps, refusing cycles and
// dynamic types that cannot cross, and diffing for lost changes.

// A walker visits what gob would send of a value, or of two values of one
// type in step (live and orig, for the diff). Pointers already visited
// are not visited again: a shared pointer is one value, and a cycle ends.
type walker struct {
	// visitMap is called at each non-nil *Map; orig is the zero Value
	// unless the walk is in step. It returns false to end the walk.
	visitMap func(p *path, live, orig reflect.Value) bool
	// differ walks in step and reports the first difference.
	differ bool
	// cycles: a pointer met again on the way down from the root is a
	// cycle, which ends the walk with err.
	cycles bool

	seen   map[unsafe.Pointer]bool // visited (or, with cycles, being visited)
	done   map[unsafe.Pointer]bool // with cycles: visited completely
	err    error
	found  string // the differ's first difference
	stop   bool
	within string // what the walk is of: "argument", "result"
}

// path is a value's place in the root, built only when a message needs it.
type path struct {
	parent *path
	field  string
	index  int
	key    any
	kind   uint8 // 0 root, 1 field, 2 index, 3 key
	root   string
}

func (p *path) String() string {
	if p == nil {
		return ""
	}
	switch p.kind {
	case 1:
		return p.parent.String() + "." + p.field
	case 2:
		return fmt.Sprintf("%s[%d]", p.parent.String(), p.index)
	case 3:
		return p.parent.String() + keyText(p.key)
	}
	return p.root
}

func newWalker() *walker { return &walker{seen: map[unsafe.Pointer]bool{}} }

// walk visits v (and orig, in step, when the walker is a differ). shared
// is true below a pointer, a slice or a map, where every difference is a
// change the caller would have seen.
func (w *walker) walk(p *path, v, orig reflect.Value, shared bool) {
	if w.stop {
		return
	}
	t := v.Type()
	sh := shapeOf(t)
	switch {
	case w.differ && !shared && !sh.mayAlias:
		return // a copy of value-only data: the task's own
	case !w.differ && !sh.walked():
		return
	}
	switch nodeOf(t) {
	case nodeDecoMap:
		if t.Kind() == reflect.Struct {
			if !v.CanAddr() || (w.differ && !orig.CanAddr()) {
				return
			}
			v = v.Addr()
			if w.differ {
				orig = orig.Addr()
			}
		}
		if w.differ && w.nilDiff(p, v, orig) {
			return
		}
		if v.IsNil() || w.seen[v.UnsafePointer()] {
			return
		}
		w.seen[v.UnsafePointer()] = true
		if w.visitMap != nil && !w.visitMap(p, v, orig) {
			w.stop = true
		}
	case nodeOpaque:
		if w.differ {
			lb, lerr := marshalled(v)
			ob, oerr := marshalled(orig)
			w.same(p, lerr == nil && oerr == nil && bytes.Equal(lb, ob))
		}
	case nodePointer:
		if w.differ && w.nilDiff(p, v, orig) {
			return
		}
		if v.IsNil() {
			return
		}
		ptr := v.UnsafePointer()
		if w.enter(p, ptr) {
			var o reflect.Value
			if w.differ {
				o = orig.Elem()
			}
			w.walk(p, v.Elem(), o, true)
			w.leave(ptr)
		}
	case nodeInterface:
		if w.differ {
			if w.nilDiff(p, v, orig) {
				return
			}
			if v.IsNil() {
				return
			}
			if v.Elem().Type() != orig.Elem().Type() {
				w.diffAt(p)
				return
			}
			w.walk(p, v.Elem(), orig.Elem(), shared)
			return
		}
		if v.IsNil() {
			return
		}
		if err := checkCrossing(v.Elem().Type(), w.within); err != nil {
			w.err = fmt.Errorf("%s holds a %s: %w", pathOrRoot(p), v.Elem().Type(), err)
			w.stop = true
			return
		}
		w.walk(p, v.Elem(), reflect.Value{}, shared)
	case nodeSlice:
		if w.differ {
			if v.Len() != orig.Len() {
				w.diffAt(p)
				return
			}
			if v.Len() == 0 {
				return
			}
			if flat(t.Elem()) {
				n := v.Len() * int(t.Elem().Size())
				lb := unsafe.Slice((*byte)(v.UnsafePointer()), n)
				ob := unsafe.Slice((*byte)(orig.UnsafePointer()), n)
				if bytes.Equal(lb, ob) {
					return
				}
			}
		}
		if v.Len() == 0 {
			return
		}
		ptr := v.UnsafePointer()
		if !w.differ && w.cycles {
			if !w.enter(p, ptr) {
				return
			}
			defer w.leave(ptr)
		}
		w.elems(p, v, orig)
	case nodeArray:
		w.elems(p, v, orig)
	case nodeMap:
		if w.differ {
			if v.IsNil() != orig.IsNil() || v.Len() != orig.Len() {
				w.diffAt(p)
				return
			}
			if !plainKey(t.Key()) {
				return // keys that hold pointers differ between the copies
			}
		}
		if v.IsNil() {
			return
		}
		ptr := v.UnsafePointer()
		if !w.differ {
			if !w.enter(p, ptr) {
				return
			}
			defer w.leave(ptr)
		}
		it := v.MapRange()
		for it.Next() && !w.stop {
			kp := &path{parent: p, kind: 3, key: it.Key().Interface()}
			if w.differ {
				ov := orig.MapIndex(it.Key())
				if !ov.IsValid() {
					w.diffAt(kp)
					return
				}
				w.walk(kp, it.Value(), ov, true)
				continue
			}
			w.walk(kp, it.Key(), reflect.Value{}, true)
			w.walk(kp, it.Value(), reflect.Value{}, true)
		}
	case nodeStruct:
		for i := range t.NumField() {
			if w.stop {
				return
			}
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			var o reflect.Value
			if w.differ {
				o = orig.Field(i)
			}
			w.walk(&path{parent: p, kind: 1, field: f.Name}, v.Field(i), o, shared)
		}
	case nodeScalar:
		if !w.differ {
			return
		}
		switch t.Kind() {
		case reflect.Bool:
			w.same(p, v.Bool() == orig.Bool())
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			w.same(p, v.Int() == orig.Int())
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
			w.same(p, v.Uint() == orig.Uint())
		case reflect.Float32, reflect.Float64:
			w.same(p, math.Float64bits(v.Float()) == math.Float64bits(orig.Float()))
		case reflect.Complex64, reflect.Complex128:
			lc, oc := v.Complex(), orig.Complex()
			w.same(p, math.Float64bits(real(lc)) == math.Float64bits(real(oc)) && math.Float64bits(imag(lc)) == math.Float64bits(imag(oc)))
		case reflect.String:
			w.same(p, v.String() == orig.String())
		}
	}
}

func (w *walker) elems(p *path, v, orig reflect.Value) {
	for i := range v.Len() {
		if w.stop {
			return
		}
		var o reflect.Value
		if w.differ {
			o = orig.Index(i)
		}
		w.walk(&path{parent: p, kind: 2, index: i}, v.Index(i), o, true)
	}
}

// enter marks ptr visited and reports whether to descend into it. With
// cycles, meeting ptr again on the way down ends the walk with an error.
func (w *walker) enter(p *path, ptr unsafe.Pointer) bool {
	if !w.cycles {
		if w.seen[ptr] {
			return false
		}
		w.seen[ptr] = true
		return true
	}
	if w.done == nil {
		w.done = map[unsafe.Pointer]bool{}
	}
	if w.done[ptr] {
		return false
	}
	if w.seen[ptr] {
		w.err = fmt.Errorf("the %s is cyclic: %s refers back to a value that holds it, which gob would follow for ever", w.within, pathOrRoot(p))
		w.stop = true
		return false
	}
	w.seen[ptr] = true
	return true
}

func (w *walker) leave(ptr unsafe.Pointer) {
	if w.cycles {
		delete(w.seen, ptr)
		w.done[ptr] = true
	}
}

func pathOrRoot(p *path) string {
	if s := p.String(); s != "" {
		return s
	}
	return "the value"
}

func (w *walker) diffAt(p *path) {
	if w.found == "" {
		w.found = p.String()
	}
	w.stop = true
}

func (w *walker) same(p *path, eq bool) {
	if !eq {
		w.diffAt(p)
	}
}

// nilDiff reports whether live and orig differ in nil-ness, recording it.
func (w *walker) nilDiff(p *path, live, orig reflect.Value) bool {
	if live.IsNil() == orig.IsNil() {
		return false
	}
	w.diffAt(p)
	return true
}

// checkValue walks *p before it is sent: it returns the Maps it
// carries, by identity, and an error for a cycle or a dynamic value that
// cannot cross. what is "argument" or "result".
func checkValue[T any](p *T, what string) (map[uint64]replayable, error) {
	if !shapeOf(typeFor[T]()).walked() {
		return nil, nil
	}
	var maps map[uint64]replayable
	w := newWalker()
	w.cycles, w.within = true, what
	w.visitMap = func(_ *path, m, _ reflect.Value) bool {
		r := m.Interface().(replayable)
		if maps == nil {
			maps = map[uint64]replayable{}
		}
		maps[r.identity()] = r
		return true
	}
	w.walk(&path{root: rootName(what)}, reflect.ValueOf(p).Elem(), reflect.Value{}, false)
	return maps, w.err
}

func rootName(what string) string {
	switch what {
	case "result", "value":
		return what
	}
	return "arg"
}

// findMaps returns the Maps reachable from *p, by identity.
func findMaps[T any](p *T) map[uint64]replayable {
	maps, _ := checkValue(p, "argument")
	return maps
}

// eachMap calls visit with each Map reachable from v, once per Map.
func eachMap(v reflect.Value, visit func(replayable)) {
	w := newWalker()
	w.visitMap = func(_ *path, m, _ reflect.Value) bool {
		visit(m.Interface().(replayable))
		return true
	}
	w.walk(&path{root: "arg"}, v, reflect.Value{}, false)
}

// lostChange compares the argument after the task ran (live) with a fresh
// decoding of the same bytes (orig) and returns the path of the first
// difference, such as arg.Out.Width, or "". The task received a copy of
// live, so a difference is a change made through a pointer, a slice, a Go
// map or a value held by a Map: in this process the caller would have
// seen it. Writes made with Map.Set are not differences.
func lostChange(live, orig reflect.Value) string {
	w := newWalker()
	w.differ = true
	w.visitMap = func(p *path, lv, ov reflect.Value) bool {
		lv.Interface().(replayable).eachUnset(ov.Interface().(replayable), func(key any, l, o reflect.Value) bool {
			w.walk(&path{parent: p, kind: 3, key: key}, l, o, true)
			return !w.stop
		})
		return !w.stop
	}
	w.walk(&path{root: "arg"}, live, orig, false)
	return w.found
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
		return nil, fmt.Errorf("unexported")
	}
	x := v.Interface()
	if v.CanAddr() {
		x = v.Addr().Interface()
	}
	var buf bytes.Buffer
	err := gob.NewEncoder(&buf).Encode(x)
	return buf.Bytes(), err
}
