package deco_test

import (
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/deco-go/deco"
)

func TestAssignLaterCallWinsWhateverOrderTheyFinish(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := deco.ConcurrentValue(func(i int) int {
			time.Sleep(time.Duration(100-i) * time.Millisecond) // earlier calls finish later
			return i
		}, deco.Limit(100))
		m := map[int]int{}
		for i := range 100 {
			deco.Assign(m, i%10, f, i)
		}
		if len(m) != 0 {
			t.Fatal("Assign wrote before Wait")
		}
		if _, err := f.Wait(); err != nil {
			t.Fatal(err)
		}
		for k := range 10 {
			if m[k] != 90+k {
				t.Fatalf("m[%d] = %d, want %d from the last call with that key", k, m[k], 90+k)
			}
		}
	})
}

func TestAssignToSliceElements(t *testing.T) {
	f := deco.ConcurrentValue(func(s string) int { return len(s) })
	words := []string{"a", "bb", "ccc"}
	lens := make([]int, len(words))
	for i, w := range words {
		deco.AssignTo(&lens[i], f, w)
	}
	f.Wait()
	if lens[0] != 1 || lens[1] != 2 || lens[2] != 3 {
		t.Fatalf("lens = %v", lens)
	}
}

func TestFailedAssignLeavesTheKeyAndNamesIt(t *testing.T) {
	f := deco.ConcurrentResult(func(s string) (int, error) {
		if s == "bad" {
			return 0, errOdd
		}
		return len(s), nil
	})
	m := map[string]int{"bad": -1}
	deco.Assign(m, "good", f, "good")
	deco.Assign(m, "bad", f, "bad")
	_, err := f.Wait()
	var ce *deco.CallError
	if !errors.As(err, &ce) || ce.Key != "bad" {
		t.Fatalf("err = %v, want a CallError with key \"bad\"", err)
	}
	if m["bad"] != -1 || m["good"] != 4 {
		t.Fatalf("m = %v", m)
	}
}
