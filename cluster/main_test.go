package cluster_test

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/deco-go/deco"
	"github.com/deco-go/deco/cluster"
	"github.com/deco-go/deco/process"
)

// TestMain turns the test binary into a worker when an executor starts it
// as one, or runs one of the helper programs (see helpers), or the tests.
func TestMain(m *testing.M) {
	profileWorker()
	if os.Getenv(envSkipMain) == "" {
		cluster.Main() // beside process.Main: each serves only its own DECO_WORKER values
	} else if os.Getenv("DECO_WORKER") != "" {
		os.Exit(0) // a program that forgot cluster.Main: it runs and exits
	}
	process.Main()
	if h := os.Getenv(envHelper); h != "" {
		os.Exit(helpers[h]())
	}
	os.Exit(m.Run())
}

// profileWorker, in a worker (or a worker of the raw pattern in
// bench_test.go) started with DECO_CLUSTER_TEST_WORKER_PROFILE
// set to a path prefix, writes a CPU profile of the worker's first
// DECO_CLUSTER_TEST_WORKER_PROFILE_SECS seconds (10 by default) to
// <prefix>.<pid>: workers are killed, so a profile cannot wait for
// their exit.
func profileWorker() {
	prefix := os.Getenv("DECO_CLUSTER_TEST_WORKER_PROFILE")
	if prefix == "" || os.Getenv("DECO_WORKER") == "" && os.Getenv(envHelper) != "rawWorker" {
		return
	}
	secs, err := strconv.Atoi(os.Getenv("DECO_CLUSTER_TEST_WORKER_PROFILE_SECS"))
	if err != nil || secs <= 0 {
		secs = 10
	}
	f, err := os.Create(prefix + "." + strconv.Itoa(os.Getpid()))
	if err != nil {
		return
	}
	if pprof.StartCPUProfile(f) != nil {
		f.Close()
		return
	}
	time.AfterFunc(time.Duration(secs)*time.Second, func() {
		pprof.StopCPUProfile()
		f.Close()
	})
}

// envHelper selects a helper program: the test binary run again as a
// caller, for the tests that kill or restart one.
// envSkipMain makes the test binary skip cluster.Main, as a program that
// forgot it.
const envSkipMain = "DECO_CLUSTER_TEST_SKIP_MAIN"

const envHelper = "DECO_CLUSTER_TEST_HELPER"

var helpers = map[string]func() int{}

// The test functions, at package level as functions that run on workers
// must be.
var (
	square = deco.ConcurrentValue(func(x int) int { return x * x }, deco.Name("test.square"))
	pid    = deco.ConcurrentValue(func(int) int { return os.Getpid() }, deco.Name("test.pid"))
)

// newLocal returns an embedded executor with n local workers, storage in
// a test folder, closed when the test ends, with a check that none of its
// processes or goroutines outlive Close.
func newLocal(t testing.TB, n int, opts ...cluster.Option) *cluster.Executor {
	t.Helper()
	e := cluster.New(append([]cluster.Option{cluster.Dir(t.TempDir()), cluster.Workers(n)}, opts...)...)
	t.Cleanup(func() { closeAndCheck(t, e) })
	return e
}

// closeAndCheck closes e and fails t if a worker process or a goroutine
// of the server or of nats.go is left.
func closeAndCheck(t testing.TB, e *cluster.Executor) {
	t.Helper()
	closeAndCheckServer(t, e, true)
}

// closeAndCheckServer is closeAndCheck, for an executor of an external
// server when server is false: the test's server still runs.
func closeAndCheckServer(t testing.TB, e *cluster.Executor, server bool) {
	t.Helper()
	pids := e.PIDs()
	e.Close()
	for _, p := range pids {
		if alive(p) {
			t.Errorf("worker %d is alive after Close", p)
		}
	}
	if g := leftGoroutines(server); g != "" {
		t.Errorf("goroutines left after Close:\n%s", g)
	}
}

// leftGoroutines returns the stacks of goroutines of nats-server, nats.go
// or this package, after giving them a moment to end.
func leftGoroutines(server bool) string {
	var left string
	for range 100 {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		left = ""
		for _, g := range strings.Split(string(buf), "\n\n") {
			if knownUpstreamLeak(g) {
				continue
			}
			if strings.Contains(g, "nats-io/nats.go") || (server && strings.Contains(g, "nats-io/nats-server")) || (strings.Contains(g, "deco/cluster.") && !strings.Contains(g, "cluster_test.")) {
				left += g + "\n\n"
			}
		}
		if left == "" {
			return ""
		}
		time.Sleep(20 * time.Millisecond)
	}
	return left
}

// knownUpstreamLeak reports a goroutine nats.go v1.55.0 may leave behind
// in an object store Put (a Static's put): Put makes a JetStream context
// of its own, whose async publisher starts resetPendingAcksOnReconnect,
// and cleans it up when done; if the cleanup runs before that goroutine
// reads its status channel, the goroutine waits on a nil channel for
// ever. One per put at most (once per Static value and session), idle;
// Static's documentation says so.
func knownUpstreamLeak(g string) bool {
	return strings.Contains(g, "[chan receive (nil chan)") && strings.Contains(g, "jetstream.(*jetStream).resetPendingAcksOnReconnect")
}

func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// A zombie (state Z) is dead, waiting for its parent.
	f := strings.Fields(string(b))
	return len(f) > 2 && f[2] != "Z"
}

func TestCallsRunOnLocalWorkers(t *testing.T) {
	e := newLocal(t, 2)
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	p := pid.With(deco.On(e))
	for i := range 20 {
		p.Go(i)
	}
	got, err := p.Wait()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, x := range got {
		if x == os.Getpid() || x == 0 {
			t.Fatalf("a call ran in the test process, not on a worker: %v", got)
		}
		seen[x] = true
	}
	workers := map[int]bool{}
	for _, p := range e.PIDs() {
		workers[p] = true
	}
	for p := range seen {
		if !workers[p] {
			t.Fatalf("a call ran in process %d, not one of the workers %v", p, e.PIDs())
		}
	}
}
