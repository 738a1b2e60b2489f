// Command sleep is Python deco's after.py: the three slow calls of
// ./serial run at once. Two lines are added to run, and the import;
// slow and its call site are untouched.
package main

import (
	"fmt"
	"time"

	"github.com/deco-go/deco"
)

func slow(index string) {
	time.Sleep(5 * time.Second)
	fmt.Println("done with", index)
}

func run() {
	slow, wait := deco.Concurrent(slow, deco.Limit(3)).Split()
	defer wait()
	for _, index := range []string{"1", "2", "3"} {
		slow(index)
	}
}

func main() {
	start := time.Now()
	run()
	fmt.Printf("took %.1fs\n", time.Since(start).Seconds())
}
