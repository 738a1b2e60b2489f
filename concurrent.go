package deco

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"github.com/deco-go/deco/backend"
)

// Func is a decorated function: each call started with [Func.Go] (or
// [Func.GoContext], [Assign], [AssignTo]) runs concurrently with the caller
// in the function's pool and returns a [Future] at once. [Func.Wait] waits
// for the calls and returns their results in call order.
//
// A Func is safe for concurrent use. Its calls outside any [Synchronized]
// scope form a batch that the next Wait (or [Func.Completed],
// [Func.InOrder], [WaitAll]) takes whole; calls started inside a scope
// belong to that scope instead.
type Func[A, R any] struct {
	fn   func(context.Context, A) (R, error)
	core funcCore
	orig func(context.Context, A) (R, error) // fn before an executor wraps it, for With
	cfg  config

	// mu guards cur. A function with a pool of its own uses the pool's
	// mutex, so that starting a call takes one lock, not two.
	mu      *sync.Mutex
	private bool
	cur     *funcBatch[A, R]
	slabMu  sync.Mutex
	slab    []call[A, R] // calls not handed out yet; guarded by slabMu
}

// slabSize is how many calls one allocation holds.
const slabSize = 64

// funcCore is the part of a Func that does not depend on its types.
type funcCore struct {
	name         string
	pool         *Pool
	queue        int
	failFast     bool
	panicAsError bool
	progress     func(Progress)
	recorder     *Recorder
	stats        counters
}

// funcBatch is the calls of a Func between two waits. It keeps what Wait
// needs, not the calls: a slot per call for the result, and the keyed calls
// for their assignments. A call object is garbage as soon as it is done
// (unless its Future is kept), which keeps the heap small and the garbage
// collector idle during large batches.
type funcBatch[A, R any] struct {
	batch
	n       int         // calls so far; guarded by the Func's mu
	chunks  [][]slot[R] // slot i is chunks[i/chunkSize][i%chunkSize]
	assigns []*callCore // calls with a deferred assignment, in call order
}

// slot is where a call leaves its outcome for the batch. It holds no
// pointer of its own, so that the garbage collector need not scan the
// slots of a large batch; a failed call is kept in batch.failures.
type slot[R any] struct {
	value R
	done  atomic.Bool // set after value and after the failure is recorded
}

const chunkSize = 256

func (b *funcBatch[A, R]) slot(i int) *slot[R] { return &b.chunks[i/chunkSize][i%chunkSize] }

// call is one call of a Func: its argument, its result and its state, in
// one allocation. *call is also the context.Context a ctx-shaped function
// receives (see context.go).
type call[A, R any] struct {
	Future[R]
	f    *Func[A, R]
	arg  A
	slot *slot[R] // nil inside a scope
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
	return decorate(fn != nil, func(_ context.Context, a A) (struct{}, error) {
		fn(a)
		return struct{}{}, nil
	}, opts)
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
// context fn receives is done when the caller's context is, and it carries
// the running call, so that calls and scopes started with it from inside fn
// nest in fn's slot without deadlock.
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
	f := &Func[A, R]{fn: fn, orig: fn, cfg: cfg}
	f.core = funcCore{
		name:         cfg.name,
		pool:         cfg.pool,
		queue:        cfg.queue,
		failFast:     cfg.failFast,
		panicAsError: cfg.panicError,
		progress:     cfg.progress,
		recorder:     cfg.recorder,
	}
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
	cfg := f.cfg
	cfg.pool, cfg.limit = nil, 0 // a Limit or Shared in opts replaces f's
	for _, o := range opts {
		if o == nil {
			panic("deco: With: nil Option")
		}
		before := cfg.name
		if err := o(&cfg); err != nil {
			panic(err.Error())
		}
		if cfg.name != before {
			panic(fmt.Sprintf("deco: With(Name(%q)): a function keeps its name (%q); decorate another function for another name", cfg.name, before))
		}
	}
	if cfg.limit == 0 && cfg.pool == nil {
		cfg.limit, cfg.pool = f.cfg.limit, f.cfg.pool
	}
	return build(f.orig, cfg)
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
// runs as soon as a slot of f's pool is free; calls start in call order
// but may finish in any order. Go never blocks unless [Queue] bounds the
// queue. Cost: about 100 ns per call of a no-op function on 2 cores
// (BenchmarkOverhead; BENCHMARKS.md has it beside the peers); calls are
// allocated 64 at a time, and a Future that is kept keeps its 64-call slab
// (without the arguments) alive.
func (f *Func[A, R]) Go(arg A) *Future[R] {
	return &f.launch(nil, nil, arg).Future
}

// GoContext is [Func.Go] with a context. A call whose context is done
// before it starts never runs and fails with the context's cause; a
// ctx-shaped function sees the context while it runs. If ctx belongs to a
// [Synchronized] scope, the call belongs to that scope rather than to f's
// batch: the scope waits for it. If ctx is the context of a running call of
// the same pool, the call never blocks on a full queue: it runs inline.
func (f *Func[A, R]) GoContext(ctx context.Context, arg A) *Future[R] {
	if ctx == nil {
		panic("deco: GoContext with a nil context")
	}
	return &f.launch(ctx, nil, arg).Future
}

// launch registers a call of arg with its batch or scope and queues it.
// c is the call when the caller made it (a keyed call), or nil.
func (f *Func[A, R]) launch(ctx context.Context, c *call[A, R], arg A) *call[A, R] {
	var s *scope
	lane := -1
	if ctx != nil {
		s = scopeOf(ctx)
		if rc := runningCall(ctx); rc != nil && rc.fn.pool == f.core.pool {
			lane = rc.lane
		}
	}
	if c == nil {
		// Calls come from slabs of slabSize, taken under a lock of their
		// own and allocated outside every lock: one allocation per 64
		// calls. (Allocating a slab under the pool's lock, which the
		// workers share, measured 11% slower than a call per allocation;
		// this is 9% faster, benchstat in its commit.) A kept Future keeps
		// its slab alive, so a finished call drops its argument (see
		// finish).
		f.slabMu.Lock()
		if len(f.slab) == 0 {
			f.slabMu.Unlock()
			slab := make([]call[A, R], slabSize)
			f.slabMu.Lock()
			f.slab = slab
		}
		c = &f.slab[0]
		f.slab = f.slab[1:]
		f.slabMu.Unlock()
	}
	if s != nil {
		c.f, c.fn, c.arg = f, &f.core, arg
		c.ext().parent = ctx
		f.core.stats.calls.Add(1)
		s.register(c, f.core.pool)
	} else {
		f.mu.Lock()
		c.f, c.fn, c.arg = f, &f.core, arg
		if ctx != nil {
			c.ext().parent = ctx
		}
		b := f.cur
		if b == nil {
			b = f.newBatch()
		}
		c.index = b.n
		if b.n%chunkSize == 0 {
			b.chunks = append(b.chunks, make([]slot[R], chunkSize))
		}
		c.slot = b.slot(b.n)
		b.n++
		if c.assign != nil {
			b.assigns = append(b.assigns, &c.callCore)
		}
		c.owner = &b.batch
		if c.index&queueSample == 0 && statsOn {
			c.queued = nanotime()
		}
		if f.private && !b.stopped.Load() {
			f.core.pool.pushLocked(c) // unlocks
			return c
		}
		f.mu.Unlock()
	}
	if err := c.owner.startErr(ctx); err != nil {
		// Claimed like any start: a scope's waiter may already run it.
		if c.state.CompareAndSwap(stateQueued, stateRunning) {
			c.finish(err, nil, nil, 0, 0)
		}
		return c
	}
	if err := f.core.pool.submit(ctx, c, f.core.queue, lane); err != nil {
		if c.state.CompareAndSwap(stateQueued, stateRunning) {
			c.finish(err, nil, nil, 0, 0)
		}
	}
	return c
}

// newBatch opens a batch. f.mu must be held.
func (f *Func[A, R]) newBatch() *funcBatch[A, R] {
	b := &funcBatch[A, R]{}
	b.failFast = f.core.failFast
	if b.failFast {
		b.ctx, b.cancel = context.WithCancelCause(context.Background())
	}
	b.first = nanotime()
	if f.private {
		f.core.pool.openBatchLocked()
		b.pools = []*Pool{f.core.pool}
	} else {
		b.use(f.core.pool)
	}
	f.cur = b
	active.add(f)
	return b
}

func (c *call[A, R]) core() *callCore { return &c.callCore }

// run executes the call on the current goroutine, which holds w's lane of
// the call's pool, unless another goroutine has claimed it.
func (c *call[A, R]) run(w *worker) {
	if !c.state.CompareAndSwap(stateQueued, stateRunning) {
		return
	}
	c.lane = w.lane
	if err := c.owner.startErr(c.parent()); err != nil {
		c.finish(err, nil, nil, 0, 0)
		return
	}
	fc := c.fn
	if statsOn {
		w.begin(fc, c.owner)
	}
	// The clock is read per call only for the sampled queue waits, a
	// timeline and a scope's stats; a function's run times are summed per
	// streak by the worker.
	timing := c.owner.timing
	var start, end int64
	if c.queued != 0 || fc.recorder != nil || timing != nil {
		start = nanotime()
		if c.queued != 0 {
			fc.stats.queueWait.add(start - c.queued)
		}
	}
	if timing != nil {
		timing.enter(start - c.queued)
	}
	err, pe := c.invoke()
	if fc.recorder != nil || timing != nil {
		end = nanotime()
	}
	if timing != nil {
		timing.leave(end - start)
	}
	c.finish(err, pe, w, start, end)
}

// invoke calls the function, turning a panic into a *PanicError carrying
// the panicking goroutine's stack, and a runtime.Goexit (t.FailNow in a
// task) into an error, so that neither escapes the worker.
func (c *call[A, R]) invoke() (err error, pe *PanicError) {
	normal := false
	defer func() {
		if normal {
			return
		}
		if r := recover(); r != nil {
			if remotePE, ok := r.(*PanicError); ok && remotePE.remote {
				// A panic in another process, re-raised by remote: it
				// carries the task's own stack already.
				remotePE.Index = c.index
				pe = remotePE
				return
			}
			pe = &PanicError{Func: c.fn.name, Index: c.index, Value: r, Stack: debug.Stack()}
			return
		}
		// runtime.Goexit: the goroutine is ending. Finish the call here
		// and let the worker's own deferred recovery replace it.
		c.finish(errGoexit, nil, nil, 0, 0)
	}()
	c.value, err = c.f.fn(c, c.arg)
	normal = true
	return err, nil
}

var errGoexit = errors.New("deco: the call ended its goroutine with runtime.Goexit (t.FailNow or t.SkipNow in a task?)")

// finish records the outcome and wakes whoever waits for the call. w is
// the worker that ran it, which then owes the batch its count, or nil for
// a call that did not run on a worker: it is counted at once. start and
// end are the call's clock readings when it was timed, else 0.
func (c *call[A, R]) finish(err error, pe *PanicError, w *worker, start, end int64) {
	if err != nil || pe != nil {
		e := c.ext()
		e.err, e.panicked = err, pe
		c.owner.failed(&c.callCore)
	}
	fc := c.fn
	fc.stats.record(&c.callCore, w == nil || fc.progress != nil)
	if fc.recorder != nil {
		fc.recorder.record(&c.callCore, start, end)
	}
	var noArg A
	c.arg = noArg // the call is over: let the argument go, though its slab lives on
	if s := c.slot; s != nil {
		s.value = c.value
		s.done.Store(true)
	}
	c.signalDone()
	if fc.progress != nil {
		fc.progress(fc.stats.progress(fc.name))
	}
	if ch := c.owner.watch.Load(); ch != nil {
		*ch <- c.index
	}
	if w == nil {
		c.owner.done()
		return
	}
	w.account(fc, c.owner, fc.progress == nil)
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
// Wait must not be called from one of f's own calls: that call is part of
// the batch. Nested calls wait with [Synchronized].
func (f *Func[A, R]) Wait() ([]R, error) {
	b := f.take()
	if b == nil {
		return nil, nil
	}
	b.wait()
	return f.collect(b)
}

// take detaches the current batch so that later calls start a new one.
func (f *Func[A, R]) take() *funcBatch[A, R] {
	f.mu.Lock()
	b := f.cur
	f.cur = nil
	if b != nil {
		f.core.stats.calls.Add(int64(b.n))
	}
	f.mu.Unlock()
	if b != nil {
		active.remove(f)
		b.seal(b.n)
	}
	return b
}

// pendingCalls reports the calls of the open batch, for Stats.
func (f *Func[A, R]) pendingCalls() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cur == nil {
		return 0
	}
	return int64(f.cur.n)
}

// collect turns a finished batch into results, applies its assignments and
// releases its pool. It re-panics with the first panic unless panics are
// errors.
func (f *Func[A, R]) collect(b *funcBatch[A, R]) ([]R, error) {
	b.close()
	f.core.stats.addWall(b.last.Load() - b.first)
	results := make([]R, b.n)
	for i := range results {
		results[i] = b.slot(i).value
	}
	var errs []error
	var firstPanic *PanicError
	for _, c := range b.sortedFailures() {
		if _, pe := c.outcome(); pe != nil && !f.core.panicAsError {
			if firstPanic == nil {
				firstPanic = pe
			}
			continue
		}
		errs = append(errs, c.failure())
	}
	b.applyAssigns()
	if firstPanic != nil {
		panic(firstPanic)
	}
	return results, errors.Join(errs...)
}

// applyAssigns applies the deferred assignments of the calls that are done
// and succeeded, in call order.
func (b *funcBatch[A, R]) applyAssigns() {
	for _, c := range b.assigns {
		if err, pe := c.outcome(); c.state.Load() == stateDone && err == nil && pe == nil {
			c.assign.apply()
		}
	}
}

// waitAny is Wait without the results, for WaitAll.
func (f *Func[A, R]) waitAny() error {
	_, err := f.Wait()
	return err
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
