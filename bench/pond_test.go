package bench

// pond: github.com/alitto/pond/v2 v2.7.1 (the newest served), in its two
// documented forms, each with a pool per batch as pond's README starts,
// pond.NewPool(limit), whose default queue is unbounded, so submitting
// never blocks: tasks wait in pond's queue, not in the submitter.
//
//   - pond: pool.Go per task, pond's submit for tasks whose outcome nobody
//     waits on one by one, then pool.StopAndWait(), which waits for every
//     queued task.
//   - pond.group: its result form, a task group: pool.NewGroup(),
//     group.Submit per task, group.Wait() (which returns the first error,
//     and for a result pool the results in submission order), then
//     pool.StopAndWait().
//
// Per workload: run submits the task n times (shared form) or a closure
// per index (closure form); gather: pond writes a preallocated slice by
// index from pool.Go tasks (gatherSlice), pond.group uses
// pond.NewResultPool[int](limit) with a result group and builds the map
// from Wait's slice; nested: each outer task submits its inner tasks to the
// same pool and waits for them, with a WaitGroup (pond) or as a group of
// their own (pond.group, the pattern pond documents for related tasks);
// StopAndWait would refuse the inner tasks, so the outer tasks are waited
// for first. Inner tasks queue behind outer tasks that hold every worker,
// so with limit <= outer it deadlocks (pond issue #56). spawn: outer tasks
// submit inner tasks without waiting (pond: pool.Go; pond.group: into one
// inner group per batch), the outer tasks are waited for, then the rest:
// the unbounded queue lets it finish.

import (
	"sync"

	"github.com/alitto/pond/v2"
)

func init() {
	register(library{name: "pond", rank: 12, open: func(limit int) executor { return pondExec{limit: limit} }})
	register(library{name: "pond.group", rank: 13, open: func(limit int) executor { return pondGroup{limit: limit} }})
}

type pondExec struct{ limit int }

// goTask is pool.Go, which fails only on a stopped pool: a bug here.
func goTask(pool pond.Pool, task func()) {
	if err := pool.Go(task); err != nil {
		panic("pond: Go: " + err.Error())
	}
}

// each calls pool.Go for every task of w in [from, from+n), with done (if
// not nil) called when each one returns.
func (pondExec) each(pool pond.Pool, w work, from, n int, done func()) {
	if t := w.shared; t != nil {
		f := t
		if done != nil {
			f = func() { defer done(); t() }
		}
		for range n {
			goTask(pool, f)
		}
		return
	}
	t := w.indexed
	for i := from; i < from+n; i++ {
		if done != nil {
			goTask(pool, func() { defer done(); t(i) })
		} else {
			goTask(pool, func() { t(i) })
		}
	}
}

func (p pondExec) run(n int, w work) {
	pool := pond.NewPool(p.limit)
	p.each(pool, w, 0, n, nil)
	pool.StopAndWait()
}

func (p pondExec) gather(n int, f func(int) int) gathered { return gatherSlice(p, n, f) }

func (p pondExec) nested(outer, inner int, w work) {
	pool := pond.NewPool(p.limit)
	var outers sync.WaitGroup
	outers.Add(outer)
	for o := range outer {
		goTask(pool, func() {
			defer outers.Done()
			var inners sync.WaitGroup
			inners.Add(inner)
			p.each(pool, w, o*inner, inner, inners.Done)
			inners.Wait()
		})
	}
	outers.Wait()
	pool.StopAndWait()
}

func (p pondExec) spawn(outer, inner int, w work) {
	pool := pond.NewPool(p.limit)
	// StopAndWait refuses new tasks at once: wait for the outer tasks, which
	// submit the inner ones, first.
	var outers sync.WaitGroup
	outers.Add(outer)
	for o := range outer {
		goTask(pool, func() {
			defer outers.Done()
			p.each(pool, w, o*inner, inner, nil)
		})
	}
	outers.Wait()
	pool.StopAndWait()
}

func (pondExec) close() {}

type pondGroup struct{ limit int }

// submit adds every task of w in [from, from+n) to group.
func (pondGroup) submit(group pond.TaskGroup, w work, from, n int) {
	if t := w.shared; t != nil {
		for range n {
			group.Submit(t)
		}
		return
	}
	t := w.indexed
	for i := from; i < from+n; i++ {
		group.Submit(func() { t(i) })
	}
}

// wait is group.Wait, which fails only if a task panicked or the group
// was stopped: a bug here.
func wait(group pond.TaskGroup) {
	if err := group.Wait(); err != nil {
		panic("pond: group.Wait: " + err.Error())
	}
}

func (p pondGroup) run(n int, w work) {
	pool := pond.NewPool(p.limit)
	group := pool.NewGroup()
	p.submit(group, w, 0, n)
	wait(group)
	pool.StopAndWait()
}

func (p pondGroup) gather(n int, f func(int) int) gathered {
	pool := pond.NewResultPool[int](p.limit)
	group := pool.NewGroup()
	for i := range n {
		group.Submit(func() int { return f(i) })
	}
	results, err := group.Wait()
	if err != nil {
		panic("pond: group.Wait: " + err.Error())
	}
	pool.StopAndWait()
	m := make(gatherMap, len(results))
	for i, v := range results {
		m[i] = v
	}
	return m
}

func (p pondGroup) nested(outer, inner int, w work) {
	pool := pond.NewPool(p.limit)
	outers := pool.NewGroup()
	for o := range outer {
		outers.Submit(func() {
			inners := pool.NewGroup()
			p.submit(inners, w, o*inner, inner)
			wait(inners)
		})
	}
	wait(outers)
	pool.StopAndWait()
}

func (p pondGroup) spawn(outer, inner int, w work) {
	pool := pond.NewPool(p.limit)
	outers, inners := pool.NewGroup(), pool.NewGroup()
	for o := range outer {
		outers.Submit(func() { p.submit(inners, w, o*inner, inner) })
	}
	wait(outers) // every inner task is submitted once the outer ones are done
	wait(inners)
	pool.StopAndWait()
}

func (pondGroup) close() {}
