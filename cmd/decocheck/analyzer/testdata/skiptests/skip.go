// Package skiptests: with -skiptests, code in _test.go files is not checked.
package skiptests

import "github.com/deco-go/deco"

func Race() {
	m := map[int]int{}
	f := deco.Concurrent(func(i int) {
		m[i] = i // want `shared-write: m\[i\] = i writes the map m`
	})
	f.Go(1)
	f.Wait()
}
