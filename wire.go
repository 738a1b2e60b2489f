package deco

import (
	"bytes"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"sync"
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

// codec keeps gob's encoders and decoders of one type (see the format).
type codec struct {
	typ  reflect.Type
	keep bool // kept encoders and decoders are safe: no interface values
	mu   sync.Mutex
	encs []*keptEncoder
	decs map[string][]*keptDecoder // by the type definitions they have read
}

var codecs sync.Map // reflect.Type → *codec

func codecOf(t reflect.Type) *codec {
	if c, ok := codecs.Load(t); ok {
		return c.(*codec)
	}
	c, _ := codecs.LoadOrStore(t, &codec{typ: t, keep: !shapeOf(t).dynamic, decs: map[string][]*keptDecoder{}})
	return c.(*codec)
}

// keepLimit bounds what a codec keeps: an encoder or decoder that has
// handled a larger message is dropped, not kept with its buffers.
const keepLimit = 1 << 20

// maxDefSets bounds the decoders a codec keeps per type: one set of type
// definitions per sender (in practice per program, or per concrete type
// behind an interface).
const maxDefSets = 16

type keptEncoder struct {
	w    appendWriter
	enc  *gob.Encoder
	defs []byte // every type definition this encoder has sent, in order
}

type appendWriter struct{ b []byte }

func (w *appendWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

// encode appends to b the type definitions of v and v itself, as a gob
// stream that a fresh decoder reads.
func (c *codec) encode(b []byte, v any) ([]byte, error) {
	if !c.keep {
		w := appendWriter{b: b}
		err := gob.NewEncoder(&w).Encode(v)
		return w.b, err
	}
	c.mu.Lock()
	var e *keptEncoder
	if n := len(c.encs); n > 0 {
		e, c.encs = c.encs[n-1], c.encs[:n-1]
	}
	c.mu.Unlock()
	if e == nil {
		e = new(keptEncoder)
		e.enc = gob.NewEncoder(&e.w)
	}
	// Definitions this encoder sent before are not sent again: put them
	// first, so that the message stands alone.
	e.w.b = append(append(b, e.defs...), make([]byte, 0, 32)...)
	start := len(e.w.b)
	if err := e.enc.Encode(v); err != nil {
		e.w.b = nil
		return nil, err // the encoder's state is unknown: drop it
	}
	out := e.w.b
	e.w.b = nil
	// Definitions sent now (a concrete type behind an interface seen for
	// the first time) are all the messages but the last.
	if last := lastMessage(out[start:]); last > 0 {
		e.defs = append(e.defs, out[start:start+last]...)
	} else if last < 0 {
		return nil, errors.New("deco: gob wrote a malformed stream")
	}
	if len(out) <= keepLimit {
		c.mu.Lock()
		c.encs = append(c.encs, e)
		c.mu.Unlock()
	}
	return out, nil
}

type keptDecoder struct {
	r   sliceReader
	dec *gob.Decoder
}

// decode decodes the gob stream b (definitions, then one value) into p.
func (c *codec) decode(b []byte, p any) error {
	if !c.keep {
		return gob.NewDecoder(&sliceReader{b: b}).Decode(p)
	}
	last := lastMessage(b)
	if last < 0 {
		return errors.New("malformed gob stream")
	}
	defs := b[:last]
	c.mu.Lock()
	var d *keptDecoder
	list, known := c.decs[string(defs)]
	if n := len(list); n > 0 {
		d, c.decs[string(defs)] = list[n-1], list[:n-1]
	}
	keep := known || len(c.decs) < maxDefSets
	if !known && keep {
		c.decs[string(defs)] = nil
	}
	c.mu.Unlock()
	if d == nil {
		d = new(keptDecoder)
		d.dec = gob.NewDecoder(&d.r)
		d.r.b = b // a new decoder reads the definitions too
	} else {
		d.r.b = b[last:]
	}
	if err := d.dec.Decode(p); err != nil {
		return err
	}
	d.r.b = nil
	if keep && len(b) <= keepLimit {
		c.mu.Lock()
		c.decs[string(defs)] = append(c.decs[string(defs)], d)
		c.mu.Unlock()
	}
	return nil
}

// sliceReader reads b; as an io.ByteReader it keeps gob from buffering.
type sliceReader struct{ b []byte }

func (r *sliceReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.b)
	r.b = r.b[n:]
	return n, nil
}

func (r *sliceReader) ReadByte() (byte, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c, nil
}

// lastMessage returns the offset of the last message of the gob stream b,
// or -1 if b is not a sequence of whole messages.
func lastMessage(b []byte) int {
	last := -1
	for off := 0; off < len(b); {
		n, w := gobUint(b[off:])
		if w == 0 || n > uint64(len(b)-off-w) {
			return -1
		}
		last = off
		off += w + int(n)
	}
	return last
}

// gobUint decodes a gob unsigned integer: one byte below 128, else a byte
// holding minus the count of big-endian bytes that follow.
func gobUint(b []byte) (uint64, int) {
	if len(b) == 0 {
		return 0, 0
	}
	if b[0] < 0x80 {
		return uint64(b[0]), 1
	}
	n := -int(int8(b[0]))
	if n > 8 || len(b) < 1+n {
		return 0, 0
	}
	var x uint64
	for _, c := range b[1 : 1+n] {
		x = x<<8 | uint64(c)
	}
	return x, 1 + n
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
