package deco_test

import (
	"fmt"
	"strings"
	"testing"
	"testing/synctest"

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
