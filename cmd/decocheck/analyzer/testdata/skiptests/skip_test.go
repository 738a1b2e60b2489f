package skiptests

import (
	"testing"

	"github.com/deco-go/deco"
)

func TestDeliberateRace(t *testing.T) {
	m := map[int]int{}
	f := deco.Concurrent(func(i int) {
		m[i] = i // reported without -skiptests
	})
	f.Go(1)
	f.Wait()
}
