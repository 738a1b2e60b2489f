package sharedwrite

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/deco-go/deco"
)

type box struct {
	mu  sync.Mutex
	m   map[int]int
	out []int
}

func allowedForms() {
	var dm deco.Map[int, int]
	var sm sync.Map
	var n atomic.Int64
	var old int64
	results := make([]int, 10)
	var arr [10]int
	ch := make(chan int, 10)
	var mu sync.Mutex
	var rw sync.RWMutex
	locked := map[int]int{}
	b := &box{m: map[int]int{}}
	f := deco.Concurrent(func(i int) {
		dm.Set(i, i)              // deco.Map's methods
		sm.Store(i, i)            // sync.Map
		n.Add(1)                  // sync/atomic types
		atomic.AddInt64(&old, 1)  // sync/atomic functions
		ch <- i                   // channel sends
		results[i] = i * i        // index-based: the call's own argument
		arr[i] = i                // arrays too
		offset := i + 1           // a local computed from the argument
		results[offset-1] = i     // ...indexes by the argument
		local := map[int]int{}    // locals
		local[i] = i              //
		var acc []int             //
		acc = append(acc, i)      //
		_ = acc                   //
		mu.Lock()                 // under a mutex the task locks
		locked[i] = i             //
		mu.Unlock()               //
		rw.Lock()                 //
		defer rw.Unlock()         //
		locked[i+100] = i         //
		b.mu.Lock()               //
		b.m[i] = i                //
		b.out = append(b.out, i)  //
		b.mu.Unlock()             //
		func() { local[0] = 1 }() // a nested literal writing the task's locals
	})
	f.Go(1)
	f.Wait()
}

// A struct argument carries the index: element writes through it are the
// call's own.
type job struct {
	Index int
	Out   []string
}

func indexFromArgumentField() {
	out := make([]string, 3)
	f := deco.Concurrent(func(j job) {
		out[j.Index] = "done"
	})
	for i := range 3 {
		f.Go(job{Index: i})
	}
	f.Wait()
}

// The argument of a named task writes its own element.
func fill(j job) {
	j.Out[j.Index] = "x"
}

var fillAll = deco.Concurrent(fill)

// A callee that only reads shared data, and one that writes its own copy.
func sum(m map[int]int) int {
	t := 0
	for _, v := range m {
		t += v
	}
	return t
}

func count(n int) int {
	n++
	return n
}

func readsOnly() {
	m := map[int]int{1: 1}
	total := 0
	f := deco.ConcurrentValue(func(i int) int {
		return sum(m) + count(i) + total
	})
	f.Go(1)
	f.Wait()
}

// Assign is the index-based way to fill a plain map: it writes m in the
// waiting goroutine.
func assignForm(ctx context.Context) {
	m := map[int]int{}
	f := deco.ConcurrentValue(func(i int) int { return i * i })
	for i := range 3 {
		deco.Assign(m, i, f, i)
	}
	f.Wait()
	_ = deco.Synchronized(ctx, func(ctx context.Context) error {
		for i := range 3 {
			deco.AssignContext(ctx, m, i, f, i)
		}
		return nil
	})
}

// Writes outside the task, before and after the calls, are the caller's.
func callerWrites() {
	m := map[int]int{}
	f := deco.ConcurrentValue(func(i int) int { return i })
	m[0] = 1
	f.Go(1)
	f.Wait()
	m[1] = 2
}

// A plain goroutine is not a task: other tools (the race detector) see it.
func notATask() {
	m := map[int]int{}
	var wg sync.WaitGroup
	wg.Go(func() { m[0] = 1 })
	wg.Wait()
}

// A value receiver is each call's own copy.
type adder struct{ n int }

func (a adder) add(i int) {
	a.n += i
	_ = a.n
}

func valueReceiver() {
	a := adder{}
	f := deco.Concurrent(a.add)
	f.Go(1)
	f.Wait()
}

// A literal run once by sync.Once or sync.OnceValue writes once, whatever
// the number of calls.
func onceOnly() {
	var once sync.Once
	var config map[string]string
	var loaded int
	load := sync.OnceValue(func() int { loaded++; return loaded })
	f := deco.ConcurrentValue(func(k string) string {
		once.Do(func() { config = map[string]string{"a": "b"} })
		_ = load()
		return config[k]
	})
	f.Go("a")
	f.Wait()
}

// deco.Limit(1): one call at a time, in an order the pool makes safe.
func oneAtATime() {
	var last int
	f := deco.Concurrent(func(i int) { last = i }, deco.Limit(1))
	for i := range 3 {
		f.Go(i)
	}
	f.Wait()
	_ = last
}
