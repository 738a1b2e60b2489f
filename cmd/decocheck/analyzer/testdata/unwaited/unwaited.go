// Package unwaited holds rule 4 (never-waited): calls started that nothing
// waits for, in a library package (no main to call deco.WaitAll).
package unwaited

import (
	"context"

	"github.com/deco-go/deco"
)

func work(i int) {}

var background = deco.Concurrent(work)

func startsOnly() {
	f := deco.Concurrent(work)
	for i := range 3 {
		f.Go(i) // want `never-waited: the calls of f started here are never waited: nothing calls its Wait \(or Completed, InOrder, the wait of Split\) and main does not defer deco.WaitAll\(\)`
	}
}

func splitWithoutWait() {
	call, _ := deco.Concurrent(work).Split()
	call(1) // want `never-waited: the calls of the function split at line 23 started here are never waited`
}

func assigns() {
	m := map[int]int{}
	f := deco.ConcurrentValue(func(i int) int { return i })
	deco.Assign(m, 1, f, 1) // want `never-waited: the calls of f started here`
}

// Waited only through Futures: nothing is lost, but the batch stays open.
func futuresOnly() {
	f := deco.ConcurrentValue(func(i int) int { return i })
	for i := range 3 {
		f.Go(i).Wait() // want `never-waited: the calls of f started here are waited only through their Futures: nothing calls f.Wait \(or Completed, InOrder\) and main does not defer deco.WaitAll\(\), so its batch stays open until one of those waits — it keeps every call's result and error, and its pool's workers stay parked`
	}
}

func futureVariable() {
	g := deco.Concurrent(work)
	fut := g.Go(1) // want `never-waited: the calls of g started here are waited only through their Futures: nothing calls g.Wait`
	if !fut.Done() {
		fut.Wait()
	}
	next := g.Go(2)
	next.Wait()
}

// One call waited through its Future, one not: that one's outcome is lost.
func someFuturesNotWaited() {
	f := deco.Concurrent(work)
	f.Go(1).Wait() // want `never-waited: the calls of f started here are never waited: nothing calls its Wait`
	f.Go(2)
}

func futureNeverWaited() {
	f := deco.Concurrent(work)
	fut := f.Go(1) // want `never-waited: the calls of f started here are never waited: nothing calls its Wait`
	_ = fut.Done()
}

func futureHandedOn() *deco.Future[struct{}] {
	f := deco.Concurrent(work)
	fut := f.Go(1) // want `never-waited: the calls of f started here are never waited: nothing calls its Wait`
	fut.Wait()
	return fut
}

func packageLevel() {
	background.Go(1) // want `never-waited: the calls of background started here`
}

// Waited, in every way the rule knows.
var elsewhere = deco.Concurrent(work)

func startElsewhere() { elsewhere.Go(1) }
func waitElsewhere()  { elsewhere.Wait() }

func waited(ctx context.Context) {
	a := deco.Concurrent(work)
	a.Go(1)
	a.Wait()
	b := deco.ConcurrentValue(func(i int) int { return i })
	b.Go(1)
	for range b.Completed() {
	}
	c := deco.ConcurrentValue(func(i int) int { return i })
	c.Go(1)
	for range c.InOrder() {
	}
	d, wait := deco.Concurrent(work).Split()
	defer wait()
	d(1)
	// Futures waited, and the batch too.
	fw := deco.Concurrent(work)
	fw.Go(1).Wait()
	fw.Wait()
	// Started with a context, which may be a scope's: the scope waits.
	e := deco.Concurrent(work)
	e.GoContext(ctx, 1)
}

// Handed on: whoever receives it may wait.
func returned() *deco.Func[int, struct{}] {
	f := deco.Concurrent(work)
	f.Go(1)
	return f
}

func passed() {
	f := deco.Concurrent(work)
	f.Go(1)
	waitFor(f)
}

func waitFor(f *deco.Func[int, struct{}]) { f.Wait() }

// Exported: other packages may wait for it.
var Exported = deco.Concurrent(work)

func startExported() { Exported.Go(1) }

// deco.WaitAll in the function that starts the calls waits for them.
func flushedHere() error {
	f := deco.Concurrent(work)
	f.Go(1)
	return deco.WaitAll()
}
