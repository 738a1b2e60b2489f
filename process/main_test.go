package process_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deco-go/deco"
	"github.com/deco-go/deco/backend"
	"github.com/deco-go/deco/process"
)

// TestMain turns the test binary into a worker when an Executor starts it
// as one; otherwise it runs the tests, or, when envHelper is set, one of
// the helper programs of orphan_test.go and env_test.go.
func TestMain(m *testing.M) {
	process.Main()
	if helper := os.Getenv(envHelper); helper != "" {
		os.Exit(runHelper(helper))
	}
	os.Exit(m.Run())
}

// envHelper selects a helper program: the test binary run again as a
// program that starts workers, for the tests that need a parent process
// other than the test itself.
const envHelper = "DECO_PROCESS_TEST_HELPER"

// helpers are the helper programs, by name.
var helpers = map[string]func() int{}

func runHelper(name string) int {
	h, ok := helpers[name]
	if !ok {
		fmt.Fprintf(os.Stderr, "no helper %q\n", name)
		return 2
	}
	return h()
}

// startHelper runs helper name as a child of the test, with env added to
// its environment, and returns it with a reader of its standard output.
// The test kills it, if it still runs, when it ends.
func startHelper(t *testing.T, name string, env ...string) (*exec.Cmd, *bufio.Scanner) {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), append(env, envHelper+"="+name)...)
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("helper %s's standard error:\n%s", name, stderr.String())
		}
	})
	return cmd, bufio.NewScanner(out)
}

// lockedBuffer is a bytes.Buffer safe for concurrent use, for the
// workers' output.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// testLog takes the standard error of the workers of the tests' shared
// executors: crashing workers print long traces.
var testLog = &lockedBuffer{}

// use makes t close e when it ends and then check that no worker process
// that t saw (pids, and e's workers at the end) and no goroutine started
// during t remains.
func use(t *testing.T, e *process.Executor, pids *pidSet) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		for _, pid := range e.PIDs() {
			pids.add(pid)
		}
		if err := e.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		for _, pid := range pids.list() {
			if alive(pid) {
				t.Errorf("worker %d is still running after Close", pid)
			}
		}
		if s := e.Stats(); s.Running != 0 {
			t.Errorf("Stats().Running = %d after Close", s.Running)
		}
		// Goroutines that have finished their work may take a moment
		// to be gone from the count; the bound is generous.
		deadline := time.Now().Add(10 * time.Second)
		for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		if n := runtime.NumGoroutine(); n > before {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Errorf("%d goroutines before the test, %d after Close:\n%s", before, n, buf)
		}
	})
}

// pidSet collects the worker PIDs a test saw.
type pidSet struct {
	mu   sync.Mutex
	pids map[int]bool
}

func (s *pidSet) add(pid int) {
	if pid == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pids == nil {
		s.pids = map[int]bool{}
	}
	s.pids[pid] = true
}

func (s *pidSet) list() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []int
	for p := range s.pids {
		out = append(out, p)
	}
	return out
}

// alive reports whether process pid runs: it exists and is not a zombie.
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// pid (comm) state ...: the state follows the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || (s[i+2] != 'Z' && s[i+2] != 'X')
}

// waitGone waits until none of pids runs, polling /proc with a generous
// bound (the processes are not the test's children, so there is nothing
// to wait on), and fails the test for those still running.
func waitGone(t *testing.T, pids []int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var left []int
		for _, p := range pids {
			if alive(p) {
				left = append(left, p)
			}
		}
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("worker processes %v are still running", left)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// envExtra makes the test binary decorate one more function while its
// packages are initialised: a worker started with it set is a build with
// other functions than its parent.
const envExtra = "DECO_PROCESS_TEST_EXTRA"

func init() {
	if os.Getenv(envExtra) != "" {
		deco.Concurrent(func(int) {}, deco.Name("test.extra"))
	}
}

var mismatchExec = process.New(1, process.Stderr(testLog))

// A worker whose functions differ from its parent's (names, argument or
// result types) never serves: a call by name could run another function.
func TestAWorkerWithOtherFunctionsIsRefused(t *testing.T) {
	var pids pidSet
	use(t, mismatchExec, &pids)
	t.Setenv(envExtra, "1") // read by the worker's init, not by this process
	err := mismatchExec.Start()
	var se *process.StartError
	if !errors.As(err, &se) || !errors.Is(err, process.ErrMismatch) || !strings.Contains(err.Error(), "another build") {
		t.Fatalf("Start = %v, want a StartError matching ErrMismatch", err)
	}
	_, err = mismatchExec.Execute(t.Context(), "test.pidOf", nil)
	if !errors.Is(err, process.ErrMismatch) {
		t.Fatalf("a call: %v, want ErrMismatch", err)
	}
}

// A program with both executors calls cluster.Main and process.Main at the
// top of main, in either order: process.Main must leave another executor's
// worker (DECO_WORKER=nats://…) alone rather than exit.
func TestMainLeavesAnotherExecutorsWorkerAlone(t *testing.T) {
	t.Setenv(backend.EnvWorker, "nats://127.0.0.1:4222")
	process.Main() // before the fix: os.Exit(86), and the test binary dies
}
