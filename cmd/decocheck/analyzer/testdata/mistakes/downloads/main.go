// The project's downloads example with the serial loop's body moved into
// the task as it was: data[url] = download(url) runs in every task at once.
package main

import (
	"fmt"
	"time"

	"github.com/deco-go/deco"
)

func download(url string) time.Duration {
	t0 := time.Now()
	return time.Since(t0)
}

func run(urls []string, data map[string]time.Duration) {
	fetch := deco.Concurrent(func(url string) { data[url] = download(url) }, deco.Limit(20)) // want `^shared-write: data\[url\] = download\(url\) writes the map data, which every call of the task of deco.Concurrent at line 18 shares`
	for _, url := range urls {
		fetch.Go(url)
	}
	fetch.Wait()
}

func main() {
	data := map[string]time.Duration{}
	run([]string{"a", "b"}, data)
	fmt.Println(len(data))
}
