package backend

import (
	"context"
	"fmt"

	"github.com/deco-go/deco/internal/registry"
)

// Invoke runs the function registered under name in this process, with an
// argument encoded by the calling side of an [Executor], and returns the
// call's encoded outcome, which the executor hands back to the caller's
// side unchanged: the result, or the task's error or panic (a panic is
// recovered here and re-raised on the caller's side as a
// *deco.PanicError carrying the task's stack), and the writes the task
// made into deco.Maps reachable from its argument. Invoke's own error is
// for a call that could not run at all: no function of that name in this
// program (a function that runs on workers must be decorated at package
// level, by a variable initialised before main runs), or an argument that
// does not decode. Invoke blocks while the task runs, in the calling
// goroutine; ctx is the task's context. A task that calls runtime.Goexit
// ends the goroutine that called Invoke.
func Invoke(ctx context.Context, name string, arg []byte) ([]byte, error) {
	f, ok := registry.Lookup(name)
	if !ok {
		return nil, fmt.Errorf("deco: no function is named %q in this program (named: %v); a function that runs in worker processes must be decorated at package level, by a variable initialised before main runs, so that every process of the program has it", name, registry.Names())
	}
	return f.Invoke(ctx, arg)
}

// Names lists the names of all named functions of this program, sorted.
func Names() []string { return registry.Names() }

// Fingerprint summarises the named functions decorated while this
// program's packages were initialised — the ones every process of the
// program has, workers included — with the types of their arguments and
// results, as a short string. Two processes with equal fingerprints have
// the same such functions under the same names; a worker whose
// fingerprint differs from its parent's (another build of the program)
// must not serve it, since a call by name could run another function
// there. Functions decorated later (inside main, in a test) do not count:
// workers never have them. Cost: a hash of every name, under a lock.
func Fingerprint() string { return registry.Fingerprint() }
