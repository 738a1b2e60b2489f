package cluster_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/deco-go/deco"
	"github.com/deco-go/deco/cluster"
	"github.com/deco-go/deco/process"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

var (
	failOdd = deco.ConcurrentResult(func(x int) (int, error) {
		if x%2 == 1 {
			return 0, fmt.Errorf("odd %d", x)
		}
		return x, nil
	}, deco.Name("test.failOdd"))
	panics = deco.ConcurrentValue(func(x int) int {
		if x == 3 {
			panic("boom 3")
		}
		return x
	}, deco.Name("test.panics"))
	counts = deco.ConcurrentValue(func(m *deco.Map[int, int]) int {
		m.Set(1, 10)
		m.Set(2, 20)
		return m.Len()
	}, deco.Name("test.mapWrites"))
	// block waits for its context, or 20 s, marking in $DECO_CLUSTER_TEST_DIR
	// when it started and how it ended.
	block = deco.ConcurrentCtxErr(func(ctx context.Context, tag string) error {
		mark(tag + ".started")
		select {
		case <-ctx.Done():
			mark(tag + ".cancelled")
			return ctx.Err()
		case <-time.After(20 * time.Second):
			mark(tag + ".finished")
			return nil
		}
	}, deco.Name("test.block"))
	// suicide kills its worker when x is 1.
	suicide = deco.ConcurrentValue(func(x int) int {
		if x == 1 {
			p, _ := os.FindProcess(os.Getpid())
			p.Kill()
			time.Sleep(time.Minute)
		}
		return x
	}, deco.Name("test.suicide"))
)

const envTestDir = "DECO_CLUSTER_TEST_DIR"

// mark creates a file named tag in $DECO_CLUSTER_TEST_DIR.
func mark(tag string) {
	if d := os.Getenv(envTestDir); d != "" {
		os.WriteFile(filepath.Join(d, tag), nil, 0o600)
	}
}

// waitFile waits, up to 30 s, for the file tag in dir.
func waitFile(t *testing.T, dir, tag string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(filepath.Join(dir, tag)); err == nil {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s did not appear within 30 s", tag)
}

// wantResults fails t unless err is nil and every call i's result, got[i],
// is want(i): the check after a batch's Wait.
func wantResults(t *testing.T, got []int, err error, want func(i int) int) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range got {
		if w := want(i); v != w {
			t.Fatalf("call %d = %d, want %d", i, v, w)
		}
	}
}

// executors are the three executors the same tests run on.
func executors(t *testing.T) map[string]func(t *testing.T) deco.Option {
	return map[string]func(t *testing.T) deco.Option{
		"in-process": func(t *testing.T) deco.Option { return deco.Limit(2) },
		"processes": func(t *testing.T) deco.Option {
			e := process.New(2)
			t.Cleanup(func() { e.Close() })
			return deco.On(e)
		},
		"cluster": func(t *testing.T) deco.Option { return deco.On(newLocal(t, 2)) },
	}
}

func TestSameFunctionsOnEveryExecutor(t *testing.T) {
	for name, on := range executors(t) {
		t.Run(name, func(t *testing.T) {
			opt := on(t)
			t.Run("results", func(t *testing.T) {
				f := square.With(opt)
				for i := range 50 {
					f.Go(i)
				}
				got, err := f.Wait()
				wantResults(t, got, err, func(i int) int { return i * i })
			})
			t.Run("errors", func(t *testing.T) {
				f := failOdd.With(opt)
				for i := range 6 {
					f.Go(i)
				}
				got, err := f.Wait()
				var ces []*deco.CallError
				for _, e := range unjoin(err) {
					var ce *deco.CallError
					if !errors.As(e, &ce) {
						t.Fatalf("an error is not a *deco.CallError: %v", e)
					}
					ces = append(ces, ce)
				}
				if len(ces) != 3 {
					t.Fatalf("got %d call errors, want 3 (calls 1, 3, 5): %v", len(ces), err)
				}
				for _, ce := range ces {
					if ce.Index%2 != 1 || !strings.Contains(ce.Error(), fmt.Sprintf("odd %d", ce.Index)) {
						t.Fatalf("call error %v: wrong call or message", ce)
					}
				}
				if got[4] != 4 {
					t.Fatalf("call 4 = %d, want 4", got[4])
				}
			})
			t.Run("panic", func(t *testing.T) {
				f := panics.With(opt)
				for i := range 5 {
					f.Go(i)
				}
				defer func() {
					r := recover()
					pe, ok := r.(*deco.PanicError)
					if !ok {
						t.Fatalf("Wait re-panicked with %v (%T), want a *deco.PanicError", r, r)
					}
					if pe.Index != 3 || !strings.Contains(fmt.Sprint(pe.Value), "boom 3") {
						t.Fatalf("PanicError %+v: want call 3's panic, boom 3", pe)
					}
				}()
				f.Wait()
				t.Fatal("Wait returned: the task's panic was lost")
			})
			t.Run("map writes", func(t *testing.T) {
				f := counts.With(opt)
				m := new(deco.Map[int, int])
				f.Go(m)
				got, err := f.Wait()
				if err != nil {
					t.Fatal(err)
				}
				if got[0] != 2 {
					t.Fatalf("Len in the task = %d, want 2", got[0])
				}
				if v, _ := m.Get(2); v != 20 || m.Len() != 2 {
					t.Fatalf("the caller's Map holds %v, want the task's writes {1:10 2:20}", m.Snapshot())
				}
			})
		})
	}
}

func unjoin(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func TestTimeoutFailsTheCallAndCancelsItsContext(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(envTestDir, dir)
	e := newLocal(t, 1, cluster.Timeout(300*time.Millisecond))
	_, err := block.With(deco.On(e)).Go("slow").Wait()
	var we *cluster.WorkerError
	if !errors.As(err, &we) || !we.TimedOut || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v: want a *cluster.WorkerError that timed out, matching context.DeadlineExceeded", err)
	}
	if !strings.Contains(err.Error(), "ran past its 300ms timeout") {
		t.Fatalf("error %q does not say the call ran past its timeout", err)
	}
	waitFile(t, dir, "slow.cancelled")
}

func TestCancelRemovesQueuedCallsAndCancelsRunningOnes(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(envTestDir, dir)
	e := newLocal(t, 1, cluster.Slots(1))
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	f := block.With(deco.On(e), deco.Limit(8))
	ctx, cancel := context.WithCancel(context.Background())
	f.GoContext(ctx, "running")
	waitFile(t, dir, "running.started")
	for i := range 3 {
		f.GoContext(ctx, fmt.Sprintf("queued%d", i))
	}
	// The queued calls are published once Execute runs them: wait until
	// the stream holds them.
	waitFor(t, func() bool { return e.Stats().Published == 4 })
	cancel()
	_, err := f.Wait()
	if n := len(unjoin(err)); n != 4 || !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait: %d errors (%v), want 4 matching context.Canceled", n, err)
	}
	waitFile(t, dir, "running.cancelled")
	// The worker holds one queued call waiting for its slot (and pulls
	// no more while it does): it may answer that one (cancelled before
	// it ran) before the caller's delete reaches the server; the others
	// wait in the stream until the caller removes them.
	if s := e.Stats(); s.Cancelled != 4 || s.Removed < 1 {
		t.Fatalf("Stats: %+v, want 4 cancelled, at least 1 removed from the stream", s)
	}
	// A queued call the worker held already (waiting for its slot) may
	// start before the notice reaches it: then it is cancelled at once,
	// never run to its end.
	for i := range 3 {
		tag := fmt.Sprintf("queued%d", i)
		if _, err := os.Stat(filepath.Join(dir, tag+".started")); err == nil {
			waitFile(t, dir, tag+".cancelled")
		}
		if _, err := os.Stat(filepath.Join(dir, tag+".finished")); err == nil {
			t.Fatalf("queued call %d ran to its end after it was cancelled", i)
		}
	}
	snap, err := e.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range snap.Queues {
		if q.Pending != 0 {
			t.Fatalf("queue %+v: cancelled calls are still in the stream", q)
		}
	}
}

// waitFor polls cond for up to 30 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 30 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestACallThatKillsItsWorkersFailsAfterRetries(t *testing.T) {
	e := newLocal(t, 2, cluster.AckWait(400*time.Millisecond), cluster.Retries(1))
	f := suicide.With(deco.On(e))
	// The call alone: calls held by a worker that dies count a delivery
	// too (see Retries).
	f.Go(1)
	_, err := f.Wait()
	var we *cluster.WorkerError
	if !errors.As(err, &we) || we.Deliveries != 2 || we.Call != 0 {
		t.Fatalf("error %v: want the call's *cluster.WorkerError after 2 deliveries", err)
	}
	if !strings.Contains(err.Error(), "killed its workers 2 times") {
		t.Fatalf("error %q does not say the call killed its workers 2 times", err)
	}
	if e.Stats().Restarts < 2 {
		t.Fatalf("Restarts = %d, want the 2 killed workers replaced", e.Stats().Restarts)
	}
	snap, _ := e.List(context.Background())
	for _, q := range snap.Queues {
		if q.Pending != 0 || q.Running != 0 {
			t.Fatalf("queue %+v: the call was left in the stream", q)
		}
	}
	// The replacement workers serve the next calls.
	for i := range 4 {
		f.Go(i * 2)
	}
	if got, err := f.Wait(); err != nil || fmt.Sprint(got) != "[0 2 4 6]" {
		t.Fatalf("after it: %v, %v", got, err)
	}
}

func TestStartFailsClearlyWithoutMain(t *testing.T) {
	// The helper binary is this test binary with cluster.Main skipped.
	t.Setenv(envSkipMain, "1")
	e := newLocal(t, 1)
	err := e.Start()
	var se *cluster.StartError
	if !errors.As(err, &se) || !strings.Contains(err.Error(), "cluster.Main()") {
		t.Fatalf("Start: %v, want a *cluster.StartError asking for cluster.Main()", err)
	}
	if _, err := square.With(deco.On(e)).Go(2).Wait(); !errors.As(err, &se) {
		t.Fatalf("a call: %v, want the StartError", err)
	}
}

func init() {
	// A program that decorates a named function after its executor
	// started (in its own process: the registry is the process's).
	helpers["late"] = func() int {
		e := cluster.New(cluster.Dir(os.Getenv(envStore)), cluster.Workers(1))
		defer e.Close()
		if _, err := square.With(deco.On(e)).Go(2).Wait(); err != nil {
			fmt.Println("first call:", err)
			return 1
		}
		late := deco.ConcurrentValue(func(x int) int { return x }, deco.Name("test.late"), deco.On(e))
		_, err := late.Go(1).Wait()
		fmt.Println(err)
		return 0
	}
}

func TestAFunctionDecoratedLateIsRefused(t *testing.T) {
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), envHelper+"=late", envStore+"="+t.TempDir())
	cmd.Stderr = os.Stderr
	done := make(chan []byte, 1)
	go func() { out, _ := cmd.Output(); done <- out }()
	select {
	case out := <-done:
		if !strings.Contains(string(out), "decorated after the executor started") {
			t.Fatalf("the program printed %q, want an error saying the function was decorated late", out)
		}
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatal("the call of a late function still waits after 60 s")
	}
}

func TestABurstOfFirstCallsSetsUpTheConsumerOnce(t *testing.T) {
	srv := startServer(t, t.TempDir(), 0, "")
	e := cluster.New(cluster.URL(srv.ClientURL()), cluster.Workers(2))
	t.Cleanup(func() { e.Close() })
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	api := func() uint64 { return srv.GlobalAccount().JetStreamUsage().API.Total }
	before := api()
	// 256 first calls of a function at once: one consumer set-up, not
	// one per call.
	f := square.With(deco.On(e), deco.Limit(256))
	for i := range 256 {
		f.Go(i)
	}
	got, err := waitWithin(t, e, time.Minute, f.Wait)
	wantResults(t, got, err, func(i int) int { return i * i })
	if n := api() - before; n > 16 {
		t.Fatalf("%d JetStream API requests for 256 first calls: the consumer was set up per call", n)
	}
}

func TestACallPastMaxDeliverWithNoWorkerToAnswerFails(t *testing.T) {
	// No deco worker: a client takes the call and never answers, so
	// JetStream gives up on it after one delivery (Retries(0)) and no
	// worker gets its MAX_DELIVERIES advisory. The caller's sweeper
	// answers it.
	srv := startServer(t, t.TempDir(), 0, "")
	e := cluster.New(cluster.URL(srv.ClientURL()), cluster.Retries(0), cluster.AckWait(300*time.Millisecond))
	t.Cleanup(func() { e.Close() })
	f := square.With(deco.On(e))
	f.Go(7)
	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var msg jetstream.Msg
	for msg == nil && ctx.Err() == nil {
		st, err := js.Stream(ctx, "DECO_TASKS")
		if err != nil {
			time.Sleep(10 * time.Millisecond)
			continue
		}
		for name := range st.ConsumerNames(ctx).Name() {
			c, err := st.Consumer(ctx, name)
			if err != nil {
				continue
			}
			if b, err := c.Fetch(1, jetstream.FetchMaxWait(100*time.Millisecond)); err == nil {
				for m := range b.Messages() {
					msg = m // taken, never acked
				}
			}
		}
	}
	if msg == nil {
		t.Fatal("the call never reached the stream")
	}
	_, err = waitWithin(t, e, 30*time.Second, f.Wait)
	var we *cluster.WorkerError
	if !errors.As(err, &we) || we.Deliveries != 1 {
		t.Fatalf("Wait: %v, want a *WorkerError after 1 delivery", err)
	}
}

// goexit ends its goroutine with runtime.Goexit for odd x, and returns x
// for even ones.
var goexit = deco.ConcurrentValue(func(x int) int {
	if x%2 == 1 {
		runtime.Goexit()
	}
	return x
}, deco.Name("test.goexit"))

func TestATaskThatCallsGoexitFailsSayingSo(t *testing.T) {
	// With a Timeout the task runs on a goroutine of its own; without,
	// in the worker's goroutine for the call, which Goexit ends. Either
	// way the call fails saying so, once (no redelivery), and the
	// worker goes on serving.
	for _, c := range []struct {
		name string
		opts []cluster.Option
	}{
		{"no timeout", nil},
		{"timeout", []cluster.Option{cluster.Timeout(time.Minute)}},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newLocal(t, 1, append([]cluster.Option{cluster.Slots(2)}, c.opts...)...)
			f := goexit.With(deco.On(e), deco.Limit(2))
			const n = 8
			for i := range n {
				f.Go(i)
			}
			got, err := waitWithin(t, e, time.Minute, f.Wait)
			errs := unjoin(err)
			if len(errs) != n/2 {
				t.Fatalf("%d errors, want one per odd call: %v", len(errs), err)
			}
			for _, err := range errs {
				var we *cluster.WorkerError
				var ce *deco.CallError
				if !errors.As(err, &we) || !we.Goexit || !errors.As(err, &ce) || ce.Index%2 != 1 || !strings.Contains(err.Error(), "runtime.Goexit") {
					t.Fatalf("error %v: want an odd call's *cluster.WorkerError saying it called runtime.Goexit", err)
				}
			}
			for i := 0; i < n; i += 2 {
				if got[i] != i {
					t.Fatalf("call %d = %d", i, got[i])
				}
			}
			if st := e.Stats(); st.Published != n || st.Restarts != 0 {
				t.Fatalf("Stats %+v: want %d calls published once, no worker lost", st, n)
			}
		})
	}
}
