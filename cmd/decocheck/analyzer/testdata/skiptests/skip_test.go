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
