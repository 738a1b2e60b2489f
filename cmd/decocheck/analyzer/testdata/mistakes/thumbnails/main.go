// The project's thumbnails example made concurrent as its README shows,
// with the one change forgotten: times is still a plain map, written by
// every task (the seed's times[offset] = elapsed).
package main

import (
	"fmt"
	"time"

	"github.com/deco-go/deco"
)

func makeThumbnail(offset int) {}

func slow(times map[int]time.Duration, offset int) {
	t0 := time.Now()
	makeThumbnail(offset)
	times[offset] = time.Since(t0) // want `^shared-write: times\[offset\] = time.Since\(t0\) writes the map times, which every call of the task of deco.Concurrent at line 22 shares \(through slow\(times, index\)\): a plain map written by calls running at once is a data race, and can crash the program; return the value and use deco.Assign, or write into a \*deco.Map$`
}

func run(times map[int]time.Duration) {
	slow, wait := deco.Concurrent(func(index int) { slow(times, index) }).Split()
	defer wait()
	for index := range 100 {
		slow(index)
	}
}

func main() {
	t0 := time.Now()
	times := map[int]time.Duration{}
	run(times)
	var sum time.Duration
	for _, d := range times {
		sum += d
	}
	fmt.Println("TOOK", time.Since(t0).Round(time.Millisecond))
	fmt.Println("WOULD HAVE TAKEN", sum.Round(time.Millisecond))
	fmt.Println(len(times), "thumbnails")
}
