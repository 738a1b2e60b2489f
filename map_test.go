package deco_test

import (
	"testing"

	"github.com/deco-go/deco"
)

func TestMapTakesWritesFromConcurrentCalls(t *testing.T) {
	var times deco.Map[int, int]
	f := deco.Concurrent(func(i int) { times.Set(i, i*10) }, deco.Limit(4))
	for i := range 1000 {
		f.Go(i)
	}
	f.Wait()
	if times.Len() != 1000 || times.Overwrites() != 0 {
		t.Fatalf("Len %d Overwrites %d", times.Len(), times.Overwrites())
	}
	snap := times.Snapshot()
	if snap[999] != 9990 {
		t.Fatalf("snap[999] = %d", snap[999])
	}
	snap[0] = -1
	if v, _ := times.Get(0); v != 0 {
		t.Fatal("Snapshot must be a copy")
	}
	n := 0
	for range times.All() {
		n++
	}
	if n != 1000 {
		t.Fatalf("All yielded %d", n)
	}
	times.Set(1, 0)
	if times.Overwrites() != 1 {
		t.Fatal("Overwrites did not count a second write to a key")
	}
}
