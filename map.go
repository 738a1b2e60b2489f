package deco

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"iter"
	"maps"
	"reflect"
	"sync"
	"sync/atomic"
)

// Map is a keyed collection that concurrent calls may write into directly,
// as the tasks of Python deco's blog post do with times[offset] = elapsed. It is safe for
// concurrent use; the zero Map is empty and ready to use. A Map must not be
// copied after first use.
//
// A Map keeps, for each key, the value of the last [Map.Set] applied to
// it. Give each call its own key (as deco's rule "all mutations are index
// based" asks): when results must be ordered by call rather than by time,
// return them and use [Assign], which applies them in call order.
// [Map.Overwrites] counts the writes that replaced a value, so a test can
// assert that no two calls wrote the same key.
//
// # Across processes
//
// A *Map reachable from the argument of a call that runs on an executor
// (a worker process, another machine) — the argument itself, or through
// exported struct fields, pointers, slices, arrays, Go maps and interface
// values — is replayed, as Python's deco replays index writes into a dict
// argument:
//
//   - The call sends a copy of the Map's contents, taken when the call
//     starts: cost proportional to its size, per call. The task reads
//     that copy and its own writes.
//   - The task's Set calls are recorded there and sent back with the
//     result, also when the task fails or panics (not when its worker
//     dies). They are applied to the caller's Map when the call's outcome
//     arrives, all of the call's writes at once under the Map's lock,
//     before the call counts as done: when [Func.Wait] or [Synchronized]
//     returns, every call's writes are in. A key that a call Set several
//     times gets its last value.
//   - The conflict rule is the one above: when two calls write one key,
//     the write applied last stays — the call whose outcome arrived last —
//     and Overwrites counts the other, exactly as for calls in this
//     process, whose writes apply when they happen.
//   - Only Set is carried back. A change made in place to a value the
//     task got from the Map (a slice element, an entry of a Go map, a
//     field behind a pointer: a nested write) cannot be, and fails the
//     call with [ErrLostMutation] naming the key. A Map whose values hold
//     *Maps cannot cross at all: encoding it fails, naming the type.
//
// Map implements [encoding/gob.GobEncoder] and [encoding/gob.GobDecoder]
// for this; encoding a Map sends its contents and an identity that only
// this process understands.
type Map[K comparable, V any] struct {
	mu         sync.Mutex
	m          map[K]V
	overwrites int
	id         uint64    // identity in this process, given at the first GobEncode
	from       uint64    // the id of the Map this one was decoded from
	rec        map[K]int // Sets per key, recorded while a task in a worker runs; else nil
}

// Set stores v under k.
func (m *Map[K, V]) Set(k K, v V) {
	m.mu.Lock()
	if m.m == nil {
		m.m = make(map[K]V)
	}
	if _, ok := m.m[k]; ok {
		m.overwrites++
	}
	m.m[k] = v
	if m.rec != nil {
		m.rec[k]++
	}
	m.mu.Unlock()
}

// Get returns the value stored under k and whether there is one.
func (m *Map[K, V]) Get(k K) (V, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.m[k]
	return v, ok
}

// Len reports the number of keys.
func (m *Map[K, V]) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.m)
}

// Overwrites reports how many Set calls replaced a value already stored.
func (m *Map[K, V]) Overwrites() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.overwrites
}

// Snapshot returns a copy of the contents as a plain map, which the caller
// owns.
func (m *Map[K, V]) Snapshot() map[K]V {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[K]V, len(m.m))
	maps.Copy(out, m.m)
	return out
}

// All iterates over a snapshot taken when the iteration starts, in no
// particular order; writes during the iteration are not seen.
func (m *Map[K, V]) All() iter.Seq2[K, V] {
	return func(yield func(K, V) bool) {
		for k, v := range m.Snapshot() {
			if !yield(k, v) {
				return
			}
		}
	}
}

// mapIDs numbers the Maps of this process that have been encoded.
var mapIDs atomic.Uint64

// mapWire is a Map as it crosses a process boundary.
type mapWire[K comparable, V any] struct {
	ID uint64
	M  map[K]V
}

// setsWire is the writes a task made into a Map: the last value of each
// key it Set, and how many times it Set it.
type setsWire[K comparable, V any] struct {
	M    map[K]V
	Sets map[K]int
}

// GobEncode encodes the Map's contents and its identity, so that a task
// in another process can read the contents and its writes can be replayed
// into this Map (see [Map]). It holds the Map's lock while it encodes. It
// fails when V can hold a *Map: nested Maps cannot be replayed.
func (m *Map[K, V]) GobEncode() ([]byte, error) {
	if err := m.checkNesting(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.id == 0 {
		m.id = mapIDs.Add(1)
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(mapWire[K, V]{ID: m.id, M: m.m}); err != nil {
		return nil, fmt.Errorf("deco.Map[%s, %s]: %w", typeFor[K](), typeFor[V](), err)
	}
	return buf.Bytes(), nil
}

// GobDecode replaces the Map's contents with what [Map.GobEncode] sent.
func (m *Map[K, V]) GobDecode(b []byte) error {
	var w mapWire[K, V]
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&w); err != nil {
		return fmt.Errorf("deco.Map[%s, %s]: %w", typeFor[K](), typeFor[V](), err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.m, m.from, m.overwrites = w.M, w.ID, 0
	return nil
}

// checkNesting refuses a Map whose values hold *Maps, statically or, for
// interface values, in fact.
func (m *Map[K, V]) checkNesting() error {
	vt := typeFor[V]()
	if !shapeOf(vt).hasMaps {
		return nil
	}
	nested := vt.Kind() != reflect.Interface
	if !nested {
		m.mu.Lock()
		for _, v := range m.m {
			if len(findMaps(&v)) > 0 {
				nested = true
				break
			}
		}
		m.mu.Unlock()
	}
	if nested {
		return fmt.Errorf("deco.Map[%s, %s]: a Map whose values hold deco.Maps cannot cross a process boundary (writes into nested Maps cannot be replayed)", typeFor[K](), vt)
	}
	return nil
}

// replayable is what deco's walkers see of a *Map of any type.
type replayable interface {
	// identity returns this Map's id, giving it one if needed (caller).
	identity() uint64
	// record starts recording Sets (worker, before the task runs).
	record()
	// recorded returns the writes recorded, or ok false if none (worker).
	recorded() (w mapWrites, ok bool, err error)
	// replay applies writes that recorded encoded (caller).
	replay(data []byte) error
	// eachUnset calls visit with the values of the keys the task did not
	// Set, next to their values in pristine, a Map decoded from the same
	// bytes, until visit returns false (worker).
	eachUnset(pristine replayable, visit func(key any, live, orig reflect.Value) bool)
}

var replayableType = reflect.TypeFor[replayable]()

func (m *Map[K, V]) identity() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.id == 0 {
		m.id = mapIDs.Add(1)
	}
	return m.id
}

func (m *Map[K, V]) record() {
	m.mu.Lock()
	m.rec = make(map[K]int)
	m.mu.Unlock()
}

func (m *Map[K, V]) recorded() (mapWrites, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.rec) == 0 {
		return mapWrites{}, false, nil
	}
	w := setsWire[K, V]{M: make(map[K]V, len(m.rec)), Sets: m.rec}
	for k := range m.rec {
		w.M[k] = m.m[k]
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(w); err != nil {
		return mapWrites{}, false, fmt.Errorf("deco.Map[%s, %s]: cannot encode the task's writes: %w", typeFor[K](), typeFor[V](), err)
	}
	return mapWrites{ID: m.from, Data: buf.Bytes()}, true, nil
}

func (m *Map[K, V]) replay(data []byte) error {
	var w setsWire[K, V]
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&w); err != nil {
		return fmt.Errorf("deco.Map[%s, %s]: %w", typeFor[K](), typeFor[V](), err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m == nil {
		m.m = make(map[K]V, len(w.M))
	}
	for k, v := range w.M {
		if _, ok := m.m[k]; ok {
			m.overwrites++
		}
		m.overwrites += max(w.Sets[k]-1, 0)
		m.m[k] = v
	}
	return nil
}

func (m *Map[K, V]) eachUnset(pristine replayable, visit func(key any, live, orig reflect.Value) bool) {
	p, ok := pristine.(*Map[K, V])
	if !ok || !shapeOf(typeFor[V]()).mayAlias {
		return
	}
	orig := p.Snapshot()
	m.mu.Lock()
	live := make(map[K]V, len(m.m))
	for k, v := range m.m {
		if m.rec[k] == 0 {
			live[k] = v
		}
	}
	m.mu.Unlock()
	for k, v := range live {
		o, had := orig[k]
		if !had {
			continue
		}
		if !visit(k, reflect.ValueOf(&v).Elem(), reflect.ValueOf(&o).Elem()) {
			return
		}
	}
}
