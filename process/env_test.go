package process_test

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/deco-go/deco"
)

// envProbe has no executor of its own: DECO_EXECUTOR decides where it
// runs. It reports the process it ran in, and whether that process still
// had the worker marker in its environment when the task ran.
var envProbe = deco.ConcurrentValue(func(int) string {
	return fmt.Sprintf("%d %t", os.Getpid(), os.Getenv(deco.EnvWorker) != "")
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
