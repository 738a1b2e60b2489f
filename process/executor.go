package process

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/deco-go/deco/backend"
)

// Executor runs calls of named deco functions in worker processes: the
// program's own binary, started again with a marker in its environment,
// which [Main] turns into a worker. It implements [backend.Executor]: give
// it to a function with [github.com/deco-go/deco.On], or set DECO_EXECUTOR=processes:N.
//
// Each worker runs one call at a time, and holds one more, sent ahead
// while it runs the other ([Pipeline]). Workers start when the first call
// needs them (or at [Executor.Start]), about 12 ms each, and stay until
// [Executor.Close] (or [IdleTimeout]): between batches they wait, so the
// next batch pays no start-up. A function on e without its own limit gets
// e.Workers() as its limit ([backend.Sized]): two calls per worker. A call
// goes to its lane's worker (lane mod n) when that one is idle, else to an
// idle worker, else ahead to a busy one (taken back for a worker that
// becomes idle before it starts); e tells deco which worker process
// ran it ([backend.Ran]), so that stats, progress and timelines show the
// workers, named host:pid.
//
// A call's cost is a round trip through two pipes plus the encoding of its
// argument and result: on this project's 2-core machines, 9.1–44 µs per
// no-op call one at a time on one worker (median 11.4 µs, 23 of 24 rounds
// under 22 µs), 10–24 µs per call on two, for every shape (int→int,
// struct→struct, no result), against 0.1–0.6 µs in this process, with 8–10
// allocations (~330 B) per no-op call in this process (24 rounds of
// go test -run '^$' -bench 'RoundTrip/int-1worker$' -benchtime 5000x
// ./process and 6 of -bench RoundTrip -benchtime 3000x, each under
// chrt -r 10 so that the machine's other jobs, load average 4.4–10, did
// not take its cores; in 16 of those rounds, alternated, the build before
// this one took 18.8–51 µs one at a time, median 26.1). Without chrt it
// varies with the machine: among other jobs 15–44 µs one at a time (28
// rounds), no different from the build before (20 alternated rounds:
// median 21.4 µs against 20.2, p=0.13); with the machine otherwise idle,
// 22–106 µs, as the build before (20–82 µs, 8 alternated rounds, p=0.96):
// there a side that sleeps takes tens to hundreds of µs to wake, and the
// spins of both sides back off (see spin.go). Before a read sleeps, the
// reader polls its pipe — a worker for up to 200 µs for its next call, the
// parent for up to 50 µs for the result of a call after a short one — so
// that an idle core need not wake for each message; on busy cores the poll
// gives way (see spin.go).
// The parent spends 19–39 µs of CPU per call of ~1 ms on 2 workers, with
// 1.05–1.14 context switches (14 rounds of go test -run '^$' -bench
// 'CPU/^process-2$' -benchtime 10x ./process, parent-ns/call and
// parent-switches/call, 2 cores, load average 3.4–4.6, 2026-12-02): a
// thread of the parent wakes for each result, and makes about five
// system calls for it: per call 2.00 reads (the result, and the try
// before the wait in the poller for the next one), 1.89 epoll waits, a
// write (the next call) and 0.14 futex calls, with 1.06 context switches
// (perf record -e raw_syscalls:sys_enter -e sched:sched_switch on the
// parent for 3 s of -benchtime 30x, load average 5.0–5.2). In the kernel
// was two thirds of that time by getrusage in one measurement, a third in
// another by perf's samples and by /proc's count of ticks (5 of 15 over
// 5 s of -benchtime 40x, load average 4.6). Of
// perf's samples of the parent (582 at 4999 Hz over 4 s of -benchtime
// 40x, load average 3.3), a third were the runtime parking the goroutine,
// its thread waiting in epoll and coming back, a third Execute (half of
// that its reads and its write), a tenth decoding the result, and the
// rest deco encoding the argument and finishing the call. The thread
// that wakes runs the goroutine of the call, which reads the call's own
// results pipe: no goroutine hands a result to another. Results that
// arrive together cost no less: the Go runtime wakes a thread for a
// goroutine made runnable while one of the parent's processors idles.
// For the speed-up of CPU-bound calls over this process, what that time
// costs it, and what would cut it, see [Pipeline]. Use workers for
// isolation, not speed.
//
// If a worker dies while it runs a call, that call fails with a
// *[WorkerError] naming the function, the call, the worker's process and
// how it ended, a replacement starts, and the other calls go on;
// [Retries] retries such calls, [Timeout] bounds them.
//
// An Executor is safe for concurrent use, by any number of functions.
type Executor struct {
	n      int
	cfg    config
	local  bool // this process is a worker: calls run here
	exe    string
	exeErr error
	stdout *lockedWriter
	stderr *lockedWriter

	mu       sync.Mutex
	slots    []slot
	changed  chan struct{} // closed and replaced when a slot changes
	closing  int           // Close calls running
	waiters  int           // calls waiting in acquire for a slot to change
	wantIdle int           // of them, calls that need an idle worker

	spawner spawner
	wg      sync.WaitGroup // the children's readers and the idle timers
	stats   counters

	fpOnce sync.Once
	fp     string // the fingerprint of this program's functions
}

// fingerprint is this program's, which its workers must have too
// (backend.Fingerprint), worked out at the first start, when every
// package-level function is decorated.
func (e *Executor) fingerprint() string {
	e.fpOnce.Do(func() { e.fp = backend.Fingerprint() })
	return e.fp
}

// counters are the executor's statistics.
type counters struct {
	started, crashes, timeouts, retries, staticSends, ahead, givenBack atomic.Int64
}

// New returns an executor of workers worker processes. It starts none:
// the first call that needs a worker starts it, or [Executor.Start] does.
// So New is cheap and may initialise a package-level variable, which
// functions decorated at package level can use with [github.com/deco-go/deco.On]:
//
//	var cpu = process.New(4)
//	var resize = deco.ConcurrentValue(resizeImage, deco.Name("resize"), deco.On(cpu), deco.Limit(cpu.Workers()))
//
// New panics if workers is less than 1 or an option is invalid, naming
// it. In a worker process, New returns an executor that runs its calls in
// that process, so a worker never starts workers of its own.
func New(workers int, opts ...Option) *Executor {
	if workers < 1 {
		panic(fmt.Sprintf("process: New(%d): the number of workers must be at least 1", workers))
	}
	cfg, err := newConfig(opts)
	if err != nil {
		panic(err.Error())
	}
	e := &Executor{
		n: workers, cfg: cfg, local: backend.InWorker(),
		stdout:  &lockedWriter{w: cfg.stdout},
		stderr:  &lockedWriter{w: cfg.stderr},
		slots:   make([]slot, workers),
		changed: make(chan struct{}),
	}
	e.exe, e.exeErr = os.Executable()
	if err := supported(); err != nil {
		e.exeErr = err
	}
	return e
}

// Workers reports how many calls e takes at once: k per worker process
// ([Pipeline], 2 by default), n·k for New(n). It is the default limit of
// the functions that run on e ([backend.Sized]), and the limit to give
// them with [github.com/deco-go/deco.Limit] so that every worker is busy
// and has a call sent ahead. [Stats] reports the number
// of worker processes.
func (e *Executor) Workers() int { return e.n * e.cfg.window }

// Stats is what [Executor.Stats] reports. Counts are since New.
type Stats struct {
	Workers     int   // the number of worker processes, n in New(n)
	Running     int   // worker processes alive now
	Started     int64 // worker processes started, replacements included
	Crashes     int64 // calls whose worker died while running them
	Timeouts    int64 // calls killed by Timeout
	Retries     int64 // calls made again after a crash (Retries)
	StaticSends int64 // Static values sent to workers: at most one per Static per worker process
	Ahead       int64 // calls sent to a worker while it ran another (Pipeline)
	GivenBack   int64 // calls sent ahead that their worker gave back unstarted, for an idle worker (Pipeline)
}

// Stats returns a snapshot of e's statistics.
func (e *Executor) Stats() Stats {
	s := Stats{
		Workers:     e.n,
		Started:     e.stats.started.Load(),
		Crashes:     e.stats.crashes.Load(),
		Timeouts:    e.stats.timeouts.Load(),
		Retries:     e.stats.retries.Load(),
		StaticSends: e.stats.staticSends.Load(),
		Ahead:       e.stats.ahead.Load(),
		GivenBack:   e.stats.givenBack.Load(),
	}
	e.mu.Lock()
	for i := range e.slots {
		if e.slots[i].child != nil {
			s.Running++
		}
	}
	e.mu.Unlock()
	return s
}

// PIDs returns the process IDs of the workers, by worker number, with 0
// for a worker that is not running.
func (e *Executor) PIDs() []int {
	e.mu.Lock()
	defer e.mu.Unlock()
	pids := make([]int, e.n)
	for i := range e.slots {
		if c := e.slots[i].child; c != nil {
			pids[i] = c.pid
		}
	}
	return pids
}

// Start starts every worker that is not running and waits until all serve
// calls, so that the first calls do not pay the start-up. It returns an
// error joining a *[StartError] per worker that could not start. Calls do
// not need it: they start the workers they need.
func (e *Executor) Start() error {
	if e.local {
		return nil
	}
	var errs []error
	var wait []*child
	e.mu.Lock()
	for e.closing > 0 {
		e.waitChange()
	}
	for i := range e.slots {
		s := &e.slots[i]
		if s.state != stopped {
			if s.state == starting && s.child != nil {
				wait = append(wait, s.child)
			}
			continue
		}
		if s.broken != nil {
			errs = append(errs, s.broken)
			continue
		}
		c, err := e.startLocked(i)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		wait = append(wait, c)
	}
	e.mu.Unlock()
	for _, c := range wait {
		<-c.ready
		if err := c.notServing(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Close stops every worker and waits until each has exited and every
// goroutine e started has returned. Idle workers exit at once; a worker
// running a call is killed, and the call fails with a *[WorkerError]
// matching [ErrClosed]. Calls that arrive while Close runs wait for it.
//
// Close does not make e unusable: the next call starts workers again, as
// the first one did. So a package-level Executor can be closed after each
// batch or test, to leave no process behind. Close always returns nil.
//
// Workers also exit when the program does, however it ends: they read the
// end of their pipe, and on Linux the kernel kills them when the parent
// dies (SIGKILL included).
func (e *Executor) Close() error {
	if e.local {
		return nil
	}
	e.mu.Lock()
	e.closing++
	var wait []*child
	for {
		wait = wait[:0]
		spawning := false
		for i := range e.slots {
			s := &e.slots[i]
			s.broken = nil
			e.stopTimer(s)
			switch s.state {
			case idle:
				s.state = exiting
				s.child.stop("closed")
			case busy, starting:
				if s.child == nil {
					spawning = true
					continue
				}
				s.state = exiting
				s.child.kill("closed")
			}
			if s.child != nil {
				wait = append(wait, s.child)
			}
		}
		if !spawning {
			break
		}
		e.waitChange()
	}
	e.mu.Unlock()
	for _, c := range wait {
		<-c.dead
	}
	e.wg.Wait()
	e.spawner.wait()
	e.mu.Lock()
	e.closing--
	e.notify()
	e.mu.Unlock()
	return nil
}

// Execute runs the call of the function called name with the encoded
// argument arg on a worker, and returns the call's encoded outcome; deco
// calls it (see [backend.Executor]). It blocks until a worker is free — the
// worker of the call's lane when it is — starting it if needed, and then
// until the call has run.
//
// When ctx is done while the call waits for a worker, Execute returns
// ctx's cause; while it runs, the worker's task sees its context
// cancelled, and Execute waits for the call to end, as deco does for a
// call in this process. The error is a *[WorkerError] when the worker died
// or was killed, a *[StartError] when it could not start, and the
// worker's message when the call could not run there (no such function).
func (e *Executor) Execute(ctx context.Context, name string, arg []byte) ([]byte, error) {
	if e.local {
		return backend.Invoke(ctx, name, arg)
	}
	info, ok := backend.CallOf(ctx)
	if !ok {
		info = backend.CallInfo{Func: name, Index: -1, Lane: -1}
	}
	for attempt := 1; ; attempt++ {
		out, err := e.try(ctx, name, arg, info)
		if err == nil {
			return out, nil
		}
		var we *WorkerError
		if !errors.As(err, &we) {
			return out, err
		}
		we.Attempts = attempt
		if we.TimedOut || we.Closed || attempt > e.cfg.retries {
			return nil, err
		}
		e.stats.retries.Add(1)
	}
}

// try makes one attempt at a call. A call that never ran (its worker was
// dead already, or died while the call waited behind another) goes to
// another worker: that is no attempt.
func (e *Executor) try(ctx context.Context, name string, arg []byte, info backend.CallInfo) ([]byte, error) {
	// Only a small call is sent ahead to a busy worker: it fits in the
	// pipe, so sending it never blocks.
	ahead := e.cfg.window > 1 && len(name)+len(arg) <= aheadMax
	for {
		c, err := e.acquire(ctx, info.Lane, ahead)
		if err != nil {
			return nil, err
		}
		select {
		case <-c.dead:
			// It died while idle: not this call's business.
			e.release(c)
			continue
		default:
		}
		f := &frame{Kind: kindCall, Name: name, Data: arg, Timeout: e.cfg.timeout}
		if d, ok := ctx.Deadline(); ok {
			f.Deadline = d.UnixNano()
		}
		p, err := c.post(f)
		if err != nil {
			e.release(c)
			if err == errNotRun {
				continue
			}
			return nil, err
		}
		stopCancel := func() bool { return false }
		if ctx.Done() != nil { // a context that is never done needs no watch
			stopCancel = context.AfterFunc(ctx, func() {
				cause := uint8(causeCanceled)
				if errors.Is(ctx.Err(), context.DeadlineExceeded) {
					cause = causeDeadline
				}
				c.cancels.send(&frame{Kind: kindCancel, ID: p.id, CancelCause: cause})
			})
		}
		r, err := c.await(p)
		stopCancel()
		if err == nil && r.GivenBack {
			// Revoked, unstarted, for a worker that became idle: it goes
			// there, or to whichever worker is free first — unless its
			// context is done meanwhile: then it did not run, as if it
			// had waited for a worker.
			e.release(c)
			e.stats.givenBack.Add(1)
			if cause := context.Cause(ctx); cause != nil {
				return nil, cause
			}
			continue
		}
		if err == nil && r.TimedOut {
			// The worker reported the timeout and exits: its slot is
			// replaced, not made idle.
			c.kill("timeout")
			<-c.dead
			err = errDied
		}
		e.release(c)
		if err == errDied || (err == nil && !r.NotRun) {
			// Where the call ran, and when, on the worker's clock: deco
			// shows each worker process as one lane of a timeline and
			// in Stats.Workers. (A retry on another worker replaces it.)
			run := backend.Run{Worker: c.name}
			if err == nil && r.Start != 0 && r.End != 0 {
				run.Start, run.End = time.Unix(0, r.Start), time.Unix(0, r.End)
			}
			backend.Ran(ctx, run)
		}
		switch {
		case err == errNotRun:
			continue
		case err == errDied:
			return nil, e.workerError(c, info, name)
		case err != nil:
			return nil, err
		case r.NotRun:
			// Cancelled while it waited behind another call on its
			// worker: it did not run, as if it had waited for a worker.
			if cause := context.Cause(ctx); cause != nil {
				return nil, cause
			}
			return nil, fmt.Errorf("process: %s call #%d was cancelled before it started, and did not run", name, info.Index)
		case r.Err != "":
			return nil, errors.New(r.Err)
		}
		return r.Data, nil
	}
}

// aheadMax bounds the name and argument of a call sent ahead (Pipeline):
// the calls waiting in a worker's pipe fit in it (16 KiB on macOS, 64 KiB
// on Linux), so that sending one never blocks.
const aheadMax = 4 << 10

// timeoutGrace is how much longer than its timeout the parent lets a
// call run before it kills the worker itself: the worker reports its own
// timeouts, on time, unless it cannot run at all.
func timeoutGrace(d time.Duration) time.Duration {
	return max(d, 100*time.Millisecond)
}

// workerError describes how c ended while it ran a call.
func (e *Executor) workerError(c *child, info backend.CallInfo, name string) *WorkerError {
	reason, status := c.why()
	tail, cause := c.stderr.last()
	we := &WorkerError{
		Func: name, Call: info.Index, Worker: c.num, PID: c.pid,
		Status: status, Cause: cause, Stderr: tail,
	}
	switch reason {
	case "timeout":
		we.TimedOut, we.Timeout = true, e.cfg.timeout
		e.stats.timeouts.Add(1)
	case "closed":
		we.Closed = true
	case "protocol":
		we.Protocol = c.protocolError()
		e.stats.crashes.Add(1)
	default:
		e.stats.crashes.Add(1)
	}
	return we
}
