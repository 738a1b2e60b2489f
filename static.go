package deco

import (
	"bytes"
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/deco-go/deco/internal/registry"
)

// Static is a large read-only input that tasks share, such as a model, a
// dictionary or a lookup table: Python deco pickled such an argument again
// for every call. A Static is set once in the calling process and read by
// the tasks with [Static.Get], wherever they run; the same call site works
// unchanged on goroutines, on worker processes or on a cluster, chosen by
// [On] or DECO_EXECUTOR:
//
//	var table = deco.NewStatic[[]float64]("table") // package level
//
//	var score = deco.ConcurrentValue(func(x int) float64 {
//		return table.Get()[x] // in whichever process the call runs
//	}, deco.Name("score"))
//
//	func main() {
//		process.Main() // or cluster.Main(): in a worker, serves calls
//		table.Set(load()) // before the calls
//		...
//	}
//
// In-process a Static is just its value: Get returns what Set stored, at
// the cost of an atomic load, with no copy and no encoding. An executor
// carries the value to its workers its own way, once per worker rather
// than with every call — worker processes ask their parent for it the
// first time a task reads it (github.com/deco-go/deco/process), cluster
// workers fetch it from an object store by its hash
// (github.com/deco-go/deco/cluster) — and [Static.Get] there returns a
// copy decoded from the value's encoding (gob), decoded once per worker
// and value. Values are named by the SHA-256 of their encoding, so a
// worker serving callers with different values tells them apart; how
// executors do it is in package github.com/deco-go/deco/backend.
//
// Like the functions that read it, a Static must be made at package
// level, so that every process of the program has it, under a name unique
// in the program. Its type must be able to cross to another process when
// a task on an executor reads it (exported fields, no funcs or chans):
// otherwise calls fail, naming the field — on worker processes the calls
// that read it, on a cluster every call, since each carries the hashes
// of all the Statics set.
//
// Memory model: Set happens before every Get that returns its value, in
// this process, and before every call started after it, on any executor.
// Tasks must not change the value: in-process the change would race with
// other calls; on an executor no other process would see it.
//
// A Static is safe for concurrent use. It has no Close: it lives as long
// as the program, and so do the copies workers decode.
type Static[T any] struct {
	name  string
	local atomic.Pointer[T] // the value Set in this process

	mu     sync.Mutex    // Set, and the values of a worker
	byHash map[string]*T // in a worker: the values its executor gave, by hash

	once sync.Once // encodes the local value for executors, once
	enc  []byte
	hash string // hex SHA-256 of enc
	err  error
}

// errNilStatic is the panic of a nil *Static's methods.
const errNilStatic = "deco: a nil *Static: make each Static with NewStatic in a package-level variable's initialiser or in init, so that every process of the program (its workers too, which do not run main) has it"

// NewStatic returns the Static called name, with no value yet. Call it at
// package level, as for functions that run on executors. It panics if
// name is empty or is the name of another Static of the program.
func NewStatic[T any](name string) *Static[T] {
	s := &Static[T]{name: name}
	if err := registry.RegisterStatic(&registry.Static{Name: name, IsSet: s.isSet, Encoded: s.encoded}); err != nil {
		panic(err.Error())
	}
	return s
}

// Name reports the Static's name: the one executors carry it under.
func (s *Static[T]) Name() string { return s.name }

// Set gives the Static its value, in the calling process, before the
// calls that read it start. It panics if the Static has a value already:
// a Static is read-only once tasks may have read it. Set neither copies
// nor encodes v; the first executor that needs the value encodes it, once
// (its cost: one gob encoding and one SHA-256 of the bytes). Set does not
// block beyond a mutex.
func (s *Static[T]) Set(v T) {
	if s == nil {
		panic(errNilStatic)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.local.Load() != nil {
		panic(fmt.Sprintf("deco: Static %q: Set called twice; a Static is read-only", s.name))
	}
	s.local.Store(&v)
	registry.StaticSet()
}

// Get returns the Static's value. In the process that called [Static.Set]
// it is the value itself, at the cost of an atomic load. In a worker of an
// executor it is a copy of the value of the caller whose call runs: the
// first Get of each value there waits while the executor fetches it (a
// round trip to the parent, or reads from an object store) and decodes
// it, once per worker process and value; later Gets of the same value
// cost a mutex and a map lookup.
//
// Get panics when there is no value, with a message naming the Static:
// in-process, Set was not called; on an executor, the caller never called
// Set, or the value could not be encoded, fetched or decoded. The call
// that reads it then fails with a *[PanicError], as for any panic in a
// task (or with an error, under [PanicAsError]). A nil *Static — what a
// worker sees of a Static made in main rather than at package level —
// panics saying so.
func (s *Static[T]) Get() T {
	if s == nil {
		// A Static made in main, not at package level, is nil in a worker.
		panic(errNilStatic)
	}
	if p := s.local.Load(); p != nil {
		return *p
	}
	src := registry.Source()
	if src == nil {
		if registry.InWorker() {
			panic(fmt.Sprintf("deco: Static %q has no value in this worker: its executor does not carry Statics (it serves no backend.StaticSource)", s.name))
		}
		panic(fmt.Sprintf("deco: Static %q has no value in the calling process: call Set before the calls that read it", s.name))
	}
	hash, err := src.StaticHash(s.name)
	if err != nil {
		panic(err.Error())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.byHash[hash]; p != nil {
		return *p
	}
	b, err := src.FetchStatic(s.name, hash)
	if err != nil {
		panic(err.Error())
	}
	v := new(T)
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(v); err != nil {
		panic(fmt.Sprintf("deco: Static %q: cannot decode a %T: %v", s.name, *v, err))
	}
	if s.byHash == nil {
		s.byHash = map[string]*T{}
	}
	s.byHash[hash] = v
	return *v
}

// isSet reports whether Set was called in this process.
func (s *Static[T]) isSet() bool { return s.local.Load() != nil }

// encoded returns the encoding of the value Set in this process and its
// hash, encoding it the first time; an error if there is none, or it
// cannot cross to another process.
func (s *Static[T]) encoded() ([]byte, string, error) {
	p := s.local.Load()
	if p == nil && registry.InWorker() {
		// Its value here, if any, came from this worker's caller, and
		// may differ between calls: a nested executor's workers, which
		// keep one value per Static, could mix up callers.
		return nil, "", fmt.Errorf("deco: Static %q has no value to pass on from this worker: a task on an executor cannot hand the Statics it reads on to an executor of its own; pass what the nested calls need in their argument", s.name)
	}
	if p == nil {
		return nil, "", fmt.Errorf("deco: Static %q has no value in the calling process: call Set before the calls that read it", s.name)
	}
	s.once.Do(func() {
		if err := checkCrossing(typeFor[T](), "value"); err != nil {
			s.err = fmt.Errorf("deco: Static %q: %v", s.name, err)
			return
		}
		var buf bytes.Buffer
		if err := gob.NewEncoder(&buf).Encode(p); err != nil {
			s.err = fmt.Errorf("deco: Static %q: cannot encode a %T: %v", s.name, *p, err)
			return
		}
		s.enc = buf.Bytes()
		h := sha256.Sum256(s.enc)
		s.hash = hex.EncodeToString(h[:])
	})
	return s.enc, s.hash, s.err
}
