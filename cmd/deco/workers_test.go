package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deco-go/deco"
	"github.com/deco-go/deco/cluster"
	"github.com/nats-io/nats-server/v2/server"
)

// hold runs on a worker until its context ends.
var hold = deco.ConcurrentCtxErr(func(ctx context.Context, _ int) error {
	<-ctx.Done()
	return ctx.Err()
}, deco.Name("decotest.hold"))

// startServer starts a NATS server on 127.0.0.1, stopped when the test
// ends.
func startServer(t *testing.T, jetStream bool) string {
	t.Helper()
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: server.RANDOM_PORT, JetStream: jetStream, StoreDir: t.TempDir(), NoSigs: true, NoLog: true})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("server not ready")
	}
	t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	return s.ClientURL()
}

// runWorkersForTest runs `deco workers args...` in this process, failing
// the test if it takes more than 30 s.
func runWorkersForTest(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	done := make(chan int, 1)
	go func() { done <- run(context.Background(), append([]string{"workers"}, args...), &out, &errOut) }()
	select {
	case code = <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("deco workers %q did not return within 30 s", args)
	}
	return code, out.String(), errOut.String()
}

// natsGoroutines returns the stacks of nats.go's goroutines, after giving
// them a moment to end.
func natsGoroutines() string {
	var left string
	for range 100 {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		left = ""
		for _, g := range strings.Split(string(buf), "\n\n") {
			if strings.Contains(g, "nats-io/nats.go") {
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

func TestWorkersListsWorkersAndTheirCalls(t *testing.T) {
	url := startServer(t, true)
	// Generous: under the load of the README's test command (the cluster
	// package's servers run at the same time), creating the stream has
	// taken longer than the default 5 s.
	e := cluster.New(cluster.URL(url), cluster.ConnectTimeout(30*time.Second))
	defer e.Close()
	w := exec.Command(os.Args[0])
	w.Env = append(os.Environ(), "DECO_WORKER="+url, "DECO_WORKER_SLOTS=3")
	w.Stderr = os.Stderr
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { w.Process.Kill(); w.Wait() }()
	ctx, cancel := context.WithCancel(context.Background())
	f := hold.With(deco.On(e))
	f.GoContext(ctx, 0)
	defer func() {
		cancel()
		// The call ends with its context's error, which is what it was
		// started for: wait for it and check that this is the only one.
		if _, err := f.Wait(); err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("hold: %v", err)
		}
	}()
	host, _ := os.Hostname()
	id := fmt.Sprintf("%s:%d", host, w.Process.Pid)
	deadline := time.Now().Add(30 * time.Second)
	var out string
	for {
		code, stdout, stderr := runWorkersForTest(t, "-url", url)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		out = stdout
		if strings.Contains(out, "decotest.hold #0") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the running call is not listed within 30 s:\n%s", out)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, want := range []string{"WORKER", id + "  ", "1 workers", id + "  decotest.hold #0", "QUEUED"} {
		if !strings.Contains(out, want) {
			t.Fatalf("output lacks %q:\n%s", want, out)
		}
	}
	// The server from DECO_EXECUTOR, as a program that runs there has it.
	t.Setenv("DECO_EXECUTOR", url)
	if code, stdout, stderr := runWorkersForTest(t); code != 0 || !strings.Contains(stdout, id) {
		t.Fatalf("with DECO_EXECUTOR: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

func TestWorkersFailsClearlyAndLeavesNothing(t *testing.T) {
	plain := startServer(t, false) // no JetStream
	empty := startServer(t, true)
	for _, tc := range []struct {
		name string
		env  string // DECO_EXECUTOR
		args []string
		code int
		want string
	}{
		{"not a URL", "", []string{"-url", "localhost"}, 1, `deco workers: cluster: "localhost" is not a URL of the form nats://host:port`},
		{"unreachable", "", []string{"-url", "nats://127.0.0.1:1", "-timeout", "2s"}, 1, "deco workers: cluster: connecting to nats://127.0.0.1:1: no server answered within"},
		{"no JetStream", "", []string{"-url", plain, "-timeout", "2s"}, 1, "JetStream"},
		{"no URL", "", nil, 2, "deco workers: give the server's URL with -url nats://host:port"},
		{"embedded", "nats:local", nil, 2, "DECO_EXECUTOR=nats:local runs its NATS server inside the program"},
		{"bad timeout", "", []string{"-url", empty, "-timeout", "0s"}, 2, "-timeout 0s: want a positive duration"},
		{"bad flag", "", []string{"-frob"}, 2, "flag provided but not defined: -frob"},
		{"argument", "", []string{"-url", empty, "extra"}, 2, `unexpected argument "extra"`},
		{"empty server", "", []string{"-url", empty}, 0, "0 workers"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("DECO_EXECUTOR", tc.env)
			t.Setenv("DECO_WORKER", "")
			code, stdout, stderr := runWorkersForTest(t, tc.args...)
			got := stderr
			if tc.code == 0 {
				got = stdout
			}
			if code != tc.code || !strings.Contains(got, tc.want) || (tc.code != 0 && strings.Count(stderr, "\n") != 1) {
				t.Fatalf("exit %d, stdout %q, stderr %q; want exit %d and %q on one line", code, stdout, stderr, tc.code, tc.want)
			}
			if g := natsGoroutines(); g != "" {
				t.Fatalf("nats.go goroutines left:\n%s", g)
			}
		})
	}
}

// listings counts the listings written to it and cancels its context at
// the second.
type listings struct {
	mu     sync.Mutex
	n      int
	cancel context.CancelFunc
}

func (l *listings) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if bytes.Contains(p, []byte("0 workers\n")) {
		if l.n++; l.n == 2 {
			l.cancel()
		}
	}
	return len(p), nil
}

func TestWorkersWatchListsAgainUntilInterrupted(t *testing.T) {
	url := startServer(t, true)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &listings{cancel: cancel}
	var errOut bytes.Buffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"workers", "-url", url, "-watch", "10ms"}, out, &errOut) }()
	select {
	case code := <-done:
		out.mu.Lock()
		n := out.n
		out.mu.Unlock()
		if code != 0 || n != 2 {
			t.Fatalf("exit %d after %d listings, stderr %q; want 0 after 2", code, n, errOut.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("deco workers -watch did not end within 30 s of its interruption")
	}
	if g := natsGoroutines(); g != "" {
		t.Fatalf("nats.go goroutines left:\n%s", g)
	}
}
