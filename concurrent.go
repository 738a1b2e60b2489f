package deco

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"unsafe"

	"github.com/deco-go/deco/backend"
)

// Func is a decorated function: each call started with [Func.Go] (or
// [Func.GoContext], [Assign], [AssignTo]) runs concurrently with the caller
// in the function's pool and returns a [Future] at once. [Func.Wait] waits
// for the calls and returns their results in call order.
//
// # Shapes
//
// One constructor per shape of function, so that the function itself is
// passed as it is, unwrapped, and type inference finds A and R:
//
//	function                                   constructor           Func
//	func(A)                                    Concurrent            Func[A, struct{}]
//	func(A) error                              ConcurrentErr         Func[A, struct{}]
//	func(A) R                                  ConcurrentValue       Func[A, R]
//	func(A) (R, error)                         ConcurrentResult      Func[A, R]
//	func(context.Context, A)                   ConcurrentCtx         Func[A, struct{}]
//	func(context.Context, A) error             ConcurrentCtxErr      Func[A, struct{}]
//	func(context.Context, A) R                 ConcurrentCtxValue    Func[A, R]
//	func(context.Context, A) (R, error)        ConcurrentCtxResult   Func[A, R]
//
// All eight make the same Func: the shape decides only what the function
// can report (an error, a result) and whether it sees the call's context.
// Eight, where conc has six, because Go has no overloading and deco's
// promise is the two-line change: a serial function of any of these shapes
// is decorated without a wrapper closure at the call site, and the
// ctx-shaped ones are where nesting, cancellation and [FailFast]'s cancel
// reach the task. More arguments travel in a struct or a closure.
//
// Which method to call: [Func.Go] for a call whose result the batch
// gathers; [Func.GoContext] inside a [Synchronized] body or a task (pass
// the context you were given); [Assign] and [AssignTo] for
// results[key] = f(x); [Func.Wait] for every result at once, in call order;
// [Func.Completed] or [Func.InOrder] to handle results as they come;
// [Func.Stream] for an unbounded producer in bounded memory; [Func.Split]
// to keep a serial loop's call sites untouched.
//
// A Func is safe for concurrent use. Its calls outside any [Synchronized]
// scope form a batch that the next Wait (or [Func.Completed],
// [Func.InOrder], [WaitAll]) takes whole; calls started inside a scope
// belong to that scope instead.
//
// Memory. A call of a no-op func(int) waiting in the queue takes 56 bytes
// (the call, which links the queue too; more for larger arguments), and
// 80 bytes more if it is sampled for [Stats]' queue wait (1 call in 64, 1
// in 8 of a function's first 512) or belongs to a scope with [StatsTo];
// once it has run, a batch keeps only its result cell (the size of R plus
// 8 bytes, rounded to R's alignment) until Wait
// returns, and a failed call's error. So 10 million calls keep their 10
// million results until Wait, as they must for Wait to return them; with
// [Queue] bounding the queue, that cell is all a batch holds per call. To
// run an unbounded producer in bounded memory, use [Func.Stream], which
// keeps no cell per call.
type Func[A, R any] struct {
	fn func(context.Context, A) (R, error)
	// plain is the func(A) that Concurrent decorated, which a worker's
	// common path (call.run) calls as it is, without fn's wrapper around
	// it; nil for the other shapes and when an executor wraps fn.
	plain func(A)
	core  funcCore
	orig  func(context.Context, A) (R, error) // fn before an executor wraps it, for With
	// origPlain is plain before an executor, for With; remote: fn is an
	// executor's (build).
	origPlain func(A)
	remote    bool

	// mu guards cur and inflight. A private function — one with a pool of
	// its own (no Shared) and an unbounded queue (no Queue), so that
	// nothing else submits to its pool and submitting never blocks — uses
	// the pool's mutex, so that starting a call takes one lock, not two:
	// launch registers the call and pushes it under that one lock, which
	// the workers do not take to take calls (see queue).
	mu       *sync.Mutex
	private  bool
	cur      *funcBatch[A, R]
	inflight []*funcBatch[A, R] // batches taken by a wait and not yet settled; guarded by mu
	// Calls come from two slabs: one under mu for the calls Go starts
	// outside a scope, taken in the same critical section that queues
	// them (one lock per call, not two), and one under slabMu for the
	// calls started with a context, which register in a scope or fetch an
	// extra part under locks of their own. A scope takes that slab whole
	// for its calls that keep no context of their own, and gives back what
	// it did not use (scopeCallLocked), so they take the scope's lock only.
	batchSlab slab[call[A, R]] // guarded by mu
	slabMu    sync.Mutex
	slab      slab[call[A, R]] // calls not handed out yet; guarded by slabMu
	extras    slab[callExtra]  // extras not handed out yet, for calls with a context; guarded by slabMu
}

// slabSize is how many calls one allocation holds: at least 64, and as
// many as fill 8 KiB, one of the allocator's size classes, with the 8-byte
// header the allocator puts before a block of more than 512 bytes that
// holds pointers, so that small calls waste no tail of a larger class
// (128 calls of 64 bytes, 8,192 bytes plus the header, took a 9,472-byte
// block). Slabs are not aligned on cache lines: when calls were 64 bytes,
// a slab aligned on lines (a 56-byte pad after the header) made bench/
// Overhead/shared/deco 15% slower (p=0.012, 26 rounds), likely because
// the caller's link to a call (the next field, the last word of the call
// before it) then no longer shared a line with that call. Calls of 56
// bytes (a no-op func(int)'s, 146 to a slab) start at every offset of a
// line in steps of 8.
func slabSize[T any]() int {
	var x T
	return max(64, (8192-8)/int(unsafe.Sizeof(x)))
}

// funcCore is the part of a Func that does not depend on its types: its
// configuration, kept once (name, queue, failFast, panicError, progress,
// recorder are the options' own), the pool its calls run in, its stats.
type funcCore struct {
	config       // as decorated; With starts from it
	pool   *Pool // Shared's pool, or the function's own
	stats  counters
	task   func(*callCore) task     // the call a callCore of this function is part of
	run    func(*callCore, *worker) // task(c).run(w), without the interface: the worker's loop
	// giveBack is Func.giveBack: a scope gives the calls left in its
	// slab of this function back to it.
	giveBack func(p unsafe.Pointer, n int)
	// callSize is the size of a call of this function, which tells the
	// queue two calls are neighbours in one slab.
	callSize uintptr
	// stamps holds the extra parts of the calls stamped for the queue-wait
	// sample or a scope's timing that have none of their own (see
	// stampCall), up to a slab's per allocation; stampMu guards it and is
	// taken under the caller's locks (the pool's, the Func's, the
	// scope's), with none taken under it but for a slab's allocation.
	stampMu sync.Mutex
	stamps  slab[callExtra]
}

// stampCall sets c's queue stamp (queueStamp's q, nothing if 0) before c
// is queued. The stamp lives in c's extra part, taken from fc's slab of
// them when c has none, so that no call pays 8 bytes for the 1 in 64
// (1 in 8 of a function's first 512 calls) that is sampled.
func (fc *funcCore) stampCall(c *callCore, q int64) {
	if q == 0 {
		return
	}
	e := c.extra.Load()
	if e == nil {
		// A function called once pays 320 bytes: 4 extras (takeGrowing).
		fc.stampMu.Lock()
		e = fc.stamps.takeGrowing(&fc.stampMu)
		fc.stampMu.Unlock()
		c.extra.Store(e)
	}
	e.queued = q
}

// describe names the function in messages.
func (fc *funcCore) describe() string {
	if fc.name != "" {
		return fmt.Sprintf("%q", fc.name)
	}
	return "an unnamed function"
}

// Concurrent decorates fn, a function of one argument, so that its calls
// run concurrently: slow := deco.Concurrent(slow), then slow.Go(x) in the
// loop and slow.Wait() after it. More arguments travel in a struct or a
// closure. See [Func] for the rules, and the Concurrent* siblings for the
// other shapes: with an error, a result, both, and a leading context.
//
// Options are checked here: an invalid one, or a [Name] already taken,
// makes Concurrent panic with a message naming it.
func Concurrent[A any](fn func(A), opts ...Option) *Func[A, struct{}] {
	f := decorate(fn != nil, func(_ context.Context, a A) (struct{}, error) {
		fn(a)
		return struct{}{}, nil
	}, opts)
	f.setPlain(fn)
	return f
}

// setPlain records fn, the func(A) that f's fn wraps, for call.run to call
// directly unless an executor runs f's calls.
func (f *Func[A, R]) setPlain(fn func(A)) {
	f.origPlain = fn
	if !f.remote {
		f.plain = fn
	}
}

// ConcurrentErr decorates fn, a function of one argument that can fail.
func ConcurrentErr[A any](fn func(A) error, opts ...Option) *Func[A, struct{}] {
	return decorate(fn != nil, func(_ context.Context, a A) (struct{}, error) {
		return struct{}{}, fn(a)
	}, opts)
}

// ConcurrentValue decorates fn, a function of one argument with a result.
func ConcurrentValue[A, R any](fn func(A) R, opts ...Option) *Func[A, R] {
	return decorate(fn != nil, func(_ context.Context, a A) (R, error) {
		return fn(a), nil
	}, opts)
}

// ConcurrentResult decorates fn, a function of one argument with a result
// and an error.
func ConcurrentResult[A, R any](fn func(A) (R, error), opts ...Option) *Func[A, R] {
	return decorate(fn != nil, func(_ context.Context, a A) (R, error) {
		return fn(a)
	}, opts)
}

// ConcurrentCtx decorates fn, a function of a context and one argument. The
// context fn receives is done when the caller's context is (and, under
// [FailFast], when the batch fails); it carries the caller's values, its
// [Synchronized] scope included, so that calls started with it from inside
// fn join that scope. Nested calls and waits never deadlock, with this
// context or without (see [Pool]).
func ConcurrentCtx[A any](fn func(context.Context, A), opts ...Option) *Func[A, struct{}] {
	return decorate(fn != nil, func(ctx context.Context, a A) (struct{}, error) {
		fn(ctx, a)
		return struct{}{}, nil
	}, opts)
}

// ConcurrentCtxErr decorates fn, a function of a context and one argument
// that can fail. See [ConcurrentCtx] for the context.
func ConcurrentCtxErr[A any](fn func(context.Context, A) error, opts ...Option) *Func[A, struct{}] {
	return decorate(fn != nil, func(ctx context.Context, a A) (struct{}, error) {
		return struct{}{}, fn(ctx, a)
	}, opts)
}

// ConcurrentCtxValue decorates fn, a function of a context and one argument
// with a result. See [ConcurrentCtx] for the context.
func ConcurrentCtxValue[A, R any](fn func(context.Context, A) R, opts ...Option) *Func[A, R] {
	return decorate(fn != nil, func(ctx context.Context, a A) (R, error) {
		return fn(ctx, a), nil
	}, opts)
}

// ConcurrentCtxResult decorates fn, the most general shape: a context and
// one argument, a result and an error. See [ConcurrentCtx] for the context.
func ConcurrentCtxResult[A, R any](fn func(context.Context, A) (R, error), opts ...Option) *Func[A, R] {
	return decorate(fn != nil, fn, opts)
}

func decorate[A, R any](ok bool, fn func(context.Context, A) (R, error), opts []Option) *Func[A, R] {
	if !ok {
		panic("deco: cannot decorate a nil function")
	}
	cfg, err := newConfig(false, opts)
	if err != nil {
		panic(err.Error())
	}
	f := build(fn, cfg)
	if cfg.name != "" {
		register(cfg.name, fn, callerOutside())
	}
	return f
}

// build makes a Func of fn under cfg, without registering its name.
func build[A, R any](fn func(context.Context, A) (R, error), cfg config) *Func[A, R] {
	f := &Func[A, R]{fn: fn, orig: fn}
	f.core = funcCore{config: cfg, pool: cfg.pool, task: func(c *callCore) task { return callOf[A, R](c) },
		run: func(c *callCore, w *worker) { callOf[A, R](c).run(w) }, giveBack: f.giveBack, callSize: unsafe.Sizeof(call[A, R]{})}
	exec := cfg.executor
	if exec == nil && cfg.name != "" {
		exec = executorFromEnv()
	}
	if f.core.pool == nil {
		limit := cfg.limit
		if limit == 0 && exec != nil {
			// An executor that knows its size (worker processes) sets
			// the default limit, also when DECO_EXECUTOR chose it: one
			// call in flight per worker, so lanes and workers match.
			if sized, ok := exec.(backend.Sized); ok && sized.Workers() > 0 {
				limit = sized.Workers()
			}
		}
		f.core.pool = &Pool{limit: limit}
		f.private = cfg.queue < 0
	}
	f.mu = new(sync.Mutex)
	if f.private {
		f.mu = &f.core.pool.mu
	}
	if exec != nil {
		f.fn = remoteFunc[A, R](exec, cfg)
		f.remote = true
	}
	return f
}

// With returns a new decorated function that runs the same function under
// the same name with opts added to f's options, and with batches and stats
// of its own: a [Limit] or [Shared] in opts replaces f's, otherwise it gets
// a pool of its own with f's limit (or shares f's shared pool). It is how
// a function named once at package level — as worker processes need, since
// they find functions by name — gets settings chosen at run time:
//
//	var thumbnail = deco.ConcurrentErr(makeThumbnail, deco.Name("thumbnail"))
//	...
//	thumb := thumbnail.With(deco.Limit(*workers), deco.Record(rec))
//
// A [Name] among opts panics: the name is f's. Invalid options panic as in
// [Concurrent]. Cost: one allocation, like decorating.
func (f *Func[A, R]) With(opts ...Option) *Func[A, R] {
	cfg := f.core.config
	cfg.pool, cfg.limit = nil, 0 // a Limit or Shared in opts replaces f's
	if err := cfg.apply(opts); err != nil {
		panic("deco: With: " + strings.TrimPrefix(err.Error(), "deco: "))
	}
	if cfg.name != f.core.config.name {
		panic(fmt.Sprintf("deco: With(Name(%q)): a function keeps its name (%q); decorate another function for another name", cfg.name, f.core.config.name))
	}
	if cfg.limit == 0 && cfg.pool == nil {
		cfg.limit, cfg.pool = f.core.config.limit, f.core.config.pool
	}
	g := build(f.orig, cfg)
	if f.origPlain != nil {
		g.setPlain(f.origPlain)
	}
	return g
}

// Split returns [Func.Go] and [Func.Wait] as plain function values, so that
// a serial loop keeps its call sites as they are, the way
// context.WithCancel hands back a cancel function:
//
//	slow, wait := deco.Concurrent(slow).Split()
//	defer wait()
//	for _, index := range list {
//		slow(index) // unchanged
//	}
//
// A deferred wait drops Wait's results and error (a panic is still
// re-raised), so keep this form for functions that cannot fail; call wait
// and check its error otherwise.
func (f *Func[A, R]) Split() (call func(A) *Future[R], wait func() ([]R, error)) {
	return f.Go, f.Wait
}

// Name reports the function's name, or "" when it has none.
func (f *Func[A, R]) Name() string { return f.core.name }

// Go starts a call of f with arg and returns its Future at once. The call
// runs as soon as a slot of f's pool is free. The pool's queue is FIFO:
// calls started by one goroutine start in call order, each at most the
// limit places away from its turn, and may finish in any order; the one
// exception is a call whose waiter holds a slot of the pool, which runs it
// at once (see [Pool]). Go never blocks unless [Queue] bounds the queue;
// while more than 256 calls per slot are queued and a worker may be waiting
// for a processor, it yields its own (runtime.Gosched) so that the workers
// keep up with a fast loop; a call of the pool starting calls with its
// context does not yield.
// Cost: a no-op call took 0.80–1.41 times (median 1.14) a hand-written
// channel pool given a closure per task, and 1.91–2.22 times (median 2.04)
// one given a single shared func, in the same rounds on 2 cores
// (BENCHMARKS.md of 2026-12-02 13:40 UTC, bench/run.sh), 61 bytes
// (BenchmarkOverhead's B/op; 68 before the queue stamp left the call) and
// no allocation of its own: calls are allocated 64 or more at a time
// (8 KiB of small ones), and a Future that is kept keeps its slab
// (without the arguments) alive.
func (f *Func[A, R]) Go(arg A) *Future[R] {
	if !f.private {
		return &f.launch(nil, arg, nil).Future
	}
	// A private function, whose lock is its pool's: launch for a call
	// without a context or an assignment, on a path of its own, with the
	// slab's take written out. The call is registered with its batch and
	// queued in one critical section.
	p := f.core.pool
	p.mu.Lock() // f.mu
	l := &f.batchSlab
	if l.used == len(l.s) {
		l.refill(&p.mu)
	}
	c := &l.s[l.used]
	l.used++
	c.fn, c.arg = &f.core, arg
	b := f.cur
	if b == nil {
		b = f.newBatch()
	}
	c.index = b.n
	if b.n%chunkSize == 0 {
		b.chunks.grow()
	}
	b.n++
	c.owner = &b.batch
	if statsOn {
		// Sampled by the function's call number: the calls waited
		// before this batch, and its index.
		if w := queueSampled(f.core.stats.calls.Load() + int64(c.index)); w != 0 {
			f.core.stampCall(&c.callCore, queueStamp(w, false))
		}
	}
	if b.stopped.Load() {
		p.mu.Unlock()
		return &f.start(nil, nil, c).Future
	}
	p.pushAndUnlock(nil, &c.callCore)
	return &c.Future
}

// GoContext is [Func.Go] with a context. A call whose context is done
// before it starts never runs and fails with the context's cause; a
// ctx-shaped function sees the context while it runs. If ctx belongs to a
// [Synchronized] scope, the call belongs to that scope rather than to f's
// batch: the scope waits for it. Called from inside a running call of the
// same pool, with any context or none, a call never blocks on a full
// queue: it runs in the caller's slot instead (see [Queue]).
func (f *Func[A, R]) GoContext(ctx context.Context, arg A) *Future[R] {
	if ctx == nil {
		panic("deco: GoContext with a nil context")
	}
	if f.core.queue < 0 {
		if s := plainScope(ctx); s != nil {
			return &f.goScope(ctx, s, arg).Future
		}
	}
	return &f.launch(ctx, arg, nil).Future
}

// goScope is launch for GoContext with ctx one of the two contexts a call
// of scope s usually starts with (plainScope), for which the call keeps no
// context of its own, on an unbounded queue: the same steps, on a path of
// their own.
func (f *Func[A, R]) goScope(ctx context.Context, s *scope, arg A) *call[A, R] {
	var weight int64 // of the call's queue wait in f's sample, by its number among f's calls
	if n := f.core.stats.calls.Add(1); statsOn {
		weight = queueSampled(n - 1)
	}
	s.mu.Lock()
	c := scopeCallLocked(f, s)
	c.fn, c.arg = &f.core, arg
	err := s.registerLocked(&c.callCore, f.core.pool, weight)
	s.mu.Unlock()
	if err != nil {
		c.state.Store(stateRunning)
		c.finish(err, nil, nil, 0, 0)
		return c
	}
	if !s.quickStart(nil) {
		return f.start(ctx, nil, c)
	}
	p := f.core.pool
	p.mu.Lock()
	p.pushAndUnlock(ctx, &c.callCore)
	return c
}

// launch registers a call of arg with its batch or scope and queues it.
// keyed, if not nil, returns the call's deferred assignment ([Assign],
// [AssignTo]) once the call has its index, before it is queued: called
// with f.mu held and the call's batch, or with the scope's lock held and
// its scope, or with neither for a call that found its scope returned.
func (f *Func[A, R]) launch(ctx context.Context, arg A, keyed func(*funcBatch[A, R], *scope, *call[A, R]) assigner) *call[A, R] {
	var s *scope
	var c *call[A, R]
	var parent context.Context // the context the call keeps; nil: it sees its scope's
	if ctx != nil {
		if s, parent = scopeFor(ctx); parent != nil {
			c = f.newCall(parent)
		}
	}
	if s != nil {
		var weight int64 // of the call's queue wait in f's sample, by its number among f's calls
		if n := f.core.stats.calls.Add(1); statsOn {
			weight = queueSampled(n - 1)
		}
		s.mu.Lock()
		if c == nil {
			c = scopeCallLocked(f, s)
		}
		c.fn, c.arg = &f.core, arg
		err := s.registerLocked(&c.callCore, f.core.pool, weight)
		if keyed != nil {
			// Here, not in register: keyed stays on this goroutine's
			// stack, and an Assign in a scope allocates nothing either.
			if err == nil {
				if a := keyed(nil, s, c); a != nil {
					s.assigns.add(assignment{&c.callCore, a})
				}
			} else {
				c.owner.addAssign(&c.callCore, keyed(nil, nil, c)) // for the failure's key
			}
		}
		s.mu.Unlock()
		if err != nil {
			c.state.Store(stateRunning)
			c.finish(err, nil, nil, 0, 0)
			return c
		}
	} else {
		f.mu.Lock()
		if c == nil {
			c = f.takeCallLocked()
		}
		c.fn, c.arg = &f.core, arg
		b := f.cur
		if b == nil {
			b = f.newBatch()
		}
		c.index = b.n
		if b.n%chunkSize == 0 {
			b.chunks.grow()
		}
		b.n++
		if keyed != nil {
			if a := keyed(b, nil, c); a != nil {
				b.addAssign(&c.callCore, a)
			}
		}
		c.owner = &b.batch
		if statsOn {
			// Sampled by the function's call number: the calls waited
			// before this batch, and its index.
			if w := queueSampled(f.core.stats.calls.Load() + int64(c.index)); w != 0 {
				f.core.stampCall(&c.callCore, queueStamp(w, false))
			}
		}
		if f.private && !b.stopped.Load() {
			f.core.pool.pushAndUnlock(ctx, &c.callCore) // f.mu is the pool's mutex
			return c
		}
		f.mu.Unlock()
	}
	own := ctx // the call's own context, for startErr
	if s != nil {
		// nil: the scope's, which startErr reads from the batch rather
		// than through the task's context.
		own = parent
	}
	return f.start(ctx, own, c)
}

// start queues c, registered with its batch or scope, unless it must not
// start; ctx is the caller's context, own the call's (nil: its batch's).
func (f *Func[A, R]) start(ctx, own context.Context, c *call[A, R]) *call[A, R] {
	if b := c.owner; !b.quickStart(own) {
		if err := b.startErr(own); err != nil {
			// Claimed like any start: a scope's waiter may already run it.
			if c.state.CompareAndSwap(stateQueued, stateRunning) {
				c.finish(err, nil, nil, 0, 0)
			}
			return c
		}
	}
	if p := f.core.pool; f.core.queue < 0 {
		// An unbounded queue: submit's loop would not wait; push at once.
		p.mu.Lock()
		p.pushAndUnlock(ctx, &c.callCore)
	} else if err := p.submit(ctx, c, f.core.queue); err != nil {
		if c.state.CompareAndSwap(stateQueued, stateRunning) {
			c.finish(err, nil, nil, 0, 0)
		}
	}
	return c
}

// takeCallLocked returns a fresh call from the slab of the calls started
// without a context. f.mu must be held; it is released while a new slab is
// allocated, so the caller reads f's state only after the call.
func (f *Func[A, R]) takeCallLocked() *call[A, R] { return f.batchSlab.take(f.mu) }

// slab is an allocation of calls or extras handed out one at a time: all
// of s, from s[used] on. Handing one out moves an index, not the slice, so
// that it writes no pointer: while the collector marks, every pointer
// written goes through its write barrier, and a call writes enough of them.
type slab[T any] struct {
	s    []T
	used int
}

// take hands out the next element, which mu guards; mu is held on entry
// and on return, and released while a new slab is allocated.
func (l *slab[T]) take(mu *sync.Mutex) *T {
	if l.used == len(l.s) {
		l.refill(mu)
	}
	x := &l.s[l.used]
	l.used++
	return x
}

// refill replaces l with a new slab, allocated with mu released. Apart
// from take, so that take is inlined.
func (l *slab[T]) refill(mu *sync.Mutex) { l.refillN(mu, slabSize[T]()) }

// takeGrowing is take for elements that few callers need: its first slab
// holds 4, each next one twice as many, up to a full slab's, so that a
// function that needs one pays for 4, not for a slab.
func (l *slab[T]) takeGrowing(mu *sync.Mutex) *T {
	if l.used == len(l.s) {
		l.refillN(mu, min(max(4, 2*len(l.s)), slabSize[T]()))
	}
	x := &l.s[l.used]
	l.used++
	return x
}

// refillN replaces l with a new slab of n elements, allocated with mu
// released.
func (l *slab[T]) refillN(mu *sync.Mutex, n int) {
	mu.Unlock()
	s := make([]T, n)
	mu.Lock()
	*l = slab[T]{s: s}
}

// rest takes the elements not handed out yet, leaving l empty.
func (l *slab[T]) rest() []T {
	s := l.s[l.used:]
	*l = slab[T]{}
	return s
}

// scopeCallLocked returns a fresh call of f for scope s, which keeps
// none of its own context: from the slab s keeps for f, so that a call
// started in a scope takes the scope's lock only, not f's slab lock too,
// which every goroutine starting calls of f in any scope takes (two
// workers spawning calls of one function queued on it). s.mu must be
// held; it is released while a slab is fetched. A scope takes f's slab
// at its first call of f and gives back what is left when it is over
// (scope.releaseCalls), so a scope of a few calls allocates no slab of its
// own; a closed scope, which has given its slabs back, takes its call from
// f's slab, as a call with a context of its own does.
func scopeCallLocked[A, R any](f *Func[A, R], s *scope) *call[A, R] {
	for {
		if s.closed {
			s.mu.Unlock()
			c := f.newCall(nil)
			s.mu.Lock()
			return c
		}
		var e *scopeSlab
		if i := s.lastSlab; i < len(s.slabs) && s.slabs[i].fc == &f.core {
			e = &s.slabs[i] // the function of the scope's latest call, as in a loop
		} else {
			e = s.slabOf(&f.core)
		}
		if e.used < e.n {
			// An index, not a pointer moved along: see slab.
			c := (*call[A, R])(unsafe.Add(e.first, uintptr(e.used)*unsafe.Sizeof(call[A, R]{})))
			e.used++
			return c
		}
		s.mu.Unlock()
		f.slabMu.Lock()
		calls := f.slab.rest()
		f.slabMu.Unlock()
		if len(calls) == 0 {
			calls = make([]call[A, R], slabSize[call[A, R]]())
		}
		s.mu.Lock()
		if e = s.slabOf(&f.core); e.used < e.n || s.closed {
			f.giveBack(unsafe.Pointer(&calls[0]), len(calls)) // another call refilled it meanwhile
			continue
		}
		e.first, e.n, e.used = unsafe.Pointer(&calls[0]), len(calls), 0
	}
}

// giveBack makes the n calls from p on, the unused end of a slab a scope
// took, f's slab again, unless f's slab has as many left.
func (f *Func[A, R]) giveBack(p unsafe.Pointer, n int) {
	f.slabMu.Lock()
	if n > len(f.slab.s)-f.slab.used {
		f.slab = slab[call[A, R]]{s: unsafe.Slice((*call[A, R])(p), n)}
	}
	f.slabMu.Unlock()
}

// newCall returns a fresh call from f's slab, with its extra part from
// the slab of extras when it keeps a context of its own (ctx not nil),
// which needs one for the context. Calls come from slabs (see slabSize),
// taken under a lock of their own and allocated outside every lock: one allocation per
// 64 calls or more. (Allocating a slab under the pool's lock, which the workers
// shared, measured 11% slower than a call per allocation; this was 9%
// faster.) Extras come 64 at a time too: every call started with a
// context it keeps has one (not the calls of a scope started with its
// context or a plain task's: see scope.parentOf). A kept Future keeps its
// slabs alive, so a finished call drops its argument (see finish).
func (f *Func[A, R]) newCall(ctx context.Context) *call[A, R] {
	f.slabMu.Lock()
	c := f.slab.take(&f.slabMu)
	if ctx != nil {
		e := f.extras.take(&f.slabMu)
		e.parent = ctx
		c.extra.Store(e)
	}
	f.slabMu.Unlock()
	return c
}

// Wait blocks until every call of f's current batch is done, then returns
// their results in call order — the order of the Go calls, whatever order
// they finished in — and an error joining one [CallError] per failed call,
// in call order. Deferred assignments ([Assign], [AssignTo]) are applied
// here, in call order, in the calling goroutine, so the later call wins a
// key. If a call panicked, Wait re-panics with its *[PanicError] (the first
// one in call order) after all calls are done, unless [PanicAsError] was
// given. When Wait returns, no goroutine of f's pool is left unless another
// batch or scope still uses the pool.
//
// Wait may be called from inside a running call, of f or of another
// function: the waiting call lends its slot to the calls it waits for (see
// [Pool]), so nested waits never deadlock. It must not wait for its own
// batch: a call of f calling f.Wait while its batch is still f's current
// one panics, since it would wait for itself.
//
// Each batch goes to one Wait (or [Func.Completed], [Func.InOrder],
// [WaitAll]). A Wait that finds no calls while another goroutine waits for
// a batch of f blocks until that batch is over, then returns nil, nil: it
// never reports an empty success while calls still run.
func (f *Func[A, R]) Wait() ([]R, error) {
	w := f.checkSelfWait("Wait")
	b := f.take()
	if b == nil {
		f.awaitOthers(w)
		return nil, nil
	}
	b.waitAs(w)
	return f.collect(b)
}

// site is where a function is decorated: the first caller outside this
// package, for messages, and the whole stack of callers outside it, which
// tells two decorations through one helper function apart.
type site struct {
	where  string // "file:line"
	stack  string // the program counters of every caller outside deco
	atInit bool   // the decoration runs while packages are initialised
}

// callerOutside reports the site of the decoration in progress.
func callerOutside() site {
	pcs := make([]uintptr, 64)
	n := runtime.Callers(2, pcs)
	frames := runtime.CallersFrames(pcs[:n])
	var s site
	var stack []byte
	for {
		fr, more := frames.Next()
		if fr.Function == "runtime.doInit1" || fr.Function == "runtime.doInit" {
			s.atInit = true
		}
		if !isDecoFrame(fr.Function) {
			if s.where == "" {
				s.where = fmt.Sprintf("%s:%d", fr.File, fr.Line)
			}
			stack = fmt.Appendf(stack, "%x ", fr.PC)
		}
		if !more {
			break
		}
	}
	if s.where == "" {
		s.where = "unknown"
	}
	s.stack = string(stack)
	return s
}

func isDecoFrame(fn string) bool {
	const pkg = "github.com/deco-go/deco."
	return len(fn) >= len(pkg) && fn[:len(pkg)] == pkg
}
