package bench

// deco: github.com/deco-go/deco, this repository (replaced to ../ in
// go.mod), through its public API only (Concurrent*, Go, GoContext, Wait,
// Assign, Map, Synchronized, NewPool, Shared, Limit), so that these rows
// keep compiling as the core changes. Three rows:
//
//   - deco: written the way deco's documentation writes it: the decorated
//     function is the task and the per-task data is the call's argument,
//     f := deco.Concurrent(task, deco.Limit(limit)); f.Go(i) per task; one
//     f.Wait() per batch. In the shared form, where the task is one func
//     value, the decorated function is func(task func()) { task() },
//     decorated once when the executor is opened and reused across batches,
//     and Go is given that one value. gather decorates f with
//     ConcurrentValue and writes results[i] = f(i) with deco.Assign, which
//     fills the plain map in the waiting goroutine when Wait returns.
//   - deco.closure (closure form only): the same func(task func()) given a
//     new closure per task capturing the index, exactly what the peers are
//     given: like-for-like with them; gather assigns through a decorated
//     func(func() int) int given a closure per task.
//   - deco.Map (Gather only): the tasks write their results into a
//     deco.Map, m.Set(i, f(i)), the blog post's times[offset] = elapsed.
//
// nested runs every outer and inner task on one deco.Pool of the limit
// (deco.Shared): each outer task starts its inner tasks with its own
// context inside deco.Synchronized, which lends the waiting task's slot to
// them, so it cannot deadlock; the batch itself is a Synchronized scope.
// spawn is the same without the inner Synchronized: outer tasks start inner
// tasks with their own context, which puts them in the batch's scope, and
// return; the batch's Synchronized waits for all of them.

import (
	"context"

	"github.com/deco-go/deco"
)

// decoRank is the rank of the first deco row; every deco row ranks at or
// after it (TestNestedDeadlockReport holds them to never deadlocking).
const decoRank = 20

func init() {
	register(library{name: "deco", rank: decoRank, open: func(limit int) executor { return newDecoExec(limit, false) }})
	register(library{name: "deco.closure", rank: decoRank + 1, forms: formClosure, open: func(limit int) executor {
		return newDecoExec(limit, true)
	}})
	register(library{name: "deco.Map", rank: decoRank + 2, only: []string{"Gather"}, open: func(limit int) executor {
		return decoMap{newDecoExec(limit, false)}
	}})
}

type decoExec struct {
	limit    int
	closures bool // the deco.closure row: closures through call
	// call runs the task it is given: the shared form's decorated
	// function, and deco.closure's.
	call *deco.Func[func(), struct{}]
	// value returns the value of the func it is given: deco.closure's
	// gather.
	value *deco.Func[func() int, int]
}

func newDecoExec(limit int, closures bool) *decoExec {
	return &decoExec{
		limit:    limit,
		closures: closures,
		call:     deco.Concurrent(func(task func()) { task() }, deco.Limit(limit)),
		value:    deco.ConcurrentValue(func(f func() int) int { return f() }, deco.Limit(limit)),
	}
}

func (d *decoExec) run(n int, w work) {
	switch {
	case w.shared != nil:
		t := w.shared
		for range n {
			d.call.Go(t)
		}
		d.call.Wait()
	case d.closures:
		t := w.indexed
		for i := range n {
			d.call.Go(func() { t(i) })
		}
		d.call.Wait()
	default:
		f := deco.Concurrent(w.indexed, deco.Limit(d.limit))
		for i := range n {
			f.Go(i)
		}
		f.Wait()
	}
}

func (d *decoExec) gather(n int, f func(int) int) gathered {
	results := make(gatherMap, n)
	if d.closures {
		for i := range n {
			deco.Assign(results, i, d.value, func() int { return f(i) })
		}
		d.value.Wait()
		return results
	}
	g := deco.ConcurrentValue(f, deco.Limit(d.limit))
	for i := range n {
		deco.Assign(results, i, g, i) // results[i] = f(i)
	}
	g.Wait()
	return results
}

// inner returns, for a batch on pool, a function that starts task i of w
// with ctx: the form's own way (see the type's comment).
func (d *decoExec) inner(pool *deco.Pool, w work) func(ctx context.Context, i int) {
	if t := w.shared; t != nil {
		f := deco.Concurrent(func(task func()) { task() }, deco.Shared(pool))
		return func(ctx context.Context, _ int) { f.GoContext(ctx, t) }
	}
	t := w.indexed
	if d.closures {
		f := deco.Concurrent(func(task func()) { task() }, deco.Shared(pool))
		return func(ctx context.Context, i int) { f.GoContext(ctx, func() { t(i) }) }
	}
	f := deco.Concurrent(t, deco.Shared(pool))
	return func(ctx context.Context, i int) { f.GoContext(ctx, i) }
}

// scope runs the outer tasks of one batch on pool in a Synchronized scope
// and waits for every call started in it.
func scope(pool *deco.Pool, outer int, body func(ctx context.Context, o int)) {
	outerF := deco.ConcurrentCtx(body, deco.Shared(pool))
	err := deco.Synchronized(context.Background(), func(ctx context.Context) error {
		for o := range outer {
			outerF.GoContext(ctx, o)
		}
		return nil
	})
	if err != nil {
		panic(err)
	}
}

func (d *decoExec) nested(outer, inner int, w work) {
	pool := deco.NewPool(d.limit)
	start := d.inner(pool, w)
	scope(pool, outer, func(ctx context.Context, o int) {
		err := deco.Synchronized(ctx, func(ctx context.Context) error {
			for j := range inner {
				start(ctx, o*inner+j)
			}
			return nil
		})
		if err != nil {
			panic(err)
		}
	})
}

func (d *decoExec) spawn(outer, inner int, w work) {
	pool := deco.NewPool(d.limit)
	start := d.inner(pool, w)
	scope(pool, outer, func(ctx context.Context, o int) {
		for j := range inner {
			start(ctx, o*inner+j)
		}
	})
}

func (d *decoExec) close() {}

// decoMap is deco gathering through a deco.Map written from the tasks.
type decoMap struct{ *decoExec }

func (d decoMap) gather(n int, f func(int) int) gathered {
	m := new(deco.Map[int, int])
	g := deco.Concurrent(func(i int) { m.Set(i, f(i)) }, deco.Limit(d.limit))
	for i := range n {
		g.Go(i)
	}
	g.Wait()
	return m
}
