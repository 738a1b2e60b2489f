package process_test

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/deco-go/deco/process"
)

// The helper programs of the orphan tests start two workers, print their
// PIDs on a line and then either exit without closing the executor or
// wait to be killed.
func init() {
	start := func() []int {
		e := process.New(2)
		if err := e.Start(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		fmt.Println(strings.Trim(fmt.Sprint(e.PIDs()), "[]"))
		return e.PIDs()
	}
	helpers["exit"] = func() int {
		start()
		return 0
	}
	helpers["hold"] = func() int {
		start()
		bufio.NewReader(os.Stdin).ReadString('\n') // until killed
		return 0
	}
}

// workerPIDs reads the line of PIDs a helper prints.
func workerPIDs(t *testing.T, out *bufio.Scanner) []int {
	t.Helper()
	if !out.Scan() {
		t.Fatalf("the helper printed no PIDs: %v", out.Err())
	}
	var pids []int
	for _, f := range strings.Fields(out.Text()) {
		pid, err := strconv.Atoi(f)
		if err != nil || pid <= 0 {
			t.Fatalf("the helper printed %q", out.Text())
		}
		pids = append(pids, pid)
	}
	for _, p := range pids {
		if !alive(p) {
			t.Fatalf("worker %d is not running while its parent does", p)
		}
	}
	return pids
}

func TestNoWorkerOutlivesAProgramThatExits(t *testing.T) {
	cmd, out := startHelper(t, "exit")
	pids := workerPIDs(t, out)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("the helper failed: %v", err)
	}
	waitGone(t, pids)
}

func TestNoWorkerOutlivesAKilledParent(t *testing.T) {
	cmd, out := startHelper(t, "hold")
	pids := workerPIDs(t, out)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	waitGone(t, pids)
}
