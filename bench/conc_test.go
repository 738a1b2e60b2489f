package bench

// conc: github.com/sourcegraph/conc v0.3.0 (the newest tagged release). A
// pool.New().WithMaxGoroutines(limit) per batch: a conc pool cannot be
// reused after Wait. Go blocks while limit tasks run; Wait waits for all of
// them and re-panics a task's panic.
//
// Per workload: run submits the task n times as is (shared form; Go takes
// a func()) or a closure per index (closure form); gather uses conc's
// ResultPool (pool.NewWithResults[T]().WithMaxGoroutines(limit)): in v0.3.0
// its Wait returns results in completion order, so each task returns its
// key with its value and the map is built from Wait's slice; nested submits
// inner tasks to the same pool and waits for them with a sync.WaitGroup
// (one pool has one Wait, for everything, and it refuses new tasks as soon
// as it is called, so the submitter first waits for the outer tasks with a
// WaitGroup too); spawn submits them without waiting, and waits for the
// outer tasks before the pool's Wait for the same reason. Go blocks inside
// an outer task that holds a slot, so with limit <= outer both deadlock.

import (
	"sync"

	"github.com/sourcegraph/conc/pool"
)

func init() {
	register(library{name: "conc", rank: 11, open: func(limit int) executor { return concExec{limit: limit} }})
}

type concExec struct{ limit int }

// each calls p.Go for every task of w in [from, from+n), with done (if not
// nil) called when each one returns.
func (concExec) each(p *pool.Pool, w work, from, n int, done func()) {
	if t := w.shared; t != nil {
		f := t
		if done != nil {
			f = func() { defer done(); t() }
		}
		for range n {
			p.Go(f)
		}
		return
	}
	t := w.indexed
	for i := from; i < from+n; i++ {
		if done != nil {
			p.Go(func() { defer done(); t(i) })
		} else {
			p.Go(func() { t(i) })
		}
	}
}

func (c concExec) run(n int, w work) {
	p := pool.New().WithMaxGoroutines(c.limit)
	c.each(p, w, 0, n, nil)
	p.Wait()
}

// keyed is a gather result that carries its own key, because conc v0.3.0's
// ResultPool does not keep submission order.
type keyed struct{ key, val int }

func (c concExec) gather(n int, f func(int) int) gathered {
	p := pool.NewWithResults[keyed]().WithMaxGoroutines(c.limit)
	for i := range n {
		p.Go(func() keyed { return keyed{i, f(i)} })
	}
	results := p.Wait()
	m := make(gatherMap, len(results))
	for _, r := range results {
		m[r.key] = r.val
	}
	return m
}

func (c concExec) nested(outer, inner int, w work) {
	p := pool.New().WithMaxGoroutines(c.limit)
	// p.Wait closes the pool to new tasks at once, so it may only be called
	// once no task will call p.Go any more: wait for the outer tasks first.
	var outers sync.WaitGroup
	outers.Add(outer)
	for o := range outer {
		p.Go(func() {
			defer outers.Done()
			var inners sync.WaitGroup
			inners.Add(inner)
			c.each(p, w, o*inner, inner, inners.Done)
			inners.Wait()
		})
	}
	outers.Wait()
	p.Wait()
}

func (c concExec) spawn(outer, inner int, w work) {
	p := pool.New().WithMaxGoroutines(c.limit)
	var outers sync.WaitGroup
	outers.Add(outer)
	for o := range outer {
		p.Go(func() {
			defer outers.Done()
			c.each(p, w, o*inner, inner, nil)
		})
	}
	outers.Wait()
	p.Wait()
}

func (concExec) close() {}
