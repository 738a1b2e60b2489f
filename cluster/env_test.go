package cluster_test

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func init() {
	// A program run with DECO_EXECUTOR=nats:local:2: it prints where two
	// calls ran, and exits without closing anything.
	helpers["env"] = func() int {
		a, _ := pid.Go(0).Wait()
		b, err := square.Go(7).Wait()
		fmt.Println(os.Getpid(), a, b, err)
		return 0
	}
}

func TestDecoExecutorNatsLocal(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), envHelper+"=env", "DECO_EXECUTOR=nats:local:2", "DECO_NATS_DIR="+dir)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	var self, worker, sq int
	var errText string
	if _, err := fmt.Sscanf(string(out), "%d %d %d %s", &self, &worker, &sq, &errText); err != nil || sq != 49 || errText != "<nil>" {
		t.Fatalf("the program printed %q", out)
	}
	if worker == self || worker == 0 {
		t.Fatalf("the call ran in the caller (pid %d), not on a worker", self)
	}
	// The program exited without Close: its workers follow it.
	deadline := time.Now().Add(10 * time.Second)
	for alive(worker) {
		if time.Now().After(deadline) {
			t.Fatalf("worker %d outlived its caller by 10 s", worker)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := os.Stat(dir + "/jetstream"); err != nil {
		t.Fatalf("DECO_NATS_DIR was not the server's folder: %v", err)
	}
}

func TestDecoExecutorBadValues(t *testing.T) {
	for _, v := range []string{"nats:local:0", "nats:local:x", "nats:foo", "nats://"} {
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(os.Environ(), envHelper+"=env", "DECO_EXECUTOR="+v)
		out, _ := cmd.CombinedOutput()
		if !strings.Contains(string(out), "DECO_EXECUTOR=\""+v+"\"") {
			t.Fatalf("DECO_EXECUTOR=%s: output %q, want an error naming the value", v, out)
		}
	}
}
