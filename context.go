package deco

import (
	"context"
	"time"
)

// A running call is itself the context its ctx-shaped function receives:
// the caller's context (or the batch's, or Background) plus the call, so
// that calls started with it belong to the caller's scope, if any, and an
// executor can tell which call runs ([CallOf]). (Nested waits do not need
// it: a waiter finds its slot from its goroutine, see help.go.) Being the
// call, it costs no allocation.

// callContext is the context of a running call: a *call of any types.
type callContext interface {
	context.Context
	contextCall() *callCore
}

func (c *call[A, R]) contextCall() *callCore { return &c.callCore }

// parentContext is the context the call's context derives from: its own
// (GoContext's, merged with a FailFast batch's while it runs), else its
// batch's (a Synchronized scope's context, for a call of a scope started
// with a context the same as it: see scope.parentOf), else Background.
func (c *call[A, R]) parentContext() context.Context {
	if e := c.extra.Load(); e != nil {
		if e.running != nil {
			return e.running
		}
		if e.parent != nil {
			return e.parent
		}
	}
	if c.owner != nil && c.owner.ctx != nil {
		return c.owner.ctx
	}
	return context.Background()
}

// Deadline implements context.Context.
func (c *call[A, R]) Deadline() (time.Time, bool) { return c.parentContext().Deadline() }

// Done implements context.Context. It shadows Future.Done.
func (c *call[A, R]) Done() <-chan struct{} { return c.parentContext().Done() }

// Err implements context.Context.
func (c *call[A, R]) Err() error { return c.parentContext().Err() }

// Value implements context.Context.
func (c *call[A, R]) Value(key any) any {
	if key == (taskKey{}) {
		return &c.callCore
	}
	return c.parentContext().Value(key)
}
