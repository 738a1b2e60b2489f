package cluster

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
)

// Static is a large read-only input that tasks on a cluster share, such
// as a model, a dictionary or a lookup table. Its value is not sent with
// every call: the caller puts it once into JetStream's Object Store
// (bucket deco_statics), named by the SHA-256 of its encoding, and calls
// carry only that name; each worker fetches it the first time a task
// there reads it, and keeps it:
//
//	var table = cluster.NewStatic[[]float64]("table") // package level
//
//	var score = deco.ConcurrentValue(func(x int) float64 {
//		return table.Get()[x] // in whichever process the call runs
//	}, deco.Name("score"))
//
//	func main() {
//		cluster.Main()
//		table.Set(load()) // before the calls
//		...
//	}
//
// Like the functions that use it, a Static must be made at package level,
// so that every process of the program has it, under a name unique in the
// program. It is the cluster's counterpart of process.Static (which
// serves worker processes, not cluster workers).
//
// Cost: the first call of a session after a Set encodes the value (gob),
// hashes it and, unless the bucket holds that object already, puts it in
// 128 KiB chunks; then calls cost one header naming each Static and its
// hash. A worker's first Get fetches and decodes the object, once per
// worker process and value. The object is kept in the bucket for
// [ResultTTL] (24 hours by default) after its put — a caller still
// running at half that puts it again — and is not removed at
// [Executor.Close]: another caller with the same value, or a [Durable]
// batch started again, uses the same object. Values larger than
// [MaxStatic] fail the calls of the executor, naming the Static. (A put
// through nats.go v1.55.0's object store may leave one idle goroutine of
// nats.go behind, blocked for ever: a race in its Put's clean-up.)
//
// A worker runs at once only calls whose callers gave every Static the
// same value (the calls of one caller, or of callers with equal values);
// a call of a caller with other values waits until those end, so that Get
// always returns its own caller's value. Tasks must not change the value:
// changes are seen by no other process, and in the caller they race with
// other calls.
type Static[T any] struct {
	name string

	mu     sync.Mutex
	set    bool // Set was called in this process
	value  T
	byHash map[string]T // in a worker: the values fetched, by hash

	once sync.Once // encodes value for the object store, once
	enc  []byte
	sum  string // hex SHA-256 of enc
	err  error
}

// staticValue is what the executor needs of a Static of any type.
type staticValue interface {
	staticName() string
	isSet() bool
	encoded() (enc []byte, sum string, err error)
}

// statics are the Statics of the program, by name; version counts the
// Sets, so that a session notices a value set after its first call.
var statics = struct {
	mu      sync.Mutex
	byName  map[string]staticValue
	version atomic.Int64
}{byName: map[string]staticValue{}}

// NewStatic returns the Static called name. It panics if name is empty or
// already taken.
func NewStatic[T any](name string) *Static[T] {
	if name == "" {
		panic("cluster: NewStatic(\"\"): a name must not be empty")
	}
	s := &Static[T]{name: name}
	statics.mu.Lock()
	defer statics.mu.Unlock()
	if _, dup := statics.byName[name]; dup {
		panic(fmt.Sprintf("cluster: NewStatic(%q): the name is already taken; names must be unique", name))
	}
	statics.byName[name] = s
	statics.version.Add(1)
	return s
}

// Name reports the Static's name.
func (s *Static[T]) Name() string { return s.name }

// Set gives the Static its value, in the caller, before the calls that
// read it start. It panics if the Static already has a value: a Static
// is read-only once tasks may have read it. Set does not encode the
// value; the next call on a cluster does, once.
func (s *Static[T]) Set(v T) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.set {
		panic(fmt.Sprintf("cluster: Static %q: Set called twice; a Static is read-only", s.name))
	}
	s.value, s.set = v, true
	statics.version.Add(1)
}

// Get returns the Static's value. In the process that called Set it is
// the value itself. In a worker it is a copy of the value of the caller
// whose call runs: the first Get of each value fetches it from the object
// store and decodes it (a few round trips per 128 KiB chunk, once per
// worker process and value); later ones return it at once. Get panics,
// naming the Static, if the caller never called Set, or the object is
// missing (expired after [ResultTTL], or removed), corrupt, or does not
// decode: the call then fails with a *deco.PanicError, as for any panic
// in a task. Safe for concurrent use.
func (s *Static[T]) Get() T {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.set {
		return s.value
	}
	sum, ok := bound.lookup(s.name)
	switch {
	case !ok:
		panic(fmt.Sprintf("cluster: Static %q has no value: call Set before the calls that read it", s.name))
	case sum == "":
		panic(fmt.Sprintf("cluster: Static %q has no value in the caller: call Set before the calls that read it", s.name))
	}
	if v, ok := s.byHash[sum]; ok {
		return v
	}
	b, err := fetchStatic(sum)
	if err != nil {
		panic(fmt.Sprintf("cluster: Static %q: %v", s.name, err))
	}
	var v T
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&v); err != nil {
		panic(fmt.Sprintf("cluster: Static %q: cannot decode a %T: %v", s.name, v, err))
	}
	if s.byHash == nil {
		s.byHash = map[string]T{}
	}
	s.byHash[sum] = v
	return v
}

func (s *Static[T]) staticName() string { return s.name }

func (s *Static[T]) isSet() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.set
}

// encoded returns the value's bytes and their hash, encoding them the
// first time.
func (s *Static[T]) encoded() ([]byte, string, error) {
	s.once.Do(func() {
		s.mu.Lock()
		v := s.value
		s.mu.Unlock()
		var buf bytes.Buffer
		if err := gob.NewEncoder(&buf).Encode(&v); err != nil {
			s.err = fmt.Errorf("cluster: Static %q: cannot encode a %T: %v", s.name, v, err)
			return
		}
		s.enc = buf.Bytes()
		h := sha256.Sum256(s.enc)
		s.sum = hex.EncodeToString(h[:])
	})
	return s.enc, s.sum, s.err
}

// setStatics returns the Statics of the program, sorted by name.
func setStatics() []staticValue {
	statics.mu.Lock()
	defer statics.mu.Unlock()
	all := make([]staticValue, 0, len(statics.byName))
	for _, s := range statics.byName {
		all = append(all, s)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].staticName() < all[j].staticName() })
	return all
}

// binding is, in a worker, the Statics' values of the calls that run
// now: refs is the header they carry (the same for all of them), parsed
// into names.
type binding struct {
	mu    sync.Mutex
	refs  string
	names map[string]string // Static name → hash ("" for no value)
	n     int               // calls running under refs
	free  chan struct{}     // closed when n drops to 0
}

// bound is this worker process's binding.
var bound binding

// bind waits until the calls running here, if any, carry refs, and
// counts one more; unbind must follow. Calls of a program without
// Statics carry no refs and never bind.
func (b *binding) bind(ctx context.Context, refs string, names map[string]string) error {
	for {
		b.mu.Lock()
		if b.n == 0 || b.refs == refs {
			if b.n == 0 {
				b.refs, b.names = refs, names
				b.free = make(chan struct{})
			}
			b.n++
			b.mu.Unlock()
			return nil
		}
		free := b.free
		b.mu.Unlock()
		select {
		case <-free:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
}

func (b *binding) unbind() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.n--
	if b.n == 0 {
		close(b.free)
	}
}

// lookup returns the hash of the value of the Static called name in the
// calls running now.
func (b *binding) lookup(name string) (string, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.n == 0 {
		return "", false
	}
	sum, ok := b.names[name]
	return sum, ok
}
