package deco

import "context"

// assigner is a deferred assignment, applied by the goroutine that waits.
type assigner interface {
	apply()
	key() any
}

// mapAssign is a call whose result goes to m[k] when its batch is waited.
type mapAssign[A, R any, K comparable] struct {
	call[A, R]
	m map[K]R
	k K
}

func (a *mapAssign[A, R, K]) apply()   { a.m[a.k] = a.value }
func (a *mapAssign[A, R, K]) key() any { return a.k }

// ptrAssign is a call whose result goes to *dst when its batch is waited.
type ptrAssign[A, R any] struct {
	call[A, R]
	dst *R
}

func (a *ptrAssign[A, R]) apply()   { *a.dst = a.value }
func (a *ptrAssign[A, R]) key() any { return nil }

// Assign is deco's results[key] = f(arg): it starts a call of f and, when
// the call's batch is waited ([Func.Wait], [Synchronized], [WaitAll], or
// the end of an iteration), stores the result in m[key] — in the waiting
// goroutine, so m is a plain map that needs no lock and no task ever
// touches. Assignments are applied in call order, so when two calls have
// the same key the later call wins, whatever order they finished in. A
// call that fails leaves m[key] as it was; its [CallError] carries the key.
//
// m must not be read or written by other goroutines until the wait returns.
// Cost: one allocation per call.
func Assign[K comparable, A, R any](m map[K]R, key K, f *Func[A, R], arg A) *Future[R] {
	return assignMap("Assign", nil, m, key, f, arg)
}

// AssignContext is [Assign] with a context, as [Func.GoContext] is to
// [Func.Go]: inside a [Synchronized] scope the assignment happens when the
// scope returns.
func AssignContext[K comparable, A, R any](ctx context.Context, m map[K]R, key K, f *Func[A, R], arg A) *Future[R] {
	if ctx == nil {
		panic("deco: AssignContext with a nil context")
	}
	return assignMap("AssignContext", ctx, m, key, f, arg)
}

// AssignTo is deco's results[i] = f(arg) for any destination that has an
// address, such as a slice element or a struct field: the result is stored
// in *dst by the goroutine that waits, under the rules of [Assign].
func AssignTo[A, R any](dst *R, f *Func[A, R], arg A) *Future[R] {
	return assignPtr("AssignTo", nil, dst, f, arg)
}

// AssignToContext is [AssignTo] with a context, as [Func.GoContext] is to
// [Func.Go].
func AssignToContext[A, R any](ctx context.Context, dst *R, f *Func[A, R], arg A) *Future[R] {
	if ctx == nil {
		panic("deco: AssignToContext with a nil context")
	}
	return assignPtr("AssignToContext", ctx, dst, f, arg)
}

// assignMap starts a call whose result goes to m[key]; ctx may be nil.
func assignMap[K comparable, A, R any](op string, ctx context.Context, m map[K]R, key K, f *Func[A, R], arg A) *Future[R] {
	if m == nil {
		panic("deco: " + op + " into a nil map")
	}
	c := &mapAssign[A, R, K]{m: m, k: key}
	c.assign = c
	f.launch(ctx, &c.call, arg)
	return &c.Future
}

// assignPtr starts a call whose result goes to *dst; ctx may be nil.
func assignPtr[A, R any](op string, ctx context.Context, dst *R, f *Func[A, R], arg A) *Future[R] {
	if dst == nil {
		panic("deco: " + op + " to a nil pointer")
	}
	c := &ptrAssign[A, R]{dst: dst}
	c.assign = c
	f.launch(ctx, &c.call, arg)
	return &c.Future
}
