package bench

// errgroup: golang.org/x/sync/errgroup (pinned at v0.22.0, the newest that
// builds with go 1.25; later ones need go 1.26). A zero errgroup.Group per
// batch with SetLimit(limit); Go blocks while limit tasks run; Wait waits for
// all of them.
//
// Per workload: run wraps the task once in a func() error and submits that
// one value n times (shared form), or submits one func() error per index
// (closure form); gather writes a preallocated slice by index, as
// errgroup's own documentation does (gatherSlice); nested submits inner
// tasks to the same Group and waits for them with a sync.WaitGroup, since
// Group.Wait would also wait for the outer tasks, the caller included;
// spawn submits them to the same Group without waiting and lets Group.Wait
// wait for everything. Go blocks for a slot inside an outer task that holds
// one, so with limit <= outer both deadlock.

import (
	"sync"

	"golang.org/x/sync/errgroup"
)

func init() {
	register(library{name: "errgroup", rank: 10, open: func(limit int) executor { return errgroupExec{limit: limit} }})
}

type errgroupExec struct{ limit int }

// each calls g.Go for every task of w in [from, from+n), with done (if not
// nil) called when each one returns.
func (errgroupExec) each(g *errgroup.Group, w work, from, n int, done func()) {
	if t := w.shared; t != nil {
		f := func() error { t(); return nil }
		if done != nil {
			f = func() error { defer done(); t(); return nil }
		}
		for range n {
			g.Go(f)
		}
		return
	}
	t := w.indexed
	for i := from; i < from+n; i++ {
		if done != nil {
			g.Go(func() error { defer done(); t(i); return nil })
		} else {
			g.Go(func() error { t(i); return nil })
		}
	}
}

func (e errgroupExec) run(n int, w work) {
	var g errgroup.Group
	g.SetLimit(e.limit)
	e.each(&g, w, 0, n, nil)
	_ = g.Wait()
}

func (e errgroupExec) gather(n int, f func(int) int) gathered { return gatherSlice(e, n, f) }

func (e errgroupExec) nested(outer, inner int, w work) {
	var g errgroup.Group
	g.SetLimit(e.limit)
	for o := range outer {
		g.Go(func() error {
			var inners sync.WaitGroup
			inners.Add(inner)
			e.each(&g, w, o*inner, inner, inners.Done)
			inners.Wait()
			return nil
		})
	}
	_ = g.Wait()
}

func (e errgroupExec) spawn(outer, inner int, w work) {
	var g errgroup.Group
	g.SetLimit(e.limit)
	for o := range outer {
		g.Go(func() error {
			e.each(&g, w, o*inner, inner, nil)
			return nil
		})
	}
	_ = g.Wait()
}

func (errgroupExec) close() {}
