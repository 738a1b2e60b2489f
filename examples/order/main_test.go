package main

import (
	"slices"
	"testing"
	"testing/synctest"
)

// Calls finish in reverse, yet the results come back in call order.
func TestResultsInCallOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		if got := run(); !slices.Equal(got, []int{0, 1, 4, 9, 16}) {
			t.Fatalf("run() = %v", got)
		}
	})
}
