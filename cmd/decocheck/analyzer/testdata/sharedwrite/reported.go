// Package sharedwrite holds the writes rule 1 (shared-write) reports, in
// reported.go, and the forms it allows, in allowed.go.
package sharedwrite

import (
	"context"
	"sync"

	"github.com/deco-go/deco"
)

var global = map[int]int{}

var counter int

type stats struct {
	byKey map[string]int
	n     int
}

func mapIndexWrite() {
	m := map[int]int{}
	f := deco.Concurrent(func(i int) {
		m[i] = i * i // want `shared-write: m\[i\] = i \* i writes the map m, which every call of the task of deco.Concurrent at line 23 shares: a plain map written by calls running at once is a data race, and can crash the program; return the value and use deco.Assign, or write into a \*deco.Map`
	})
	f.Go(1)
	f.Wait()
}

func mapOpAssignAndIncDec() {
	m := map[string]int{}
	f := deco.Concurrent(func(s string) {
		m[s] += 2 // want `shared-write: m\[s\] \+= 2 writes the map m`
		m[s]++    // want `shared-write: m\[s\]\+\+ writes the map m`
	})
	f.Go("a")
	f.Wait()
}

func deleteAndClear() {
	m := map[int]bool{}
	s := []int{1, 2, 3}
	f := deco.Concurrent(func(i int) {
		delete(m, i) // want `shared-write: delete\(m, i\) changes the map m, which every call of the task`
		clear(m)     // want `shared-write: clear\(m\) changes the map m, which`
		clear(s)     // want `shared-write: clear\(s\) changes the slice s`
	})
	f.Go(1)
	f.Wait()
}

func appendToCaptured() {
	var out []int
	f := deco.Concurrent(func(i int) {
		out = append(out, i) // want `shared-write: out = append\(out, i\) appends to the captured slice out`
	})
	f.Go(1)
	f.Wait()
}

func assignCaptured() {
	var last int
	var firstErr error
	f := deco.ConcurrentErr(func(i int) error {
		last = i       // want `shared-write: last = i assigns the captured variable last`
		firstErr = nil // want `shared-write: firstErr = nil assigns the captured variable firstErr`
		return nil
	})
	f.Go(1)
	if _, err := f.Wait(); err != nil {
		panic(err)
	}
	_, _ = last, firstErr
}

func packageLevel(i int) {
	global[i] = i // want `shared-write: global\[i\] = i writes the map global`
	counter++     // want `shared-write: counter\+\+ assigns the captured variable counter`
}

var named = deco.Concurrent(packageLevel)

func fieldOfCaptured() {
	st := &stats{byKey: map[string]int{}}
	f := deco.Concurrent(func(k string) {
		st.byKey[k] = 1 // want `shared-write: st.byKey\[k\] = 1 writes the map st.byKey \(of st\)`
		st.n++          // want `shared-write: st.n\+\+ writes into st`
	})
	f.Go("x")
	f.Wait()
}

func sliceAtForeignIndex() {
	s := make([]int, 10)
	j := 3
	f := deco.Concurrent(func(i int) {
		s[j] = i // want `shared-write: s\[j\] = i writes an element of the slice s, which every call of the task of deco.Concurrent at line \d+ shares, at an index that does not come from the call's argument: a data race`
		s[0]++   // want `shared-write: s\[0\]\+\+ writes an element of the slice s`
	})
	f.Go(1)
	f.Wait()
}

func ctxShape() {
	m := map[int]int{}
	f := deco.ConcurrentCtxValue(func(ctx context.Context, i int) int {
		m[i] = 1 // want `shared-write: m\[i\] = 1 writes the map m, which every call of the task of deco.ConcurrentCtxValue`
		return i
	})
	f.Go(1)
	f.Wait()
}

// record is called by a task with the shared map: the write is reported
// where it is, naming the call that brought the map there.
func record(into map[int]int, k, v int) {
	into[k] = v // want `shared-write: into\[k\] = v writes the map into, the task's m, which every call of the task of deco.Concurrent at line \d+ shares \(through record\(m, i, i\)\)`
}

func throughACall() {
	m := map[int]int{}
	f := deco.Concurrent(func(i int) { record(m, i, i) })
	f.Go(1)
	f.Wait()
}

func (s *stats) add(k string) {
	s.byKey[k]++ // want `shared-write: s.byKey\[k\]\+\+ writes the map s.byKey \(of s, the task's st\)`
}

func throughAMethod() {
	st := &stats{byKey: map[string]int{}}
	f := deco.Concurrent(func(k string) { st.add(k) })
	f.Go("x")
	f.Wait()
}

func unlockedAfterUnlock() {
	var mu sync.Mutex
	m := map[int]int{}
	f := deco.Concurrent(func(i int) {
		mu.Lock()
		m[i] = 1
		mu.Unlock()
		m[i] = 2 // want `shared-write: m\[i\] = 2 writes the map m`
	})
	f.Go(1)
	f.Wait()
}

// A task held in a variable is the literal it was set to.
func taskInAVariable() {
	seen := map[int]bool{}
	task := func(i int) {
		seen[i] = true // want `shared-write: seen\[i\] = true writes the map seen`
	}
	f := deco.Concurrent(task)
	f.Go(1)
	f.Wait()
}

// A method value as the task: every call shares the receiver.
type tally struct{ total int }

func (t *tally) add(i int) {
	t.total += i // want `shared-write: t.total \+= i writes into t, the receiver tl, which every call of the task of deco.Concurrent at line \d+ shares`
}

func methodValue() {
	tl := &tally{}
	f := deco.Concurrent(tl.add)
	f.Go(1)
	f.Wait()
}

// WaitGroup.Go runs its literal in a goroutine of its own: not a once.
func waitGroupGoInATask() {
	m := map[int]int{}
	f := deco.Concurrent(func(i int) {
		var wg sync.WaitGroup
		wg.Go(func() {
			m[i] = i // want `shared-write: m\[i\] = i writes the map m`
		})
		wg.Wait()
	})
	f.Go(1)
	f.Wait()
}

// deco.Limit(2) still runs calls at once.
func twoAtATime() {
	var last int
	f := deco.Concurrent(func(i int) {
		last = i // want `shared-write: last = i assigns the captured variable last`
	}, deco.Limit(2))
	f.Go(1)
	f.Wait()
	_ = last
}
