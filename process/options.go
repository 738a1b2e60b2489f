package process

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"time"
)

// An Option configures an [Executor]. Options are checked by [New], which
// panics with a message naming an invalid one, as deco's options do: it is
// a bug in the program, not a condition to handle at run time.
type Option func(*config) error

type config struct {
	retries int
	timeout time.Duration
	idle    time.Duration
	stdout  io.Writer
	stderr  io.Writer
	prefix  string

	maxMessage int
	window     int
}

func newConfig(opts []Option) (config, error) {
	c := config{prefix: "[deco worker %d] ", maxMessage: defaultMaxMessage, window: defaultWindow}
	var errs []error
	for _, o := range opts {
		if o == nil {
			errs = append(errs, errors.New("process: nil Option"))
			continue
		}
		if err := o(&c); err != nil {
			errs = append(errs, err)
		}
	}
	// The program's streams are read here, by the goroutine that calls
	// New, not later by the goroutines that copy the workers' output:
	// tests and examples swap os.Stdout.
	if c.stdout == nil {
		c.stdout = os.Stdout
	}
	if c.stderr == nil {
		c.stderr = os.Stderr
	}
	return c, errors.Join(errs...)
}

// Retries retries a call up to n more times, each time on a new worker,
// when the worker running it dies (a panic that escapes the task, os.Exit,
// a fatal runtime error, a signal). Use it for idempotent functions only:
// the task may have done part of its work before the worker died. Calls
// that fail otherwise, or that ran past [Timeout], are not retried. The
// default is 0: a call whose worker dies fails with a *[WorkerError].
func Retries(n int) Option {
	return func(c *config) error {
		if n < 0 {
			return fmt.Errorf("process: Retries(%d): the number of retries must not be negative", n)
		}
		c.retries = n
		return nil
	}
}

// Timeout bounds how long a call may run on its worker, from when the
// worker starts it (waiting for a free worker does not count). The
// worker times each call itself: a call that runs past the timeout — that
// call and no other — fails with a *[WorkerError] whose TimedOut is set,
// which [errors.Is] matches with [context.DeadlineExceeded], and its
// worker exits (the only way to stop the task); a replacement starts. A
// worker that cannot report it (a stopped process) is killed by the
// parent once the call has run for the timeout plus as much again (at
// least 100 ms more). Calls that waited are never blamed. Without it a
// call may run for ever. Cost: a timer per call, in the worker and in the
// parent.
func Timeout(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("process: Timeout(%v): the timeout must be positive", d)
		}
		c.timeout = d
		return nil
	}
}

// IdleTimeout makes a worker that has had no call for d exit; the next
// call that needs it starts it again, paying the start-up (about 12 ms).
// Without it workers live until [Executor.Close]. The executor that
// DECO_EXECUTOR=processes makes uses IdleTimeout(1 * time.Second), since
// nothing closes it: its workers go away soon after the program's last
// wait.
func IdleTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("process: IdleTimeout(%v): the idle timeout must be positive", d)
		}
		c.idle = d
		return nil
	}
}

// Stdout sends what workers write to their standard output to w, as it
// comes, unchanged; the default is os.Stdout as it is when [New] is
// called. Writes to w are serialised; an error writing to w is ignored
// (the worker does not see it).
func Stdout(w io.Writer) Option {
	return func(c *config) error {
		if w == nil {
			return errors.New("process: Stdout(nil): the writer must not be nil")
		}
		c.stdout = w
		return nil
	}
}

// Stderr sends what workers write to their standard error to w, line by
// line, each line after the prefix [StderrPrefix] sets; the default is
// os.Stderr as it is when [New] is called. Writes to w are serialised,
// one line at a time, so lines of different workers do not mix; an error
// writing to w is ignored.
func Stderr(w io.Writer) Option {
	return func(c *config) error {
		if w == nil {
			return errors.New("process: Stderr(nil): the writer must not be nil")
		}
		c.stderr = w
		return nil
	}
}

// StderrPrefix sets the prefix of the lines of a worker's standard error,
// a fmt format of the worker's number, 0 to n-1: the default is
// "[deco worker %d] ". The format must use the number once, with a %d
// verb.
func StderrPrefix(format string) Option {
	return func(c *config) error {
		if strings.Count(format, "%d") != 1 || strings.Contains(fmt.Sprintf(format, 0), "%!") {
			return fmt.Errorf("process: StderrPrefix(%q): the format must hold one %%d verb, for the worker's number", format)
		}
		c.prefix = format
		return nil
	}
}

// mostMessage is the largest MaxMessage: a frame's length is 4 bytes, and
// an int holds less on 32-bit platforms.
const mostMessage = min(math.MaxInt, 1<<32-1)

// MaxMessage bounds the size of one message between the parent and a
// worker, in bytes: an encoded argument, result or
// [github.com/deco-go/deco.Static] value. A call whose argument is larger,
// or that reads a larger Static, fails with an error saying so; a worker
// that sends a larger message, or one that does not parse, is killed for
// breaking the protocol and its call fails with a *[WorkerError] whose
// Protocol says why — never a hang. The default is 512 MiB; the most is
// 4 GiB - 1 (2 GiB - 1 on 32-bit platforms).
func MaxMessage(n int) Option {
	return func(c *config) error {
		if n < 1<<10 || n > mostMessage {
			return fmt.Errorf("process: MaxMessage(%d): the bound must be between 1 KiB (1024) and %d bytes", n, mostMessage)
		}
		c.maxMessage = n
		return nil
	}
}

// defaultWindow is the default of Pipeline, maxWindow its most.
const (
	defaultWindow = 2
	maxWindow     = 4
)

// Pipeline lets each worker hold up to k calls: the one it runs and k-1
// sent ahead, waiting in its pipe, so that it starts the next call as
// soon as it sends a result, while the parent reads that result and
// hands it over: the round trip through the parent is off the worker's
// path. The default is 2; the most is 4; Pipeline(1) sends a call to a
// worker only once it is idle.
//
// A call sent ahead waits behind the one its worker runs. So when a
// worker becomes idle and no call waits for one, the executor revokes the
// newest call sent ahead to the busy worker that holds the most: that
// worker gives it back if it has not started it, and the call goes to the
// idle worker (Stats.GivenBack counts them); if it has started it, it
// runs there. Either way the call runs once, and a long call does not
// hold up a call sent ahead behind it while another worker idles.
//
// The executor then takes k calls per worker at once: [Executor.Workers]
// reports n·k, the default limit of the functions on it, and their pools
// get n·k slots. A worker still runs one call at a time, in the order the
// calls reached it, and timelines and Stats.Workers show it as one lane
// drawn with its calls' run times ([github.com/deco-go/deco/backend.Ran]);
// the function's own Stats (MaxParallel) count the calls its pool had in
// flight, up to n·k. Only calls whose name and argument take at most 4 KiB
// are sent ahead; a larger one waits for an idle worker, and meanwhile no
// call is sent ahead. A call sent ahead whose context is done before it
// starts does not run: it returns the context's cause, as a call waiting
// for a worker does. A call sent ahead to a worker that dies (or is
// killed by [Timeout] or [Executor.Close]) before it starts it did not
// run either: it goes to another worker (a replacement, if need be; after
// Close, a new one), without counting as an attempt ([Retries]), and is
// never blamed for the death.
//
// The cost: k results pipes per worker; for each call sent ahead, a
// goroutine of the parent waiting for its result; and a revoke and its
// answer, a message each way, for each call taken back: about one per
// five batches of 200 calls of ~1 ms on 2 workers, at a batch's end
// (given-back/call of go test -run '^$' -bench CPU/process-2$
// -benchtime 10x ./process: 0.001–0.004, 6 rounds).
//
// On this project's 2-core machines 200 calls of ~1 ms of CPU on 2
// workers reached 1.83–1.90x with Pipeline(2) and 1.81–1.87x with
// Pipeline(1), against 1.94–2.00x in this process, before calls sent
// ahead could be taken back and readers polled before sleeping (go test
// -run '^$' -bench CPU/speedups -benchtime 5x ./process: the 8 of 14
// rounds at load average 2.1–5.7 where the in-process speed-up of the
// same iteration was 1.94x or more). Since, other jobs have kept the
// cores too busy to tell (load average 6–14, the in-process speed-up
// itself 0.8–1.5x): among them the in-process batch ran slower than the
// batch on workers, and process-vs-inprocess read 1.19–2.00 (median 1.55;
// x-inprocess 0.91–1.35, x-process 1.18–2.34) in 16 rounds at load
// average 5.9–9.8 (2026-12-02).
//
// What a batch on workers loses to the same batch in this process is the
// time between a worker's calls, which BenchmarkCPU reports
// (worker-gap-ns/call of process-2; slot-gap-ns/call of inprocess-2, the
// time between the calls of each slot of the in-process pool): 98–100%
// of the time the workers did not run a call (worker-idle-ns/call), a
// batch's first calls and its tail the rest. The parent's handling of
// each result (see [Executor]) needs a core, which on 2 cores busy with
// the workers' calls is a worker's; and each such wake-up is a point
// where the kernel may run another job's thread before the worker's,
// while a thread of this process would have kept its core. Among other
// jobs the gaps were 156–478 µs per call on the workers, against 7–23 µs
// in this process (8 rounds each of go test -run '^$' -bench
// 'CPU/(^process-2$|inprocess-2)' -benchtime 10x ./process, 2 cores,
// load average 3.8–4.6, 2026-12-02). How far the machine alone moves
// process-vs-inprocess shows in inprocess-vs-inprocess of the same
// iterations (BenchmarkCPU/speedups): 0.68–1.43 in 12 rounds at load
// average 1.8–5.4 (-benchtime 5x, 2026-12-02).
//
// What would cut the parent's share shows in BenchmarkWakeCost, which
// runs the protocol's bare bones without deco (a 16-byte call and an
// 8-byte result per call of ~1 ms, over pipes read through the poller) on
// 2 workers in four designs of the parent. Against this executor's (a
// goroutine per call in flight, each reading its own results pipe), a
// callback run by one goroutine per worker, which takes each result and
// sends the next call itself — what the executor could do if deco let it
// finish a call without the call's goroutine waiting in Execute — cost
// the parent the same: 0.78–1.84 of its CPU per call (median 1.00) and
// 0.96–1.10 of its context switches (median 1.00), since the thread's
// wake-up per result is the cost, not a hand-over between goroutines. Only
// that callback with results coming two at a time (3 calls in flight per
// worker, the worker holding a result while two calls wait behind it and
// sending it with the next) cut them: 0.44–1.02 of the CPU (median 0.61;
// 9.7–16.2 µs per call against 11.3–27.9) and 0.49–0.60 of the switches
// (median 0.53). Results two at a time read by a goroutine per call cut
// the CPU less (median 0.82) and the switches not at all (median 1.00):
// the runtime wakes a thread for the second goroutine. Each figure is the
// ratio to the executor's design in the same round (16 rounds of go test
// -run '^$' -bench WakeCost -benchtime 3x ./process, 2 cores, load average
// 3.7–6.4, 2026-12-02); the batches' speed-ups could not be told apart at
// that load. With 8 µs of the parent's CPU added per result, for deco's
// own (-wakecost.work 8us, 8 rounds, load average 3.3–5.7), the callback
// took 0.64–1.32 of the CPU (median 0.87) and 0.94–1.06 of the switches,
// the callback with results two at a time 0.56–0.90 (median 0.68) and
// 0.51–0.61. So with the interface deco has, in which each call's
// goroutine waits in Execute, one wake-up of the parent per result is the
// floor; fewer need deco to finish calls by callback, and results sent
// two at a time, which delays a result by up to the next call's run time.
func Pipeline(k int) Option {
	return func(c *config) error {
		if k < 1 || k > maxWindow {
			return fmt.Errorf("process: Pipeline(%d): the window must be between 1 and 4 calls per worker", k)
		}
		c.window = k
		return nil
	}
}
