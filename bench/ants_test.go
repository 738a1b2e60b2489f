package bench

// ants: github.com/panjf2000/ants/v2 v2.12.1. One long-lived pool,
// ants.NewPool(limit) with default options (blocking Submit, idle workers
// expire after 1 s), created by open and released by close with
// ReleaseTimeout, both outside the timer, as ants' documentation uses it: a
// pool kept for the life of a program. ants has no way to wait for a batch,
// so every batch waits with a sync.WaitGroup, as ants' own examples do.
//
// Per workload: run wraps the task once with wg.Done and submits that one
// value n times (shared form), or submits one closure per index that calls
// the task and wg.Done (closure form); gather writes the map from inside the
// tasks under a sync.Mutex (gatherLocked), the pattern ants' users are
// pointed to for results; nested submits inner tasks to the same pool and
// waits with a WaitGroup; spawn submits them without waiting, counting
// every task on the batch's WaitGroup. Submit blocks while every worker is
// busy ("you will get blocked with the last Pool.Submit() call once the
// current Pool runs out of its capacity", ants' doc comment), so with limit
// <= outer both deadlock.
//
// ants.func (the closure form of Overhead, CPU, IO and the one-form Gather
// and Seed) is ants' other documented way, a pool bound to one function
// that takes the task's argument: ants.NewPoolWithFuncGeneric[int](limit,
// fn) per batch, Invoke(i) per task, a WaitGroup, Release. Like deco's
// Go(i), it passes the index instead of capturing it. Its function is
// fixed when the pool is made, so it cannot run the shared form's func
// value as is, nor outer and inner tasks on one pool: no nesting rows.

import (
	"fmt"
	"sync"
	"time"

	"github.com/panjf2000/ants/v2"
)

func init() {
	register(library{name: "ants", rank: 14, open: func(limit int) executor { return antsOpen(limit) }})
	register(library{name: "ants.func", rank: 15, forms: formClosure,
		only: []string{"Overhead", "CPU", "IO", "Gather", "Seed"},
		open: func(limit int) executor { return antsFunc{limit: limit} },
	})
}

type antsExec struct{ pool *ants.Pool }

func antsOpen(limit int) antsExec {
	p, err := ants.NewPool(limit)
	if err != nil {
		panic(fmt.Sprintf("ants.NewPool(%d): %v", limit, err))
	}
	return antsExec{pool: p}
}

func (a antsExec) submit(task func()) {
	if err := a.pool.Submit(task); err != nil {
		panic(fmt.Sprintf("ants: Submit: %v", err)) // only when released: a bug here
	}
}

// each submits every task of w in [from, from+n), each calling wg.Done
// when it returns; the caller has added n to wg.
func (a antsExec) each(wg *sync.WaitGroup, w work, from, n int) {
	if t := w.shared; t != nil {
		f := func() {
			defer wg.Done()
			t()
		}
		for range n {
			a.submit(f)
		}
		return
	}
	t := w.indexed
	for i := from; i < from+n; i++ {
		a.submit(func() {
			defer wg.Done()
			t(i)
		})
	}
}

func (a antsExec) run(n int, w work) {
	var wg sync.WaitGroup
	wg.Add(n)
	a.each(&wg, w, 0, n)
	wg.Wait()
}

func (a antsExec) gather(n int, f func(int) int) gathered { return gatherLocked(a, n, f) }

func (a antsExec) nested(outer, inner int, w work) {
	var outers sync.WaitGroup
	outers.Add(outer)
	for o := range outer {
		a.submit(func() {
			defer outers.Done()
			var inners sync.WaitGroup
			inners.Add(inner)
			a.each(&inners, w, o*inner, inner)
			inners.Wait()
		})
	}
	outers.Wait()
}

func (a antsExec) spawn(outer, inner int, w work) {
	var all sync.WaitGroup
	all.Add(outer * (1 + inner))
	for o := range outer {
		a.submit(func() {
			defer all.Done()
			a.each(&all, w, o*inner, inner)
		})
	}
	all.Wait()
}

func (a antsExec) close() { _ = a.pool.ReleaseTimeout(10 * time.Second) }

// antsFunc runs each batch on a PoolWithFuncGeneric of its own.
type antsFunc struct{ limit int }

func (a antsFunc) run(n int, w work) {
	if w.indexed == nil {
		panic("ants.func: no shared form (its pool's function takes the index)")
	}
	t := w.indexed
	var wg sync.WaitGroup
	wg.Add(n)
	p, err := ants.NewPoolWithFuncGeneric(a.limit, func(i int) {
		defer wg.Done()
		t(i)
	})
	if err != nil {
		panic(fmt.Sprintf("ants.NewPoolWithFuncGeneric(%d): %v", a.limit, err))
	}
	for i := range n {
		if err := p.Invoke(i); err != nil {
			panic(fmt.Sprintf("ants: Invoke: %v", err))
		}
	}
	wg.Wait()
	p.Release()
}

func (a antsFunc) gather(n int, f func(int) int) gathered { return gatherSlice(a, n, f) }

// nested and spawn are not rows of ants.func (see the file's comment); as
// every executor must have them, they run on an antsExec of the limit.
func (a antsFunc) nested(outer, inner int, w work) {
	ex := antsOpen(a.limit)
	defer ex.close()
	ex.nested(outer, inner, w)
}

func (a antsFunc) spawn(outer, inner int, w work) {
	ex := antsOpen(a.limit)
	defer ex.close()
	ex.spawn(outer, inner, w)
}

func (antsFunc) close() {}
