package cluster

// How deco.Statics travel on a cluster (the caller's side is in
// objects.go): each call carries a header naming every Static of the
// program and the hash of its value; a worker runs at once only calls
// whose headers agree (binding), and a task's first Get of a value
// fetches it from the object store by its hash, once per worker process
// and value.

import (
	"context"
	"fmt"
	"sync"
)

// workerStatics is a worker's backend.StaticSource: the values of the
// calls bound now, fetched from the object store.
type workerStatics struct{}

func (workerStatics) StaticHash(name string) (string, error) {
	sum, ok := bound.lookup(name)
	switch {
	case !ok:
		// The call carries no Statics: its caller has none of this name
		// (a build without it?), or the Get runs outside a call.
		return "", fmt.Errorf("cluster: Static %q is not among the Statics of the calling process (or the Get runs outside a call): make it with deco.NewStatic at package level, so that every process of the program has it", name)
	case sum == "":
		return "", fmt.Errorf("deco: Static %q has no value in the calling process: call Set before the calls that read it", name)
	}
	return sum, nil
}

func (workerStatics) FetchStatic(name, sum string) ([]byte, error) {
	b, err := fetchStatic(sum)
	if err != nil {
		return nil, fmt.Errorf("cluster: Static %q: %v", name, err)
	}
	return b, nil
}

// binding is, in a worker, the Statics' values of the calls that run
// now: refs is the header they carry (the same for all of them), parsed
// into names.
type binding struct {
	mu    sync.Mutex
	refs  string
	names map[string]string // Static name → hash ("" for no value)
	n     int               // calls running under refs
	free  chan struct{}     // closed when n drops to 0, made by the first call that waits for it
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
			}
			b.n++
			b.mu.Unlock()
			return nil
		}
		if b.free == nil {
			b.free = make(chan struct{})
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
	if b.n == 0 && b.free != nil {
		close(b.free)
		b.free = nil
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
