// Package ignore holds rule 6: //decocheck:ignore silences one diagnostic.
package ignore

import "github.com/deco-go/deco"

func deliberateRace() {
	m := map[int]int{}
	f := deco.Concurrent(func(i int) {
		m[i] = i //decocheck:ignore this test shows the race detector catching it
		//decocheck:ignore the line below races on purpose
		m[i+1] = i
		m[i+2] = i // want `shared-write: m\[i\+2\] = i writes the map m`
	})
	f.Go(1)
	f.Wait()
}
