package deco

import (
	"context"
	"fmt"
	"runtime/debug"
	"sort"
	"sync"
)

// registry maps names to functions, for executors that run calls by name.
var registry = struct {
	mu    sync.Mutex
	funcs map[string]registered
}{funcs: map[string]registered{}}

type registered struct {
	where  string // file:line of the decoration
	invoke func(ctx context.Context, arg []byte) ([]byte, error)
}

// register records fn under name, refusing a duplicate.
func register[A, R any](name string, fn func(context.Context, A) (R, error), where string) {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	// Decorating again at the same place (a function that runs twice, a
	// test run with -count) is no collision: the same code takes the name
	// again. Only two different places claiming one name are refused.
	if old, dup := registry.funcs[name]; dup && old.where != where {
		panic(fmt.Sprintf("deco: Name(%q) is already taken by the function decorated at %s (this one: %s); names must be unique", name, old.where, where))
	}
	registry.funcs[name] = registered{where: where, invoke: func(ctx context.Context, arg []byte) ([]byte, error) {
		var a A
		if err := decode(arg, &a); err != nil {
			return nil, fmt.Errorf("deco: %s: cannot decode argument of type %T: %w", name, a, err)
		}
		r, err := runRecovered(ctx, name, fn, a)
		if err != nil {
			return nil, err
		}
		out, err := encode(r)
		if err != nil {
			return nil, fmt.Errorf("deco: %s: cannot encode result of type %T: %w", name, r, err)
		}
		return out, nil
	}}
}

func runRecovered[A, R any](ctx context.Context, name string, fn func(context.Context, A) (R, error), a A) (r R, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &PanicError{Func: name, Value: v, Stack: debug.Stack()}
		}
	}()
	return fn(ctx, a)
}

// Invoke runs the function registered under name in this process, with an
// argument encoded by the calling side of an [Executor], and returns the
// encoded result. A panic comes back as a *[PanicError]. Backends call it
// in their workers.
func Invoke(ctx context.Context, name string, arg []byte) ([]byte, error) {
	registry.mu.Lock()
	r, ok := registry.funcs[name]
	registry.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("deco: no function is named %q in this program (named: %v)", name, Names())
	}
	return r.invoke(ctx, arg)
}

// Names lists the names of all named functions, sorted.
func Names() []string {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	names := make([]string, 0, len(registry.funcs))
	for n := range registry.funcs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
