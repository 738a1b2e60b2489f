// Command order shows Python deco's blog post's point about the order of execution: with
// deco the calls finish in any order ("done with" lines), yet Wait returns
// their results in call order, so results[i] is still slow(i).
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
	slow := deco.ConcurrentValue(slow, deco.Limit(5))
	for index := range 5 {
		slow.Go(index)
	}
	results, _ := slow.Wait() // in call order, whatever order they finished in
	return results
}

func main() {
	fmt.Println("results:", run())
}
