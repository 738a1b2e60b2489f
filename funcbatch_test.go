package deco_test

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/deco-go/deco"
)

// TestFuncWaitInsideItsOwnBatchPanics: a call of f calling f.Wait while its
// own batch is still f's current batch would wait for itself.
func TestFuncWaitInsideItsOwnBatchPanics(t *testing.T) {
	got := make(chan any, 1)
	var f *deco.Func[int, struct{}]
	f = deco.Concurrent(func(int) {
		defer func() { got <- recover() }()
		f.Wait()
	})
	within(t, deadlockDeadline, "Func.Wait in its own batch", func() {
		f.Go(0)
		msg := fmt.Sprint(<-got)
		if !strings.Contains(msg, "inside call #0") {
			t.Errorf("recovered %q, want a panic naming the self-wait", msg)
		}
		if _, err := f.Wait(); err != nil {
			t.Errorf("the batch's own Wait = %v", err)
		}
	})
}

// TestASecondConcurrentWaitBlocksUntilTheCallsAreDone: two goroutines call
// f.Wait at once; the one that does not get the batch returns only once
// its calls are done, never with an early empty success.
func TestASecondConcurrentWaitBlocksUntilTheCallsAreDone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		var done atomic.Bool
		f := deco.ConcurrentValue(func(i int) int {
			<-release
			done.Store(true)
			return i
		}, deco.Limit(1))
		f.Go(7)
		first := make(chan []int, 1)
		go func() { got, _ := f.Wait(); first <- got }()
		synctest.Wait() // the first Wait has the batch
		second := make(chan bool, 1)
		go func() { f.Wait(); second <- done.Load() }()
		synctest.Wait()
		select {
		case <-second:
			t.Fatal("a second Wait returned while the calls still ran")
		default:
		}
		close(release)
		if got := <-first; len(got) != 1 || got[0] != 7 {
			t.Fatalf("first Wait = %v", got)
		}
		if !<-second {
			t.Fatal("second Wait returned before the call was done")
		}
	})
}
