package deco_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/deco-go/deco"
)

type ctxKey struct{}

// The context a task receives is the caller's: its values, deadline and
// cancellation reach the task.
func TestTaskContextCarriesTheCallersContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		deadline := time.Now().Add(time.Hour)
		ctx, cancel := context.WithDeadline(context.WithValue(t.Context(), ctxKey{}, "v"), deadline)
		defer cancel()
		f := deco.ConcurrentCtxErr(func(ctx context.Context, _ int) error {
			d, ok := ctx.Deadline()
			if !ok || !d.Equal(deadline) || ctx.Value(ctxKey{}) != "v" || ctx.Err() != nil {
				t.Errorf("task context: deadline %v %v, value %v, err %v", d, ok, ctx.Value(ctxKey{}), ctx.Err())
			}
			return nil
		})
		f.GoContext(ctx, 1)
		f.Wait()
	})
}

// A call of a scope started with the scope's context, or with the context
// of a task of the scope, sees the caller's context through the scope: its
// values and deadline at every depth, and the caller's cancellation, which
// fails the calls not started yet with its cause.
func TestScopeCallsSeeTheCallersContextAtEveryDepth(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		deadline := time.Now().Add(time.Hour)
		parent, cancelDeadline := context.WithDeadline(context.WithValue(t.Context(), ctxKey{}, "v"), deadline)
		defer cancelDeadline()
		check := func(ctx context.Context, where string) {
			d, ok := ctx.Deadline()
			if !ok || !d.Equal(deadline) || ctx.Value(ctxKey{}) != "v" || ctx.Err() != nil {
				t.Errorf("%s: deadline %v %v, value %v, err %v", where, d, ok, ctx.Value(ctxKey{}), ctx.Err())
			}
		}
		var ran atomic.Int64
		pool := deco.NewPool(1)
		var leaf *deco.Func[int, struct{}]
		leaf = deco.ConcurrentCtx(func(ctx context.Context, depth int) {
			check(ctx, fmt.Sprintf("depth %d", depth))
			ran.Add(1)
			if depth < 4 {
				leaf.GoContext(ctx, depth+1) // in the scope: the scope waits for it
			}
		}, deco.Shared(pool))
		err := deco.Synchronized(parent, func(ctx context.Context) error {
			check(ctx, "body")
			for range 3 {
				leaf.GoContext(ctx, 1)
			}
			return nil
		})
		if err != nil || ran.Load() != 12 {
			t.Errorf("Synchronized = %v after %d tasks, want nil after 12 (3 chains of 4)", err, ran.Load())
		}

		parent, cancel := context.WithCancelCause(parent)
		cause := errors.New("caller gave up")
		release := make(chan struct{})
		ran.Store(0)
		f := deco.ConcurrentCtx(func(ctx context.Context, i int) {
			ran.Add(1)
			if i == 0 {
				<-release // holds the pool's one slot until the caller has cancelled
				return
			}
			leaf.GoContext(ctx, 1)
		}, deco.Shared(pool))
		err = deco.Synchronized(parent, func(ctx context.Context) error {
			f.GoContext(ctx, 0)
			synctest.Wait() // call 0 holds the slot
			f.GoContext(ctx, 1)
			cancel(cause)
			close(release)
			return nil
		})
		if !errors.Is(err, cause) || ran.Load() != 1 {
			t.Errorf("Synchronized = %v after %d tasks, want the caller's cause after 1: the call queued when the caller cancelled must not start", err, ran.Load())
		}
	})
}
