package deco

import (
	"context"
	"errors"
	"fmt"
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
// re-raised after the calls are done too.
//
// The scope's context is cancelled when Synchronized returns, and, under
// [FailFast], at the first failure: calls not yet started then never start.
// Calls started before body's context is cancelled by the caller fail with
// the context's cause if they have not started.
//
// Synchronized may be called from inside a running call (with that call's
// context): the calls it waits for then run in the waiting call's slot when
// the pool is full, so nesting never deadlocks, at any depth and any limit.
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
	s := &scope{panicAsError: cfg.panicError}
	s.failFast = cfg.failFast
	if cfg.statsTo != nil {
		s.timing = new(timing)
	}
	s.ctx, s.cancel = context.WithCancelCause(ctx)
	s.first = nanotime()
	helper := runningCall(ctx)

	var bodyPanic any
	bodyErr := func() (err error) {
		defer func() {
			if r := recover(); r != nil {
				bodyPanic = r
			}
		}()
		return body(&scopeContext{Context: s.ctx, s: s})
	}()
	s.wait(helper)
	s.close()
	s.cancel(errScopeDone)
	if cfg.statsTo != nil {
		*cfg.statsTo = s.stats(nanotime() - s.first)
	}
	if bodyPanic != nil {
		panic(bodyPanic)
	}
	return s.collect(bodyErr)
}

var errScopeDone = errors.New("deco: Synchronized has returned")

// scope is the batch of a Synchronized call.
type scope struct {
	batch
	panicAsError bool
	calls        []task // in call order, guarded by batch.mu
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

// scopeOf returns the innermost scope ctx belongs to, or nil.
func scopeOf(ctx context.Context) *scope {
	s, _ := ctx.Value(scopeKey{}).(*scope)
	return s
}

// register adds c to the scope, in call order, and keeps p open.
//
// The call is complete (owner, index, queue-wait sample) before it is in
// s.calls: from then on a waiter of the scope that holds a slot may run it.
func (s *scope) register(t task, p *Pool) {
	c := t.core()
	c.owner = &s.batch
	s.mu.Lock()
	c.index = len(s.calls)
	if (c.index&queueSample == 0 && statsOn) || s.timing != nil {
		c.queued = nanotime()
	}
	s.calls = append(s.calls, t)
	s.use(p)
	s.add()
	s.mu.Unlock()
}

// wait waits for every call of the scope, including calls registered while
// it waits. A waiter that holds a slot (helper != nil) runs the scope's
// calls of its own pool inline if nobody has started them, so that a call
// waiting for its children never starves them of its slot.
func (s *scope) wait(helper *callCore) {
	if helper != nil {
		for i := 0; ; i++ {
			s.mu.Lock()
			if i >= len(s.calls) {
				s.mu.Unlock()
				break
			}
			t := s.calls[i]
			s.mu.Unlock()
			helpOrAwait(t, helper.fn.pool, helper.lane)
		}
	}
	s.batch.wait()
}

// collect applies the scope's assignments and joins its errors, in call
// order. It re-panics with the first panic unless panics are errors.
func (s *scope) collect(bodyErr error) error {
	s.mu.Lock()
	calls := s.calls
	s.mu.Unlock()
	errs := []error{bodyErr}
	var firstPanic *PanicError
	for _, t := range calls {
		c := t.core()
		if _, pe := c.outcome(); pe != nil && !s.panicAsError && !c.fn.panicAsError {
			if firstPanic == nil {
				firstPanic = pe
			}
			continue
		}
		if err := c.failure(); err != nil {
			errs = append(errs, err)
			continue
		}
		if c.assign != nil {
			c.assign.apply()
		}
	}
	if firstPanic != nil {
		panic(firstPanic)
	}
	return errors.Join(errs...)
}
