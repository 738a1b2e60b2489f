package deco

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"hash/maphash"
	"iter"
	"maps"
	"math/bits"
	"reflect"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"
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
// # Cost, blocking and memory
//
// A Map is split by key into shards, a power of two of them, four per
// GOMAXPROCS (as read at the Map's first Set, up to 256); each shard is
// a Go map and a log of the Sets not yet applied to it, under the shard's
// own lock, so calls writing different keys rarely wait for one another
// however many cores run them. [Map.Set] hashes the key once to find its
// shard, locks it and appends the key and the value to its log: no map
// operation. The next operation that reads a shard first applies its
// log to its Go map, in the order of the Sets; so the map operation a Set
// saves is paid by the first read after it, usually after the wait, in
// one goroutine. [Map.Get] locks the key's shard for that and one map
// lookup. [Map.Len], [Map.Overwrites], [Map.Snapshot], the start of
// [Map.All], encoding a Map and applying a call's writes (see below) lock
// every shard, in shard order, for as long as they run: O(shards + Sets
// logged) for Len and Overwrites, O(size) for the others. A shard's log
// holds at most 256 KiB: the Set that finds it full applies it first.
// Set, Get and the others block only while another goroutine holds a lock
// they need, and on nothing but the Map's own locks. Set allocates for the
// Map's shards (at its first Set), for its shard's log (in chunks that
// grow to 4 KiB) and, in a worker process, to record the task's writes;
// applying a log grows the shard's Go map, made for the log's keys when
// the shard has none.
//
// Memory: each key is held by one shard's Go map, at the cost of an entry
// of a map[K]V (the key, the value and a byte of control, in tables that
// grow by doubling). A Set not yet applied is held in its shard's log, its
// key and value, until the next read of the shard, at most 256 KiB per
// shard. A Map that has had a Set also holds its shards: 64 bytes each, a
// Go map's fixed overhead in each shard a key has landed in, and the first
// chunk of its log (up to 8 entries). The zero Map holds nothing until its
// first Set.
//
// Memory model: Map's operations on one key are ordered by its shard's
// lock, and those on the whole Map hold every lock. In the terminology of
// [the Go memory model], a Set is synchronized before every operation that
// observes its value (a Get, Len, Snapshot or All that sees it), so what
// a task wrote before its Set is visible to whoever reads the value. A
// call's Sets, like everything it does, also happen before the return of
// every wait that reports the call, such as [Func.Wait] (see the package
// documentation).
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
//     arrives, all of the call's writes at once under every lock of the
//     Map (a Snapshot sees all of them or none), before the call counts as
//     done: when [Func.Wait] or [Synchronized] returns, every call's
//     writes are in. A key that a call Set several times gets its last
//     value.
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
//
// [the Go memory model]: https://go.dev/ref/mem
type Map[K comparable, V any] struct {
	tab  atomic.Pointer[mapTable[K, V]] // nil until the first Set, decoding or replay; then fixed
	id   atomic.Uint64                  // identity in this process, given at the first GobEncode
	from atomic.Uint64                  // the id of the Map this one was decoded from
}

// Design: shards by key rather than per-worker buffers merged at Wait.
// Sharding keeps every rule of the single-lock Map as it was: one key is
// always in one shard, so its writes are applied, counted and seen in the
// order of its shard's lock, exactly as under one lock, and a Get sees a
// Set as soon as it returns; buffers would need the scheduler's worker
// identity, a merge on every read, and an order between buffers to keep
// "the last Set applied stays". A shard's log keeps that order too (it is
// appended under the shard's lock and applied before any read of the
// shard): with GOMAXPROCS workers writing new keys, the Go map's insert —
// its growth and its cache misses on tables both cores wrote — was 70% of
// a Set (bench/ Gather/deco.Map profile); appended to a log instead, the
// inserts happen at the first read, on one core, into a map made to size
// (Gather/deco.Map 2.09x -> 1.44x handpool, medians of 16 alternated
// rounds, 2 cores, load 5-8).

// mapTable is a Map's shards and what picks a key's shard.
type mapTable[K comparable, V any] struct {
	seed maphash.Seed
	mask uint64 // len(shards) - 1
	// intKey is the size of K when it is an integer kind of 4 or 8
	// bytes, else 0. Such a key picks its shard by a multiply, not by
	// maphash (shard): hashing it with maphash.Comparable was ~35 of the
	// ~150 instructions of a Set (callgrind, bench/ Gather/deco.Map).
	intKey uint8
	shift  uint8  // 64 - log2(len(shards)): an integer key's shard is its product's top bits
	salt   uint64 // added to an integer key before the multiply
	// logMax and chunkMax are logged[K, V] of mapLogBytes and of
	// mapChunkBytes, worked out once: each is a division by the size of
	// an entry, which generic code does at run time.
	logMax, chunkMax int
	shards           []mapShard[K, V]
}

// mapShard is the keys of a Map that hash to it, under its own lock.
type mapShard[K comparable, V any] struct {
	mu         sync.Mutex
	m          map[K]V            // what every Set before the log's holds; read it through mapLocked
	log        [][]mapEntry[K, V] // Sets not applied to m yet, in order, in chunks that are never copied
	logged     int                // Sets in log
	overwrites int
	rec        map[K]int // Sets per key, recorded while a task in a worker runs; else nil
}

// mapEntry is a Set waiting in its shard's log.
type mapEntry[K comparable, V any] struct {
	k K
	v V
}

// mapLogBytes bounds a shard's log: a Set that finds it this full applies
// it first. A chunk of the log holds mapChunkBytes.
const (
	mapLogBytes   = 256 << 10
	mapChunkBytes = 4 << 10
)

// logged returns how many entries of K and V fill n bytes, at least 1.
func logged[K comparable, V any](n int) int {
	return max(1, n/max(1, int(unsafe.Sizeof(mapEntry[K, V]{}))))
}

// maxMapShards bounds the shards of one Map.
const maxMapShards = 256

func newMapTable[K comparable, V any]() *mapTable[K, V] {
	n := 1
	for n < 4*runtime.GOMAXPROCS(0) && n < maxMapShards {
		n <<= 1
	}
	t := &mapTable[K, V]{
		seed:     maphash.MakeSeed(),
		mask:     uint64(n - 1),
		shift:    uint8(64 - bits.TrailingZeros(uint(n))),
		logMax:   logged[K, V](mapLogBytes),
		chunkMax: logged[K, V](mapChunkBytes),
		shards:   make([]mapShard[K, V], n),
	}
	t.salt = maphash.Comparable(t.seed, uint64(0))
	switch kt := reflect.TypeFor[K](); kt.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if kt.Size() == 4 || kt.Size() == 8 {
			t.intKey = uint8(kt.Size())
		}
	}
	return t
}

// table returns m's shards, making them at the first call.
func (m *Map[K, V]) table() *mapTable[K, V] {
	if t := m.tab.Load(); t != nil {
		return t
	}
	t := newMapTable[K, V]()
	if m.tab.CompareAndSwap(nil, t) {
		return t
	}
	return m.tab.Load()
}

// shard returns the shard of k. It hashes k before any lock is taken, so
// a key that cannot be hashed (an interface holding a slice) panics with
// no lock held, as a Go map's would. An integer key (intKey) takes the top
// bits of (k + salt) times 2^64 over the golden ratio, which spreads
// consecutive keys evenly; keys chosen to share a shard only make their
// Sets wait for one another, as a shard's Go map hashes with its own seed.
func (t *mapTable[K, V]) shard(k K) *mapShard[K, V] {
	const golden = 0x9e3779b97f4a7c15
	var i uint64
	switch t.intKey {
	case 8:
		i = (*(*uint64)(unsafe.Pointer(&k)) + t.salt) * golden >> t.shift
	case 4:
		i = (uint64(*(*uint32)(unsafe.Pointer(&k))) + t.salt) * golden >> t.shift
	default:
		i = maphash.Comparable(t.seed, k) & t.mask
	}
	return &t.shards[i]
}

// lockAll locks every shard, in shard order (the one order every
// operation on the whole Map uses, so two of them cannot deadlock).
func (t *mapTable[K, V]) lockAll() {
	for i := range t.shards {
		t.shards[i].mu.Lock()
	}
}

func (t *mapTable[K, V]) unlockAll() {
	for i := range t.shards {
		t.shards[i].mu.Unlock()
	}
}

// lenLocked is the number of keys; every shard must be locked.
func (t *mapTable[K, V]) lenLocked() int {
	n := 0
	for i := range t.shards {
		n += len(t.shards[i].mapLocked())
	}
	return n
}

// putLocked stores v under k in s, counting an overwrite when k had a
// value; s must be locked and its log applied. One map operation: a new
// key grows the map.
func (s *mapShard[K, V]) putLocked(k K, v V) {
	if s.m == nil {
		s.m = make(map[K]V)
	}
	n := len(s.m)
	s.m[k] = v
	if len(s.m) == n {
		s.overwrites++
	}
}

// mapLocked applies the shard's log, in order, and returns its map; s must
// be locked. A shard without a map yet makes it for the log's keys.
func (s *mapShard[K, V]) mapLocked() map[K]V {
	if s.logged == 0 {
		return s.m
	}
	m := s.m
	if m == nil {
		m = make(map[K]V, s.logged)
		s.m = m
	}
	// Each Set adds a key or replaces a value: the ones that added none
	// are the overwrites.
	before := len(m)
	for _, ch := range s.log {
		for i := range ch {
			m[ch[i].k] = ch[i].v
		}
	}
	s.overwrites += s.logged - (len(m) - before)
	// Keep the first chunk for the next Sets.
	first := s.log[0]
	clear(first)
	clear(s.log)
	s.log, s.logged = append(s.log[:0], first[:0]), 0
	return s.m
}

// logLocked appends a Set to the log; s, a shard of t, must be locked.
func (s *mapShard[K, V]) logLocked(t *mapTable[K, V], k K, v V) {
	if s.logged >= t.logMax {
		s.mapLocked()
	}
	if n := len(s.log); n == 0 || len(s.log[n-1]) == cap(s.log[n-1]) {
		// Chunks start small and grow with the log, as a slice would,
		// up to mapChunkBytes, so that a shard of a few keys logs them in
		// a few bytes.
		size := min(t.chunkMax, max(8, s.logged))
		s.log = append(s.log, make([]mapEntry[K, V], 0, size))
	}
	last := &s.log[len(s.log)-1]
	*last = append(*last, mapEntry[K, V]{k, v})
	s.logged++
}

// Set stores v under k. It locks k's shard to append k and v to the
// shard's log, which the next operation that reads the shard applies to
// its Go map (see Map).
func (m *Map[K, V]) Set(k K, v V) {
	t := m.tab.Load()
	if t == nil {
		t = m.table()
	}
	s := t.shard(k)
	s.mu.Lock()
	// logLocked's common case, by hand (generic methods are not inlined):
	// room in the log and in its last chunk.
	if n := len(s.log); n > 0 && s.logged < t.logMax && len(s.log[n-1]) < cap(s.log[n-1]) {
		last := &s.log[n-1]
		*last = append(*last, mapEntry[K, V]{k, v})
		s.logged++
	} else {
		s.logLocked(t, k, v)
	}
	if s.rec != nil {
		s.rec[k]++
	}
	s.mu.Unlock()
}

// Get returns the value stored under k and whether there is one. It locks
// k's shard for one map lookup.
func (m *Map[K, V]) Get(k K) (V, bool) {
	t := m.tab.Load()
	if t == nil {
		var zero V
		return zero, false
	}
	s := t.shard(k)
	s.mu.Lock()
	v, ok := s.mapLocked()[k]
	s.mu.Unlock()
	return v, ok
}

// Len reports the number of keys. It locks every shard at once.
func (m *Map[K, V]) Len() int {
	t := m.tab.Load()
	if t == nil {
		return 0
	}
	t.lockAll()
	defer t.unlockAll()
	return t.lenLocked()
}

// Overwrites reports how many Set calls replaced a value already stored.
// It locks every shard at once.
func (m *Map[K, V]) Overwrites() int {
	t := m.tab.Load()
	if t == nil {
		return 0
	}
	t.lockAll()
	defer t.unlockAll()
	n := 0
	for i := range t.shards {
		t.shards[i].mapLocked()
		n += t.shards[i].overwrites
	}
	return n
}

// Snapshot returns a copy of the contents as a plain map, which the caller
// owns. It locks every shard while it copies.
func (m *Map[K, V]) Snapshot() map[K]V {
	t := m.tab.Load()
	if t == nil {
		return map[K]V{}
	}
	t.lockAll()
	defer t.unlockAll()
	return t.mergedLocked()
}

// mergedLocked is a new map of every shard's keys; every shard must be
// locked.
func (t *mapTable[K, V]) mergedLocked() map[K]V {
	out := make(map[K]V, t.lenLocked())
	for i := range t.shards {
		maps.Copy(out, t.shards[i].mapLocked())
	}
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
// into this Map (see [Map]). It holds every lock of the Map while it
// encodes. It fails when V can hold a *Map: nested Maps cannot be
// replayed.
func (m *Map[K, V]) GobEncode() ([]byte, error) {
	if err := m.checkNesting(); err != nil {
		return nil, err
	}
	w := mapWire[K, V]{ID: m.identity()}
	if t := m.tab.Load(); t != nil {
		t.lockAll()
		defer t.unlockAll()
		w.M = t.mergedLocked()
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(w); err != nil {
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
	t := m.table()
	t.lockAll()
	defer t.unlockAll()
	for i := range t.shards {
		t.shards[i].m, t.shards[i].log, t.shards[i].logged, t.shards[i].overwrites = nil, nil, 0, 0
	}
	for k, v := range w.M {
		t.shard(k).putLocked(k, v)
	}
	m.from.Store(w.ID)
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
	if t := m.tab.Load(); !nested && t != nil {
		t.lockAll()
	search:
		for i := range t.shards {
			for _, v := range t.shards[i].mapLocked() {
				if len(findMaps(&v)) > 0 {
					nested = true
					break search
				}
			}
		}
		t.unlockAll()
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
	// types returns K and V; it does not read the Map, which may be nil.
	types() (k, v reflect.Type)
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
	if id := m.id.Load(); id != 0 {
		return id
	}
	m.id.CompareAndSwap(0, mapIDs.Add(1))
	return m.id.Load()
}

func (*Map[K, V]) types() (k, v reflect.Type) { return typeFor[K](), typeFor[V]() }

func (m *Map[K, V]) record() {
	t := m.table()
	t.lockAll()
	for i := range t.shards {
		t.shards[i].rec = make(map[K]int)
	}
	t.unlockAll()
}

func (m *Map[K, V]) recorded() (mapWrites, bool, error) {
	t := m.tab.Load()
	if t == nil {
		return mapWrites{}, false, nil
	}
	t.lockAll()
	defer t.unlockAll()
	w := setsWire[K, V]{M: make(map[K]V), Sets: make(map[K]int)}
	for i := range t.shards {
		s := &t.shards[i]
		m := s.mapLocked()
		for k, n := range s.rec {
			w.M[k], w.Sets[k] = m[k], n
		}
	}
	if len(w.Sets) == 0 {
		return mapWrites{}, false, nil
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(w); err != nil {
		return mapWrites{}, false, fmt.Errorf("deco.Map[%s, %s]: cannot encode the task's writes: %w", typeFor[K](), typeFor[V](), err)
	}
	return mapWrites{ID: m.from.Load(), Data: buf.Bytes()}, true, nil
}

func (m *Map[K, V]) replay(data []byte) error {
	var w setsWire[K, V]
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&w); err != nil {
		return fmt.Errorf("deco.Map[%s, %s]: %w", typeFor[K](), typeFor[V](), err)
	}
	t := m.table()
	t.lockAll()
	defer t.unlockAll()
	for k, v := range w.M {
		s := t.shard(k)
		s.mapLocked()
		s.putLocked(k, v)
		s.overwrites += max(w.Sets[k]-1, 0)
	}
	return nil
}

func (m *Map[K, V]) eachUnset(pristine replayable, visit func(key any, live, orig reflect.Value) bool) {
	p, ok := pristine.(*Map[K, V])
	if !ok || !shapeOf(typeFor[V]()).mayAlias {
		return
	}
	orig := p.Snapshot()
	live := make(map[K]V)
	if t := m.tab.Load(); t != nil {
		t.lockAll()
		for i := range t.shards {
			s := &t.shards[i]
			for k, v := range s.mapLocked() {
				if s.rec[k] == 0 {
					live[k] = v
				}
			}
		}
		t.unlockAll()
	}
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
