package bench

// errgroup: golang.org/x/sync/errgroup (pinned at v0.22.0, the newest that
// builds with go 1.25; later ones need go 1.26). A zero errgroup.Group per
// batch with SetLimit(limit); Go blocks while limit tasks run; Wait waits for
// all of them.
//
// Per workload: run wraps the task once in a func() error and submits that
// one value n times; forEach submits a closure per index; gather writes a
// preallocated slice by index, as errgroup's own documentation does
// (gatherSlice); nested submits inner tasks to the same Group and waits for
// them with a sync.WaitGroup, since Group.Wait would also wait for the outer
// tasks, the caller included. Go blocks for a slot inside an outer task that
// holds one, so with limit <= outer it deadlocks.

import (
	"sync"

	"golang.org/x/sync/errgroup"
)

func init() {
	register(library{name: "errgroup", rank: 10, open: func(limit int) executor { return errgroupExec{limit: limit} }})
}

type errgroupExec struct{ limit int }

func (e errgroupExec) run(n int, task func()) {
	var g errgroup.Group
	g.SetLimit(e.limit)
	f := func() error { task(); return nil }
	for range n {
		g.Go(f)
	}
	_ = g.Wait()
}

func (e errgroupExec) forEach(n int, task func(int)) {
	var g errgroup.Group
	g.SetLimit(e.limit)
	for i := range n {
		g.Go(func() error {
			task(i)
			return nil
		})
	}
	_ = g.Wait()
}

func (e errgroupExec) gather(n int, f func(int) int) map[int]int { return gatherSlice(e, n, f) }

func (e errgroupExec) nested(outer, inner int, task func()) {
	var g errgroup.Group
	g.SetLimit(e.limit)
	for range outer {
		g.Go(func() error {
			var inners sync.WaitGroup
			inners.Add(inner)
			for range inner {
				g.Go(func() error {
					defer inners.Done()
					task()
					return nil
				})
			}
			inners.Wait()
			return nil
		})
	}
	_ = g.Wait()
}

func (errgroupExec) close() {}
