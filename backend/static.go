package backend

import (
	"crypto/sha256"
	"encoding/hex"

	"github.com/deco-go/deco/internal/registry"
)

// Static is one deco.Static of the program (see
// [github.com/deco-go/deco.Static]), as an executor sees it on the
// calling side: a name and, once the program has set it, an encoded value
// named by its hash. An executor carries the values its own way, once per
// worker and value rather than with every call, and serves them in the
// worker through a [StaticSource]. Which Statics a call reads is not
// known before it runs, so an executor offers every Static of the program
// ([Statics]) or answers for any of them when asked ([LookupStatic]).
type Static struct{ s *registry.Static }

// Name reports the Static's name, unique in the program.
func (s Static) Name() string { return s.s.Name }

// IsSet reports whether the Static has a value in this process: Set was
// called here. Cost: an atomic load.
func (s Static) IsSet() bool { return s.s.IsSet() }

// Encoded returns the Static's value encoded (gob), as a worker's
// [StaticSource] must hand it back, and its hash: [StaticHash] of enc.
// The first call encodes and hashes the value, once per Static; later
// ones return the same bytes, which the caller must not modify. Encoded
// fails, with an error naming the Static, when the value was not set in
// this process (in a worker, the value its caller sent is not passed on
// to executors of the worker's own: it may differ between callers), or
// cannot be encoded (a type that cannot cross to another process). Safe for concurrent use; it blocks while another goroutine
// encodes the value.
func (s Static) Encoded() (enc []byte, hash string, err error) { return s.s.Encoded() }

// Statics returns every Static of the program, set or not, sorted by
// name. Cost: a copy of the list, under a lock.
func Statics() []Static {
	all := registry.Statics()
	out := make([]Static, len(all))
	for i, s := range all {
		out[i] = Static{s}
	}
	return out
}

// LookupStatic returns the Static called name, as a worker asks for it;
// false if the program has none of that name (then the Static returned is
// the zero one, whose methods must not be called). Cost: a map lookup,
// under a lock.
func LookupStatic(name string) (Static, bool) {
	s, ok := registry.LookupStatic(name)
	return Static{s}, ok
}

// StaticsVersion is a number that changes whenever the program makes a
// Static or sets one: an executor that sends a summary of the values with
// each call (their hashes) makes it again only when the version changed.
// Cost: an atomic load.
func StaticsVersion() uint64 { return registry.StaticsVersion() }

// StaticHash returns the hash that names an encoded value: its SHA-256,
// in lower-case hex. It is what [Static.Encoded] returns, for a worker
// that checks what it received.
func StaticHash(enc []byte) string {
	h := sha256.Sum256(enc)
	return hex.EncodeToString(h[:])
}

// A StaticSource gives the tasks of a worker the values of the Statics
// they read: the worker side of an executor's transport. A worker that
// serves calls installs its source with [ServeStatics] before it runs
// them; Static.Get, in a task, then asks the source for the hash of the
// value of the call that runs now and, the first time it sees that hash,
// for the bytes, which it decodes and keeps for later Gets of the same
// hash. The methods are called from the tasks' goroutines, possibly at
// once, and may block (a round trip, a fetch). Their errors fail the
// call that reads the Static with their text as it is, so they name the
// Static and say what is missing and what to do: for a Static the caller
// did not set, the error of [Static.Encoded] in the caller, or the same
// words: deco: Static "name" has no value in the calling process: call
// Set before the calls that read it.
type StaticSource interface {
	// StaticHash returns the hash of the value the running calls have
	// for the Static called name.
	StaticHash(name string) (hash string, err error)
	// FetchStatic returns the encoded value whose hash is hash, as
	// Static.Encoded returned it in the caller.
	FetchStatic(name, hash string) (enc []byte, err error)
}

// ServeStatics makes src the source of the Statics' values in this
// process, a worker; nil removes it. Without a source, a Get of a Static
// not set in this process fails the call, saying that Set was not called.
// One source serves the process: a later call replaces the earlier one.
func ServeStatics(src StaticSource) { registry.ServeStatics(src) }
