package deco_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/deco-go/deco"
	"github.com/deco-go/deco/backend"
)

func TestMapTakesWritesFromConcurrentCalls(t *testing.T) {
	var times deco.Map[int, int]
	f := deco.Concurrent(func(i int) { times.Set(i, i*10) }, deco.Limit(4))
	for i := range 1000 {
		f.Go(i)
	}
	f.Wait()
	if times.Len() != 1000 || times.Overwrites() != 0 {
		t.Fatalf("Len %d Overwrites %d", times.Len(), times.Overwrites())
	}
	snap := times.Snapshot()
	if snap[999] != 9990 {
		t.Fatalf("snap[999] = %d", snap[999])
	}
	snap[0] = -1
	if v, _ := times.Get(0); v != 0 {
		t.Fatal("Snapshot must be a copy")
	}
	n := 0
	for range times.All() {
		n++
	}
	if n != 1000 {
		t.Fatalf("All yielded %d", n)
	}
	times.Set(1, 0)
	if times.Overwrites() != 1 {
		t.Fatal("Overwrites did not count a second write to a key")
	}
}

// viaBytes is an Executor that runs calls in this process through the
// bytes boundary a worker process uses: encode, Invoke, replay.
type viaBytes struct{}

func (viaBytes) Execute(ctx context.Context, name string, arg []byte) ([]byte, error) {
	return backend.Invoke(ctx, name, arg)
}

type timesJob struct {
	Offset int
	Times  *deco.Map[int, int]
}

var (
	setTwice = deco.ConcurrentErr(func(j timesJob) error {
		prev, _ := j.Times.Get(j.Offset)
		j.Times.Set(j.Offset, prev+1)
		j.Times.Set(j.Offset, prev+j.Offset*10)
		if j.Offset == 3 {
			return errors.New("three")
		}
		if j.Offset == 4 {
			panic("four")
		}
		return nil
	}, deco.Name("deco_test.setTwice"), deco.On(viaBytes{}), deco.PanicAsError(), deco.Limit(1))

	mutateValue = deco.Concurrent(func(m *deco.Map[string, map[string]int]) {
		inner, _ := m.Get("a")
		inner["x"] = 2 // a nested write
	}, deco.Name("deco_test.mutateValue"), deco.On(viaBytes{}))

	passNested = deco.Concurrent(func(*deco.Map[int, *deco.Map[int, int]]) {},
		deco.Name("deco_test.passNested"), deco.On(viaBytes{}))

	passAny = deco.Concurrent(func(*deco.Map[int, any]) {},
		deco.Name("deco_test.passAny"), deco.On(viaBytes{}))
)

func TestMapWritesCrossTheExecutorBoundary(t *testing.T) {
	times := new(deco.Map[int, int])
	times.Set(0, 5) // the task reads it from the copy it receives
	for offset := range 6 {
		setTwice.Go(timesJob{offset, times})
	}
	_, err := setTwice.Wait()
	if err == nil || !strings.Contains(err.Error(), "call #3: three") || !strings.Contains(err.Error(), "call #4") {
		t.Fatalf("err = %v, want calls #3 and #4 to fail", err)
	}
	want := map[int]int{0: 5, 1: 10, 2: 20, 3: 30, 4: 40, 5: 50}
	if got := times.Snapshot(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("Map = %v, want %v: every call's last Set, failed and panicked calls included", got, want)
	}
	// Six calls Set twice (6 overwrites) and call 0 replaced the value
	// the caller had (1 more), as in-process.
	if n := times.Overwrites(); n != 7 {
		t.Fatalf("Overwrites() = %d, want 7", n)
	}
}

func TestMapConflictsAcrossTheBoundaryCountAsInProcess(t *testing.T) {
	times := new(deco.Map[int, int])
	setTwice.Go(timesJob{7, times})
	setTwice.Go(timesJob{7, times})
	if _, err := setTwice.Wait(); err != nil {
		t.Fatal(err)
	}
	// With Limit(1) the second call starts after the first's writes are
	// applied, reads 70 and writes 70+70: the later write wins.
	if v, _ := times.Get(7); v != 140 {
		t.Fatalf("times[7] = %d, want 140", v)
	}
	if n := times.Overwrites(); n != 3 {
		t.Fatalf("Overwrites() = %d, want 3", n)
	}
}

func TestNestedMapWritesAreRefused(t *testing.T) {
	m := new(deco.Map[string, map[string]int])
	m.Set("a", map[string]int{"x": 1})
	mutateValue.Go(m)
	_, err := mutateValue.Wait()
	if !errors.Is(err, deco.ErrLostMutation) || !strings.Contains(err.Error(), `arg["a"]["x"]`) {
		t.Fatalf("err = %v, want ErrLostMutation at arg[\"a\"][\"x\"]", err)
	}
	if v, _ := m.Get("a"); v["x"] != 1 {
		t.Fatal("the caller's inner map changed")
	}

	outer := new(deco.Map[int, *deco.Map[int, int]])
	passNested.Go(outer)
	_, err = passNested.Wait()
	if err == nil || !strings.Contains(err.Error(), "a Map whose values hold deco.Maps cannot cross") {
		t.Fatalf("err = %v, want nested Maps refused", err)
	}

	// Values of interface type are refused only when they hold a Map.
	anyMap := new(deco.Map[int, any])
	anyMap.Set(1, "one")
	passAny.Go(anyMap)
	if _, err := passAny.Wait(); err != nil {
		t.Fatalf("a Map of interface values without Maps: %v", err)
	}
}

func TestMapGobRoundTrip(t *testing.T) {
	var m deco.Map[string, int]
	m.Set("a", 1)
	b, err := m.GobEncode()
	if err != nil {
		t.Fatal(err)
	}
	var n deco.Map[string, int]
	if err := n.GobDecode(b); err != nil {
		t.Fatal(err)
	}
	if v, ok := n.Get("a"); !ok || v != 1 || n.Overwrites() != 0 {
		t.Fatalf("decoded Map: %v %v, %d overwrites", v, ok, n.Overwrites())
	}
	if err := n.GobDecode([]byte("junk")); err == nil || !strings.Contains(err.Error(), "deco.Map[string, int]") {
		t.Fatalf("decoding junk: %v", err)
	}
}

// TestMapKeepsEveryWriteOnce writes distinct keys from many goroutines at
// once, then writes every key again from another goroutine: a write lost,
// or a key kept twice (in two shards), changes Len, a value, Overwrites,
// the Snapshot or what All yields.
func TestMapKeepsEveryWriteOnce(t *testing.T) {
	const writers, perWriter = 8, 2000
	var m deco.Map[string, int]
	key := func(i int) string { return fmt.Sprintf("key-%d", i) }
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for j := range perWriter {
				i := w*perWriter + j
				m.Set(key(i), i)
			}
		})
	}
	wg.Wait()
	const n = writers * perWriter
	if m.Len() != n || m.Overwrites() != 0 {
		t.Fatalf("after one write per key: Len %d, Overwrites %d; want %d, 0", m.Len(), m.Overwrites(), n)
	}
	// Again, each key from a different writer than the first time, with a
	// new value.
	for w := range writers {
		wg.Go(func() {
			for j := range perWriter {
				i := ((w+1)%writers)*perWriter + j
				m.Set(key(i), -i)
			}
		})
	}
	wg.Wait()
	if m.Len() != n || m.Overwrites() != n {
		t.Fatalf("after two writes per key: Len %d, Overwrites %d; want %d, %d", m.Len(), m.Overwrites(), n, n)
	}
	for i := range n {
		if v, ok := m.Get(key(i)); !ok || v != -i {
			t.Fatalf("Get(%q) = %d, %v; want %d, true", key(i), v, ok, -i)
		}
	}
	snap := m.Snapshot()
	seen := make(map[string]int, n)
	for k, v := range m.All() {
		seen[k]++
		if snap[k] != v {
			t.Fatalf("All yielded %q: %d, Snapshot has %d", k, v, snap[k])
		}
	}
	if len(snap) != n || len(seen) != n {
		t.Fatalf("Snapshot has %d keys, All yielded %d; want %d", len(snap), len(seen), n)
	}
	for k, c := range seen {
		if c != 1 {
			t.Fatalf("All yielded %q %d times", k, c)
		}
	}
}

// TestMapLastSetAppliedStays: writers Set the same keys at once, each
// with increasing values. Whatever the interleaving, the write applied
// last to a key is some writer's last write to it, so each key must end
// with one writer's final value, and every other write is an overwrite.
func TestMapLastSetAppliedStays(t *testing.T) {
	const writers, keys, rounds = 4, 64, 200
	var m deco.Map[int, int]
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for r := range rounds {
				for k := range keys {
					m.Set(k, w*rounds+r) // writer w's values: w*rounds .. w*rounds+rounds-1
				}
			}
		})
	}
	wg.Wait()
	for k := range keys {
		v, _ := m.Get(k)
		if v%rounds != rounds-1 {
			t.Fatalf("key %d ended with %d: writer %d's write #%d, not a writer's last", k, v, v/rounds, v%rounds)
		}
	}
	if got, want := m.Overwrites(), writers*keys*rounds-keys; got != want || m.Len() != keys {
		t.Fatalf("Overwrites %d, Len %d; want %d, %d", got, m.Len(), want, keys)
	}
	// One goroutine's writes to a key apply in its order.
	m.Set(1, 10)
	m.Set(1, 20)
	if v, _ := m.Get(1); v != 20 {
		t.Fatalf("Get(1) = %d after Set(1, 10), Set(1, 20)", v)
	}
}

// TestMapSetPublishesTheValue: a Set is synchronized before the Get that
// observes it, so a reader may use what the writer built before its Set
// without a lock of its own (the race detector checks it).
func TestMapSetPublishesTheValue(t *testing.T) {
	type result struct{ a, b int }
	const n = 200
	var m deco.Map[int, *result]
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range n {
			r := &result{}
			r.a, r.b = i, 2*i
			m.Set(i, r)
		}
	})
	deadline := time.Now().Add(time.Minute)
	for i := range n {
		for {
			r, ok := m.Get(i)
			if ok {
				if r.a != i || r.b != 2*i {
					t.Fatalf("Get(%d) = %+v", i, *r)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("key %d never appeared", i)
			}
			runtime.Gosched()
		}
	}
	wg.Wait()
}

// TestMapSurvivesAnUnhashableKey: a key that cannot be hashed panics, as
// in a Go map, and leaves the Map usable: no lock stays held.
func TestMapSurvivesAnUnhashableKey(t *testing.T) {
	var m deco.Map[any, int]
	m.Set("ok", 1)
	for _, op := range []func(){func() { m.Set([]int{1}, 1) }, func() { m.Get([]int{1}) }} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "unhashable type []int") {
					t.Fatalf("recovered %v, want a panic naming the unhashable type", r)
				}
			}()
			op()
		}()
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		m.Set("ok", 2)
		m.Len()
	}()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("Set after the panic blocked: a lock was left held")
	}
	if v, _ := m.Get("ok"); v != 2 || m.Len() != 1 || m.Overwrites() != 1 {
		t.Fatalf("Get = %d, Len %d, Overwrites %d", v, m.Len(), m.Overwrites())
	}
}

func TestZeroMapIsEmpty(t *testing.T) {
	var m deco.Map[string, int]
	if _, ok := m.Get("a"); ok || m.Len() != 0 || m.Overwrites() != 0 || len(m.Snapshot()) != 0 {
		t.Fatal("the zero Map is not empty")
	}
	for range m.All() {
		t.Fatal("All yielded from the zero Map")
	}
	b, err := m.GobEncode()
	if err != nil {
		t.Fatal(err)
	}
	var n deco.Map[string, int]
	n.Set("stale", 1)
	if err := n.GobDecode(b); err != nil || n.Len() != 0 {
		t.Fatalf("decoding the zero Map: %v, Len %d", err, n.Len())
	}
}

// BenchmarkMapSet is Set from GOMAXPROCS goroutines at once, each on keys
// of its own, already present (no growth): the cost of a write when
// every core writes, next to a map under one sync.Mutex in the same run.
func BenchmarkMapSet(b *testing.B) {
	const span = 1 << 12
	var ids atomic.Int64
	b.Run("deco.Map", func(b *testing.B) {
		var m deco.Map[int, int]
		b.RunParallel(func(pb *testing.PB) {
			base := int(ids.Add(1)) * span
			for i := 0; pb.Next(); i++ {
				m.Set(base+i%span, i)
			}
		})
	})
	b.Run("mutexmap", func(b *testing.B) {
		var mu sync.Mutex
		m := map[int]int{}
		b.RunParallel(func(pb *testing.PB) {
			base := int(ids.Add(1)) * span
			for i := 0; pb.Next(); i++ {
				mu.Lock()
				m[base+i%span] = i
				mu.Unlock()
			}
		})
	})
}

// BenchmarkMapGather: one iteration writes mapGather new keys into a new
// Map from GOMAXPROCS goroutines, each a stride of the keys, next to a
// map under one sync.Mutex, not presized either, in the same run.
func BenchmarkMapGather(b *testing.B) {
	const mapGather = 100_000
	procs := runtime.GOMAXPROCS(0)
	gather := func(set func(k, v int)) {
		var wg sync.WaitGroup
		for p := range procs {
			wg.Go(func() {
				for k := p; k < mapGather; k += procs {
					set(k, k*k)
				}
			})
		}
		wg.Wait()
	}
	b.Run("deco.Map", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			m := new(deco.Map[int, int])
			gather(m.Set)
			if m.Len() != mapGather {
				b.Fatal(m.Len())
			}
		}
	})
	b.Run("mutexmap", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			var mu sync.Mutex
			m := map[int]int{}
			gather(func(k, v int) { mu.Lock(); m[k] = v; mu.Unlock() })
			if len(m) != mapGather {
				b.Fatal(len(m))
			}
		}
	})
}

// TestMapHoldingItselfIsRefused: a Map of interface values that holds
// itself cannot cross (it holds a Map), and saying so must not wait for
// the Map's own lock: the check used to hold it while it asked the Map
// for its identity, which took it again.
func TestMapHoldingItselfIsRefused(t *testing.T) {
	self := new(deco.Map[int, any])
	self.Set(1, self)
	errc := make(chan error, 1)
	go func() {
		_, err := self.GobEncode()
		errc <- err
	}()
	select {
	case err := <-errc:
		if err == nil || !strings.Contains(err.Error(), "a Map whose values hold deco.Maps cannot cross") {
			t.Fatalf("err = %v, want nested Maps refused", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("encoding a Map that holds itself hung")
	}
	passAny.Go(self)
	if _, err := passAny.Wait(); err == nil || !strings.Contains(err.Error(), "cannot cross") {
		t.Fatalf("a call given a Map that holds itself: %v", err)
	}
}

// TestMapSetsBeforeAReadApplyInOrder: Sets with no read between them wait
// in their shards' logs; the read that applies them applies them in the
// order they were made, counting every write that replaced a value, and
// a read between two Sets sees the first.
func TestMapSetsBeforeAReadApplyInOrder(t *testing.T) {
	const keys, rounds = 1000, 5
	var m deco.Map[string, int]
	key := func(i int) string { return fmt.Sprint("k", i) }
	for r := range rounds {
		for k := range keys {
			m.Set(key(k), r*keys+k)
		}
	}
	if m.Overwrites() != (rounds-1)*keys || m.Len() != keys {
		t.Fatalf("Overwrites %d, Len %d; want %d, %d", m.Overwrites(), m.Len(), (rounds-1)*keys, keys)
	}
	snap := m.Snapshot()
	for k := range keys {
		if v, ok := m.Get(key(k)); !ok || v != (rounds-1)*keys+k || snap[key(k)] != v {
			t.Fatalf("Get(%q) = %d, %v, Snapshot %d; want the last Set, %d", key(k), v, ok, snap[key(k)], (rounds-1)*keys+k)
		}
	}
	m.Set("x", 1)
	if v, _ := m.Get("x"); v != 1 {
		t.Fatalf("Get(x) = %d after Set(x, 1)", v)
	}
	m.Set("x", 2)
	m.Set("x", 3)
	if v, _ := m.Get("x"); v != 3 || m.Len() != keys+1 || m.Overwrites() != (rounds-1)*keys+2 {
		t.Fatalf("Get(x) = %d, Len %d, Overwrites %d after Set(x, 2), Set(x, 3)", v, m.Len(), m.Overwrites())
	}
	n := 0
	for k, v := range m.All() {
		if k != "x" && v != snap[k] {
			t.Fatalf("All yielded %q: %d, want %d", k, v, snap[k])
		}
		n++
	}
	if n != keys+1 {
		t.Fatalf("All yielded %d keys, want %d", n, keys+1)
	}
}
