package main

import (
	"testing"
	"testing/synctest"
	"time"
)

func TestRunTakesThreeSleeps(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		run()
		if took := time.Since(start); took != 15*time.Second {
			t.Fatalf("run took %v of fake time, want 15s", took)
		}
	})
}
