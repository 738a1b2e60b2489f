// Package detached holds rule 2 (detached-call): calls started without the
// scope's context inside deco.Synchronized.
package detached

import (
	"context"

	"github.com/deco-go/deco"
)

func square(i int) int { return i * i }

func reported(ctx context.Context) error {
	f := deco.ConcurrentValue(square)
	m := map[int]int{}
	var one int
	call, wait := f.Split()
	err := deco.Synchronized(ctx, func(ctx context.Context) error {
		for i := range 4 {
			f.Go(i) // want `detached-call: f.Go inside the deco.Synchronized body at line 18 is not part of the scope: Synchronized returns without waiting for the call, and its error is not the scope's; use f.GoContext\(ctx, ...\)`
		}
		deco.Assign(m, 1, f, 1)   // want `detached-call: deco.Assign inside the deco.Synchronized body at line 18 is not part of the scope.*use deco.AssignContext\(ctx, ...\)`
		deco.AssignTo(&one, f, 1) // want `detached-call: deco.AssignTo inside .*use deco.AssignToContext\(ctx, ...\)`
		call(5)                   // want `detached-call: call, the call function of f.Split, inside the deco.Synchronized body at line 18 starts a call that is not part of the scope`
		func() {
			f.Go(6) // want `detached-call: f.Go inside`
		}()
		return nil
	})
	wait()
	f.Wait()
	return err
}

// shadowed: the fix would pass the wrong context, so none is offered (the
// golden file shows this line unchanged).
func shadowed(ctx context.Context) error {
	f := deco.ConcurrentValue(square)
	defer f.Wait()
	return deco.Synchronized(ctx, func(ctx context.Context) error {
		{
			ctx := context.Background()
			_ = ctx
			f.Go(1) // want `detached-call: f.Go inside`
		}
		return nil
	})
}

func allowed(ctx context.Context) error {
	f := deco.ConcurrentValue(square)
	g := deco.ConcurrentCtxValue(func(ctx context.Context, i int) int {
		return i
	})
	m := map[int]int{}
	var one int
	f.Go(0) // outside the scope: f's batch, waited below
	err := deco.Synchronized(ctx, func(ctx context.Context) error {
		for i := range 4 {
			f.GoContext(ctx, i)
			deco.AssignContext(ctx, m, i, f, i)
		}
		deco.AssignToContext(ctx, &one, f, 1)
		// A task decorated in the body is not the body: its Go is its own.
		h := deco.Concurrent(func(i int) {
			k := deco.ConcurrentValue(square)
			k.Go(i)
			k.Wait()
		})
		h.GoContext(ctx, 1)
		// An inner scope is checked with its own context.
		return deco.Synchronized(ctx, func(inner context.Context) error {
			g.GoContext(inner, 1)
			return nil
		})
	})
	f.Wait()
	g.Wait()
	return err
}

// A Func the body waits for itself: its calls are accounted for in the
// scope, though not as the scope's.
func waitedInTheBody(ctx context.Context) error {
	f := deco.ConcurrentValue(square)
	m := map[int]int{}
	return deco.Synchronized(ctx, func(ctx context.Context) error {
		f.Go(1)
		deco.Assign(m, 2, f, 2)
		_, err := f.Wait()
		return err
	})
}

// A body that does not name its context has no context in hand.
func unnamed(ctx context.Context) error {
	f := deco.ConcurrentValue(square)
	defer f.Wait()
	return deco.Synchronized(ctx, func(context.Context) error {
		f.Go(1)
		return nil
	})
}
