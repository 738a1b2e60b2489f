package deco_test

import (
	"context"
	"errors"
	"math"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/deco-go/deco"
)

func TestQueueBlocksTheCallerUntilCancelled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		var ran atomic.Int64
		f := deco.Concurrent(func(int) {
			ran.Add(1)
			<-release
		}, deco.Limit(1), deco.Queue(0))
		f.Go(0) // takes the only slot
		ctx, cancel := context.WithCancel(t.Context())
		returned := make(chan *deco.Future[struct{}])
		go func() { returned <- f.GoContext(ctx, 1) }()
		synctest.Wait()
		select {
		case <-returned:
			t.Fatal("GoContext returned while the limit was full and Queue(0)")
		default:
		}
		cancel()
		fut := <-returned
		if _, err := fut.Wait(); !errors.Is(err, context.Canceled) {
			t.Fatalf("blocked call's error = %v, want context.Canceled", err)
		}
		close(release)
		_, err := f.Wait()
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Wait = %v, want the cancelled call reported", err)
		}
		if ran.Load() != 1 {
			t.Fatalf("%d calls ran, want only the first", ran.Load())
		}
	})
}

func TestQueueLetsCallsThroughAsSlotsFree(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var c inflight
		f := deco.Concurrent(func(int) {
			c.enter()
			defer c.leave()
			time.Sleep(time.Millisecond)
		}, deco.Limit(2), deco.Queue(1))
		for i := range 20 {
			f.Go(i)
		}
		if _, err := f.Wait(); err != nil {
			t.Fatal(err)
		}
		if c.max.Load() != 2 {
			t.Fatalf("max parallel %d, want 2", c.max.Load())
		}
	})
}

func TestQueuedCallsOfACancelledContextNeverStart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var ran atomic.Int64
		f := deco.ConcurrentCtx(func(ctx context.Context, i int) {
			ran.Add(1)
			select {
			case <-ctx.Done(): // running calls see the cancellation
			case <-time.After(time.Hour):
			}
		}, deco.Limit(1))
		ctx, cancel := context.WithCancel(t.Context())
		for i := range 5 {
			f.GoContext(ctx, i)
		}
		synctest.Wait() // call 0 runs, 1..4 are queued
		cancel()
		_, err := f.Wait()
		if ran.Load() != 1 {
			t.Fatalf("%d calls ran after cancel, want 1", ran.Load())
		}
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled for the queued calls", err)
		}
		if f.Go(9); true {
			f.Wait()
		}
	})
}

// tickets records the order in which calls start: call i takes ticket
// tickets[i] from one atomic counter as its first action.
type tickets struct {
	next  atomic.Int64
	taken []atomic.Int64 // ticket+1, 0 if the call never started
}

func newTickets(n int) *tickets { return &tickets{taken: make([]atomic.Int64, n)} }

func (tk *tickets) start(i int) { tk.taken[i].Store(tk.next.Add(1)) }

// TestCallsStartInCallOrder: calls started by one goroutine are taken from
// the queue in call order, so no call starts more than limit places away
// from its position.
func TestCallsStartInCallOrder(t *testing.T) {
	for _, limit := range []int{2, 3, 8} {
		synctest.Test(t, func(t *testing.T) {
			const n = 300
			tk := newTickets(n)
			f := deco.Concurrent(func(i int) {
				tk.start(i)
				time.Sleep(time.Millisecond)
			}, deco.Limit(limit))
			for i := range n {
				f.Go(i)
			}
			f.Wait()
			for i := range n {
				pos := int(tk.taken[i].Load() - 1)
				if pos-i > limit || i-pos > limit {
					t.Fatalf("limit %d: call %d started %d-th, more than the limit away from its place", limit, i, pos)
				}
			}
		})
	}
}

// TestQueue0WorksLikeSetLimit: with Queue(0) a caller blocks until a slot
// frees, as errgroup's SetLimit, and a plain loop finishes.
func TestQueue0WorksLikeSetLimit(t *testing.T) {
	var c inflight
	f := deco.Concurrent(func(int) {
		c.enter()
		defer c.leave()
		time.Sleep(100 * time.Microsecond)
	}, deco.Limit(1), deco.Queue(0))
	within(t, deadlockDeadline, "Limit(1), Queue(0) loop", func() {
		for i := range 20 {
			f.Go(i)
		}
		f.Wait()
	})
	if c.max.Load() != 1 {
		t.Fatalf("%d calls at once at limit 1", c.max.Load())
	}
}

func TestQueueMaxIntDoesNotOverflow(t *testing.T) {
	f := deco.Concurrent(func(int) {}, deco.Limit(2), deco.Queue(math.MaxInt))
	within(t, deadlockDeadline, "Queue(math.MaxInt)", func() {
		for i := range 10 {
			f.Go(i)
		}
		f.Wait()
	})
}

// TestAWaitedBatchsWorkersLeaveAsTheQueueEmpties checks that once Wait has
// taken a batch, a worker that finds the queue empty exits at once rather
// than parking until the batch is over (which left Wait to wake every
// parked worker, one per slot, before it could return): 8 calls of 10,
// 20, … 80 ms at Limit(4) leave the queue empty at 40 ms; at 70 ms the
// worker of the 50 ms call has finished, and only the three workers still
// running calls are left.
func TestAWaitedBatchsWorkersLeaveAsTheQueueEmpties(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := deco.Concurrent(func(i int) { time.Sleep(time.Duration(i+1) * 10 * time.Millisecond) }, deco.Limit(4))
		for i := range 8 {
			f.Go(i)
		}
		waited := make(chan error, 1)
		go func() { _, err := f.Wait(); waited <- err }()
		time.Sleep(70 * time.Millisecond)
		synctest.Wait()
		if n := workerGoroutines(); n != 3 {
			t.Errorf("%d workers at 70 ms, want 3: the one whose call ended at 60 ms, with the queue empty, should have left", n)
		}
		if err := <-waited; err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if n := workerGoroutines(); n != 0 {
			t.Errorf("%d workers left after Wait", n)
		}
	})
}
