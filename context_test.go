package deco_test

import (
	"context"
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
