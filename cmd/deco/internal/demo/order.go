package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/deco-go/deco"
	"github.com/deco-go/deco/timeline"
)

// runOrder is the post's "About the order of execution": slow(index) prints
// "done with index" as it finishes, and concurrent calls finish in an order
// nobody can predict. deco's Wait (the post's slow.wait()) still returns the
// results in call order.
//
// Here each call sleeps a different, random time, so that the order is
// visibly not the call order, and changes from one run to the next.
func runOrder(ctx context.Context, e *env) (Result, error) {
	n := e.cfg.Sleeps
	limit := min(n, e.cfg.IOWorkers)
	res := Result{Experiment: Order, Calls: n, Workers: limit, Cores: e.cores}
	indexes := make([]string, n) // the post's list('123')
	for i := range indexes {
		indexes[i] = strconv.Itoa(i + 1)
	}
	pauses := randomPauses(n, e.cfg.Sleep)
	e.printf("== order: %d calls of slow(index), each sleeping a random time up to %v, then printing \"done with index\"\n",
		n, e.cfg.Sleep)

	var mu sync.Mutex
	var finished []string // indexes, in the order the calls finished

	// def slow(index):
	//     time.sleep(5)
	//     print 'done with {}'.format(index)
	slow := func(ctx context.Context, index string) (string, error) {
		i, _ := strconv.Atoi(index)
		if err := sleep(ctx, pauses[i-1]); err != nil {
			return "", err
		}
		mu.Lock()
		finished = append(finished, index)
		mu.Unlock()
		e.printf("  done with %s\n", index)
		return index, nil
	}

	e.printf("serial:\n")
	serial, err := e.serial(ctx, Order, "slow", n, false, func(i int) error {
		_, err := slow(ctx, indexes[i])
		return err
	})
	if err != nil {
		return res, err
	}

	e.printf("concurrent:\n")
	finished = nil
	rec := new(deco.Recorder)
	concurrentSlow := deco.ConcurrentCtxResult(slow, deco.Limit(limit), deco.Record(rec))
	t0, cpu0 := time.Now(), cpuTime()
	for _, index := range indexes {
		concurrentSlow.GoContext(ctx, index)
	}
	results, err := concurrentSlow.Wait()
	took, cpu := time.Since(t0), cpuTime()-cpu0
	if err != nil {
		return res, condense(err)
	}
	if !slices.Equal(results, indexes) {
		return res, fmt.Errorf("Wait returned %v, not the call order %v", results, indexes)
	}
	e.printf("Wait() returned [%s]: call order, although the calls finished as %s\n",
		strings.Join(results, " "), strings.Join(finished, " "))

	st := concurrentSlow.Stats()
	res.Serial, res.SerialCPU, res.SerialSum = serial.took, serial.cpu, serial.sum
	res.Concurrent, res.ConcurrentCPU, res.WouldHaveTaken, res.Stats = took, cpu, st.WouldHaveTaken, st
	res.traces = []timeline.Trace{serial.trace, named(rec.Trace(e.concurrentTitle(Order, limit)), "slow")}
	e.printRuns(res)
	return res, nil
}

// randomPauses returns n pauses of max/n, 2×max/n, … max, shuffled so that
// (for n > 1) they are never in increasing order: unless the pauses are too
// short to tell apart, or the limit makes calls wait, the calls then do not
// finish in call order.
func randomPauses(n int, max time.Duration) []time.Duration {
	perm := rand.Perm(n)
	for n > 1 && slices.IsSorted(perm) {
		rand.Shuffle(n, func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
	}
	pauses := make([]time.Duration, n)
	for i, p := range perm {
		pauses[i] = max * time.Duration(p+1) / time.Duration(n)
	}
	return pauses
}
