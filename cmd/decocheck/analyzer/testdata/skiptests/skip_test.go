package skiptests

import (
	"testing"

	"github.com/deco-go/deco"
)

func TestDeliberateRace(t *testing.T) {
	m := map[int]int{}
	f := deco.Concurrent(func(i int) {
		m[i] = i // want `shared-write: m\[i\] = i writes the map m`
	})
	f.Go(1)
	f.Wait()
}

// A Static made in a test function: a worker process runs TestMain and the
// package-level initialisers, not the test.
func TestStaticInATest(t *testing.T) {
	s := deco.NewStatic[int]("test.local") // want `cannot-cross: deco.NewStatic\[int\]\("test.local"\) is called inside TestStaticInATest:`
	s.Set(1)
}
