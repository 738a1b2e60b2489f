//go:build linux

package process

import (
	"sync"
	"sync/atomic"
	"testing"
)

// One quiet read or write in each stretch of plainEvery is a plain system
// call, however many ask at once.
func TestOneQuietCallInEachStretchIsPlain(t *testing.T) {
	var last atomic.Int64
	every := int64(plainEvery)
	start := 10 * every
	for stretch := range int64(3) {
		now := start + stretch*every
		var plain atomic.Int32
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for i := range int64(100) {
					if plainDueAt(&last, now+i) { // within the stretch
						plain.Add(1)
					}
				}
			})
		}
		wg.Wait()
		if n := plain.Load(); n != 1 {
			t.Fatalf("stretch %d: %d plain calls, want 1", stretch, n)
		}
	}
	if plainDueAt(&last, start+2*every+every-1) {
		t.Fatal("a plain call less than plainEvery after the last one")
	}
}
