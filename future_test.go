package deco_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/deco-go/deco"
)

func TestFutureDoneAndIndex(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		f := deco.Concurrent(func(int) { <-release }, deco.Limit(1))
		a, b := f.Go(0), f.Go(1)
		synctest.Wait()
		if a.Done() || b.Done() {
			t.Fatal("Done before the calls returned")
		}
		close(release)
		a.Wait()
		b.Wait()
		if !a.Done() || !b.Done() || a.Index() != 0 || b.Index() != 1 {
			t.Fatalf("Done %v %v, Index %d %d", a.Done(), b.Done(), a.Index(), b.Index())
		}
		f.Wait()
	})
}

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

// TestFutureWaitInsideItsOwnCallPanics: a call waiting for its own Future
// would wait forever; it gets a panic that says so.
func TestFutureWaitInsideItsOwnCallPanics(t *testing.T) {
	self := make(chan *deco.Future[struct{}], 1)
	got := make(chan any, 1)
	f := deco.Concurrent(func(int) {
		defer func() { got <- recover() }()
		(<-self).Wait()
	})
	within(t, deadlockDeadline, "Future.Wait in its own call", func() {
		self <- f.Go(0)
		f.Wait()
	})
	if msg := fmt.Sprint(<-got); !strings.Contains(msg, "its own call") {
		t.Fatalf("recovered %q, want a panic naming the self-wait", msg)
	}
}
