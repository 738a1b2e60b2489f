package registry

import (
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
)

// Static is what the executors need of a deco.Static of any type: funcs,
// not methods, so that deco.Static shows no methods for executors.
type Static struct {
	Name    string
	IsSet   func() bool
	Encoded func() (enc []byte, hash string, err error)
}

// StaticSource is the worker side of an executor's transport of Statics
// (see backend.StaticSource).
type StaticSource interface {
	StaticHash(name string) (string, error)
	FetchStatic(name, hash string) ([]byte, error)
}

// statics are the Statics of the program, by name; version counts the
// Statics made and set.
var statics = struct {
	mu      sync.Mutex
	byName  map[string]*Static
	version atomic.Uint64
	source  atomic.Pointer[StaticSource]
}{byName: map[string]*Static{}}

// RegisterStatic adds s; it fails if the name is empty or taken.
func RegisterStatic(s *Static) error {
	if s.Name == "" {
		return fmt.Errorf("deco: NewStatic(\"\"): a name must not be empty")
	}
	statics.mu.Lock()
	defer statics.mu.Unlock()
	if _, dup := statics.byName[s.Name]; dup {
		return fmt.Errorf("deco: NewStatic(%q): the name is already taken; names must be unique in the program", s.Name)
	}
	statics.byName[s.Name] = s
	statics.version.Add(1)
	return nil
}

// StaticSet records a Set.
func StaticSet() { statics.version.Add(1) }

// StaticsVersion changes whenever a Static is made or set.
func StaticsVersion() uint64 { return statics.version.Load() }

// Statics returns the Statics of the program, sorted by name.
func Statics() []*Static {
	statics.mu.Lock()
	all := make([]*Static, 0, len(statics.byName))
	for _, s := range statics.byName {
		all = append(all, s)
	}
	statics.mu.Unlock()
	sort.Slice(all, func(i, j int) bool { return all[i].Name < all[j].Name })
	return all
}

// LookupStatic returns the Static called name.
func LookupStatic(name string) (*Static, bool) {
	statics.mu.Lock()
	defer statics.mu.Unlock()
	s, ok := statics.byName[name]
	return s, ok
}

// ServeStatics makes src the source of this worker's Statics.
func ServeStatics(src StaticSource) {
	if src == nil {
		statics.source.Store(nil)
		return
	}
	statics.source.Store(&src)
}

// Source returns the source of this worker's Statics, or nil.
func Source() StaticSource {
	if p := statics.source.Load(); p != nil {
		return *p
	}
	return nil
}
