package cluster_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/deco-go/deco"
	"github.com/deco-go/deco/cluster"
)

const (
	envStore   = "DECO_CLUSTER_TEST_STORE"
	durableN   = 40
	durableSum = "durable"
)

func init() {
	// The caller of TestADurableBatchSurvivesItsCallersDeath: a program
	// that runs one durable batch to its end and prints its outcome.
	helpers[durableSum] = func() int {
		e := cluster.New(cluster.Dir(os.Getenv(envStore)), cluster.Workers(2), cluster.AckWait(time.Second))
		defer e.Close()
		f := slowRecord.With(deco.On(e))
		ctx := cluster.Durable(context.Background(), "photos-2026")
		for i := range durableN {
			f.GoContext(ctx, i)
		}
		got, err := f.Wait()
		if err != nil {
			fmt.Println("error", err)
			return 1
		}
		sum := 0
		for i, v := range got {
			if v != i*i+1 {
				fmt.Printf("error call %d = %d\n", i, v)
				return 1
			}
			sum += v
		}
		s := e.Stats()
		fmt.Printf("done %d collected %d duplicates %d\n", sum, s.Collected, s.Duplicates)
		return 0
	}
}

func startCaller(t *testing.T, env ...string) (*exec.Cmd, *bufio.Scanner) {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), append(env, envHelper+"="+durableSum)...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd, bufio.NewScanner(out)
}

func TestADurableBatchSurvivesItsCallersDeath(t *testing.T) {
	dir, store := t.TempDir(), t.TempDir()
	env := []string{envTestDir + "=" + dir, envStore + "=" + store}
	first, _ := startCaller(t, env...)
	waitFor(t, func() bool {
		n, _ := executions(t, dir)
		return len(n) >= durableN/3
	})
	first.Process.Signal(syscall.SIGKILL)
	first.Wait()
	_, byPID := executions(t, dir)
	// The first caller's workers die with it: their lifeline ends.
	waitFor(t, func() bool {
		for p := range byPID {
			if alive(p) {
				return false
			}
		}
		return true
	})
	before, _ := executions(t, dir)
	second, out := startCaller(t, env...)
	var line string
	lines := make(chan string, 1)
	go func() {
		for out.Scan() {
			lines <- out.Text()
		}
		close(lines)
	}()
	select {
	case line = <-lines:
	case <-time.After(60 * time.Second):
		t.Fatal("the restarted caller did not finish within 60 s")
	}
	second.Wait()
	want := 0
	for i := range durableN {
		want += i*i + 1
	}
	var sum, collected, dups int
	if _, err := fmt.Sscanf(line, "done %d collected %d duplicates %d", &sum, &collected, &dups); err != nil || sum != want {
		t.Fatalf("the restarted caller printed %q, want done %d ...", line, want)
	}
	after, _ := executions(t, dir)
	again := 0
	for i := range durableN {
		if after[i] == 0 {
			t.Fatalf("call %d never ran", i)
		}
		if before[i] > 0 && after[i] > before[i] {
			again++
		}
	}
	// Calls that were running when the caller died may run again: their
	// workers died before writing the result, or before the server had
	// their ack (a worker frees a slot before it acks). At most twice the
	// 4 slots of the 2 workers; the calls done before are collected.
	if again > 8 {
		t.Fatalf("%d calls that had run before the restart ran again; collected %d", again, collected)
	}
	if collected < len(before)-8 || collected == 0 {
		t.Fatalf("the restarted caller collected %d results; %d calls had run before", collected, len(before))
	}
	// The calls still queued when the caller died are in the stream under
	// their message IDs: their re-submission must be dropped, and said so.
	if dups == 0 {
		t.Fatalf("no re-submission was dropped as a duplicate; %d of %d calls had run before the restart", len(before), durableN)
	}
	t.Logf("%d calls: %d had run when the caller was SIGKILLed; after its restart %d were collected without running, %d re-submissions were dropped as duplicates, %d ran again", durableN, len(before), collected, dups, again)
}

func TestDurableNamesAreChecked(t *testing.T) {
	e := newLocal(t, 1)
	for _, name := range []string{"", "a b", "x.y", strings.Repeat("n", 65)} {
		_, err := square.With(deco.On(e)).GoContext(cluster.Durable(context.Background(), name), 2).Wait()
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("Durable(%q)", name)) {
			t.Fatalf("Durable(%q): error %v, want one naming it", name, err)
		}
	}
}

func TestADurableCallWithAnotherArgumentFails(t *testing.T) {
	e := newLocal(t, 1)
	ctx := cluster.Durable(context.Background(), "args")
	f := square.With(deco.On(e))
	run := func(x int) (int, error) {
		f.GoContext(ctx, x) // call #0 of a new batch, each time
		got, err := f.Wait()
		return got[0], err
	}
	if got, err := run(3); err != nil || got != 9 {
		t.Fatalf("first run: %v, %v", got, err)
	}
	if got, err := run(3); err != nil || got != 9 || e.Stats().Collected != 1 || e.Stats().Published != 1 {
		t.Fatalf("same call again: %v, %v, %+v; want 9 collected, not published again", got, err, e.Stats())
	}
	_, err := run(4)
	if err == nil || !strings.Contains(err.Error(), "argument differs") {
		t.Fatalf("another argument under the same index: %v, want an error saying the argument differs", err)
	}
}
