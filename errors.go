package deco

import (
	"errors"
	"fmt"
	"strings"
)

// ErrCancelled is the cause recorded for calls that never started because
// their batch or scope was cancelled: by [FailFast] after another call failed,
// or by an early break out of [Func.Completed] or [Func.InOrder]. A cancelled
// context's own error is reported instead when the context was the reason.
var ErrCancelled = errors.New("deco: call cancelled before it started")

// CallError reports one failed call: which function, which call and why.
// [Func.Wait] and [Synchronized] join one CallError per failed call with
// [errors.Join], in call order, so [errors.Is] and [errors.As] see through
// them to the task's own error.
type CallError struct {
	Func  string // the function's name, or "" when it has none
	Index int    // position of the call in call order within its batch or scope, from 0
	Key   any    // the key of a keyed call ([Assign]), or nil
	Err   error  // what the call returned; a *[PanicError] when it panicked and panics are errors
}

func (e *CallError) Error() string {
	var b strings.Builder
	b.WriteString("deco: ")
	if e.Func != "" {
		b.WriteString(e.Func)
		b.WriteByte(' ')
	}
	fmt.Fprintf(&b, "call #%d", e.Index)
	if e.Key != nil {
		fmt.Fprintf(&b, " (key %#v)", e.Key)
	}
	b.WriteString(": ")
	if e.Err != nil {
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the call's own error.
func (e *CallError) Unwrap() error { return e.Err }

// PanicError is a task's panic carried as a value together with the stack of
// the goroutine that panicked, captured where the panic happened.
//
// By default a waiting goroutine re-panics with the *PanicError, so the crash
// report shows both the waiter's stack and, in the message, the task's
// original stack. With [PanicAsError] it is returned inside a [CallError]
// instead.
type PanicError struct {
	Func  string // the function's name, or ""
	Index int    // the call's position in call order
	Value any    // the value passed to panic
	Stack []byte // the panicking goroutine's stack, as printed by runtime/debug.Stack

	remote bool // raised again in this process for a panic in another
}

func (p *PanicError) Error() string {
	name := p.Func
	if name == "" {
		name = "concurrent function"
	}
	return fmt.Sprintf("deco: %s call #%d panicked: %v\n\ntask stack:\n%s", name, p.Index, p.Value, p.Stack)
}

// Unwrap returns the panic value when it is an error, so that errors.Is sees
// through a panic(err).
func (p *PanicError) Unwrap() error {
	err, _ := p.Value.(error)
	return err
}
