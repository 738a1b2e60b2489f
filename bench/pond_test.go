package bench

// pond: github.com/alitto/pond/v2 v2.7.1 (the newest served). As pond's
// README starts: a pool per batch, pond.NewPool(limit), tasks submitted,
// then pool.StopAndWait(), which waits for every queued task. The default
// queue is unbounded, so submitting never blocks: tasks wait in pond's
// queue, not in the submitter.
//
// Per workload: run and forEach use pool.Go, pond's submit for tasks whose
// outcome nobody waits on one by one (Submit would also allocate a future
// per task; measured here, a long-lived pool with a NewGroup per batch cost
// ~4x more per task in BenchmarkOverhead, so that would be a handicap);
// gather uses pond's result support, a pond.NewResultPool[int](limit) with a
// task group (NewGroup, Submit, Wait), whose Wait returns the results in
// submission order, and builds the map from that slice; nested submits the
// outer tasks as a task group and lets each one run its inner tasks as a
// task group on the same pool and wait for it (group.Wait), the pattern pond
// documents for related tasks (StopAndWait would refuse the inner tasks). Inner tasks queue behind outer tasks that hold every
// worker, so with limit <= outer it deadlocks (pond issue #56).

import "github.com/alitto/pond/v2"

func init() {
	register(library{name: "pond", rank: 12, open: func(limit int) executor { return pondExec{limit: limit} }})
}

type pondExec struct{ limit int }

func (p pondExec) run(n int, task func()) {
	pool := pond.NewPool(p.limit)
	for range n {
		if err := pool.Go(task); err != nil {
			panic("pond: Go: " + err.Error()) // only on a stopped pool: a bug here
		}
	}
	pool.StopAndWait()
}

func (p pondExec) forEach(n int, task func(int)) {
	pool := pond.NewPool(p.limit)
	for i := range n {
		if err := pool.Go(func() { task(i) }); err != nil {
			panic("pond: Go: " + err.Error())
		}
	}
	pool.StopAndWait()
}

func (p pondExec) gather(n int, f func(int) int) map[int]int {
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
	m := make(map[int]int, len(results))
	for i, v := range results {
		m[i] = v
	}
	return m
}

func (p pondExec) nested(outer, inner int, task func()) {
	pool := pond.NewPool(p.limit)
	// StopAndWait refuses new tasks at once, and inner tasks are submitted
	// while the outer ones run: wait for the outer tasks as a group first.
	outers := pool.NewGroup()
	for range outer {
		outers.Submit(func() {
			inners := pool.NewGroup()
			for range inner {
				inners.Submit(task)
			}
			if err := inners.Wait(); err != nil {
				panic("pond: inner group: " + err.Error())
			}
		})
	}
	if err := outers.Wait(); err != nil {
		panic("pond: outer group: " + err.Error())
	}
	pool.StopAndWait()
}

func (pondExec) close() {}
