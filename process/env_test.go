package process_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/deco-go/deco"
	"github.com/deco-go/deco/backend"
)

// envProbe has no executor of its own: DECO_EXECUTOR decides where it
// runs. It reports the process it ran in, and whether that process still
// had the worker marker in its environment when the task ran.
var envProbe = deco.ConcurrentValue(func(int) string {
	return fmt.Sprintf("%d %t", os.Getpid(), os.Getenv(backend.EnvWorker) != "")
}, deco.Name("test.envProbe"))

func init() {
	// The helper calls envProbe and prints where the calls ran.
	helpers["env"] = func() int {
		for i := range 6 {
			envProbe.Go(i)
		}
		got, err := envProbe.Wait()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		fmt.Println(os.Getpid())
		for _, g := range got {
			fmt.Println(g)
		}
		return 0
	}
}

func TestEnvironmentMovesNamedFunctionsToWorkers(t *testing.T) {
	cmd, out := startHelper(t, "env", "DECO_EXECUTOR=processes:2")
	if !out.Scan() {
		t.Fatal("the helper printed nothing")
	}
	parent := out.Text()
	workers := map[string]bool{}
	for out.Scan() {
		pid, marked, _ := strings.Cut(out.Text(), " ")
		if pid == parent {
			t.Fatalf("with DECO_EXECUTOR=processes:2 a call ran in the program itself (%s)", pid)
		}
		if marked != "false" {
			t.Fatalf("the worker marker is still in a worker's environment: tasks would pass it on")
		}
		workers[pid] = true
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("the helper failed: %v", err)
	}
	if len(workers) == 0 || len(workers) > 2 {
		t.Fatalf("calls ran in %d processes, want 1 or 2", len(workers))
	}
	var pids []int
	for w := range workers {
		pid, _ := strconv.Atoi(w)
		pids = append(pids, pid)
	}
	// Nothing closed that executor: its workers end with the program.
	waitGone(t, pids)
}

func TestWithoutTheEnvironmentCallsStayInProcess(t *testing.T) {
	if os.Getenv(deco.EnvExecutor) != "" {
		t.Skipf("%s is set", deco.EnvExecutor)
	}
	envProbe.Go(0)
	got, err := envProbe.Wait()
	if err != nil || got[0] != fmt.Sprintf("%d false", os.Getpid()) {
		t.Fatalf("envProbe ran as %q (%v), want in this process (%d)", got, err, os.Getpid())
	}
}

// A bad DECO_EXECUTOR never panics while packages are initialised (where
// envProbe is decorated): each call of a function it moves fails with one
// line naming the variable and the problem.
func TestABadEnvironmentFailsTheCallsNotTheStart(t *testing.T) {
	for _, v := range []string{"processes:abc", "processes:0", "nosuchscheme:1"} {
		t.Run(v, func(t *testing.T) {
			cmd := exec.Command(os.Args[0])
			cmd.Env = append(os.Environ(), envHelper+"=env", deco.EnvExecutor+"="+v)
			out, err := cmd.CombinedOutput()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 2 {
				t.Fatalf("the helper ended with %v, want exit status 2 (its calls failed); output:\n%s", err, out)
			}
			text := string(out)
			if strings.Contains(text, "goroutine ") || strings.Contains(text, "panic") {
				t.Fatalf("a bad %s=%s panicked:\n%s", deco.EnvExecutor, v, text)
			}
			if !strings.Contains(text, deco.EnvExecutor+`="`+v+`"`) {
				t.Fatalf("the error does not name the variable and its value:\n%s", text)
			}
		})
	}
}
