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

// mapAssign is a call whose result goes to m[k] when its batch is waited.
type mapAssign[A, R any, K comparable] struct {
	call[A, R]
	m map[K]R
	k K
}

func (a *mapAssign[A, R, K]) apply(*callCore)   { a.m[a.k] = a.value }
func (a *mapAssign[A, R, K]) key(*callCore) any { return a.k }

// mapKeys is the assignments of one batch of Func calls to one map, so that
// Assign allocates no object per call: the call comes from its Func's slab
// like any other, its key goes into chunks parallel to the batch's cells,
// and its result is read from its cell. A batch keeps up to maxMapKeys of
// them (one per map and key type); an Assign beyond, or in a scope, falls
// back to an allocation per call (oneKey, mapAssign).
type mapKeys[K comparable, R any] struct {
	m     map[K]R
	keys  [][]K        // key of call i at keys[i/chunkSize][i%chunkSize]
	cells *[][]cell[R] // the batch's cells
}

const maxMapKeys = 4

func (s *mapKeys[K, R]) apply(c *callCore) {
	i := c.index
	s.m[s.keys[i/chunkSize][i%chunkSize]] = (*s.cells)[i/chunkSize][i%chunkSize].value
}

func (s *mapKeys[K, R]) key(c *callCore) any {
	i := c.index
	return s.keys[i/chunkSize][i%chunkSize]
}

// set records key as call i's. Called under the Func's lock.
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

// ptrKeys is the destinations of a batch's AssignTo calls, as mapKeys is
// for Assign: no allocation per call.
type ptrKeys[R any] struct {
	dsts  [][]*R // destination of call i at dsts[i/chunkSize][i%chunkSize]
	cells *[][]cell[R]
}

func (s *ptrKeys[R]) apply(c *callCore) {
	i := c.index
	*s.dsts[i/chunkSize][i%chunkSize] = (*s.cells)[i/chunkSize][i%chunkSize].value
}

func (s *ptrKeys[R]) key(*callCore) any { return nil }

// set records dst as call i's. Called under the Func's lock.
func (s *ptrKeys[R]) set(i int, dst *R) {
	for len(s.dsts) <= i/chunkSize {
		s.dsts = append(s.dsts, nil)
	}
	if s.dsts[i/chunkSize] == nil {
		s.dsts[i/chunkSize] = make([]*R, chunkSize)
	}
	s.dsts[i/chunkSize][i%chunkSize] = dst
}

// oneKey is the assignment of one call of a batch that has mapKeys for
// maxMapKeys other maps already.
type oneKey[K comparable, R any] struct {
	m     map[K]R
	k     K
	cells *[][]cell[R]
}

func (a *oneKey[K, R]) apply(c *callCore) {
	i := c.index
	a.m[a.k] = (*a.cells)[i/chunkSize][i%chunkSize].value
}

func (a *oneKey[K, R]) key(*callCore) any { return a.k }

// sameMap reports whether m and n are the same map.
func sameMap[K comparable, R any](m, n map[K]R) bool {
	return *(*unsafe.Pointer)(unsafe.Pointer(&m)) == *(*unsafe.Pointer)(unsafe.Pointer(&n))
}

// keyedBy returns b's assignments to m, making them if b has room for
// another map; nil if not.
func keyedBy[K comparable, A, R any](b *funcBatch[A, R], m map[K]R) *mapKeys[K, R] {
	for _, a := range b.keyed {
		if s, ok := a.(*mapKeys[K, R]); ok && sameMap(s.m, m) {
			return s
		}
	}
	if len(b.keyed) == maxMapKeys {
		return nil
	}
	s := &mapKeys[K, R]{m: m, cells: &b.chunks}
	b.keyed = append(b.keyed, s)
	return s
}

// ptrAssign is a call whose result goes to *dst when its batch is waited.
type ptrAssign[A, R any] struct {
	call[A, R]
	dst *R
}

func (a *ptrAssign[A, R]) apply(*callCore)   { *a.dst = a.value }
func (a *ptrAssign[A, R]) key(*callCore) any { return nil }

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
// assignment, kept until the wait, for calls outside a [Synchronized]
// scope into at most four maps per batch; otherwise one allocation per
// call.
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
// record of the assignment, kept until the wait, outside a [Synchronized]
// scope; in one, one allocation per call.
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
	if ctx == nil || scopeOf(ctx) == nil {
		c := f.launch(ctx, nil, arg, func(b *funcBatch[A, R], c *call[A, R]) assigner {
			if s := keyedBy(b, m); s != nil {
				s.set(c.index, key)
				return s
			}
			return &oneKey[K, R]{m: m, k: key, cells: &b.chunks}
		})
		return &c.Future
	}
	c := &mapAssign[A, R, K]{m: m, k: key}
	f.launch(ctx, &c.call, arg, func(*funcBatch[A, R], *call[A, R]) assigner { return c })
	return &c.Future
}

// assignPtr starts a call whose result goes to *dst; ctx may be nil.
func assignPtr[A, R any](op string, ctx context.Context, dst *R, f *Func[A, R], arg A) *Future[R] {
	if dst == nil {
		panic("deco: " + op + " to a nil pointer")
	}
	if ctx == nil || scopeOf(ctx) == nil {
		c := f.launch(ctx, nil, arg, func(b *funcBatch[A, R], c *call[A, R]) assigner {
			if b.dsts == nil {
				b.dsts = &ptrKeys[R]{cells: &b.chunks}
			}
			b.dsts.set(c.index, dst)
			return b.dsts
		})
		return &c.Future
	}
	c := &ptrAssign[A, R]{dst: dst}
	f.launch(ctx, &c.call, arg, func(*funcBatch[A, R], *call[A, R]) assigner { return c })
	return &c.Future
}
