package process_test

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/deco-go/deco"
	"github.com/deco-go/deco/process"
)

// peakRSS reports this process's peak resident memory (VmHWM), in bytes.
func peakRSS() int {
	b, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return kb << 10
		}
	}
	return 0
}

var (
	memExec = process.New(1, process.Stderr(testLog))
	// bigArg sums a large argument and reports the worker's peak memory
	// so far: the next call sees the peak the previous one caused.
	bigArg = deco.ConcurrentValue(func(data []byte) [3]int {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		last := 0
		if len(data) > 0 {
			last = int(data[len(data)-1])
		}
		return [3]int{last, peakRSS(), int(ms.TotalAlloc)}
	}, deco.Name("test.bigArg"), deco.On(memExec), deco.Limit(1))
)

const bigSize = 100 << 20

// TestA100MiBArgumentsPeakMemoryInTheWorker measures what one call with a
// 100 MiB argument costs the worker, as a multiple of the argument's size:
// the bytes it allocated for the call (which bound its peak heap growth;
// the test fails at 3x or more), and its peak resident memory (logged:
// the race detector's shadow memory inflates it under -race).
func TestA100MiBArgumentsPeakMemoryInTheWorker(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("needs /proc (Linux) to read the peak resident memory")
	}
	var pids pidSet
	use(t, memExec, &pids)
	f := bigArg.Go(nil)
	bigArg.Wait()
	before, _ := f.Wait()
	big := make([]byte, bigSize)
	big[bigSize-1] = 1
	f = bigArg.Go(big)
	bigArg.Wait()
	got, err := f.Wait()
	if err != nil || got[0] != 1 {
		t.Fatalf("the big call: %v, %v", got, err)
	}
	f = bigArg.Go(nil)
	bigArg.Wait()
	after, _ := f.Wait()
	rss := float64(after[1]-before[1]) / bigSize
	alloc := float64(after[2]-before[2]) / bigSize
	t.Logf("one call with a 100 MiB argument: the worker allocated %.2fx the argument; its peak resident memory went from %d MiB to %d MiB (%.2fx; race detector: %t)", alloc, before[1]>>20, after[1]>>20, rss, raceEnabled)
	if alloc >= 3 {
		t.Errorf("the worker allocated %.2fx the argument's size for the call, want under 3x", alloc)
	}
}
