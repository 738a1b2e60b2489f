// The project's order example, with the serial loop's
// results = append(results, slow(index)) moved into the task: the calls
// append at once, a data race, and in completion order. Wait returns the
// results in call order instead.
package main

import (
	"fmt"
	"time"

	"github.com/deco-go/deco"
)

func slow(index int) int {
	time.Sleep(time.Duration(5-index) * 100 * time.Millisecond)
	fmt.Println("done with", index)
	return index * index
}

func run() []int {
	var results []int
	slow := deco.Concurrent(func(index int) {
		results = append(results, slow(index)) // want `^shared-write: results = append\(results, slow\(index\)\) appends to the captured slice results, which every call of the task of deco.Concurrent at line 22 shares: a data race; return the value \(Wait returns results in call order\), or lock a mutex$`
	}, deco.Limit(5))
	for index := range 5 {
		slow.Go(index)
	}
	slow.Wait()
	return results
}

func main() {
	fmt.Println("results:", run())
}
