package deco

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"unsafe"
)

// Synchronized runs body with a context that opens a scope, then waits,
// before it returns, for every call started with that context — through
// [Func.GoContext], [AssignContext] or a context derived from it — including
// the calls those calls start with their own context. It is deco's
// @synchronized: body reads like the serial loop and the wait happens at
// the end, with nothing to forget.
//
// Synchronized returns body's error joined with one [CallError] per failed
// call, in call order within the scope. Deferred assignments of the scope's
// calls are applied in call order in the goroutine that called
// Synchronized, before it returns, so the later call wins a key. If a call
// panicked, Synchronized re-panics with its *[PanicError] after every call
// is done, unless [PanicAsError] is given; a panic in body itself is
// re-raised after the calls are done too, and a body that ends its
// goroutine with runtime.Goexit (t.FailNow) still waits for them.
//
// The scope's context is cancelled when Synchronized returns, and, under
// [FailFast], at the first failure: calls not yet started then never start.
// Calls started before body's context is cancelled by the caller fail with
// the context's cause if they have not started.
//
// Synchronized may be called from inside a running call: the waiting call
// lends its slot to the calls it waits for (see [Pool]), so nesting never
// deadlocks, at any depth, any limit and any mix of pools. A call started
// later with the context of a scope that has returned fails at once with
// an error saying so.
//
// Only [FailFast], [PanicAsError] and [StatsTo] apply to a scope; other
// options make Synchronized return an error naming them without running
// body.
func Synchronized(ctx context.Context, body func(ctx context.Context) error, opts ...Option) (err error) {
	if ctx == nil {
		return errors.New("deco: Synchronized with a nil context")
	}
	if body == nil {
		return errors.New("deco: Synchronized with a nil body")
	}
	cfg, err := newConfig(true, opts)
	if err != nil {
		return err
	}
	s := new(scope)
	s.failFast, s.panicAsError = cfg.failFast, cfg.panicError
	if cfg.statsTo != nil {
		s.timing = new(timing)
	}
	cancelled, cancel := context.WithCancelCause(ctx)
	self := &scopeContext{Context: cancelled, s: s}
	// The scope's own context is the batch's: a call of the scope started
	// with it, or with a context that is the same as it (see parentOf),
	// keeps no context of its own and sees this one.
	s.ctx, s.cancel = self, cancel
	s.scoped = true
	// A parent that is never cancelled (Background, a WithoutCancel) leaves
	// the scope's context to the scope: it cancels it after setting
	// stopped (FailFast's first failure, batch.failed) or once its wait has
	// closed it to new calls. So a call that keeps no context of its own
	// learns whether it may start from stopped alone, without reading the
	// context (three calls through interfaces, twice per call).
	s.readsCtx = ctx.Done() != nil
	s.first = nanotime()
	// The waiter is this goroutine. Only a waiter that is a worker runs the
	// scope's queued calls itself (wait), and only StatsTo counts them
	// (stats): otherwise the scope keeps no list of its calls, so that a
	// call is garbage once it is done, as in a function's batch, rather
	// than kept, and marked by every collection, until the scope returns
	// (a spawning scope of 10,000 calls kept 640 KiB of them). Reading the
	// stack here costs what the wait's read cost before: one per scope.
	w := currentWorker()
	s.keepCalls = w != nil || cfg.statsTo != nil

	// A body that ends its goroutine (runtime.Goexit) still leaves no call
	// unwaited and no pool open.
	returned := false
	defer onAbort(&returned, func() {
		s.wait(w)
		s.settle(nil)
		s.cancel(errScopeDone)
		s.releaseCalls()
	})
	var bodyPanic any
	bodyErr := func() (err error) {
		defer func() {
			if r := recover(); r != nil {
				bodyPanic = r
			}
		}()
		return body(self)
	}()
	returned = true
	s.wait(w)
	errs, firstPanic := s.settle(nil)
	s.cancel(errScopeDone)
	if cfg.statsTo != nil {
		*cfg.statsTo = s.stats(nanotime() - s.first)
	}
	s.releaseCalls()
	if bodyPanic != nil {
		panic(bodyPanic)
	}
	if firstPanic != nil {
		panic(firstPanic)
	}
	return errors.Join(append([]error{bodyErr}, errs...)...)
}

var errScopeDone = errors.New("deco: Synchronized has returned")

// scope is the batch of a Synchronized call.
type scope struct {
	batch
	calls     scopeCalls // in call order if keepCalls, else only counted; guarded by batch.mu
	keepCalls bool       // calls keeps the calls: the waiter is a worker, or StatsTo counts them
	// counted: the waiter has added the calls registered so far to
	// pending, and every later call adds itself as it registers; guarded
	// by batch.mu. Until then pending only goes down, as calls finish,
	// like a function's batch's before its seal: a call registering
	// touches no line the workers write (two workers spawning into one
	// scope queued on that line, inside the scope's lock).
	counted bool
	keyed   []any // *mapKeys and *ptrKeys of the scope's Assign and AssignTo calls; guarded by batch.mu
	// slabs are the calls the scope holds for its functions' next calls
	// (scopeCallLocked), one entry per function, the first in room;
	// guarded by batch.mu.
	slabs    []scopeSlab
	lastSlab int // the entry slabOf returned last, which scopeCallLocked looks at first
	room     [1]scopeSlab
}

// scopeSlab is the unused end of a slab of one function's calls that a
// scope holds: n calls from first on, of which used are handed out.
type scopeSlab struct {
	fc      *funcCore
	first   unsafe.Pointer
	n, used int
}

// slabOf returns the scope's entry for fc's calls, adding it if need be.
// s.mu must be held.
func (s *scope) slabOf(fc *funcCore) *scopeSlab {
	for i := range s.slabs {
		if s.slabs[i].fc == fc {
			s.lastSlab = i
			return &s.slabs[i]
		}
	}
	if s.slabs == nil {
		s.slabs = s.room[:0]
	}
	s.slabs = append(s.slabs, scopeSlab{fc: fc})
	s.lastSlab = len(s.slabs) - 1
	return &s.slabs[s.lastSlab]
}

// scopeContext is the context body receives: it carries the scope.
type scopeContext struct {
	context.Context
	s *scope
}

type scopeKey struct{}

func (c *scopeContext) Value(key any) any {
	if key == (scopeKey{}) {
		return c.s
	}
	return c.Context.Value(key)
}

func (c *scopeContext) String() string { return fmt.Sprintf("%v.WithDecoScope", c.Context) }

// parentOf returns the context a call of s started with ctx must keep as
// its own: nil when ctx is, to the call, the same as the scope's context —
// the scope's context itself, or the context of a call of s that keeps no
// context of its own (a task of the scope passing on the context it was
// given). Such a call sees the scope's context as its parent (the batch's
// context, see call.parentContext), with the same deadline, cancellation
// and values: a call's context answers only taskKey itself, which the new
// call's own context answers for it. So a fork-join or spawning task's
// calls take no extra part for their context (72 bytes each). s may be
// nil: then ctx is kept.
func (s *scope) parentOf(ctx context.Context) context.Context {
	if s == nil {
		return ctx
	}
	if sc, ok := ctx.(*scopeContext); ok {
		if sc.s == s {
			return nil
		}
		return ctx
	}
	if cc, ok := ctx.(callContext); ok {
		c := cc.contextCall()
		if c.owner != &s.batch {
			return ctx
		}
		// A call of s: its extra part's parent and running are written
		// before it is queued, if ever (running is written only for
		// calls of a function's batch).
		if e := c.extra.Load(); e == nil || (e.parent == nil && e.running == nil) {
			return nil
		}
	}
	return ctx
}

// scopeOf returns the innermost scope ctx belongs to, or nil.
//
// The two contexts a call is usually started with are answered without a
// Value lookup through the context's chain: a scope's own context, and the
// context of a task of a scope that keeps no context of its own, whose
// parent is the scope's (see parentOf). A spawning task's calls paid ~6%
// of their time walking that chain.
func scopeOf(ctx context.Context) *scope {
	if s := plainScope(ctx); s != nil {
		return s
	}
	s, _ := ctx.Value(scopeKey{}).(*scope)
	return s
}

// plainScope returns the scope of the two contexts a call is usually
// started with (see scopeOf), for which the call keeps no context of its
// own (parentOf), or nil for any other context.
func plainScope(ctx context.Context) *scope {
	switch x := ctx.(type) {
	case *scopeContext:
		return x.s
	case callContext:
		c := x.contextCall()
		if e := c.extra.Load(); c.owner != nil && (e == nil || (e.parent == nil && e.running == nil)) {
			if sc, ok := c.owner.ctx.(*scopeContext); ok {
				return sc.s
			}
		}
	}
	return nil
}

// scopeFor returns scopeOf(ctx) and the context a call of that scope
// started with ctx keeps (parentOf), answering both at once for the two
// contexts a call is usually started with (plainScope), for which it
// keeps none.
func scopeFor(ctx context.Context) (*scope, context.Context) {
	if s := plainScope(ctx); s != nil {
		return s, nil
	}
	s, _ := ctx.Value(scopeKey{}).(*scope)
	return s, s.parentOf(ctx)
}

// registerLocked adds c to the scope, in call order, and keeps p open;
// s.mu must be held (launch adds c's deferred assignment under it). A scope
// that has returned takes no more calls: its context may have been kept
// and used later, and the call then fails at once (the scope is nobody's
// to wait for any more), rather than keep p open for good.
//
// The call is complete (owner, index, queue-wait stamp: weight is its
// queue wait's in its function's sample) before it is in s.calls: from
// then on a waiter of the scope that holds a slot may run it.
func (s *scope) registerLocked(c *callCore, p *Pool, weight int64) error {
	if s.closed {
		c.owner = new(batch)
		return errScopeReturned
	}
	c.owner = &s.batch
	c.index = s.calls.n
	if weight != 0 || s.timing != nil {
		c.fn.stampCall(c, queueStamp(weight, s.timing != nil))
	}
	if s.keepCalls {
		s.calls.add(c)
	} else {
		s.calls.n++
	}
	s.use(p)
	if s.counted {
		s.add()
	}
	return nil
}

// releaseCalls gives the scope's list of calls, and the calls it holds for
// its functions, back once it is over: its wait has returned and its stats
// are taken.
func (s *scope) releaseCalls() {
	s.mu.Lock()
	s.calls.release()
	for _, e := range s.slabs {
		if e.used < e.n {
			// Takes the function's slab lock, never held while s.mu is taken.
			e.fc.giveBack(unsafe.Add(e.first, uintptr(e.used)*e.fc.callSize), e.n-e.used)
		}
	}
	s.slabs, s.lastSlab, s.room = nil, 0, [1]scopeSlab{}
	s.mu.Unlock()
}

// scopeCalls are a scope's calls in call order, in chunks of scopeChunk
// taken from a sync.Pool and given back, cleared, when the scope is over
// (release): a program running many small scopes — a fork-join task per
// element — reuses the same few chunks instead of growing a list per scope
// (a list of 100 calls grown from 8 took 5 allocations, 4 KiB). An entry
// is the call's core, one word, from which its function finds the call
// (funcCore.task): a task interface, two words, cost every call started in
// a scope a second pointer written with the collector's write barrier.
type scopeCalls struct {
	first *[scopeChunk]*callCore
	more  []*[scopeChunk]*callCore // the chunks after first; in room at first
	room  [3]*[scopeChunk]*callCore
	last  *[scopeChunk]*callCore // the chunk add writes to
	n     int
}

// scopeChunk is how many calls a chunk of scopeCalls holds: 1 KiB.
const scopeChunk = 128

var scopeChunks = sync.Pool{New: func() any { return new([scopeChunk]*callCore) }}

func (l *scopeCalls) add(c *callCore) {
	i := uint(l.n) % scopeChunk
	if i == 0 {
		l.grow()
	}
	l.last[i] = c
	l.n++
}

// grow adds a chunk for the next entries. Apart from add, so that add is
// inlined.
func (l *scopeCalls) grow() {
	ch := scopeChunks.Get().(*[scopeChunk]*callCore)
	if l.first == nil {
		l.first, l.more = ch, l.room[:0]
	} else {
		l.more = append(l.more, ch)
	}
	l.last = ch
}

// chunk returns the chunk that holds entry i.
func (l *scopeCalls) chunk(i int) *[scopeChunk]*callCore {
	if i < scopeChunk {
		return l.first
	}
	return l.more[i/scopeChunk-1]
}

// at returns entry i.
func (l *scopeCalls) at(i int) task {
	c := l.chunk(i)[i%scopeChunk]
	return c.fn.task(c)
}

// release clears the list and gives its chunks back.
func (l *scopeCalls) release() {
	for i := 0; i < l.n && l.first != nil; i += scopeChunk { // no chunks if the calls were only counted
		ch := l.chunk(i)
		clear(ch[:min(scopeChunk, l.n-i)])
		scopeChunks.Put(ch)
	}
	*l = scopeCalls{}
}

var errScopeReturned = errors.New("deco: call started with the context of a Synchronized scope that has returned; start it inside the scope's body or with another context")

// wait waits for every call of the scope, including calls registered while
// it waits, then closes the scope to new calls. A waiter that holds a slot
// (a worker, w != nil) runs the scope's calls of its own pool if nobody
// has started them, and helps its pool while it waits, so that a call
// waiting for its children never starves them of its slot.
func (s *scope) wait(w *worker) {
	s.mu.Lock()
	if !s.counted {
		// Under the lock that registers calls: every call is counted
		// once, here or as it registers. pending was at most 0 so far
		// (finished calls only), so it could not have reached 0 early.
		s.counted = true
		s.pending.Add(int64(s.calls.n))
	}
	s.mu.Unlock()
	for {
		if w != nil && s.keepCalls { // kept whenever the waiter is a worker: see Synchronized
			for i := 0; ; i++ {
				s.mu.Lock()
				if i >= s.calls.n {
					s.mu.Unlock()
					break
				}
				t := s.calls.at(i)
				s.mu.Unlock()
				helpOrAwait(t, w)
			}
		}
		s.batch.waitAs(w)
		s.mu.Lock()
		if s.pending.Load() == 0 {
			s.closed = true
			s.mu.Unlock()
			if w != nil {
				flushInline(w) // the calls helpOrAwait ran inline
			}
			return
		}
		s.mu.Unlock()
	}
}
