package deco

import (
	"context"
	"reflect"
	"slices"
	"sort"
	"sync"
	"unsafe"
)

// assigner is a deferred assignment, applied by the goroutine that waits.
// One assigner may serve many calls (mapKeys, ptrKeys).
type assigner interface {
	// apply stores the result of c, a call of a scope (its result is in
	// its Future).
	apply(c *callCore)
	// applyRange stores the results of the calls from..to-1 of a
	// function's batch (their results are in its cells).
	applyRange(from, to int)
	// key returns the key call i assigns to, or nil.
	key(i int) any
}

// assignment is a scope's call's deferred assignment ([AssignContext],
// [AssignToContext]). It lives in the scope, not in the call: most calls
// have none, and a call is the bytes the collector works for.
type assignment struct {
	c *callCore
	a assigner
}

// assignRun is the deferred assignments of calls from, from+1, ... of a
// function's batch, all by one assigner: a loop of Assign calls into one
// map is one run, whatever its length, so an Assign adds nothing to the
// batch but the length of the run and its call's mark (assignments.in),
// and the batch holds no pointer to its calls, which become garbage when
// they are done, as other calls do.
type assignRun struct {
	from int
	// n is the run's length: written by the caller under its Func's lock
	// and read there, or by applyAssigns once a wait has taken the batch;
	// keyOf, which may run while the caller adds, reads from and the
	// marks instead, so that extending a run is a plain add, not an
	// atomic one (an atomic add was 5-7 ns of the 80 ns the caller spends
	// per Assign, bench/ Gather/deco profile).
	n int
	a assigner
}

// assignments are a batch's deferred assignments in call order: a scope's
// one per call, a function's batch's in runs.
type assignments struct {
	chunked[assignment]
	runs chunked[assignRun]
	// in marks the calls of a function's batch that are in a run: call i
	// at in[i/chunkSize][i%chunkSize]. The caller adds chunks under the
	// batch's lock, which keyOf reads them under, and sets a call's mark
	// before the call is queued, which orders the write before any read
	// of it (keyOf reads only the mark of a call that is done); a mark is
	// never written again. A byte, not a bit: neighbouring marks are
	// written while another is read.
	in []*[chunkSize]bool
	// The caller's shortcuts, read and written only under its Func's
	// lock: the batch's last run and the chunk of marks of call
	// marksAt*chunkSize on (nil until the first), so that the next
	// Assign of a run (assignMap) takes a few instructions: it is call
	// next (the last run's end), below marksEnd (the end of the chunk of
	// marks at hand, 0 until the first), into openMap (the map of the
	// last run when its assigner is a mapKeys, openKeys; else nil).
	open     *assignRun
	marks    *[chunkSize]bool
	marksAt  int
	next     int
	marksEnd int
	openMap  unsafe.Pointer
	openKeys unsafe.Pointer
}

// extend adds call i to the last run, whose next call it is, with its
// chunk of marks at hand.
func (s *assignments) extend(i int) {
	s.open.n++
	s.next = i + 1
	s.marks[uint(i)%chunkSize] = true
}

// target is what a mapKeys tells its map by: the map's pointer and itself.
type target interface {
	target() (m, keys unsafe.Pointer)
}

func (s *assignments) add(a assignment) { s.chunked.add(a, chunkSize) }

// find returns the assignment of a scope's call of index i, or nil.
func (s *assignments) find(i int) *assignment {
	k, _ := slices.BinarySearchFunc(s.chunks, i, func(ch []assignment, i int) int { return ch[len(ch)-1].c.index - i })
	if k == len(s.chunks) {
		return nil
	}
	ch := s.chunks[k]
	j, ok := slices.BinarySearchFunc(ch, i, func(a assignment, i int) int { return a.c.index - i })
	if !ok {
		return nil
	}
	return &ch[j]
}

// run returns the run of a function's batch that call i is in, or nil.
// Runs do not overlap and lie in call order, so a marked call is in the
// last run that starts at or before it.
func (s *assignments) run(i int) *assignRun {
	if !s.marked(i) {
		return nil
	}
	chunks := s.runs.chunks
	k := sort.Search(len(chunks), func(k int) bool { return chunks[k][0].from > i }) - 1
	if k < 0 {
		return nil
	}
	ch := chunks[k]
	return &ch[sort.Search(len(ch), func(j int) bool { return ch[j].from > i })-1]
}

// mark records that call i is in a run; mu is the batch's lock, taken to
// add a chunk of marks. The caller holds its Func's lock.
func (s *assignments) mark(i int, mu *sync.Mutex) {
	k := int(uint(i) / chunkSize)
	if s.marks == nil || k != s.marksAt {
		if k >= len(s.in) || s.in[k] == nil {
			mu.Lock()
			for len(s.in) <= k {
				s.in = append(s.in, nil)
			}
			s.in[k] = new([chunkSize]bool)
			mu.Unlock()
		}
		s.marks, s.marksAt, s.marksEnd = s.in[k], k, (k+1)*chunkSize
	}
	s.marks[uint(i)%chunkSize] = true
}

// marked reports whether call i is in a run; the batch's lock is held.
func (s *assignments) marked(i int) bool {
	k := int(uint(i) / chunkSize)
	return k < len(s.in) && s.in[k] != nil && s.in[k][uint(i)%chunkSize]
}

// addAssign records c's deferred assignment a; calls come in call order.
// A call of a function's batch, added under its Func's lock, extends the
// batch's last run when it is the next call of the same assigner: a plain
// add and its mark, no lock (only the Func's lock writes the list of
// runs and the lengths, so reading them under that lock needs no other).
// A new run, a new chunk of marks or of keys (mapKeys.set) and a scope's
// assignment take the batch's lock, which keyOf takes to read them: a
// worker names the key of a failed call under FailFast while the caller
// adds (TestAFailFastBatchNamesTheKeyOfAFailureWhileCallsAreAssigned),
// and a Future's waiter may, too; the key and the mark were written
// before the call was queued.
func (b *batch) addAssign(c *callCore, a assigner) {
	if b.cells {
		if l := b.assigns.open; l != nil && l.a == a && l.from+l.n == c.index {
			l.n++
		} else {
			b.mu.Lock()
			b.assigns.runs.add(assignRun{from: c.index, n: 1, a: a}, chunkSize)
			b.assigns.open = b.assigns.runs.last() // chunks of runs start at full size: never moved
			b.mu.Unlock()
			b.assigns.openMap, b.assigns.openKeys = nil, nil
			if t, ok := a.(target); ok {
				b.assigns.openMap, b.assigns.openKeys = t.target()
			}
		}
		b.assigns.next = c.index + 1
		b.assigns.mark(c.index, &b.mu)
		return
	}
	b.mu.Lock()
	b.assigns.add(assignment{c, a})
	b.mu.Unlock()
}

// keyOf returns the key c assigns to, or nil.
func (b *batch) keyOf(c *callCore) any {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cells {
		if r := b.assigns.run(c.index); r != nil {
			return r.a.key(c.index)
		}
		return nil
	}
	if a := b.assigns.find(c.index); a != nil && a.c == c {
		return a.a.key(c.index)
	}
	return nil
}

// applyAssigns applies the deferred assignments of the calls that
// succeeded, in call order; failed are the batch's failed calls in call
// order, and every call is done. A function's batch reads no call: its
// calls' results are in its cells and its failures are failed, so it
// reads the cells and the keys of each run in order, between failures.
func (b *batch) applyAssigns(failed []*callCore) {
	b.mu.Lock()
	scoped, runs := b.assigns.chunks, b.assigns.runs.chunks
	b.mu.Unlock()
	for _, ch := range scoped {
		for _, a := range ch {
			if err, pe := a.c.fault(); a.c.state.Load() == stateDone && err == nil && pe == nil {
				a.a.apply(a.c)
			}
		}
	}
	k := 0 // failed[k] is the first failed call not before the run
	for _, ch := range runs {
		for i := range ch {
			r := &ch[i]
			for from, to := r.from, r.from+r.n; from < to; {
				for k < len(failed) && failed[k].index < from {
					k++
				}
				end := to
				if k < len(failed) && failed[k].index < to {
					end = failed[k].index
				}
				if from < end {
					r.a.applyRange(from, end)
				}
				from = end + 1 // past the failed call, or the run
			}
		}
	}
}

// mapKeys is the assignments of one batch of Func calls, or of one scope,
// to one map, so that Assign allocates no object per call: the call comes
// from its Func's slab like any other, its key goes into chunks by the
// call's index, and its result is read from its cell (a function's batch)
// or from its Future (a scope, cells nil). A batch or scope keeps up to
// maxMapKeys of them (one per map and key type); an Assign beyond falls
// back to an allocation per call (oneKey).
//
// Keys that are their calls' indices — an int key, results[i] = f(i) in a
// loop from the batch's or scope's first call — are not kept at all
// (byIndex): the first key that is not its index writes the ones before
// it into the chunks, and from then on every key is kept.
type mapKeys[K comparable, R any] struct {
	m map[K]R
	// byIndex: K is an int kind of the size of int and every key so far
	// has been its call's index, so keys is empty; written by set under
	// mu (or the scope's lock), which keyOf reads it under.
	byIndex bool
	first   int          // index of the first call
	keys    [][]K        // key of call i at keys[i/chunkSize][i%chunkSize], unless byIndex
	cells   *cellList[R] // the batch's cells
	// mu is a function batch's lock, taken to add a chunk of keys, which
	// keyOf reads under it (see addAssign); nil in a scope, whose lock is
	// held by every caller of set already.
	mu *sync.Mutex
}

const maxMapKeys = 4

func (s *mapKeys[K, R]) apply(c *callCore) { s.m[s.keyAt(c.index)] = resultOf(c, s.cells) }

func (s *mapKeys[K, R]) applyRange(from, to int) {
	// Few values live across the map assignment's call, which the
	// compiler must keep on the stack and reload after it.
	m, t := s.m, s.cells.p.Load()
	// An empty map about to take many results (made for them before the
	// loop of calls, it is out of cache by now): store one, warm the
	// table, then the rest, still in call order.
	if to-from >= warmMin && len(m) == 0 {
		k, j := int(uint(from)/chunkSize), int(uint(from)%chunkSize)
		m[s.keyAt(from)] = t.chunks[k][j].value
		from++
		warm(m)
	}
	for from < to {
		k, j := int(uint(from)/chunkSize), int(uint(from)%chunkSize)
		cells := t.chunks[k][j:min(chunkSize, j+to-from)]
		if s.byIndex {
			for x := range cells {
				m[indexKey[K](from+x)] = cells[x].value
			}
		} else {
			keys := s.keys[k][j:]
			keys = keys[:len(cells)]
			for x := range cells {
				m[keys[x]] = cells[x].value
			}
		}
		from += len(cells)
	}
}

// warmMin is the fewest results in a row an empty map must be about to
// take for applyRange to warm it first.
const warmMin = 4096

// warm reads every group of m's table once, in address order, so that the
// inserts that follow find it in cache: m has one key, so the iteration
// yields once and walks the rest of the table, a stream of reads the
// processor prefetches, where inserts by key hash miss at random
// (BenchmarkAssignWait; the figures are in the commit that added it).
func warm[K comparable, R any](m map[K]R) {
	for range m {
	}
}

// keyAt returns the key of call i.
func (s *mapKeys[K, R]) keyAt(i int) K {
	if s.byIndex {
		return indexKey[K](i)
	}
	return s.keys[i/chunkSize][i%chunkSize]
}

// indexKey returns i as a K, an int kind of the size of int (byIndex).
func indexKey[K any](i int) K { return *(*K)(unsafe.Pointer(&i)) }

// intKeyed reports whether K is an int kind of the size of int, whose keys
// may be indices (mapKeys.byIndex).
func intKeyed[K any]() bool {
	t := reflect.TypeFor[K]()
	return t.Size() == unsafe.Sizeof(0) && (t.Kind() == reflect.Int || t.Kind() == reflect.Int64)
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

func (s *mapKeys[K, R]) key(i int) any { return s.keyAt(i) }

// set records key as call i's. Called under the Func's or the scope's
// lock, in call order. A key that is its call's index, while every key
// has been, costs a comparison.
func (s *mapKeys[K, R]) set(i int, key K) {
	if s.byIndex && indexKey[K](i) == key {
		return
	}
	s.setKey(i, key)
}

// setKey is set for a key that must be kept.
func (s *mapKeys[K, R]) setKey(i int, key K) {
	if s.byIndex {
		s.lock()
		s.byIndex = false
		for j := s.first; j < i; j++ {
			s.chunkOf(j)[j%chunkSize] = indexKey[K](j)
		}
		s.unlock()
	}
	if len(s.keys) <= i/chunkSize || s.keys[i/chunkSize] == nil {
		s.lock()
		s.chunkOf(i)
		s.unlock()
	}
	s.keys[i/chunkSize][i%chunkSize] = key
}

// chunkOf returns the chunk of keys that holds call i's, adding it if
// needed; s.mu must be held.
func (s *mapKeys[K, R]) chunkOf(i int) []K {
	for len(s.keys) <= i/chunkSize {
		s.keys = append(s.keys, nil)
	}
	if s.keys[i/chunkSize] == nil {
		s.keys[i/chunkSize] = make([]K, chunkSize)
	}
	return s.keys[i/chunkSize]
}

func (s *mapKeys[K, R]) lock() {
	if s.mu != nil {
		s.mu.Lock()
	}
}

func (s *mapKeys[K, R]) unlock() {
	if s.mu != nil {
		s.mu.Unlock()
	}
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

func (s *ptrKeys[R]) applyRange(from, to int) {
	t := s.cells.p.Load()
	for from < to {
		cells, dsts := t.chunks[from/chunkSize], s.dsts[from/chunkSize]
		j, end := from%chunkSize, min(chunkSize, from%chunkSize+to-from)
		for ; j < end; j++ {
			*dsts[j] = cells[j].value
		}
		from += end - from%chunkSize
	}
}

func (s *ptrKeys[R]) key(int) any { return nil }

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

func (a *oneKey[K, R]) applyRange(from, _ int) { a.m[a.k] = a.cells.at(from).value }

func (a *oneKey[K, R]) key(int) any { return a.k }

// sameMap reports whether m and n are the same map.
func sameMap[K comparable, R any](m, n map[K]R) bool {
	return *(*unsafe.Pointer)(unsafe.Pointer(&m)) == *(*unsafe.Pointer)(unsafe.Pointer(&n))
}

// keyedBy returns the assignments to m among keyed (a batch's or a
// scope's), making them if there is room for another map; nil if not.
// cells and mu are a function batch's, or nil for a scope; first is the
// index of the call that would be the first of new assignments.
func keyedBy[K comparable, R any](keyed *[]any, m map[K]R, cells *cellList[R], mu *sync.Mutex, first int) *mapKeys[K, R] {
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
	s := &mapKeys[K, R]{m: m, cells: cells, mu: mu, byIndex: intKeyed[K](), first: first}
	*keyed = append(*keyed, s)
	return s
}

func (s *mapKeys[K, R]) mapKeys() {} // tells a mapKeys among keyed, whatever its types

func (s *mapKeys[K, R]) target() (m, keys unsafe.Pointer) {
	return *(*unsafe.Pointer)(unsafe.Pointer(&s.m)), unsafe.Pointer(s)
}

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

// applyRange is never called: a call that found its scope returned is in
// no function's batch.
func (a *onePtr[R]) applyRange(int, int) { panic("deco: onePtr in a function's batch") }

func (a *onePtr[R]) key(int) any { return nil }

// Assign is deco's results[key] = f(arg): it starts a call of f and, when
// the call's batch is waited ([Func.Wait], [Synchronized], [WaitAll], or
// the end of an iteration), stores the result in m[key] — in the waiting
// goroutine, so m is a plain map that needs no lock and no task ever
// touches. Assignments are applied in call order, so when two calls have
// the same key the later call wins, whatever order they finished in. A
// call that fails leaves m[key] as it was; its [CallError] carries the key.
//
// m must not be read or written by other goroutines until the wait returns.
// Cost: that of [Func.Go] plus the key's place, kept until the wait (none
// while each key into m is an int equal to its call's index in the batch
// or scope, as in a loop of results[i] = f(i) that starts the batch), and a
// record of the assignment: in a function's batch, a byte per call (in
// chunks of 256 calls) and 32 bytes for each run of consecutive calls into
// one map (a loop of Assign calls is one run), in a [Synchronized] scope
// 24 bytes per call. That is for calls into at most four maps per batch or
// scope; beyond, one allocation per call. The batch keeps no call of its
// own: a finished call is garbage before the wait, as one of [Func.Go] is.
// When m is empty at the wait and 4,096 or more results in a row go into
// it, the waiting goroutine stores the first, then reads m's table once in
// address order (an iteration over m, which yields that one key) before it
// stores the rest, so that their inserts find the table in cache instead
// of missing at random: a pass in proportion to the size m was made with,
// paid for little by a map made much larger than the results it takes.
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
// Cost: that of [Func.Go] plus the destination's place, kept until the
// wait, and a record of the assignment as for [Assign] (a byte per call,
// in chunks of 256 calls, and 32 bytes per run of consecutive AssignTo
// calls in a function's batch, 24 bytes per call in a [Synchronized]
// scope): no allocation per call.
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
		var mu *sync.Mutex
		switch {
		case b != nil:
			// The next call of a loop of Assign calls into m: the batch's
			// last run is m's and call c follows it. Only m's mapKeys,
			// which is a *mapKeys[K, R], has m's pointer as openMap.
			if as := &b.assigns; c.index == as.next && c.index < as.marksEnd && as.openMap == *(*unsafe.Pointer)(unsafe.Pointer(&m)) {
				s := (*mapKeys[K, R])(as.openKeys)
				if !s.byIndex || indexKey[K](c.index) != key {
					s.setKey(c.index, key) // set, by hand: generic methods are not inlined
				}
				as.extend(c.index)
				return nil // recorded: launch adds nothing
			}
			keyed, cells, mu = &b.keyed, &b.chunks, &b.mu
		case sc != nil:
			keyed = &sc.keyed
		default:
			return &oneKey[K, R]{m: m, k: key}
		}
		if s := keyedBy(keyed, m, cells, mu, c.index); s != nil {
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
