package process_test

import (
	"errors"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/deco-go/deco"
	"github.com/deco-go/deco/process"
)

// What a task does in a worker comes back as it would from a task in the
// caller's process: its result, its error's message, its panic with its
// stack, its Map writes; and what cannot come back is refused.

type job struct {
	Offset int
	Times  *deco.Map[int, time.Duration]
}

var (
	failOdd = deco.ConcurrentResult(func(i int) (int, error) {
		if i%2 == 1 {
			return 0, errors.New("odd input")
		}
		return i * 10, nil
	}, deco.Name("test.failOdd"), deco.On(pool2), deco.Limit(2))

	panicky = deco.ConcurrentValue(func(i int) int {
		if i == 2 {
			panic("task panicked")
		}
		return i
	}, deco.Name("test.panicky"), deco.On(pool2), deco.Limit(2), deco.PanicAsError())

	goexit = deco.ConcurrentValue(func(i int) int {
		if i == 1 {
			runtime.Goexit()
		}
		return os.Getpid()
	}, deco.Name("test.goexit"), deco.On(pool2), deco.Limit(1))

	record = deco.Concurrent(func(j job) {
		if prev, ok := j.Times.Get(j.Offset); ok {
			// The caller's value, read in the worker, is written back
			// doubled.
			j.Times.Set(j.Offset, 2*prev)
			return
		}
		j.Times.Set(j.Offset, time.Duration(j.Offset))
		j.Times.Set(j.Offset, time.Duration(j.Offset)*time.Millisecond) // the last Set of a key wins
	}, deco.Name("test.record"), deco.On(pool2), deco.Limit(2))

	nested = deco.ConcurrentErr(func(m *deco.Map[string, []int]) error {
		s, _ := m.Get("a")
		s[0] = 99 // in place: cannot be carried back
		m.Set("b", []int{1})
		return nil
	}, deco.Name("test.nested"), deco.On(pool2), deco.Limit(1))

	nestedMaps = deco.Concurrent(func(*deco.Map[string, *deco.Map[int, int]]) {},
		deco.Name("test.nestedMaps"), deco.On(pool2), deco.Limit(1))

	pointerWrite = deco.Concurrent(func(out *struct{ Width int }) { out.Width = 640 },
		deco.Name("test.pointerWrite"), deco.On(pool2), deco.Limit(1))
)

func TestTaskErrorsComeBackAsTheirMessages(t *testing.T) {
	var pids pidSet
	use(t, pool2, &pids)
	for i := range 4 {
		failOdd.Go(i)
	}
	got, err := failOdd.Wait()
	if err == nil || strings.Count(err.Error(), "odd input") != 2 || !strings.Contains(err.Error(), "test.failOdd call #3: odd input") {
		t.Fatalf("err = %v, want calls #1 and #3 to fail with the task's message", err)
	}
	if got[2] != 20 {
		t.Fatalf("results %v", got)
	}
}

func TestTaskPanicsComeBackWithTheTasksStack(t *testing.T) {
	var pids pidSet
	use(t, pool2, &pids)
	for i := range 4 {
		panicky.Go(i)
	}
	_, err := panicky.Wait()
	var pe *deco.PanicError
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v, want a *deco.PanicError", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, "task panicked") || !strings.Contains(msg, "worker_test.go") {
		t.Fatalf("the panic's message does not carry its value and the task's stack: %s", msg)
	}
	var ce *deco.CallError
	if !errors.As(err, &ce) || ce.Index != 2 {
		t.Fatalf("err = %v, want call #2", err)
	}
}

func TestGoexitInATaskFailsItsCallOnly(t *testing.T) {
	var pids pidSet
	use(t, pool2, &pids)
	for i := range 3 {
		goexit.Go(i)
	}
	got, err := goexit.Wait()
	if err == nil || !strings.Contains(err.Error(), "call #1") || !strings.Contains(err.Error(), "Goexit") {
		t.Fatalf("err = %v, want call #1 to fail for runtime.Goexit", err)
	}
	if got[0] == 0 || got[0] != got[2] {
		t.Fatalf("results %v: the worker must go on serving after a Goexit", got)
	}
	pids.add(got[0])
}

func TestMapWritesInWorkersAreReplayedIntoTheCallersMap(t *testing.T) {
	var pids pidSet
	use(t, pool2, &pids)
	times := new(deco.Map[int, time.Duration])
	times.Set(100, 21) // read in a worker, doubled there
	for offset := range 20 {
		record.Go(job{Offset: offset, Times: times})
	}
	record.Go(job{Offset: 100, Times: times})
	if _, err := record.Wait(); err != nil {
		t.Fatal(err)
	}
	if times.Len() != 21 {
		t.Fatalf("the Map holds %d keys, want 21", times.Len())
	}
	for offset := range 20 {
		if v, _ := times.Get(offset); v != time.Duration(offset)*time.Millisecond {
			t.Fatalf("times[%d] = %v, want the call's last Set, %v", offset, v, time.Duration(offset)*time.Millisecond)
		}
	}
	if v, _ := times.Get(100); v != 42 {
		t.Fatalf("times[100] = %v, want 42: the worker reads the caller's value", v)
	}
	// Each of the 20 calls Set its key twice; the call on key 100
	// replaced the caller's value: as in-process, 21 overwrites.
	if n := times.Overwrites(); n != 21 {
		t.Fatalf("Overwrites() = %d, want 21", n)
	}
}

func TestConflictingMapWritesFollowTheInProcessRule(t *testing.T) {
	var pids pidSet
	use(t, pool2, &pids)
	times := new(deco.Map[int, time.Duration])
	// Two calls write key 7: one overwrite, and one of their values.
	record.Go(job{Offset: 7, Times: times})
	record.Go(job{Offset: 7, Times: times})
	if _, err := record.Wait(); err != nil {
		t.Fatal(err)
	}
	v, _ := times.Get(7)
	// Each call Set 7 twice; whichever was applied last, the second
	// call found 7 and... either doubled (it read the first call's write
	// when it started after it) or wrote 7ms.
	if v != 7*time.Millisecond && v != 14*time.Millisecond {
		t.Fatalf("times[7] = %v, want one call's value", v)
	}
	if times.Overwrites() < 2 {
		t.Fatalf("Overwrites() = %d: the conflict was not counted", times.Overwrites())
	}
}

func TestInPlaceChangesAreRefused(t *testing.T) {
	var pids pidSet
	use(t, pool2, &pids)
	m := new(deco.Map[string, []int])
	m.Set("a", []int{1, 2})
	nested.Go(m)
	_, err := nested.Wait()
	if !errors.Is(err, deco.ErrLostMutation) || !strings.Contains(err.Error(), `arg["a"][0]`) {
		t.Fatalf("err = %v, want ErrLostMutation naming arg[\"a\"][0]", err)
	}
	if s, _ := m.Get("a"); s[0] != 1 {
		t.Fatalf("the caller's slice changed: %v", s)
	}
	if s, ok := m.Get("b"); !ok || s[0] != 1 {
		t.Fatalf("the call's Set was not replayed: %v", s)
	}

	out := &struct{ Width int }{}
	pointerWrite.Go(out)
	_, err = pointerWrite.Wait()
	if !errors.Is(err, deco.ErrLostMutation) || !strings.Contains(err.Error(), "arg.Width") {
		t.Fatalf("err = %v, want ErrLostMutation naming arg.Width", err)
	}

	nestedMaps.Go(new(deco.Map[string, *deco.Map[int, int]]))
	_, err = nestedMaps.Wait()
	if err == nil || !strings.Contains(err.Error(), "cannot encode argument") || !strings.Contains(err.Error(), "nested") {
		t.Fatalf("err = %v, want nested Maps refused when the argument is encoded", err)
	}
}

// A worker that runs a function that has its own executor runs the call
// in itself: workers never start workers.
var (
	innerExec = process.New(1, process.Stderr(testLog))
	inner     = deco.ConcurrentValue(func(int) int { return os.Getpid() },
		deco.Name("test.inner"), deco.On(innerExec), deco.Limit(1))
	outer = deco.ConcurrentValue(func(int) [2]int {
		got, _ := inner.Go(0).Wait()
		inner.Wait()
		return [2]int{os.Getpid(), got}
	}, deco.Name("test.outer"), deco.On(pool2), deco.Limit(1))
)

func TestWorkersDoNotStartWorkers(t *testing.T) {
	var pids pidSet
	use(t, innerExec, &pids)
	use(t, pool2, &pids) // cleaned up first
	got, err := outer.Go(0).Wait()
	outer.Wait()
	if err != nil {
		t.Fatal(err)
	}
	pids.add(got[0])
	if got[0] != got[1] {
		t.Fatalf("the inner call ran in %d, not in the worker %d that made it", got[1], got[0])
	}
	if s := innerExec.Stats(); s.Started != 0 {
		t.Fatalf("the parent's inner executor started %d workers", s.Started)
	}
}
