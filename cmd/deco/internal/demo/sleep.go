package demo

import (
	"context"
	"time"

	"github.com/deco-go/deco"
	"github.com/deco-go/deco/timeline"
)

// runSleep is the post's first example. before.py calls slow(index), which
// sleeps 5 s, three times in a loop and takes 15 s; after.py decorates slow
// with @concurrent and the loop with @synchronized and takes 5 s. Here the
// loop runs inside deco.Synchronized, which waits for every call started
// with its context before it returns.
func runSleep(ctx context.Context, e *env) (Result, error) {
	n, d := e.cfg.Sleeps, e.cfg.Sleep
	limit := min(n, e.cfg.IOWorkers)
	res := Result{Experiment: Sleep, Calls: n, Workers: limit, Cores: e.cores}
	e.printf("== sleep: %d calls of slow(index), each sleeping %v (the post: 3 calls, 5s each)\n", n, d)

	// def slow(index):
	//     time.sleep(5)
	slow := func(ctx context.Context, index int) error {
		return sleep(ctx, d)
	}

	// before.py
	serial, err := e.serial(ctx, Sleep, "slow", n, true, func(index int) error {
		return slow(ctx, index)
	})
	if err != nil {
		return res, err
	}

	// after.py: @concurrent and @synchronized.
	rec := new(deco.Recorder)
	bar := e.bar("sleep, concurrent", n)
	concurrentSlow := deco.ConcurrentCtxErr(slow, deco.Limit(limit), deco.Record(rec), showProgress(bar))
	t0, cpu0 := time.Now(), cpuTime()
	err = deco.Synchronized(ctx, func(ctx context.Context) error {
		for index := range n {
			concurrentSlow.GoContext(ctx, index)
		}
		return nil
	})
	took, cpu := time.Since(t0), cpuTime()-cpu0
	bar.Finish()
	if err != nil {
		return res, condense(err)
	}

	st := concurrentSlow.Stats()
	res.Serial, res.SerialCPU, res.SerialSum = serial.took, serial.cpu, serial.sum
	res.Concurrent, res.ConcurrentCPU, res.WouldHaveTaken, res.Stats = took, cpu, st.WouldHaveTaken, st
	res.traces = []timeline.Trace{serial.trace, named(rec.Trace(e.concurrentTitle(Sleep, limit)), "slow")}
	e.printRuns(res)
	return res, nil
}
