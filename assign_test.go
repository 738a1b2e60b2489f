package deco_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"runtime"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/deco-go/deco"
)

func TestAssignLaterCallWinsWhateverOrderTheyFinish(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := deco.ConcurrentValue(func(i int) int {
			time.Sleep(time.Duration(100-i) * time.Millisecond) // earlier calls finish later
			return i
		}, deco.Limit(100))
		m := map[int]int{}
		for i := range 100 {
			deco.Assign(m, i%10, f, i)
		}
		if len(m) != 0 {
			t.Fatal("Assign wrote before Wait")
		}
		if _, err := f.Wait(); err != nil {
			t.Fatal(err)
		}
		for k := range 10 {
			if m[k] != 90+k {
				t.Fatalf("m[%d] = %d, want %d from the last call with that key", k, m[k], 90+k)
			}
		}
	})
}

func TestAssignToSliceElements(t *testing.T) {
	f := deco.ConcurrentValue(func(s string) int { return len(s) })
	words := []string{"a", "bb", "ccc"}
	lens := make([]int, len(words))
	for i, w := range words {
		deco.AssignTo(&lens[i], f, w)
	}
	f.Wait()
	if lens[0] != 1 || lens[1] != 2 || lens[2] != 3 {
		t.Fatalf("lens = %v", lens)
	}
}

func TestFailedAssignLeavesTheKeyAndNamesIt(t *testing.T) {
	f := deco.ConcurrentResult(func(s string) (int, error) {
		if s == "bad" {
			return 0, errOdd
		}
		return len(s), nil
	})
	m := map[string]int{"bad": -1}
	deco.Assign(m, "good", f, "good")
	deco.Assign(m, "bad", f, "bad")
	_, err := f.Wait()
	var ce *deco.CallError
	if !errors.As(err, &ce) || ce.Key != "bad" {
		t.Fatalf("err = %v, want a CallError with key \"bad\"", err)
	}
	if m["bad"] != -1 || m["good"] != 4 {
		t.Fatalf("m = %v", m)
	}
}

// TestAssignManyResultsIntoAnEmptyMap: a wait that stores thousands of
// results into an empty map first reads its table (the first result in,
// then a pass over the rest) and stores the rest after: every result is
// stored once, in call order (calls 6000 on write the keys of calls 0 on
// again, and win), and a failed call, the first one too, leaves its key.
func TestAssignManyResultsIntoAnEmptyMap(t *testing.T) {
	const n, keys = 10_000, 6_000
	for _, tc := range []struct {
		name string
		key  func(i int) int
		fail func(i int) bool
	}{
		{"index keys", func(i int) int { return i }, func(int) bool { return false }},
		{"later calls win", func(i int) int { return i % keys }, func(int) bool { return false }},
		{"the first call fails", func(i int) int { return i % keys }, func(i int) bool { return i == 0 || i == keys+1 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := deco.ConcurrentResult(func(i int) (int, error) {
				if tc.fail(i) {
					return 0, errOdd
				}
				return 10 * i, nil
			})
			m := make(map[int]int, n)
			for i := range n {
				deco.Assign(m, tc.key(i), f, i)
			}
			f.Wait()
			want := map[int]int{}
			for i := range n {
				if !tc.fail(i) {
					want[tc.key(i)] = 10 * i
				}
			}
			if !maps.Equal(m, want) {
				for k, v := range want {
					if m[k] != v {
						t.Fatalf("m[%d] = %d, want %d (len %d, want %d)", k, m[k], v, len(m), len(want))
					}
				}
				t.Fatalf("len(m) = %d, want %d", len(m), len(want))
			}
		})
	}
}

func TestAssignAllocatesNoObjectPerCall(t *testing.T) {
	f := deco.ConcurrentValue(func(i int) int { return 2 * i })
	const n = 1000
	m := make(map[int]int, n)
	i := 0
	// Slabs of calls, chunks of cells and keys, and the list of keyed
	// calls are shared by many calls: well under one allocation each.
	allocs := testing.AllocsPerRun(n, func() {
		deco.Assign(m, i, f, i)
		i++
	})
	if _, err := f.Wait(); err != nil {
		t.Fatal(err)
	}
	if allocs >= 1 {
		t.Fatalf("Assign: %v allocations per call, want < 1", allocs)
	}
	for k := range i {
		if m[k] != 2*k {
			t.Fatalf("m[%d] = %d, want %d", k, m[k], 2*k)
		}
	}
}

func TestAssignToAllocatesNoObjectPerCall(t *testing.T) {
	f := deco.ConcurrentValue(func(i int) int { return 2 * i })
	const n = 1000
	out := make([]int, n+1) // AllocsPerRun runs once more to warm up
	i := 0
	allocs := testing.AllocsPerRun(n, func() {
		deco.AssignTo(&out[i], f, i)
		i++
	})
	if _, err := f.Wait(); err != nil {
		t.Fatal(err)
	}
	if allocs >= 1 {
		t.Fatalf("AssignTo: %v allocations per call, want < 1", allocs)
	}
	for k := range i {
		if out[k] != 2*k {
			t.Fatalf("out[%d] = %d, want %d", k, out[k], 2*k)
		}
	}
}

func TestAssignIntoManyMapsOfOneBatch(t *testing.T) {
	// More maps than a batch keeps keys for, of two key types: every
	// assignment lands in its own map, the later call winning a key.
	f := deco.ConcurrentValue(func(i int) int { return i })
	ints := make([]map[int]int, 6)
	strs := make([]map[string]int, 3)
	for j := range ints {
		ints[j] = map[int]int{}
	}
	for j := range strs {
		strs[j] = map[string]int{}
	}
	for i := range 600 {
		deco.Assign(ints[i%6], i%7, f, i)
		deco.Assign(strs[i%3], "k", f, i)
	}
	if _, err := f.Wait(); err != nil {
		t.Fatal(err)
	}
	for j, m := range ints {
		for k := range 7 {
			want := -1
			for i := range 600 {
				if i%6 == j && i%7 == k {
					want = i
				}
			}
			if got, ok := m[k]; want >= 0 && (!ok || got != want) {
				t.Fatalf("ints[%d][%d] = %d, %v; want %d", j, k, got, ok, want)
			}
		}
	}
	for j, m := range strs {
		if want := 597 + j; m["k"] != want {
			t.Fatalf(`strs[%d]["k"] = %d, want %d`, j, m["k"], want)
		}
	}
}

// TestTheKeyOfAFailedAssignIsFoundAmongManyCalls: a batch's assignments
// live in the batch, in chunks, not in the calls; among 1,000 calls mixing
// Go and Assign, a failed call's CallError still carries its own key, in a
// function's batch and in a scope, and every other assignment lands.
func TestTheKeyOfAFailedAssignIsFoundAmongManyCalls(t *testing.T) {
	const n, bad = 1000, 777
	f := deco.ConcurrentResult(func(i int) (int, error) {
		if i == bad {
			return 0, errOdd
		}
		return i, nil
	})
	check := func(where string, m map[string]int, err error) {
		t.Helper()
		var ce *deco.CallError
		if !errors.As(err, &ce) || ce.Key != fmt.Sprint("k", bad) || ce.Index != bad {
			t.Fatalf("%s: err = %v, want a CallError of call %d with key k%d", where, err, bad, bad)
		}
		if len(m) != n/2-1 || m["k1"] != 1 || m["k999"] != 999 {
			t.Fatalf("%s: %d assignments, want %d", where, len(m), n/2-1)
		}
	}
	m := map[string]int{}
	for i := range n {
		if i%2 == 0 {
			f.Go(i)
		} else {
			deco.Assign(m, fmt.Sprint("k", i), f, i)
		}
	}
	_, err := f.Wait()
	check("batch", m, err)

	m = map[string]int{}
	err = deco.Synchronized(t.Context(), func(ctx context.Context) error {
		for i := range n {
			if i%2 == 0 {
				f.GoContext(ctx, i)
			} else {
				deco.AssignContext(ctx, m, fmt.Sprint("k", i), f, i)
			}
		}
		return nil
	})
	check("scope", m, err)
}

// TestAssignInAScopeAllocatesNoObjectPerCall: inside a Synchronized scope
// too, AssignContext and AssignToContext take their call from the slab and
// keep the key or destination in the scope, not in an object per call.
func TestAssignInAScopeAllocatesNoObjectPerCall(t *testing.T) {
	f := deco.ConcurrentValue(func(i int) int { return 2 * i })
	const n = 1000
	m := make(map[int]int, n+1)
	out := make([]int, n+1) // AllocsPerRun runs once more to warm up
	var mapAllocs, ptrAllocs float64
	err := deco.Synchronized(t.Context(), func(ctx context.Context) error {
		i := 0
		mapAllocs = testing.AllocsPerRun(n, func() {
			deco.AssignContext(ctx, m, i, f, i)
			i++
		})
		j := 0
		ptrAllocs = testing.AllocsPerRun(n, func() {
			deco.AssignToContext(ctx, &out[j], f, j)
			j++
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if mapAllocs >= 1 || ptrAllocs >= 1 {
		t.Fatalf("in a scope: AssignContext %v, AssignToContext %v allocations per call, want < 1", mapAllocs, ptrAllocs)
	}
	for k := range n + 1 {
		if m[k] != 2*k || out[k] != 2*k {
			t.Fatalf("m[%d] = %d, out[%d] = %d, want %d", k, m[k], k, out[k], 2*k)
		}
	}
}

// TestAFailFastBatchNamesTheKeyOfAFailureWhileCallsAreAssigned: under
// FailFast a worker names a failed call's key (its CallError, the batch's
// cancel cause) while the caller goes on assigning calls, so the batch's
// assignments must be locked then. Call 0 fails at once, while the caller
// still assigns, and the race detector reports an assignment made while
// the worker reads them unlocked; the window is a few calls wide (the
// caller's next call sees the batch stopped, and records its failure
// under the batch's lock), so the test runs 40 batches. Without FailFast
// the assignments are read only once a wait has taken the batch.
func TestAFailFastBatchNamesTheKeyOfAFailureWhileCallsAreAssigned(t *testing.T) {
	const batches, n = 40, 512
	f := deco.ConcurrentResult(func(i int) (int, error) {
		if i == 0 {
			return 0, errOdd
		}
		return i, nil
	}, deco.FailFast())
	for range batches {
		m := map[string]int{}
		for i := range n {
			deco.Assign(m, fmt.Sprint("k", i), f, i)
		}
		_, err := f.Wait()
		var ce *deco.CallError
		if !errors.As(err, &ce) || ce.Key != "k0" || ce.Index != 0 || !errors.Is(err, errOdd) {
			t.Fatalf("err = %v, want call #0's CallError with key k0", err)
		}
		if _, ok := m["k0"]; ok {
			t.Fatalf("the failed call's key k0 was assigned")
		}
	}
}

// TestAssignKeepsNoCallAliveUntilWait: a batch keeps its Assign calls'
// keys and results until the wait, not the calls, which are garbage once
// done, like the calls of Func.Go; and keys that are their calls' indices
// (results[i] = f(i)) are not kept either. 100,000 finished calls, not
// waited yet, keep their cells (16 bytes each here), their marks (1) and,
// for other keys, the keys (8): well under the 80 bytes a call[int, int]
// would add.
func TestAssignKeepsNoCallAliveUntilWait(t *testing.T) {
	const n = 100_000
	for _, c := range []struct {
		name   string
		offset int     // key of call i: i+offset
		most   float64 // bytes kept per call
	}{
		{"keys that are indices", 0, 20},
		{"other keys", 1, 28},
	} {
		var ran sync.WaitGroup
		ran.Add(n)
		f := deco.ConcurrentValue(func(i int) int { ran.Done(); return 2 * i })
		m := make(map[int]int, n)
		before := liveHeap()
		for i := range n {
			deco.Assign(m, i+c.offset, f, i)
		}
		ran.Wait() // every task has returned; a call or two may still be finishing
		kept := float64(liveHeap()-before) / n
		if _, err := f.Wait(); err != nil {
			t.Fatal(err)
		}
		if len(m) != n || m[n-1+c.offset] != 2*(n-1) {
			t.Fatalf("%s: len(m) = %d, m[%d] = %d", c.name, len(m), n-1+c.offset, m[n-1+c.offset])
		}
		if kept > c.most {
			t.Errorf("%s: the batch keeps %.0f bytes per finished Assign call until its wait, want at most %.0f", c.name, kept, c.most)
		}
	}
}

// liveHeap returns the bytes of live heap objects after a collection.
func liveHeap() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

// TestAssignBlocksAndFailuresKeepTheirOwnCalls: a function's batch keeps
// consecutive Assign calls into one map as one run. Blocks of calls into
// two maps, AssignTo and plain Go calls, crossing the batch's chunks of
// 256, with failures inside blocks and at their edges: every call that
// succeeded lands in its own destination, in call order (the later call
// wins a key), no plain call or failed call lands anywhere (a key's zero
// value "" would show one), and every failure names its own key.
func TestAssignBlocksAndFailuresKeepTheirOwnCalls(t *testing.T) {
	failing := map[int]bool{0: true, 255: true, 256: true, 300: true, 599: true, 600: true, 1023: true}
	f := deco.ConcurrentResult(func(i int) (int, error) {
		if failing[i] {
			return 0, errOdd
		}
		return i, nil
	})
	a, b := map[string]int{}, map[string]int{}
	dst := make([]int, 2000)
	want := map[string]int{}  // a's
	wantB := map[string]int{} // b's
	wantKey := map[int]any{}  // failed call -> its key
	i := 0
	block := func(n int, call func(i int)) {
		for range n {
			call(i)
			i++
		}
	}
	intoA := func(i int) {
		k := fmt.Sprint("k", i%500) // later blocks overwrite earlier ones
		deco.Assign(a, k, f, i)
		if failing[i] {
			wantKey[i] = k
		} else {
			want[k] = i
		}
	}
	intoB := func(i int) {
		k := fmt.Sprint("b", i)
		deco.Assign(b, k, f, i)
		if failing[i] {
			wantKey[i] = k
		} else {
			wantB[k] = i
		}
	}
	block(300, intoA)                                        // 0-299, across the first chunk
	block(10, func(i int) { f.Go(i) })                       // 300-309: 300 fails, not assigned
	block(290, intoA)                                        // 310-599
	block(1, intoB)                                          // 600
	block(200, func(i int) { deco.AssignTo(&dst[i], f, i) }) // 601-800
	block(223, intoA)                                        // 801-1023
	block(100, intoB)                                        // 1024-1123
	_, err := f.Wait()
	if !maps.Equal(a, want) || !maps.Equal(b, wantB) {
		t.Fatalf("a = %v\nwant %v\nb = %v\nwant %v", a, want, b, wantB)
	}
	for j := 601; j <= 800; j++ {
		if dst[j] != j {
			t.Fatalf("dst[%d] = %d, want %d", j, dst[j], j)
		}
	}
	got := map[int]any{}
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok {
		t.Fatalf("err = %v, want the failures joined", err)
	}
	for _, e := range joined.Unwrap() {
		var ce *deco.CallError
		if !errors.As(e, &ce) {
			t.Fatalf("%v is not a CallError", e)
		}
		if ce.Key != nil {
			got[ce.Index] = ce.Key
		}
	}
	if !maps.Equal(got, wantKey) {
		t.Fatalf("failed calls' keys = %v, want %v", got, wantKey)
	}
}

// TestAssignIndexKeysThatStopBeingIndices: keys that are their calls'
// indices are not kept, until a key that is not: then the ones before are
// written out, and every assignment still lands on its own key, in a
// function's batch and in a scope, for int, named int and int64 keys,
// whether the first key is an index or not; and a failure names its key
// before and after, while the caller goes on assigning (FailFast).
func TestAssignIndexKeysThatStopBeingIndices(t *testing.T) {
	type id int
	failing := map[int]bool{3: true, 299: true, 305: true, 599: true, 600: true, 700: true}
	f := deco.ConcurrentResult(func(i int) (int, error) {
		if failing[i] {
			return 0, errOdd
		}
		return 10 * i, nil
	})
	// keyOf is call i's key, or -1 for a plain call: indices to 599 (with
	// plain calls 300-309), then 5000, then 2i.
	keyOf := func(i int) int {
		switch {
		case i >= 300 && i < 310:
			return -1
		case i < 600:
			return i
		case i == 600:
			return 5000
		}
		return 2 * i
	}
	const n = 901
	check := func(where string, got map[int]int, err error) {
		t.Helper()
		want := map[int]int{}
		wantKeys := map[int]any{}
		for i := range n {
			switch k := keyOf(i); {
			case k < 0:
			case failing[i]:
				wantKeys[i] = k
			default:
				want[k] = 10 * i
			}
		}
		if !maps.Equal(got, want) {
			t.Fatalf("%s: %d assignments, want %d: %v", where, len(got), len(want), got)
		}
		keys := map[int]any{}
		for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
			var ce *deco.CallError
			if errors.As(e, &ce) && ce.Key != nil {
				keys[ce.Index] = ce.Key
			}
		}
		if len(keys) != len(wantKeys) {
			t.Fatalf("%s: keys of failed calls %v, want %v", where, keys, wantKeys)
		}
		for i, k := range wantKeys {
			if fmt.Sprint(keys[i]) != fmt.Sprint(k) {
				t.Fatalf("%s: call %d's key %v, want %v", where, i, keys[i], k)
			}
		}
	}

	m := map[int]int{}
	for i := range n {
		if k := keyOf(i); k < 0 {
			f.Go(i)
		} else {
			deco.Assign(m, k, f, i)
		}
	}
	_, err := f.Wait()
	check("batch", m, err)

	named := map[id]int{}
	for i := range n {
		if k := keyOf(i); k < 0 {
			f.Go(i)
		} else {
			deco.Assign(named, id(k), f, i)
		}
	}
	_, err = f.Wait()
	plain := map[int]int{}
	for k, v := range named {
		plain[int(k)] = v
	}
	check("named int keys", plain, err)

	m = map[int]int{}
	err = deco.Synchronized(t.Context(), func(ctx context.Context) error {
		for i := range n {
			if k := keyOf(i); k < 0 {
				f.GoContext(ctx, i)
			} else {
				deco.AssignContext(ctx, m, k, f, i)
			}
		}
		return nil
	})
	check("scope", m, err)

	// Keys from the middle of a batch: indices from call 5 on (int64),
	// and keys that never were (i-5).
	wide := map[int64]int{}
	shifted := map[int]int{}
	for i := range 600 {
		if i < 5 {
			f.Go(i)
		} else {
			deco.Assign(wide, int64(i), f, i)
		}
	}
	if _, err := f.Wait(); err == nil {
		t.Fatal("no error from the failing calls")
	}
	for i := range 600 {
		if i < 5 {
			f.Go(i)
		} else {
			deco.Assign(shifted, i-5, f, i)
		}
	}
	if _, err := f.Wait(); err == nil {
		t.Fatal("no error from the failing calls")
	}
	if len(wide) != 595-3 || len(shifted) != 595-3 { // of calls 5-599, 299, 305 and 599 fail
		t.Fatalf("len(wide) = %d, len(shifted) = %d, want %d", len(wide), len(shifted), 595-3)
	}
	for i := 5; i < 600; i++ {
		if v, ok := wide[int64(i)]; ok != !failing[i] || (ok && v != 10*i) {
			t.Fatalf("wide[%d] = %d, %v", i, v, ok)
		}
		if v, ok := shifted[i-5]; ok != !failing[i] || (ok && v != 10*i) {
			t.Fatalf("shifted[%d] = %d, %v", i-5, v, ok)
		}
	}

	// FailFast: call 0 fails at once, its key named by a worker while the
	// caller's keys stop being indices at call 100.
	ff := deco.ConcurrentResult(func(i int) (int, error) {
		if i == 0 {
			return 0, errOdd
		}
		return i, nil
	}, deco.FailFast())
	for range 20 {
		m := map[int]int{}
		for i := range 512 {
			k := i
			if i >= 100 {
				k = -i
			}
			deco.Assign(m, k, ff, i)
		}
		_, err := ff.Wait()
		var ce *deco.CallError
		if !errors.As(err, &ce) || ce.Key != 0 || ce.Index != 0 {
			t.Fatalf("FailFast: err = %v, want call #0's CallError with key 0", err)
		}
	}
}

// TestAPlainCallAfterTheLastRunHasNoKey: a call started with Go after a
// batch's Assign calls, in the chunk of 256 calls where they end or in a
// later one, is in no run, so its failure names no key; the calls that
// assign keep theirs. Under FailFast too, where a worker names the first
// failure's key while the caller is still starting calls.
func TestAPlainCallAfterTheLastRunHasNoKey(t *testing.T) {
	for _, opts := range [][]deco.Option{nil, {deco.FailFast()}} {
		failing := map[int]bool{299: true, 300: true, 599: true}
		if opts != nil {
			failing = map[int]bool{300: true}
		}
		f := deco.ConcurrentResult(func(i int) (int, error) {
			if failing[i] {
				return 0, errOdd
			}
			return i, nil
		}, opts...)
		m := map[int]int{}
		for i := range 300 {
			deco.Assign(m, i, f, i)
		}
		for i := 300; i < 600; i++ {
			f.Go(i)
		}
		_, err := f.Wait()
		var errs []error
		if u, ok := err.(interface{ Unwrap() []error }); ok {
			errs = u.Unwrap()
		} else if err != nil {
			errs = []error{err}
		}
		seen := 0
		for _, e := range errs {
			var ce *deco.CallError
			if !errors.As(e, &ce) {
				continue
			}
			seen++
			switch {
			case ce.Index < 300 && ce.Key != ce.Index:
				t.Fatalf("call %d assigned to key %d: its failure names key %v", ce.Index, ce.Index, ce.Key)
			case ce.Index >= 300 && ce.Key != nil:
				t.Fatalf("call %d was started with Go: its failure names key %v, want none", ce.Index, ce.Key)
			}
		}
		if seen == 0 {
			t.Fatalf("err = %v, want the failures' CallErrors", err)
		}
	}
}

// BenchmarkAssignWait measures the merge of 100,000 results into a map
// made, sized, before the loop that starts their calls, as Assign needs it:
// the time of the Wait of a batch of Assign calls of a no-op function
// (merge-ns/op), next to, in the same run and after the same loop of calls
// (through Go), the same inserts by hand into a map made before the loop
// (cold) and into one made right before the inserts (hot). Only the Wait or
// the inserts are timed.
func BenchmarkAssignWait(b *testing.B) {
	const n = 100_000
	f := deco.ConcurrentValue(func(i int) int { return i * i })
	b.Run("deco", func(b *testing.B) {
		for range b.N {
			b.StopTimer()
			m := make(map[int]int, n)
			for i := range n {
				deco.Assign(m, i, f, i)
			}
			b.StartTimer()
			if _, err := f.Wait(); err != nil || len(m) != n {
				b.Fatal(err, len(m))
			}
		}
	})
	hand := func(b *testing.B, hot bool) {
		out := make([]int, n)
		for range b.N {
			b.StopTimer()
			m := make(map[int]int, n)
			for i := range n {
				f.Go(i)
			}
			f.Wait()
			runtime.KeepAlive(out) // the results, as if the calls had written them
			for i := range out {
				out[i] = i * i
			}
			if hot {
				m = make(map[int]int, n)
			}
			b.StartTimer()
			for i, v := range out {
				m[i] = v
			}
		}
	}
	b.Run("cold", func(b *testing.B) { hand(b, false) })
	b.Run("hot", func(b *testing.B) { hand(b, true) })
}
