package deco

import (
	"iter"
	"maps"
	"sync"
)

// Map is a keyed collection that concurrent calls may write into directly,
// as the seed's tasks do with times[offset] = elapsed. It is safe for
// concurrent use; the zero Map is empty and ready to use. A Map must not be
// copied after first use.
//
// A Map keeps, for each key, the value of the last [Map.Set]. Give each
// call its own key (as deco's rule "all mutations are index based" asks):
// when results must be ordered by call rather than by time, return them
// and use [Assign], which applies them in call order. [Map.Overwrites]
// counts the writes that replaced a value, so a test can assert that no
// two calls wrote the same key.
type Map[K comparable, V any] struct {
	mu         sync.Mutex
	m          map[K]V
	overwrites int
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
