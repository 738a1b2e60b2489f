package cluster

import (
	"bytes"
	"runtime"
	"testing"
	"testing/synctest"
	"time"
)

// goroutineID returns the calling goroutine's number, from its stack.
func goroutineID() string {
	b := make([]byte, 64)
	b = b[:runtime.Stack(b, false)]
	f := bytes.Fields(b)
	return string(f[1])
}

func TestAGoPoolReusesItsGoroutinesAndEndsIdleOnes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newGoPool()
		run := func() string {
			ch := make(chan string, 1)
			p.Go(func() { ch <- goroutineID() })
			id := <-ch
			synctest.Wait() // the goroutine waits for more work
			return id
		}
		first := run()
		if again := run(); again != first {
			t.Fatalf("the second function ran on goroutine %s, not on the idle %s", again, first)
		}
		// Two at once: the busy goroutine cannot take the second.
		block, started := make(chan struct{}), make(chan string, 2)
		for range 2 {
			p.Go(func() { started <- goroutineID(); <-block })
		}
		if a, b := <-started, <-started; a == b {
			t.Fatalf("two functions at once on one goroutine %s", a)
		}
		close(block)
		synctest.Wait()
		time.Sleep(goIdle + time.Millisecond)
		synctest.Wait() // the idle goroutines have ended
		if later := run(); later == first {
			t.Fatalf("goroutine %s still served after %v idle", later, goIdle)
		}
		// The last one ends goIdle after its function: synctest.Test
		// fails if a goroutine of the pool outlives it.
		time.Sleep(goIdle + time.Millisecond)
	})
}
