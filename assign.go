package deco

import (
	"context"
	"unsafe"
)

// assigner is a deferred assignment, applied by the goroutine that waits.
// c is the call it is for: one assigner may serve many calls (mapKeys).
type assigner interface {
	apply(c *callCore)
	key(c *callCore) any
}

// mapKeys is the assignments of one batch of Func calls, or of one scope,
// to one map, so that Assign allocates no object per call: the call comes
// from its Func's slab like any other, its key goes into chunks by the
// call's index, and its result is read from its cell (a function's batch)
// or from its Future (a scope, cells nil). A batch or scope keeps up to
// maxMapKeys of them (one per map and key type); an Assign beyond falls
// back to an allocation per call (oneKey).
type mapKeys[K comparable, R any] struct {
	m     map[K]R
	keys  [][]K        // key of call i at keys[i/chunkSize][i%chunkSize]
	cells *cellList[R] // the batch's cells
}

const maxMapKeys = 4

func (s *mapKeys[K, R]) apply(c *callCore) {
	i := c.index
	s.m[s.keys[i/chunkSize][i%chunkSize]] = resultOf(c, s.cells)
}

// resultOf returns c's result: from its cell in cells, or, with cells nil
// (a scope's call, which has no cell), from its Future, where every
// callCore of a call returning R sits.
func resultOf[R any](c *callCore, cells *cellList[R]) R {
	if cells != nil {
		return cells.at(c.index).value
	}
	var f Future[R]
	return (*Future[R])(unsafe.Add(unsafe.Pointer(c), -int(unsafe.Offsetof(f.callCore)))).value
}

func (s *mapKeys[K, R]) key(c *callCore) any {
	i := c.index
	return s.keys[i/chunkSize][i%chunkSize]
}

// set records key as call i's. Called under the Func's or the scope's lock.
func (s *mapKeys[K, R]) set(i int, key K) {
	for len(s.keys) <= i/chunkSize {
		s.keys = append(s.keys, nil)
	}
	chunk := s.keys[i/chunkSize]
	if chunk == nil {
		chunk = make([]K, chunkSize)
		s.keys[i/chunkSize] = chunk
	}
	chunk[i%chunkSize] = key
}

// ptrKeys is the destinations of a batch's or a scope's AssignTo calls, as
// mapKeys is for Assign: no allocation per call.
type ptrKeys[R any] struct {
	dsts  [][]*R // destination of call i at dsts[i/chunkSize][i%chunkSize]
	cells *cellList[R]
}

func (s *ptrKeys[R]) apply(c *callCore) {
	i := c.index
	*s.dsts[i/chunkSize][i%chunkSize] = resultOf(c, s.cells)
}

func (s *ptrKeys[R]) key(*callCore) any { return nil }

// set records dst as call i's. Called under the Func's or the scope's lock.
func (s *ptrKeys[R]) set(i int, dst *R) {
	for len(s.dsts) <= i/chunkSize {
		s.dsts = append(s.dsts, nil)
	}
	if s.dsts[i/chunkSize] == nil {
		s.dsts[i/chunkSize] = make([]*R, chunkSize)
	}
	s.dsts[i/chunkSize][i%chunkSize] = dst
}

// oneKey is the assignment of one call of a batch or scope that has
// mapKeys for maxMapKeys other maps already, or of a call that found its
// scope returned (cells nil then, as in a scope).
type oneKey[K comparable, R any] struct {
	m     map[K]R
	k     K
	cells *cellList[R]
}

func (a *oneKey[K, R]) apply(c *callCore) { a.m[a.k] = resultOf(c, a.cells) }

func (a *oneKey[K, R]) key(*callCore) any { return a.k }

// sameMap reports whether m and n are the same map.
func sameMap[K comparable, R any](m, n map[K]R) bool {
	return *(*unsafe.Pointer)(unsafe.Pointer(&m)) == *(*unsafe.Pointer)(unsafe.Pointer(&n))
}

// keyedBy returns the assignments to m among keyed (a batch's or a
// scope's), making them if there is room for another map; nil if not.
// cells are the batch's, or nil for a scope.
func keyedBy[K comparable, R any](keyed *[]any, m map[K]R, cells *cellList[R]) *mapKeys[K, R] {
	n := 0
	for _, a := range *keyed {
		if s, ok := a.(*mapKeys[K, R]); ok {
			if sameMap(s.m, m) {
				return s
			}
		}
		if _, ok := a.(interface{ mapKeys() }); ok {
			n++
		}
	}
	if n == maxMapKeys {
		return nil
	}
	s := &mapKeys[K, R]{m: m, cells: cells}
	*keyed = append(*keyed, s)
	return s
}

func (s *mapKeys[K, R]) mapKeys() {} // tells a mapKeys among keyed, whatever its types

// dstsIn returns a scope's AssignTo destinations of result type R among
// keyed, making them if needed.
func dstsIn[R any](keyed *[]any) *ptrKeys[R] {
	for _, a := range *keyed {
		if s, ok := a.(*ptrKeys[R]); ok {
			return s
		}
	}
	s := new(ptrKeys[R])
	*keyed = append(*keyed, s)
	return s
}

// onePtr is the assignment of a call that found its scope returned.
type onePtr[R any] struct{ dst *R }

func (a *onePtr[R]) apply(c *callCore) { *a.dst = resultOf[R](c, nil) }
func (a *onePtr[R]) key(*callCore) any { return nil }

// Assign is deco's results[key] = f(arg): it starts a call of f and, when
// the call's batch is waited ([Func.Wait], [Synchronized], [WaitAll], or
// the end of an iteration), stores the result in m[key] — in the waiting
// goroutine, so m is a plain map that needs no lock and no task ever
// touches. Assignments are applied in call order, so when two calls have
// the same key the later call wins, whatever order they finished in. A
// call that fails leaves m[key] as it was; its [CallError] carries the key.
//
// m must not be read or written by other goroutines until the wait returns.
// Cost: that of [Func.Go] plus the key's place and a 24-byte record of the
// assignment, kept until the wait, for calls into at most four maps per
// batch or [Synchronized] scope; beyond, one allocation per call.
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
// Cost: that of [Func.Go] plus the destination's place and a 24-byte
// record of the assignment, kept until the wait, in a batch or a
// [Synchronized] scope alike: no allocation per call.
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
	c := f.launch(ctx, arg, func(b *funcBatch[A, R], sc *scope, c *call[A, R]) assigner {
		var keyed *[]any
		var cells *cellList[R]
		switch {
		case b != nil:
			keyed, cells = &b.keyed, &b.chunks
		case sc != nil:
			keyed = &sc.keyed
		default:
			return &oneKey[K, R]{m: m, k: key}
		}
		if s := keyedBy(keyed, m, cells); s != nil {
			s.set(c.index, key)
			return s
		}
		return &oneKey[K, R]{m: m, k: key, cells: cells}
	})
	return &c.Future
}

// assignPtr starts a call whose result goes to *dst; ctx may be nil.
func assignPtr[A, R any](op string, ctx context.Context, dst *R, f *Func[A, R], arg A) *Future[R] {
	if dst == nil {
		panic("deco: " + op + " to a nil pointer")
	}
	c := f.launch(ctx, arg, func(b *funcBatch[A, R], sc *scope, c *call[A, R]) assigner {
		var s *ptrKeys[R]
		switch {
		case b != nil:
			if b.dsts == nil {
				b.dsts = &ptrKeys[R]{cells: &b.chunks}
			}
			s = b.dsts
		case sc != nil:
			s = dstsIn[R](&sc.keyed)
		default:
			return &onePtr[R]{dst: dst}
		}
		s.set(c.index, dst)
		return s
	})
	return &c.Future
}
