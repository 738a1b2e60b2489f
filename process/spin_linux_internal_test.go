//go:build linux

package process

import (
	"os"
	"runtime"
	"runtime/metrics"
	"sync/atomic"
	"testing"
	"time"
)

// pipeFd returns a pipe and its read end's descriptor.
func pipeFd(t *testing.T) (r, w *os.File, fd int) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); w.Close() })
	rc, err := r.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	rc.Control(func(d uintptr) { fd = int(d) })
	return r, w, fd
}

func TestSpinWaitSeesDataAndTheEndOfAPipe(t *testing.T) {
	_, w, fd := pipeFd(t)
	if spinWait(fd, time.Microsecond) {
		t.Fatal("spinWait found data in an empty pipe")
	}
	if spinWait(fd, 0) || spinWait(-1, time.Second) {
		t.Fatal("spinWait spun without a budget or a descriptor")
	}
	if _, err := w.Write([]byte{1}); err != nil {
		t.Fatal(err)
	}
	if !spinWait(fd, time.Hour) {
		t.Fatal("spinWait missed the data in the pipe")
	}
	_, w2, fd2 := pipeFd(t)
	w2.Close()
	if !spinWait(fd2, time.Hour) {
		t.Fatal("spinWait missed the end of the pipe: the read that follows must see it")
	}
}

func TestASpinnerSkipsTwiceAsManySpinsAfterEachSpinInVain(t *testing.T) {
	defer func(d time.Duration) { spinMax = d }(spinMax)
	spinMax = time.Microsecond
	_, w, fd := pipeFd(t)
	var s spinner
	// Spins in vain: after the k-th, it skips 1, 2, 4, … waits, up to
	// spinSkipMax.
	for want := int32(1); want <= 2*spinSkipMax; want *= 2 {
		s.before(fd)
		if got, bound := s.skip.Load(), min(want, spinSkipMax); got != bound {
			t.Fatalf("after a spin in vain it skips %d waits, want %d", got, bound)
		}
		for range s.skip.Load() {
			s.before(fd) // skipped: no spin, and one fewer to skip
		}
		if s.skip.Load() != 0 {
			t.Fatalf("%d waits left to skip after skipping them all", s.skip.Load())
		}
	}
	// A spin that finds the data starts it afresh: the next spin in
	// vain skips one wait.
	if _, err := w.Write([]byte{1}); err != nil {
		t.Fatal(err)
	}
	s.before(fd)
	if s.skip.Load() != 0 || s.backoff.Load() != 0 {
		t.Fatalf("after a spin that found data: skip %d, backoff %d; want 0, 0", s.skip.Load(), s.backoff.Load())
	}
}

// A spinner with a budget of its own spins that long, not spinMax: data
// that comes after spinMax and within the budget is found by the spin, and
// the spinner does not back off.
func TestASpinnerSpinsForItsOwnBudget(t *testing.T) {
	defer func(m, y time.Duration) { spinMax, spinYield = m, y }(spinMax, spinYield)
	spinMax = time.Millisecond
	spinYield = time.Hour // no yield ends these spins, however busy the cores
	spinAfter := func(s *spinner) {
		t.Helper()
		_, w, fd := pipeFd(t)
		written := make(chan error, 1)
		go func() {
			time.Sleep(20 * spinMax)
			_, err := w.Write([]byte{1})
			written <- err
		}()
		s.before(fd)
		if err := <-written; err != nil {
			t.Fatal(err)
		}
	}
	var plain spinner
	spinAfter(&plain)
	if plain.backoff.Load() != 1 {
		t.Fatalf("a spinner without a budget of its own: backoff %d after data that came 20 spinMax late, want 1 (its spin in vain)", plain.backoff.Load())
	}
	long := spinner{budget: time.Minute}
	spinAfter(&long)
	if long.backoff.Load() != 0 || long.skip.Load() != 0 {
		t.Fatalf("a spinner with a budget of a minute: backoff %d, skip %d after data that came 20 spinMax late, want 0, 0 (found by its spin)", long.backoff.Load(), long.skip.Load())
	}
}

// A worker polls for its next call longer than the parent polls for a
// result, by more than a thread's wake-up on an idle core (see
// workerSpinMax): else a parent that slept made the worker's spin end in
// vain, and the two backed off in turn.
func TestAWorkerSpinsLongerThanTheParent(t *testing.T) {
	var parent spinner
	if parent.budget != 0 {
		t.Fatalf("the parent's spinner has a budget of %v, want spinMax's", parent.budget)
	}
	c := newConn(nil, nil, nil, nil) // serve's
	if c.spin.budget < spinMax+100*time.Microsecond {
		t.Fatalf("a worker spins for %v, the parent %v: want the worker's spin longer by 100 µs or more", c.spin.budget, spinMax)
	}
}

// scheduled counts the times goroutines went through the scheduler from
// runnable to running, as the runtime samples them.
func scheduled() uint64 {
	m := []metrics.Sample{{Name: "/sched/latencies:seconds"}}
	metrics.Read(m)
	var n uint64
	for _, c := range m[0].Value.Float64Histogram().Counts {
		n += c
	}
	return n
}

// With more than one processor, spinWait yields its thread, not its
// processor: runtime.Gosched, with a processor idle, would wake its
// thread at each poll (see spinWait). Each Gosched goes through the
// scheduler, which samples it.
func TestSpinWaitKeepsItsProcessor(t *testing.T) {
	defer func(y time.Duration) { spinYield = y }(spinYield)
	spinYield = time.Hour
	if runtime.GOMAXPROCS(0) < 2 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	}
	_, _, fd := pipeFd(t)
	before := scheduled()
	spinWait(fd, 10*time.Millisecond) // nothing comes: it spins it all
	// Other goroutines (the test runner's) may be scheduled meanwhile: a
	// few times, not once per poll.
	if n := scheduled() - before; n > 50 {
		t.Fatalf("goroutines went through the scheduler %d times (sampled) during a spin of 10 ms: does the spinner yield its processor at each poll?", n)
	}
}

// With one processor, spinWait yields it to the goroutines that wait for
// it: a goroutine readied before the spin runs during it.
func TestSpinWaitYieldsItsOnlyProcessor(t *testing.T) {
	defer func(y time.Duration) { spinYield = y }(spinYield)
	spinYield = time.Hour
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	_, _, fd := pipeFd(t)
	var ran atomic.Bool
	done := make(chan struct{})
	// A fresh time slice, so that the runtime does not preempt the
	// spinner (after 10 ms of one) during its spin: only the spinner
	// lets the goroutine run.
	runtime.Gosched()
	go func() {
		ran.Store(true)
		close(done)
	}()
	spinWait(fd, 2*time.Millisecond) // nothing comes
	if !ran.Load() {
		t.Fatal("a goroutine waiting for the only processor did not run during a spin of 2 ms")
	}
	<-done
}
