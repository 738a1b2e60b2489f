// Command serial is Python deco's before.py: three slow calls, one after the
// other. Compare it with ../main.go, the same program with deco.
package main

import (
	"fmt"
	"time"
)

func slow(index string) {
	time.Sleep(5 * time.Second)
	fmt.Println("done with", index)
}

func run() {
	for _, index := range []string{"1", "2", "3"} {
		slow(index)
	}
}

func main() {
	start := time.Now()
	run()
	fmt.Printf("took %.1fs\n", time.Since(start).Seconds())
}
