package deco

import (
	"encoding/gob"
	"errors"
	"io"
	"reflect"
	"sync"
)

// The gob codecs of the wire format (wire.go): encoders kept per type,
// decoders kept per type and set of type definitions, so that definitions
// are built and compiled once while every message stands alone.

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
