package deco

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"
)

type internalKey struct{}

// A call of a scope started with the scope's context, or with the context
// of a task of the scope that keeps none of its own, keeps no context of
// its own (no extra part, 72 bytes); one started with another context
// keeps it, and so do the calls its task starts with its context.
func TestAScopeCallKeepsAContextOnlyIfItDiffersFromTheScopes(t *testing.T) {
	type started struct {
		f     *Future[struct{}]
		keeps bool
		what  string
	}
	var calls []started
	record := make(chan started, 16)
	var f *Func[int, struct{}]
	f = ConcurrentCtx(func(ctx context.Context, i int) {
		switch i {
		case 0: // started with the scope's context
			record <- started{f.GoContext(ctx, 9), false, "a task's call started with its context"}
		case 1: // started with a context of its own
			record <- started{f.GoContext(ctx, 9), true, "a call started with the context of a task that keeps one"}
		}
	}, Limit(1))
	err := Synchronized(context.Background(), func(ctx context.Context) error {
		calls = append(calls,
			started{f.GoContext(ctx, 0), false, "a call started with the scope's context"},
			started{f.GoContext(context.WithValue(ctx, internalKey{}, 1), 1), true, "a call started with a context derived from the scope's"})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	close(record)
	for c := range record {
		calls = append(calls, c)
	}
	if len(calls) != 4 {
		t.Fatalf("%d calls recorded, want 4", len(calls))
	}
	for _, c := range calls {
		e := c.f.callCore.extra.Load()
		if keeps := e != nil && e.parent != nil; keeps != c.keeps {
			t.Errorf("%s: keeps a context of its own: %v, want %v", c.what, keeps, c.keeps)
		}
	}
}

// A scope's list of calls holds every call in order across chunks, one word
// per call, and release clears the chunks it gives back, so that a pooled
// chunk keeps no call alive.
func TestScopeCallsKeepCallOrderAndReleaseClearsTheirChunks(t *testing.T) {
	var l scopeCalls
	f := Concurrent(func(int) {})
	calls := make([]call[int, struct{}], 2*scopeChunk+3)
	for i := range calls {
		calls[i].fn = &f.core
		l.add(&calls[i].callCore)
	}
	if l.n != len(calls) {
		t.Fatalf("n = %d, want %d", l.n, len(calls))
	}
	for i := range calls {
		if got := l.at(i); got != task(&calls[i]) {
			t.Fatalf("at(%d) is not call %d", i, i)
		}
	}
	if per := unsafe.Sizeof(*l.first) / scopeChunk; per != unsafe.Sizeof(uintptr(0)) {
		t.Errorf("a scope's list takes %d bytes per call, want one word", per)
	}
	chunks := append([]*[scopeChunk]*callCore{l.first}, l.more...)
	if len(chunks) != 3 {
		t.Fatalf("%d chunks for %d calls, want 3", len(chunks), len(calls))
	}
	l.release()
	if l.n != 0 || l.first != nil || l.more != nil || l.room != [3]*[scopeChunk]*callCore{} {
		t.Errorf("after release: n %d, first %v, more %v; want an empty list", l.n, l.first, l.more)
	}
	for k, ch := range chunks {
		for i, e := range ch {
			if e != nil {
				t.Fatalf("chunk %d keeps entry %d after release", k, i)
			}
		}
	}
}

// scopeOf's fast paths answer what the context's Value chain answers: for
// a scope's context, a task's context with no context of its own (at two
// depths of scopes), a task's context that keeps one, contexts derived
// from each, and a context outside every scope; and scopeFor answers what
// scopeOf and parentOf do.
func TestScopeOfAnswersAsTheContextChainDoes(t *testing.T) {
	viaChain := func(ctx context.Context) *scope {
		s, _ := ctx.Value(scopeKey{}).(*scope)
		return s
	}
	var checked int
	check := func(ctx context.Context, what string, want *scope) {
		t.Helper()
		checked++
		if got := scopeOf(ctx); got != want || viaChain(ctx) != want {
			t.Errorf("%s: scopeOf %p, chain %p, want %p", what, got, viaChain(ctx), want)
		}
		if s, parent := scopeFor(ctx); s != want || parent != want.parentOf(ctx) {
			t.Errorf("%s: scopeFor %p, %v; want %p, %v (scopeOf, parentOf)", what, s, parent, want, want.parentOf(ctx))
		}
	}
	check(context.Background(), "Background", nil)
	var f *Func[int, struct{}]
	f = ConcurrentCtx(func(ctx context.Context, i int) {
		s := scopeOf(ctx)
		check(ctx, "a task's context", s)
		check(context.WithValue(ctx, internalKey{}, 1), "a context derived from a task's", s)
		if i == 0 {
			Synchronized(ctx, func(inner context.Context) error {
				is := inner.(*scopeContext).s
				if is == s {
					t.Error("the inner scope is the outer one")
				}
				check(inner, "an inner scope's context", is)
				f.GoContext(inner, 2)
				return nil
			})
		}
	}, Limit(1))
	Synchronized(context.Background(), func(ctx context.Context) error {
		s := ctx.(*scopeContext).s
		check(ctx, "a scope's context", s)
		f.GoContext(ctx, 0)                                      // keeps no context
		f.GoContext(context.WithValue(ctx, internalKey{}, 1), 1) // keeps one
		return nil
	})
	if want := 1 + 1 + 2 + 1 + 2 + 2; checked != want { // Background, the scope, calls 0, its inner scope, 2 and 1
		t.Errorf("%d checks ran, want %d", checked, want)
	}
}

// A call started in a scope with the scope's context takes its call from
// the slab the scope holds for its function, under the scope's lock only:
// it starts while another goroutine holds the function's slab lock. And
// the scope gives the calls it did not use back to the function when it
// is over, so that a scope of a few calls allocates no slab of its own.
func TestAScopeCallTakesNoLockOfItsFunctionsSlab(t *testing.T) {
	f := Concurrent(func(int) {}, Limit(1))
	err := Synchronized(context.Background(), func(ctx context.Context) error {
		f.GoContext(ctx, 0) // the scope takes a slab of f's calls
		f.slabMu.Lock()
		started := make(chan struct{})
		go func() {
			f.GoContext(ctx, 1)
			close(started)
		}()
		select {
		case <-started:
		case <-time.After(10 * time.Second):
			t.Error("a scope's second call of f did not start in 10 s while f's slab lock was held")
		}
		f.slabMu.Unlock()
		<-started
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	f.slabMu.Lock()
	left := len(f.slab.s) - f.slab.used
	f.slabMu.Unlock()
	if want := slabSize[call[int, struct{}]]() - 2; left != want {
		t.Errorf("f's slab has %d calls left after a scope of 2 calls, want %d (the rest given back)", left, want)
	}
}

// A function's queue waits are sampled by its call number over all its
// batches and scopes, not afresh in each: 2,000 calls in 20 scopes, or 20
// waited batches, of 100 stamp the clock for one call in eight of the
// function's first 512 and one in 64 after (64 + 24 calls, weights 64×1 +
// 24×8 in the sample), where a dense sample per scope or batch stamped 13
// calls in each (260), two clock readings apiece.
func TestAFunctionsQueueWaitsAreSampledOverAllItsScopes(t *testing.T) {
	for _, scoped := range []bool{true, false} {
		f := Concurrent(func(int) {}, Limit(2))
		var futures []*Future[struct{}]
		for range 20 {
			if !scoped {
				for i := range 100 {
					futures = append(futures, f.Go(i))
				}
				f.Wait()
				continue
			}
			err := Synchronized(context.Background(), func(ctx context.Context) error {
				for i := range 100 {
					futures = append(futures, f.GoContext(ctx, i))
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		stamped, weights := 0, int64(0)
		for _, fu := range futures {
			if fu.stamped() != 0 {
				stamped++
				weights += fu.queueWeight()
			}
		}
		var sample int64
		for i := range f.core.stats.queueWait.buckets {
			sample += f.core.stats.queueWait.buckets[i].Load()
		}
		if stamped != 64+24 || weights != 64+24*8 || sample != weights {
			t.Errorf("scopes %v: %d calls stamped, weights %d, sample %d; want 88, 256, 256", scoped, stamped, weights, sample)
		}
	}
}

// A scope's calls do not count themselves up as they start before the
// scope's wait (they would write the line the workers count finished calls
// on): the wait adds the calls started so far, and a call that joins the
// scope while it waits, as a task's child does, counts itself. Every call
// is waited for either way: the ones that finished before the wait began,
// the blocked ones, and the children started during the wait.
func TestAScopeCountsItsCallsWhenItsWaitStarts(t *testing.T) {
	const n = 50
	release := make(chan struct{})
	var ran atomic.Int64
	var child *Func[int, struct{}]
	child = Concurrent(func(int) { ran.Add(1) }, Limit(2))
	f := ConcurrentCtx(func(ctx context.Context, i int) {
		if i > 0 {
			<-release
		}
		child.GoContext(ctx, i) // joins the scope, during its wait for most
		ran.Add(1)
	}, Limit(2))
	err := Synchronized(context.Background(), func(ctx context.Context) error {
		s := scopeOf(ctx)
		f.GoContext(ctx, 0).Wait() // done before the wait: pending goes below 0
		for i := 1; i < n; i++ {
			f.GoContext(ctx, i)
		}
		s.mu.Lock()
		pending, counted, calls := s.pending.Load(), s.counted, s.calls.n
		s.mu.Unlock()
		if counted || pending > 0 || calls != n+1 {
			t.Errorf("before the wait: pending %d, counted %v, %d calls; want pending <= 0, not counted, %d calls", pending, counted, calls, n+1)
		}
		close(release)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := ran.Load(); got != 2*n {
		t.Errorf("%d calls ran by the time Synchronized returned, want %d", got, 2*n)
	}
}
