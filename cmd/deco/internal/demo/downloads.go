package demo

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/deco-go/deco"
	"github.com/deco-go/deco/cmd/deco/internal/pages"
	"github.com/deco-go/deco/timeline"
)

// downloadArgs are the arguments of one download: the post's
// download(url, data).
type downloadArgs struct {
	url  string
	data *deco.Map[string, time.Duration] // the post's data dict
}

// runDownloads is the post's "one more realistic pattern": 100 web pages
// downloaded one after the other, then with deco and a throttle like
// @concurrent(processes=N). The pages come from the local server started by
// Run, which answers each after its own seeded latency.
func runDownloads(ctx context.Context, e *env) (Result, error) {
	urls := e.server.URLs()
	n := len(urls)
	limit := min(n, e.cfg.IOWorkers)
	res := Result{Experiment: Downloads, Calls: n, Workers: limit, Cores: e.cores}
	e.printf("== downloads: %d pages from http://%s, mean latency %v (I/O-bound)\n", n, e.server.Addr(), e.cfg.Latency)

	// Keep up to limit connections open, so that the concurrent run reuses
	// them as a browser would.
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.Proxy = nil
	transport.MaxIdleConnsPerHost = limit
	client := &http.Client{Transport: transport, Timeout: time.Minute}
	defer client.CloseIdleConnections()

	// def download(url, data):
	//     t0 = time.time()
	//     assert requests.get(url).status_code == 200
	//     t1 = time.time()
	//     data[url] = t1 - t0
	download := func(ctx context.Context, a downloadArgs) error {
		t0 := time.Now()
		if _, err := pages.Fetch(ctx, client, a.url); err != nil {
			return err
		}
		a.data.Set(a.url, time.Since(t0))
		return nil
	}

	// Without deco.
	var serialData deco.Map[string, time.Duration]
	serial, err := e.serial(ctx, Downloads, "download", n, true, func(i int) error {
		return download(ctx, downloadArgs{url: urls[i], data: &serialData})
	})
	if err != nil {
		return res, err
	}

	// With @concurrent(processes=limit) and @synchronized.
	rec := new(deco.Recorder)
	bar := e.bar("downloads, concurrent", n)
	concurrentDownload := deco.ConcurrentCtxErr(download, deco.Limit(limit), deco.Record(rec), showProgress(bar))
	var data deco.Map[string, time.Duration]
	t0, cpu0 := time.Now(), cpuTime()
	err = deco.Synchronized(ctx, func(ctx context.Context) error {
		for _, url := range urls {
			concurrentDownload.GoContext(ctx, downloadArgs{url: url, data: &data})
		}
		return nil
	})
	took, cpu := time.Since(t0), cpuTime()-cpu0
	bar.Finish()
	if err != nil {
		return res, condense(err)
	}
	if data.Len() != n || data.Overwrites() != 0 {
		return res, fmt.Errorf("data has %d keys and %d overwrites, want %d keys and none", data.Len(), data.Overwrites(), n)
	}

	res.Serial, res.SerialCPU, res.SerialSum = serial.took, serial.cpu, sum(&serialData)
	res.Concurrent, res.ConcurrentCPU, res.WouldHaveTaken, res.Stats = took, cpu, sum(&data), concurrentDownload.Stats()
	res.traces = []timeline.Trace{serial.trace, named(rec.Trace(e.concurrentTitle(Downloads, limit)), "download")}
	e.printRuns(res)
	return res, nil
}
