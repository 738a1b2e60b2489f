package bench

// ants: github.com/panjf2000/ants/v2 v2.12.1. One long-lived pool,
// ants.NewPool(limit) with default options (blocking Submit, idle workers
// expire after 1 s), created by open and released by close with
// ReleaseTimeout, both outside the timer, as ants' documentation uses it: a
// pool kept for the life of a program. ants has no way to wait for a batch,
// so every batch waits with a sync.WaitGroup, as ants' own examples do.
//
// Per workload: run wraps the task once with wg.Done and submits that one
// value n times; forEach submits a closure per index; gather writes the map
// from inside the tasks under a sync.Mutex (gatherLocked), the pattern ants'
// users are pointed to for results; nested submits inner tasks to the same
// pool and waits with a WaitGroup. Submit blocks while every worker is busy
// ("you will get blocked with the last Pool.Submit() call once the current
// Pool runs out of its capacity", ants' doc comment), so with limit <= outer
// it deadlocks.

import (
	"fmt"
	"sync"
	"time"

	"github.com/panjf2000/ants/v2"
)

func init() {
	register(library{name: "ants", rank: 13, open: func(limit int) executor {
		p, err := ants.NewPool(limit)
		if err != nil {
			panic(fmt.Sprintf("ants.NewPool(%d): %v", limit, err))
		}
		return antsExec{pool: p}
	}})
}

type antsExec struct{ pool *ants.Pool }

func (a antsExec) submit(task func()) {
	if err := a.pool.Submit(task); err != nil {
		panic(fmt.Sprintf("ants: Submit: %v", err)) // only when released: a bug here
	}
}

func (a antsExec) run(n int, task func()) {
	var wg sync.WaitGroup
	wg.Add(n)
	f := func() {
		defer wg.Done()
		task()
	}
	for range n {
		a.submit(f)
	}
	wg.Wait()
}

func (a antsExec) forEach(n int, task func(int)) {
	var wg sync.WaitGroup
	wg.Add(n)
	for i := range n {
		a.submit(func() {
			defer wg.Done()
			task(i)
		})
	}
	wg.Wait()
}

func (a antsExec) gather(n int, f func(int) int) map[int]int { return gatherLocked(a, n, f) }

func (a antsExec) nested(outer, inner int, task func()) {
	var outers sync.WaitGroup
	outers.Add(outer)
	for range outer {
		a.submit(func() {
			defer outers.Done()
			var inners sync.WaitGroup
			inners.Add(inner)
			for range inner {
				a.submit(func() {
					defer inners.Done()
					task()
				})
			}
			inners.Wait()
		})
	}
	outers.Wait()
}

func (a antsExec) close() { _ = a.pool.ReleaseTimeout(10 * time.Second) }
