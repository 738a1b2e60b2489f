package process_test

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
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

// The parent-death signal, not the end of the pipes, ends the workers of
// a parent killed with SIGKILL: the helper's standard input is a pipe the
// test holds open (so the helper does not exit by itself), and its workers
// are stopped (SIGSTOP) before the parent is killed, so that they cannot
// notice the end of their pipes; only the kernel's SIGKILL ends them.
func TestNoWorkerOutlivesAKilledParent(t *testing.T) {
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), envHelper+"=hold")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	pids := workerPIDs(t, bufio.NewScanner(stdout))
	t.Cleanup(func() {
		for _, p := range pids {
			kill(p) // if the test failed
		}
	})
	for _, p := range pids {
		if err := pause(p); err != nil {
			t.Fatal(err)
		}
	}
	if !alive(cmd.Process.Pid) {
		t.Fatal("the helper exited by itself: the test would prove nothing")
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	waitGone(t, pids)
}
