package deco

import (
	"errors"
	"sync"
)

// waiter is a Func with calls not yet waited.
type waiter interface {
	waitAny() error
}

// activeSet holds the functions with a batch not yet waited, so that
// WaitAll can flush calls that nobody waited for. A function enters it when
// a batch opens and leaves it when the batch is taken: once per batch, not
// per call.
type activeSet struct {
	mu  sync.Mutex
	set map[waiter]struct{}
}

var active = activeSet{set: make(map[waiter]struct{})}

func (a *activeSet) add(w waiter) {
	a.mu.Lock()
	a.set[w] = struct{}{}
	a.mu.Unlock()
}

func (a *activeSet) remove(w waiter) {
	a.mu.Lock()
	delete(a.set, w)
	a.mu.Unlock()
}

func (a *activeSet) any() waiter {
	a.mu.Lock()
	defer a.mu.Unlock()
	for w := range a.set {
		return w
	}
	return nil
}

// WaitAll waits for every call of every decorated function that nobody has
// waited for yet — deco's calls are never silently lost — and returns their
// errors joined. Call it at the end of main (defer deco.WaitAll()) when
// calls may be left unwaited; afterwards no worker goroutine remains unless
// new calls were started meanwhile. A call that panicked re-panics here,
// as in [Func.Wait]. Calls inside [Synchronized] scopes are always waited
// by their scope and are not WaitAll's concern. Called from inside a
// running call, WaitAll lends the call's slot as every wait does (see
// [Pool]), and panics if it reaches the batch of that very call, which it
// would wait for forever.
func WaitAll() error {
	var errs []error
	for w := active.any(); w != nil; w = active.any() {
		if err := w.waitAny(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
