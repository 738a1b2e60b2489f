// Command downloads is Python deco's blog post's download loop with deco: the 100 pages
// are fetched 20 at a time (deco's processes=20) and data[url] =
// download(url) becomes deco.Assign, which fills data when the batch is
// waited, in this goroutine, so no lock is needed. Compare it with
// ./serial: two lines in run, one changed, and the import.
package main

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/deco-go/deco"
)

func download(url string) time.Duration {
	t0 := time.Now()
	resp, err := http.Get(url)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil || resp.StatusCode != http.StatusOK {
		panic(fmt.Sprint(url, resp.Status, err))
	}
	return time.Since(t0)
}

func run(urls []string, data map[string]time.Duration) {
	download := deco.ConcurrentValue(download, deco.Limit(20))
	defer download.Wait()
	for _, url := range urls {
		deco.Assign(data, url, download, url)
	}
}

func main() {
	urls, stop := serve(100)
	defer stop()
	t0 := time.Now()
	data := map[string]time.Duration{}
	run(urls, data)
	var sum time.Duration
	for _, d := range data {
		sum += d
	}
	fmt.Println("TOOK", time.Since(t0).Round(time.Millisecond))
	fmt.Println("WOULD HAVE TAKEN", sum.Round(time.Millisecond))
}

// serve starts a local web site of n pages, each answered after its own
// delay of 20 to 380 ms, and returns their addresses.
func serve(n int) (urls []string, stop func()) {
	delays := make([]time.Duration, n)
	rng := rand.New(rand.NewPCG(2016, 5))
	for i := range delays {
		delays[i] = time.Duration(20+rng.IntN(360)) * time.Millisecond
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var page int
		fmt.Sscanf(r.URL.Path, "/plog/%d", &page)
		time.Sleep(delays[page%n])
		fmt.Fprintf(w, "<html><body>page %d</body></html>", page)
	}))
	for i := range n {
		urls = append(urls, fmt.Sprintf("%s/plog/%d", srv.URL, i))
	}
	return urls, srv.Close
}
