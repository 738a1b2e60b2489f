package deco

import (
	"encoding"
	"encoding/gob"
	"fmt"
	"reflect"
	"strings"
	"sync"
)

// This file and typewalk.go are deco's one reading of gob's rules: which
// parts of a value cross a process boundary. Here a type is classified
// once (node, shape) and checked (checkCrossing); typewalk.go's one value
// walker visits what crosses, for every purpose: finding the Maps an
// argument carries, refusing cycles and dynamic types that cannot cross,
// and diffing a task's argument against a pristine copy.

// node is how gob treats a type.
type node uint8

const (
	nodeScalar    node = iota // bool, numbers, string
	nodeDecoMap               // *Map[K, V] or Map[K, V]: encodes itself, replayed by deco
	nodeOpaque                // encodes itself (GobEncoder, BinaryMarshaler, TextMarshaler)
	nodePointer               // gob sends the pointee
	nodeInterface             // gob sends the dynamic value, by its registered name
	nodeSlice
	nodeArray
	nodeMap
	nodeStruct
	nodeRefused // chan, func, unsafe.Pointer: gob cannot send it
)

func nodeOf(t reflect.Type) node {
	if isMapType(t) {
		return nodeDecoMap
	}
	if t.Kind() != reflect.Interface && isMarshaler(t) {
		return nodeOpaque
	}
	switch t.Kind() {
	case reflect.Pointer:
		return nodePointer
	case reflect.Interface:
		return nodeInterface
	case reflect.Slice:
		return nodeSlice
	case reflect.Array:
		return nodeArray
	case reflect.Map:
		return nodeMap
	case reflect.Struct:
		return nodeStruct
	case reflect.Chan, reflect.Func, reflect.UnsafePointer:
		return nodeRefused
	}
	return nodeScalar
}

// shape is what deco needs to know about a type that crosses a process
// boundary. It is worked out once per type.
type shape struct {
	// hasMaps: a *Map may be reachable from a value of the type, through
	// what gob encodes.
	hasMaps bool
	// mayAlias: a value of the type may share memory with the value it
	// was copied from (pointers, slices, maps, interface values), so that
	// a task can change what its caller sees.
	mayAlias bool
	// dynamic: a value may hold interface values, whose dynamic types are
	// checked when the value is encoded.
	dynamic bool
	// cyclic: a value may refer to itself (the type is recursive through
	// pointers, slices or maps, or holds interface values), which gob
	// would follow for ever.
	cyclic bool
	// refused explains why the type cannot cross, or is "".
	refused string
}

// walked reports whether an encoded value of the type needs a value walk
// before it is sent: for Maps, cycles or dynamic types.
func (s shape) walked() bool { return s.hasMaps || s.dynamic || s.cyclic }

var shapes sync.Map // reflect.Type → shape

func typeFor[T any]() reflect.Type { return reflect.TypeFor[T]() }

func shapeOf(t reflect.Type) shape {
	if s, ok := shapes.Load(t); ok {
		return s.(shape)
	}
	sw := shapeWalk{state: map[reflect.Type]uint8{}}
	s := sw.shape(t, "$")
	s.cyclic = s.cyclic || sw.recursive
	shapes.Store(t, s)
	return s
}

// shapeWalk is a depth-first walk of the types a type holds. A type seen
// before contributes nothing the second time: its properties reached the
// root through its first visit, and only the root's result is kept. A
// type met again while it is being walked makes the root recursive.
type shapeWalk struct {
	state     map[reflect.Type]uint8 // 1: being walked, 2: done
	recursive bool
}

// shape returns t's shape; path names where t sits in the root, as in
// "$.Items[].Owner", for the refusal message ($ is the root).
func (w *shapeWalk) shape(t reflect.Type, path string) shape {
	switch w.state[t] {
	case 1:
		w.recursive = true
		return shape{}
	case 2:
		return shape{}
	}
	w.state[t] = 1
	defer func() { w.state[t] = 2 }()
	switch nodeOf(t) {
	case nodeDecoMap:
		v := w.shape(mapValueType(t), path+"[]")
		k := w.shape(mapKeyType(t), path+"[key]")
		return shape{hasMaps: true, mayAlias: v.mayAlias, dynamic: v.dynamic || k.dynamic, refused: first(k.refused, v.refused)}
	case nodeOpaque:
		switch t.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Map:
			return shape{mayAlias: true}
		}
		return shape{}
	case nodeRefused:
		return shape{refused: fmt.Sprintf("%s is a %s, which cannot be sent to another process", pathOr(path, t), t.Kind())}
	case nodePointer:
		s := w.shape(t.Elem(), path)
		s.mayAlias = true
		return s
	case nodeSlice:
		s := w.shape(t.Elem(), path+"[]")
		s.mayAlias = true
		return s
	case nodeMap:
		k, v := w.shape(t.Key(), path+"[key]"), w.shape(t.Elem(), path+"[]")
		return shape{hasMaps: k.hasMaps || v.hasMaps, mayAlias: true, dynamic: k.dynamic || v.dynamic, refused: first(k.refused, v.refused)}
	case nodeArray:
		return w.shape(t.Elem(), path+"[]")
	case nodeInterface:
		return shape{hasMaps: true, mayAlias: true, dynamic: true, cyclic: true}
	case nodeStruct:
		var s shape
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				if s.refused == "" {
					s.refused = fmt.Sprintf("field %s.%s is unexported, and gob would drop it silently (export it, or give %s a GobEncode method)", path, f.Name, t)
				}
				continue
			}
			fs := w.shape(f.Type, path+"."+f.Name)
			s.hasMaps = s.hasMaps || fs.hasMaps
			s.mayAlias = s.mayAlias || fs.mayAlias
			s.dynamic = s.dynamic || fs.dynamic
			s.cyclic = s.cyclic || fs.cyclic
			s.refused = first(s.refused, fs.refused)
		}
		return s
	}
	return shape{}
}

func first(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func pathOr(path string, t reflect.Type) string {
	if path == "$" {
		return "the value (" + t.String() + ")"
	}
	return path + " (" + t.String() + ")"
}

// checkCrossing returns an error when values of t cannot cross a process
// boundary as they are, naming the first part that cannot, with its path
// from what, such as "argument" or "result".
func checkCrossing(t reflect.Type, what string) error {
	s := shapeOf(t)
	if s.refused == "" {
		return nil
	}
	return fmt.Errorf("the %s type %s cannot cross to another process: %s", what, t, strings.ReplaceAll(s.refused, "$", rootName(what)))
}

// isMapType reports whether t is *Map[K, V] or Map[K, V].
func isMapType(t reflect.Type) bool {
	if t.Kind() == reflect.Pointer {
		return t.Implements(replayableType)
	}
	return t.Kind() == reflect.Struct && reflect.PointerTo(t).Implements(replayableType)
}

// mapValueType and mapKeyType return V and K of *Map[K, V] or Map[K, V].
func mapValueType(t reflect.Type) reflect.Type {
	_, v := mapTypes(t)
	return v
}

func mapKeyType(t reflect.Type) reflect.Type {
	k, _ := mapTypes(t)
	return k
}

func mapTypes(t reflect.Type) (k, v reflect.Type) {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return reflect.Zero(reflect.PointerTo(t)).Interface().(replayable).types()
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
