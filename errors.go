package deco

import (
	"errors"
	"fmt"
	"reflect"
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
	if pe, ok := e.Err.(*PanicError); ok && pe.Func == e.Func && pe.Index == e.Index {
		// The panic's own message names the call already: say it once.
		pe.writeFrom(&b, " panicked")
		return b.String()
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
//
// For a panic in another process (a function on an executor), Value is
// the panic value's text, as fmt's %v printed it there — or, when the
// task panicked with an error, that error as it crossed (see
// [RegisterError]), so errors.Is and errors.As still see through it — and
// Stack is the task's stack in that process.
type PanicError struct {
	Func  string // the function's name, or ""
	Index int    // the call's position in call order
	Value any    // the value passed to panic; its text, or the error, for a panic in another process
	Stack []byte // the panicking goroutine's stack, as printed by runtime/debug.Stack

	remote bool // raised again in this process for a panic in another
}

func (p *PanicError) Error() string {
	name := p.Func
	if name == "" {
		name = "concurrent function"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "deco: %s call #%d panicked", name, p.Index)
	p.writeFrom(&b, "")
	return b.String()
}

// writeFrom writes the panic's value and stack after what b holds, and
// after verb.
func (p *PanicError) writeFrom(b *strings.Builder, verb string) {
	fmt.Fprintf(b, "%s: %v\n\ntask stack:\n%s", verb, p.Value, p.Stack)
}

// Unwrap returns the panic value when it is an error, so that errors.Is sees
// through a panic(err).
func (p *PanicError) Unwrap() error {
	err, _ := p.Value.(error)
	return err
}

// RegisterError makes the sentinel errors errs keep their identity when
// they cross to or from another process (an executor's worker, another
// machine): errors.Is(err, ErrNotFound) is then true on the caller's side
// for a task that returned ErrNotFound, or an error wrapping it, as it is
// in this process. Without registration an error crosses as its text and
// the tree of errors it wraps, which errors.Is cannot match to a value of
// this process. [context.Canceled], [context.DeadlineExceeded] and
// [ErrCancelled] are registered already.
//
// A sentinel is known by its text, which must be unique among the
// registered ones: call RegisterError at package level (in a var
// declaration or init), so that every process of the program registers the
// same errors. A second registration of the same error is a no-op; a
// different error with the same text panics, naming it.
func RegisterError(errs ...error) {
	errorKinds.mu.Lock()
	defer errorKinds.mu.Unlock()
	for _, err := range errs {
		if err == nil || !reflect.TypeOf(err).Comparable() {
			panic(fmt.Sprintf("deco: RegisterError(%v): a sentinel error must be a non-nil comparable value", err))
		}
		key := err.Error()
		if old, ok := errorKinds.sentinels[key]; ok {
			if old == err {
				continue
			}
			panic(fmt.Sprintf("deco: RegisterError: another error with the text %q is registered already", key))
		}
		errorKinds.sentinels[key] = err
	}
}

// RegisterErrorType makes errors of type E cross to and from another
// process as values of E, gob-encoded, so that errors.As(err, &target)
// with a target of type E finds them on the caller's side, with their
// exported fields; the errors an E wraps do not cross (its fields do). E is
// typically a pointer to a struct with exported fields. Register at
// package level, so that every process of the program has E; registering
// E twice is a no-op. An E that gob cannot encode crosses as its text.
func RegisterErrorType[E error]() { registerErrorType[E]() }
