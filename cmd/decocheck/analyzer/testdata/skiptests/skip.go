// Package skiptests: without -skiptests, code in _test.go files is checked
// too (TestCommand runs go vet -vettool -skiptests on such a file).
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
