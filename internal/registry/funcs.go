package registry

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"sync"
)

// Func is one named function, as the root package registers it.
type Func struct {
	Where     string // file:line of the decoration, for messages
	Site      string // the decoration's whole stack of callers: its identity
	AtInit    bool   // decorated while packages were initialised: every process of the program has it
	Signature string // the argument and result types, as in "func(main.Job) int"
	// Invoke runs one call sent by another process (see backend.Invoke).
	Invoke func(ctx context.Context, arg []byte) ([]byte, error)
}

var funcs = struct {
	mu     sync.Mutex
	byName map[string]Func
}{byName: map[string]Func{}}

// Register records f under name. It refuses a name that is taken by a
// decoration from another site, or of another signature; the same site
// and signature taking the name again (a test run with -count, a
// function that decorates twice) replaces the entry.
func Register(name string, f Func) error {
	funcs.mu.Lock()
	defer funcs.mu.Unlock()
	if old, dup := funcs.byName[name]; dup && (old.Site != f.Site || old.Signature != f.Signature) {
		return fmt.Errorf("deco: Name(%q) is already taken by the function decorated at %s (this one: %s); names must be unique", name, old.Where, f.Where)
	}
	funcs.byName[name] = f
	return nil
}

// Lookup returns the function registered under name.
func Lookup(name string) (Func, bool) {
	funcs.mu.Lock()
	defer funcs.mu.Unlock()
	f, ok := funcs.byName[name]
	return f, ok
}

// Names lists the registered names, sorted.
func Names() []string {
	funcs.mu.Lock()
	defer funcs.mu.Unlock()
	names := make([]string, 0, len(funcs.byName))
	for n := range funcs.byName {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Fingerprint summarises the names and signatures of the functions
// registered while packages were initialised — the ones every process of
// a program has, workers included: two processes with the same
// fingerprint run the same set of functions.
func Fingerprint() string {
	funcs.mu.Lock()
	defer funcs.mu.Unlock()
	names := make([]string, 0, len(funcs.byName))
	for n, f := range funcs.byName {
		if f.AtInit {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		fmt.Fprintf(h, "%q %s\n", n, funcs.byName[n].Signature)
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}

// Signatures returns every registered name with its signature.
func Signatures() map[string]string {
	funcs.mu.Lock()
	defer funcs.mu.Unlock()
	m := make(map[string]string, len(funcs.byName))
	for n, f := range funcs.byName {
		m[n] = f.Signature
	}
	return m
}
