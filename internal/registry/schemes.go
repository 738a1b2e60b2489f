package registry

import (
	"context"
	"fmt"
	"sync"
)

// Executor is backend.Executor's method set, so that this package can hold
// executors without importing backend.
type Executor interface {
	Execute(ctx context.Context, name string, arg []byte) ([]byte, error)
}

// Factory makes an executor from the text after "scheme:".
type Factory func(arg string) (Executor, error)

var schemes = struct {
	mu    sync.Mutex
	byKey map[string]Factory
}{byKey: map[string]Factory{}}

// RegisterScheme records factory for scheme, refusing a second one.
func RegisterScheme(scheme string, factory Factory) error {
	schemes.mu.Lock()
	defer schemes.mu.Unlock()
	if _, dup := schemes.byKey[scheme]; dup {
		return fmt.Errorf("deco: RegisterExecutor(%q) called twice", scheme)
	}
	schemes.byKey[scheme] = factory
	return nil
}

// Scheme returns the factory registered for scheme.
func Scheme(scheme string) (Factory, bool) {
	schemes.mu.Lock()
	defer schemes.mu.Unlock()
	f, ok := schemes.byKey[scheme]
	return f, ok
}
