package deco

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"unsafe"
)

// The wire format of a call, as remote (the caller's side) and invoke (the
// worker's side) exchange it through an executor. Each message is
// self-contained — any process of the program can decode it, with no
// state shared with its sender — so that a backend may carry it as one
// message (a pipe frame, a queue message):
//
//	argument: value
//	outcome:  flags byte, [uvarint length, value of the result] if outResult,
//	          [gob outcome] if outOutcome
//	value:    0 and a gob stream (type definitions, then the value), or
//	          1 for a nil pointer, which gob cannot send at the top, or
//	          2, the element size and the elements' memory, for a string or
//	          a slice of numbers or bools (raw; little-endian machines only)
//
// The raw form keeps large flat values cheap: gob reads a message larger
// than 10 MB in growing chunks, which made a 100 MiB []byte argument peak
// at about 11 times its size in the worker; raw, it is decoded with one
// allocation of its size, and compared with the bytes it came from for
// lost changes without a second decoding.
//
// Type definitions are built once per type and sender (a gob.Encoder kept
// per type), and compiled once per type and receiver (a gob.Decoder kept
// per type and definitions): a message carries them, but neither side pays
// for them again, so every shape of call costs about what int→int does.
// Types that hold interface values are the exception: gob sends the
// definitions of a concrete type inside the value that first holds it,
// once per encoder, so their messages stand alone only when each has an
// encoder and a decoder of its own.
const (
	outResult  = 1 << 0
	outOutcome = 1 << 1

	valueGob = 0
	valueNil = 1
	valueRaw = 2
)

// rawElemSize returns the element size of t's raw form (see the format),
// or 0 if t has none.
func rawElemSize(t reflect.Type) int {
	if !littleEndian || isMarshaler(t) {
		return 0
	}
	switch {
	case t.Kind() == reflect.String:
		return 1
	case t.Kind() == reflect.Slice && flat(t.Elem()) && t.Elem().Size() < 256:
		return int(t.Elem().Size())
	}
	return 0
}

var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// rawBytes returns the memory of v, a string or a flat slice.
func rawBytes(v reflect.Value) []byte {
	if v.Kind() == reflect.String {
		return unsafe.Slice(unsafe.StringData(v.String()), v.Len())
	}
	if v.Len() == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(v.UnsafePointer()), v.Len()*int(v.Type().Elem().Size()))
}

// outcome is what a call reports beyond its result.
type outcome struct {
	Err        *wireError // the task's error, or a failure to encode the result
	Lost       string     // a refused in-place change (ErrLostMutation)
	Panicked   bool
	PanicValue string     // fmt's %v of the panic value
	PanicErr   *wireError // the panic value, when it is an error
	PanicStack []byte
	Writes     []mapWrites // the writes of the Maps reachable from the argument
}

// mapWrites are the writes recorded in one Map, encoded by that Map.
type mapWrites struct {
	ID   uint64 // the caller's Map, as its GobEncode identified it
	Data []byte
}

// appendValue appends the encoding of *p to b.
func appendValue[T any](b []byte, p *T) ([]byte, error) {
	t := typeFor[T]()
	if t.Kind() == reflect.Pointer && reflect.ValueOf(p).Elem().IsNil() {
		return append(b, valueNil), nil
	}
	if size := rawElemSize(t); size > 0 {
		raw := rawBytes(reflect.ValueOf(p).Elem())
		b = slices.Grow(b, 2+len(raw))
		return append(append(b, valueRaw, byte(size)), raw...), nil
	}
	return codecOf(t).encode(append(b, valueGob), valueOf(p))
}

// decodeValue decodes a value appendValue encoded into *p.
func decodeValue[T any](b []byte, p *T) error {
	if len(b) == 0 {
		return io.ErrUnexpectedEOF
	}
	switch b[0] {
	case valueNil:
		var zero T
		*p = zero
		return nil
	case valueRaw:
		return decodeRaw(b[1:], reflect.ValueOf(p).Elem())
	}
	return codecOf(typeFor[T]()).decode(b[1:], p)
}

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

// encodeOutcome encodes what invoke returns: *r if hasResult, and o if it
// is not nil.
func encodeOutcome[R any](r *R, hasResult bool, o *outcome) ([]byte, error) {
	b := make([]byte, 1, 64)
	if hasResult {
		b[0] |= outResult
		start := len(b)
		b = append(b, make([]byte, binary.MaxVarintLen64)...)
		var err error
		if b, err = appendValue(b, r); err != nil {
			return nil, err
		}
		// Move the value up behind its length.
		n := len(b) - start - binary.MaxVarintLen64
		w := binary.PutUvarint(b[start:], uint64(n))
		copy(b[start+w:], b[start+binary.MaxVarintLen64:])
		b = b[:start+w+n]
	}
	if o != nil {
		b[0] |= outOutcome
		var err error
		if b, err = appendValue(b, o); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// decodeOutcome splits what encodeOutcome made into the result, decoded
// into *r, and the outcome, or nil.
func decodeOutcome[R any](out []byte, r *R) (*outcome, error) {
	if len(out) == 0 {
		return nil, errors.New("the executor returned no outcome")
	}
	flags, rest := out[0], out[1:]
	if flags&outResult != 0 {
		n, w := binary.Uvarint(rest)
		if w <= 0 || n > uint64(len(rest)-w) {
			return nil, errors.New("the outcome is truncated")
		}
		if err := decodeValue(rest[w:w+int(n)], r); err != nil {
			return nil, fmt.Errorf("cannot decode result of type %v: %w", typeFor[R](), err)
		}
		rest = rest[w+int(n):]
	}
	if flags&outOutcome == 0 {
		return nil, nil
	}
	o := new(outcome)
	if err := decodeValue(rest, o); err != nil {
		return nil, fmt.Errorf("cannot decode the call's outcome: %w", err)
	}
	return o, nil
}

// decodeRaw decodes the raw form of a string or flat slice into v.
func decodeRaw(b []byte, v reflect.Value) error {
	size := rawElemSize(v.Type())
	if len(b) == 0 || size == 0 || int(b[0]) != size || (len(b)-1)%size != 0 {
		return fmt.Errorf("a raw value does not fit a %v (elements of %d bytes)", v.Type(), size)
	}
	data := b[1:]
	if v.Kind() == reflect.String {
		v.SetString(string(data))
		return nil
	}
	if len(data) == 0 {
		v.SetZero()
		return nil
	}
	n := len(data) / size
	v.Set(reflect.MakeSlice(v.Type(), n, n))
	copy(rawBytes(v), data)
	return nil
}

// rawChange compares live, a flat slice decoded from the raw value b, with
// b, and returns the path of the first element that differs, or "".
func rawChange(live reflect.Value, b []byte) string {
	if len(b) < 2 || b[0] != valueRaw || live.Kind() != reflect.Slice {
		return ""
	}
	data, size := b[2:], int(b[1])
	lb := rawBytes(live)
	if len(lb) != len(data) {
		return "arg"
	}
	for i := 0; i < len(lb); i += 1 << 16 {
		end := min(i+1<<16, len(lb))
		if !bytes.Equal(lb[i:end], data[i:end]) {
			for j := i; j < end; j++ {
				if lb[j] != data[j] {
					return fmt.Sprintf("arg[%d]", j/size)
				}
			}
		}
	}
	return ""
}
