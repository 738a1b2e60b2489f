package deco_test

import (
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/deco-go/deco"
)

func TestGoexitInATaskFailsTheCallOnly(t *testing.T) {
	f := deco.ConcurrentErr(func(i int) error {
		if i == 3 {
			runtime.Goexit()
		}
		return nil
	}, deco.Limit(1))
	for i := range 10 {
		f.Go(i)
	}
	_, err := f.Wait()
	var ce *deco.CallError
	if !errors.As(err, &ce) || ce.Index != 3 || !strings.Contains(err.Error(), "Goexit") {
		t.Fatalf("err = %v, want call #3 failed by Goexit", err)
	}
	if s := f.Stats(); s.Done != 10 {
		t.Fatalf("%d calls done, want 10", s.Done)
	}
}
