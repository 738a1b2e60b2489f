package deco_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/deco-go/deco"
)

// TestFailFastStartsNoCallBeyondTheLimitAfterAFailure: after call k fails,
// no call with an index above k + limit starts.
func TestFailFastStartsNoCallBeyondTheLimitAfterAFailure(t *testing.T) {
	for _, limit := range []int{1, 2, 4} {
		synctest.Test(t, func(t *testing.T) {
			const n, k = 200, 10
			var highest atomic.Int64
			f := deco.ConcurrentErr(func(i int) error {
				for h := highest.Load(); int64(i) > h && !highest.CompareAndSwap(h, int64(i)); h = highest.Load() {
				}
				if i == k {
					return errOdd
				}
				time.Sleep(time.Millisecond)
				return nil
			}, deco.Limit(limit), deco.FailFast())
			for i := range n {
				f.Go(i)
			}
			if _, err := f.Wait(); !errors.Is(err, errOdd) {
				t.Fatalf("err = %v", err)
			}
			if h := highest.Load(); h > k+int64(limit) {
				t.Fatalf("limit %d: call %d started after call %d failed", limit, h, k)
			}
		})
	}
}

// TestFailFastCancelsTheRunningCallsContexts: outside a scope, FailFast
// cancels the contexts of the batch's running calls, as errgroup's
// WithContext does, including calls started with a context of their own.
func TestFailFastCancelsTheRunningCallsContexts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var cancelled atomic.Int64
		f := deco.ConcurrentCtxErr(func(ctx context.Context, i int) error {
			if i == 0 {
				time.Sleep(time.Millisecond)
				return errOdd
			}
			select {
			case <-ctx.Done():
				cancelled.Add(1)
				return context.Cause(ctx)
			case <-time.After(time.Hour):
				return nil
			}
		}, deco.Limit(3), deco.FailFast())
		start := time.Now()
		f.GoContext(t.Context(), 0)
		f.GoContext(t.Context(), 1)
		f.Go(2)
		_, err := f.Wait()
		if !errors.Is(err, errOdd) {
			t.Fatalf("err = %v", err)
		}
		if cancelled.Load() != 2 || time.Since(start) > time.Minute {
			t.Fatalf("%d of 2 running calls saw their context cancelled", cancelled.Load())
		}
		// The cause is the failure.
		var ce *deco.CallError
		if !errors.As(err, &ce) || ce.Index != 0 {
			t.Fatalf("first CallError %v, want call #0", ce)
		}
	})
}

func TestFailFastStopsTheBatch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var ran atomic.Int64
		f := deco.ConcurrentErr(func(i int) error {
			ran.Add(1)
			time.Sleep(time.Millisecond)
			if i == 0 {
				return errOdd
			}
			return nil
		}, deco.Limit(1), deco.FailFast())
		for i := range 10 {
			f.Go(i)
		}
		_, err := f.Wait()
		if ran.Load() != 1 {
			t.Fatalf("%d calls ran, want only the failing first one", ran.Load())
		}
		if !errors.Is(err, errOdd) || !errors.Is(err, deco.ErrCancelled) {
			t.Fatalf("err = %v", err)
		}
		// The next batch starts afresh.
		ran.Store(0)
		for i := 1; i < 4; i++ {
			f.Go(i)
		}
		if _, err := f.Wait(); err != nil || ran.Load() != 3 {
			t.Fatalf("next batch: %d ran, err %v", ran.Load(), err)
		}
	})
}
