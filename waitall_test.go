package deco_test

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/deco-go/deco"
)

func TestWaitAllFlushesCallsNobodyWaitedFor(t *testing.T) {
	var ran atomic.Int64
	a := deco.Concurrent(func(int) { time.Sleep(time.Millisecond); ran.Add(1) }, deco.Limit(1))
	b := deco.ConcurrentErr(func(i int) error { ran.Add(1); return errOdd })
	for i := range 20 {
		a.Go(i)
	}
	b.Go(1)
	// Nobody calls a.Wait or b.Wait: fire and forget, deco's lost calls.
	err := deco.WaitAll()
	if ran.Load() != 21 {
		t.Fatalf("WaitAll returned with %d of 21 calls run", ran.Load())
	}
	if !errors.Is(err, errOdd) {
		t.Fatalf("WaitAll = %v, want the unwaited call's error", err)
	}
	checkNoWorkers(t, "after WaitAll")
	if deco.WaitAll() != nil {
		t.Fatal("second WaitAll found work")
	}
}
