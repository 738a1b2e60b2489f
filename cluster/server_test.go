package cluster_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/deco-go/deco"
	"github.com/deco-go/deco/cluster"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// record appends x to a file of its process in $DECO_CLUSTER_TEST_DIR,
// so that tests count executions, and returns x*x+1.
var record = deco.ConcurrentValue(func(x int) int {
	appendLine(fmt.Sprint(x))
	return x*x + 1
}, deco.Name("test.record"))

// slowRecord is record taking 30 ms.
var slowRecord = deco.ConcurrentValue(func(x int) int {
	time.Sleep(30 * time.Millisecond)
	appendLine(fmt.Sprint(x))
	return x*x + 1
}, deco.Name("test.slowRecord"))

func appendLine(s string) {
	d := os.Getenv(envTestDir)
	if d == "" {
		return
	}
	f, err := os.OpenFile(filepath.Join(d, "exec."+strconv.Itoa(os.Getpid())), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		panic(err)
	}
	f.WriteString(s + "\n")
	f.Close()
}

// executions counts the lines each value has in the exec.* files of dir,
// and which processes wrote them.
func executions(t *testing.T, dir string) (map[int]int, map[int][]int) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "exec.*"))
	n := map[int]int{}
	by := map[int][]int{}
	for _, f := range files {
		pid, _ := strconv.Atoi(strings.TrimPrefix(filepath.Ext(f), "."))
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Fields(string(b)) {
			x, err := strconv.Atoi(l)
			if err != nil {
				t.Fatalf("%s: %q", f, l)
			}
			n[x]++
			by[pid] = append(by[pid], x)
		}
	}
	return n, by
}

// startServer starts a NATS server with JetStream in the test process,
// on 127.0.0.1, on port (or a random one), storing in dir; it is shut
// down when the test ends.
func startServer(t *testing.T, dir string, port int, token string) *server.Server {
	t.Helper()
	if port == 0 {
		port = server.RANDOM_PORT
	}
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: port, JetStream: true, StoreDir: dir, NoSigs: true, NoLog: true, Authorization: token})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("the test's NATS server did not start")
	}
	t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	return s
}

// startWorker starts the test binary as a worker of url, with env added.
// The test kills it when it ends.
func startWorker(t *testing.T, url string, env ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), append(env, "DECO_WORKER="+url, "DECO_WORKER_SLOTS=2")...)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return cmd
}

func TestBadServersFailClearlyAndQuickly(t *testing.T) {
	srv := startServer(t, t.TempDir(), 0, "right-token")
	cases := []struct {
		name string
		opts []cluster.Option
		want string
	}{
		{"unreachable", []cluster.Option{cluster.URL("nats://127.0.0.1:1"), cluster.ConnectTimeout(time.Second)}, "no server answered"},
		{"wrong token", []cluster.Option{cluster.URL(srv.ClientURL()), cluster.NATSOptions(nats.Token("wrong"))}, "refused the credentials"},
		{"no token", []cluster.Option{cluster.URL(srv.ClientURL())}, "refused the credentials"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := cluster.New(c.opts...)
			defer e.Close()
			done := make(chan error, 1)
			start := time.Now()
			go func() {
				_, err := square.With(deco.On(e)).Go(3).Wait()
				done <- err
			}()
			select {
			case err := <-done:
				if err == nil || !strings.Contains(err.Error(), c.want) {
					t.Fatalf("error %v, want one saying %q", err, c.want)
				}
				if strings.Contains(err.Error(), "right-token") {
					t.Fatalf("error %q shows the token", err)
				}
				t.Logf("%v after %v", err, time.Since(start).Round(time.Millisecond))
			case <-time.After(15 * time.Second):
				t.Fatal("the call still waits after 15 s")
			}
			// Later calls fail the same way, at once, until Close.
			if _, err := square.With(deco.On(e)).Go(3).Wait(); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("second call: %v", err)
			}
		})
	}
	t.Run("bad URLs", func(t *testing.T) {
		for _, u := range []string{"", "localhost:4222", "http://x:1", "nats://"} {
			func() {
				defer func() {
					if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "cluster: URL(") {
						t.Fatalf("URL(%q): panic %v, want one naming the option", u, r)
					}
				}()
				cluster.New(cluster.URL(u))
			}()
		}
	})
}

func TestEveryCallHasOneResultWhileWorkersAreKilled(t *testing.T) {
	// With 4 in flight (the workers' slots) every call goes alone; with
	// 256 (the default limit), most go in packs, which the kills split.
	t.Run("alone", func(t *testing.T) { everyCallHasOneResultWhileWorkersAreKilled(t, 4) })
	t.Run("packs", func(t *testing.T) { everyCallHasOneResultWhileWorkersAreKilled(t, 256) })
}

func everyCallHasOneResultWhileWorkersAreKilled(t *testing.T, limit int) {
	const n, every = 10000, 500
	dir := t.TempDir()
	t.Setenv(envTestDir, dir)
	e := newLocal(t, 2, cluster.AckWait(time.Second))
	var done atomicInt
	f := record.With(deco.On(e), deco.OnProgress(func(p deco.Progress) { done.store(p.Done) }))
	f = f.With(deco.Limit(limit))
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var kills atomicInt
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		next := int64(every)
		for {
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
			if done.load() < next {
				continue
			}
			if pids := e.PIDs(); len(pids) > 0 {
				syscall.Kill(pids[int(kills.load())%len(pids)], syscall.SIGKILL)
				kills.add(1)
				next += every
			}
		}
	}()
	for i := range n {
		f.Go(i)
	}
	got, err := f.Wait()
	close(stop)
	wg.Wait()
	wantResults(t, got, err, func(i int) int { return i*i + 1 })
	if len(got) != n {
		t.Fatalf("%d results for %d calls", len(got), n)
	}
	counts, _ := executions(t, dir)
	total, twice := 0, 0
	for i := range n {
		if counts[i] == 0 {
			t.Fatalf("call %d has a result but no execution was recorded", i)
		}
		total += counts[i]
		if counts[i] > 1 {
			twice++
		}
	}
	if kills.load() < n/every-2 {
		t.Fatalf("only %d kills", kills.load())
	}
	if packs := e.Stats().Packs > 0; packs != (limit > 4) {
		t.Fatalf("Stats %+v: packs %v with %d calls in flight", e.Stats(), packs, limit)
	}
	t.Logf("%d calls, %d workers SIGKILLed, %d results, 0 lost, %d executions (%d calls run more than once), %d restarts, %d packs",
		n, kills.load(), len(got), total, twice, e.Stats().Restarts, e.Stats().Packs)
}

func TestServerRestartMidBatchLosesNothing(t *testing.T) {
	dir := t.TempDir()
	store := t.TempDir()
	t.Setenv(envTestDir, dir)
	srv := startServer(t, store, 0, "")
	portN := srv.Addr().(*net.TCPAddr).Port
	url := srv.ClientURL()
	e := cluster.New(cluster.URL(url), cluster.Workers(2), cluster.AckWait(time.Second))
	t.Cleanup(func() { closeAndCheckServer(t, e, false) })
	// The local workers of an external server reconnect when it comes
	// back, as the caller does.
	const n = 300
	var done atomicInt
	f := slowRecord.With(deco.On(e), deco.Limit(16), deco.OnProgress(func(p deco.Progress) { done.store(p.Done) }))
	for i := range n {
		f.Go(i)
	}
	waitFor(t, func() bool { return done.load() >= n/4 })
	srv.Shutdown()
	srv.WaitForShutdown()
	time.Sleep(300 * time.Millisecond)
	startServer(t, store, portN, "")
	got, err := f.Wait()
	wantResults(t, got, err, func(i int) int { return i*i + 1 })
	counts, _ := executions(t, dir)
	total := 0
	for i := range n {
		if counts[i] == 0 {
			t.Fatalf("call %d: no execution recorded", i)
		}
		total += counts[i]
	}
	t.Logf("%d calls across a server restart: %d results, %d executions", n, len(got), total)
}

func TestAWorkerOfAnotherBuildNeverTakesACall(t *testing.T) {
	srv := startServer(t, t.TempDir(), 0, "")
	url := srv.ClientURL()
	e := cluster.New(cluster.URL(url))
	t.Cleanup(func() { closeAndCheckServer(t, e, false) })
	other := startWorker(t, url, envExtraFunc+"=1")
	// Wait until the other build's worker serves.
	waitFor(t, func() bool {
		s, err := e.List(context.Background())
		return err == nil && len(s.Workers) == 1 && s.Workers[0].PID == other.Process.Pid
	})
	f := pid.With(deco.On(e), deco.Limit(32))
	const n = 20
	for i := range n {
		f.Go(i)
	}
	// All calls wait in the stream (alone or in packs: messages of
	// several calls): the other build pulls from its own consumers.
	waitFor(t, func() bool {
		if e.Stats().Published != n {
			return false
		}
		s, _ := e.List(context.Background())
		for _, q := range s.Queues {
			if q.Func == "test.pid" && q.Pending > 0 && q.Running == 0 {
				return true
			}
		}
		return false
	})
	time.Sleep(300 * time.Millisecond)
	right := startWorker(t, url)
	got, err := f.Wait()
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range got {
		if p != right.Process.Pid {
			t.Fatalf("call %d ran in process %d, not in the worker of this build (%d; the other build's is %d)", i, p, right.Process.Pid, other.Process.Pid)
		}
	}
	// List shows both builds (the right worker announces itself within
	// a moment of starting).
	waitFor(t, func() bool {
		s, _ := e.List(context.Background())
		builds := map[string]bool{}
		for _, w := range s.Workers {
			builds[w.Build] = true
		}
		return len(builds) == 2
	})
}

// envExtraFunc makes the test binary register one more function: another
// build.
const envExtraFunc = "DECO_CLUSTER_TEST_EXTRA"

var _ = func() int {
	if os.Getenv(envExtraFunc) != "" {
		deco.ConcurrentValue(func(x int) int { return x }, deco.Name("test.extra"))
	}
	return 0
}()

type atomicInt struct {
	mu sync.Mutex
	v  int64
}

func (a *atomicInt) store(v int64) { a.mu.Lock(); a.v = v; a.mu.Unlock() }
func (a *atomicInt) add(v int64)   { a.mu.Lock(); a.v += v; a.mu.Unlock() }
func (a *atomicInt) load() int64   { a.mu.Lock(); defer a.mu.Unlock(); return a.v }
