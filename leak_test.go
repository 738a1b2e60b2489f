package deco_test

import (
	"runtime"
	"strings"
	"testing"
)

// parkedWorkers counts deco's pool workers that are blocked. A goroutine
// cannot signal that it is done after it has returned, so right after a
// wait a worker may still be running its last instructions on the way
// out; a leaked worker is one that is parked (sync.Cond.Wait, a channel,
// a lock). The check looks for deco's own frames rather than comparing
// runtime.NumGoroutine, which other tests' goroutines move.
func parkedWorkers() (n int, dump string) {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	for _, g := range strings.Split(string(buf), "\n\n") {
		if !strings.Contains(g, "created by github.com/deco-go/deco.(*Pool)") {
			continue
		}
		header, _, _ := strings.Cut(g, "\n")
		if strings.Contains(header, "[running]") || strings.Contains(header, "[runnable]") {
			continue
		}
		n++
		dump += g + "\n\n"
	}
	return n, dump
}

// workerGoroutines counts deco's pool workers in any state.
func workerGoroutines() int {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	return strings.Count(string(buf), "created by github.com/deco-go/deco.(*Pool)")
}

// checkNoWorkers fails the test if a pool worker is parked.
func checkNoWorkers(t *testing.T, when string) {
	t.Helper()
	if n, dump := parkedWorkers(); n != 0 {
		t.Fatalf("%d worker goroutines parked %s:\n%s", n, when, dump)
	}
}
