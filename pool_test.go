package deco_test

import (
	"testing"

	"github.com/deco-go/deco"
)

func TestPoolLimit(t *testing.T) {
	var p deco.Pool
	if p.Limit() < 1 {
		t.Fatalf("zero Pool limit = %d", p.Limit())
	}
	if deco.NewPool(7).Limit() != 7 {
		t.Fatal("NewPool(7).Limit() != 7")
	}
}
