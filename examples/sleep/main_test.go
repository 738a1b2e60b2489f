package main

import (
	"testing"
	"testing/synctest"
	"time"
)

// The README's claim: the three 5 s calls finish in 5 s, not 15 s.
func TestRunTakesOneSleep(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		run()
		if took := time.Since(start); took != 5*time.Second {
			t.Fatalf("run took %v of fake time, want 5s", took)
		}
	})
}
