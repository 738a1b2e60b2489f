package bench

// deco: github.com/deco-go/deco, this repository (replaced to ../ in
// go.mod). One decorated function per workload shape, made when the
// executor is opened and reused across batches, as a program decorates its
// functions once: deco.Concurrent(fn, deco.Limit(limit)), then Go per task
// and one Wait per batch.
//
// Per workload: run decorates func(func()) and submits the task n times;
// forEach decorates the per-index task itself (no closure per index: Go
// takes the index as the call's argument); gather decorates f with
// ConcurrentValue and writes results[i] = f(i) with deco.Assign, which
// fills the plain map in the waiting goroutine when Wait returns, in call
// order, with no lock; nested runs every outer and inner task on one
// shared pool of the limit: each outer task starts its inner tasks with
// its own context inside deco.Synchronized, which lends the waiting
// task's slot to them, so it cannot deadlock.

import (
	"context"

	"github.com/deco-go/deco"
)

func init() {
	register(library{name: "deco", rank: 20, open: func(limit int) executor { return newDecoExec(limit) }})
}

type decoExec struct {
	limit int
	run1  *deco.Func[func(), struct{}]
}

func newDecoExec(limit int) *decoExec {
	return &decoExec{
		limit: limit,
		run1:  deco.Concurrent(func(task func()) { task() }, deco.Limit(limit)),
	}
}

func (d *decoExec) run(n int, task func()) {
	for range n {
		d.run1.Go(task)
	}
	d.run1.Wait()
}

func (d *decoExec) forEach(n int, task func(int)) {
	f := deco.Concurrent(task, deco.Limit(d.limit))
	for i := range n {
		f.Go(i)
	}
	f.Wait()
}

func (d *decoExec) gather(n int, f func(int) int) map[int]int {
	g := deco.ConcurrentValue(f, deco.Limit(d.limit))
	results := make(map[int]int, n)
	for i := range n {
		deco.Assign(results, i, g, i) // results[i] = f(i)
	}
	g.Wait()
	return results
}

func (d *decoExec) nested(outer, inner int, task func()) {
	pool := deco.NewPool(d.limit)
	innerF := deco.Concurrent(func(int) { task() }, deco.Shared(pool))
	outerF := deco.ConcurrentCtxErr(func(ctx context.Context, _ int) error {
		return deco.Synchronized(ctx, func(ctx context.Context) error {
			for i := range inner {
				innerF.GoContext(ctx, i)
			}
			return nil
		})
	}, deco.Shared(pool))
	err := deco.Synchronized(context.Background(), func(ctx context.Context) error {
		for i := range outer {
			outerF.GoContext(ctx, i)
		}
		return nil
	})
	if err != nil {
		panic(err)
	}
}

func (d *decoExec) close() {}
