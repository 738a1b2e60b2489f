package main

import (
	"testing"
	"time"
)

// Every page is recorded under its own URL, with its download time.
func TestRunRecordsEveryURL(t *testing.T) {
	urls, stop := serve(30)
	defer stop()
	data := map[string]time.Duration{}
	run(urls, data)
	if len(data) != len(urls) {
		t.Fatalf("%d of %d URLs recorded", len(data), len(urls))
	}
	for _, u := range urls {
		if data[u] < 20*time.Millisecond {
			t.Fatalf("data[%s] = %v, below the page's 20 ms minimum delay", u, data[u])
		}
	}
}
