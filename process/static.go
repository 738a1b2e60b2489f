package process

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"sync"
)

// Static is a large read-only input that tasks share, such as a model, a
// dictionary or a lookup table (deco's issue #63: a big argument was
// pickled again for every call). Its value is sent to each worker process
// once, when a task there first asks for it, not with every call:
//
//	var table = process.NewStatic[[]float64]("table") // package level
//
//	var score = deco.ConcurrentValue(func(x int) float64 {
//		return table.Get()[x] // in whichever process the call runs
//	}, deco.Name("score"), deco.On(cpu))
//
//	func main() {
//		process.Main()
//		table.Set(load()) // before the calls
//		...
//	}
//
// Like the functions that use it, a Static must be made at package level,
// so that every process of the program has it, under a name unique in the
// program. In the process that called Set, [Static.Get] returns the value
// itself; in a worker it returns a copy decoded from the bytes its parent
// sent, once per worker process (a replacement worker receives it again).
// Tasks must not change the value: changes are seen by no other process,
// and in the parent they race with other calls.
type Static[T any] struct {
	name string

	mu    sync.Mutex
	set   bool // Set was called, or the value came from the parent
	value T

	once sync.Once // encodes value for the workers, once
	enc  []byte
	err  error
}

// statics are the Statics of the program, by name.
var statics = struct {
	mu     sync.Mutex
	byName map[string]encoder
}{byName: map[string]encoder{}}

// encoder is what the parent needs of a Static of any type.
type encoder interface {
	encoded() ([]byte, error)
}

// NewStatic returns the Static called name. It panics if name is empty or
// already taken.
func NewStatic[T any](name string) *Static[T] {
	if name == "" {
		panic("process: NewStatic(\"\"): a name must not be empty")
	}
	s := &Static[T]{name: name}
	statics.mu.Lock()
	defer statics.mu.Unlock()
	if _, dup := statics.byName[name]; dup {
		panic(fmt.Sprintf("process: NewStatic(%q): the name is already taken; names must be unique", name))
	}
	statics.byName[name] = s
	return s
}

// Name reports the Static's name.
func (s *Static[T]) Name() string { return s.name }

// Set gives the Static its value, in the parent, before the calls that
// read it start. It panics if the Static already has a value: a Static
// is read-only once tasks may have read it. Set does not encode the
// value; the first worker that asks for it does, once.
func (s *Static[T]) Set(v T) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.set {
		panic(fmt.Sprintf("process: Static %q: Set called twice; a Static is read-only", s.name))
	}
	s.value, s.set = v, true
}

// Get returns the Static's value. In a worker, the first Get asks the
// parent for the value and waits for it (a round trip and a decode, once
// per worker process); later ones return it at once. Get panics, naming
// the Static, if the parent never called Set or the value cannot be
// encoded or decoded: the call then fails with a *deco.PanicError, as for
// any panic in a task. Safe for concurrent use.
func (s *Static[T]) Get() T {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.set {
		return s.value
	}
	c := worker.Load()
	if c == nil {
		panic(fmt.Sprintf("process: Static %q has no value: call Set before the calls that read it", s.name))
	}
	b, err := c.need(s.name)
	if err != nil {
		panic(fmt.Sprintf("process: Static %q: %v", s.name, err))
	}
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&s.value); err != nil {
		panic(fmt.Sprintf("process: Static %q: cannot decode a %T: %v", s.name, s.value, err))
	}
	s.set = true
	return s.value
}

// encoded returns the value's bytes, encoding them the first time.
func (s *Static[T]) encoded() ([]byte, error) {
	s.once.Do(func() {
		s.mu.Lock()
		set, v := s.set, s.value
		s.mu.Unlock()
		if !set {
			s.err = fmt.Errorf("Static %q has no value in the parent: call Set before the calls that read it", s.name)
			return
		}
		var buf bytes.Buffer
		if err := gob.NewEncoder(&buf).Encode(&v); err != nil {
			s.err = fmt.Errorf("Static %q: cannot encode a %T: %v", s.name, v, err)
			return
		}
		s.enc = buf.Bytes()
	})
	return s.enc, s.err
}

// sendStatic answers a worker's request for the Static called name.
func (e *Executor) sendStatic(c *child, name string) {
	statics.mu.Lock()
	s := statics.byName[name]
	statics.mu.Unlock()
	f := &frame{Kind: kindStatic, Name: name}
	if s == nil {
		f.Err = fmt.Sprintf("no Static is named %q in the parent", name)
	} else if b, err := s.encoded(); err != nil {
		f.Err = err.Error()
	} else {
		f.Data = b
	}
	if c.cancels.send(f) == nil && f.Err == "" {
		e.stats.staticSends.Add(1)
	}
}
