// Command serial runs five calls of different lengths one after the other:
// they finish in call order. Compare it with ../main.go.
package main

import (
	"fmt"
	"time"
)

func slow(index int) int {
	time.Sleep(time.Duration(5-index) * 100 * time.Millisecond)
	fmt.Println("done with", index)
	return index * index
}

func run() []int {
	var results []int
	for index := range 5 {
		results = append(results, slow(index))
	}
	return results
}

func main() {
	fmt.Println("results:", run())
}
