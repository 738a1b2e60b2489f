// Package odd holds unusual but valid forms, to show that decocheck
// recognises deco by its package path (renamed and dot imports, explicit
// instantiation) and does not trip over shapes it does not follow.
package odd

import (
	"context"

	. "github.com/deco-go/deco"
	d "github.com/deco-go/deco"
)

const key = 7

func renamed() {
	m := map[int]int{}
	f := d.Concurrent(func(i int) {
		m[key] = i // want `shared-write: m\[key\] = i writes the map m`
	})
	f.Go(1)
	f.Wait()
}

func dotImport() {
	var n int
	f := Concurrent(func(i int) {
		n += i // want `shared-write: n \+= i assigns the captured variable n`
	})
	f.Go(1)
	f.Wait()
	_ = n
}

func instantiated() {
	m := map[string]int{}
	f := d.ConcurrentValue[string, int](func(s string) int {
		m[s] = 1 // want `shared-write: m\[s\] = 1 writes the map m`
		return len(s)
	})
	f.Go("x")
	f.Wait()
}

func detachedRenamed(ctx context.Context) error {
	f := d.ConcurrentValue(func(i int) int { return i })
	defer f.Wait()
	return d.Synchronized(ctx, func(ctx context.Context) error {
		Assign(map[int]int{}, 1, f, 1) // want `detached-call: deco.Assign inside`
		return nil
	})
}

// Shapes not followed: a task made by a call, a method expression, a task
// from a parameter. Nothing to report, and nothing to crash on.
func makeTask(m map[int]int) func(int) {
	return func(i int) { m[i] = i }
}

type T struct{ n int }

func (t *T) Add(i int) { t.n += i }

func notFollowed(task func(int)) {
	f := d.Concurrent(makeTask(map[int]int{}))
	g := d.Concurrent(task)
	h := d.Concurrent(func(t *T) { t.Add(1) })
	k := d.Concurrent((*T).Add2)
	f.Go(1)
	g.Go(1)
	h.Go(&T{})
	k.Go(&T{})
	f.Wait()
	g.Wait()
	h.Wait()
	k.Wait()
}

func (t *T) Add2() { t.n++ }

// A struct type that is not deco's, with methods of deco's names.
type fake struct{}

func (fake) Go(int)                                     {}
func (fake) Wait() ([]int, error)                       { return nil, nil }
func Synchronized2(f func(context.Context) error) error { return f(context.Background()) }

func lookalikes() {
	var f fake
	_ = Synchronized2(func(ctx context.Context) error {
		f.Go(1)
		return nil
	})
	f.Wait()
}
