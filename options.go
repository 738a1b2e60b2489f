package deco

import (
	"errors"
	"fmt"

	"github.com/deco-go/deco/backend"
)

// An Option configures a decorated function ([Concurrent] and its siblings)
// or a [Synchronized] scope. Options are checked when they are applied: an
// invalid value makes the decoration panic with a message naming the option,
// the way [net/http.HandleFunc] refuses a bad pattern, because it is a bug in
// the program rather than a condition to handle at run time. [Synchronized]
// returns such problems as an error instead.
type Option func(*config) error

// config is what the options set. forScope tells an option it is applied to
// a Synchronized scope, where only some options make sense.
type config struct {
	forScope bool

	name       string
	limit      int // 0: runtime.GOMAXPROCS(0)
	pool       *Pool
	queue      int // -1: unbounded
	failFast   bool
	panicError bool
	executor   backend.Executor
	progress   func(Progress)
	recorder   *Recorder
	statsTo    *Stats
}

func newConfig(forScope bool, opts []Option) (config, error) {
	c := config{forScope: forScope, queue: -1}
	return c, c.apply(opts)
}

// apply applies opts to c, all of them, and joins their errors: the one
// option loop, for decorating, With and Synchronized.
func (c *config) apply(opts []Option) error {
	var errs []error
	for _, o := range opts {
		if o == nil {
			errs = append(errs, errors.New("deco: nil Option"))
			continue
		}
		if err := o(c); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func funcOnly(c *config, name string) error {
	if c.forScope {
		return fmt.Errorf("deco: %s is an option of decorated functions, not of Synchronized", name)
	}
	return nil
}

// Name gives the function a stable, unique name. Names appear in errors,
// stats and timelines, and they are how worker processes and remote
// executors find the function: only named functions can run there. Naming
// two functions alike is refused at decoration time, never silently
// overwritten; decorating again at the same place in the source (in a
// function that runs twice) is not a second function and takes the name
// again. A name must be non-empty.
func Name(name string) Option {
	return func(c *config) error {
		if err := funcOnly(c, "Name"); err != nil {
			return err
		}
		if name == "" {
			return errors.New(`deco: Name(""): a name must not be empty`)
		}
		c.name = name
		return nil
	}
}

// Limit sets how many calls of the function run at once, like deco's
// processes=N throttle. The default is runtime.GOMAXPROCS(0), one call per
// core. n must be at least 1. Limit and [Shared] exclude each other.
func Limit(n int) Option {
	return func(c *config) error {
		if err := funcOnly(c, "Limit"); err != nil {
			return err
		}
		if n < 1 {
			return fmt.Errorf("deco: Limit(%d): the limit must be at least 1", n)
		}
		if c.pool != nil {
			return fmt.Errorf("deco: Limit(%d) and Shared exclude each other: the shared pool sets the limit", n)
		}
		c.limit = n
		return nil
	}
}

// Shared makes the function run its calls in p, so that every function
// sharing p shares p's limit. Without it each function has a pool of its own.
func Shared(p *Pool) Option {
	return func(c *config) error {
		if err := funcOnly(c, "Shared"); err != nil {
			return err
		}
		if p == nil {
			return errors.New("deco: Shared(nil): the pool must not be nil")
		}
		if c.limit != 0 {
			return fmt.Errorf("deco: Shared and Limit(%d) exclude each other: the shared pool sets the limit", c.limit)
		}
		c.pool = p
		return nil
	}
}

// Queue bounds how many calls may wait for a free slot. When n calls wait, a
// new call blocks the caller until one starts or the call's context is done,
// in which case the call fails with the context's error and never runs. A
// call made from inside a running call of the same pool, with or without
// its context, never blocks: it runs in the caller's slot instead, so a
// full queue cannot deadlock nested work. n = 0 means a caller blocks until
// a slot is free (errgroup's SetLimit); any n up to math.MaxInt works. The
// default is an unbounded queue: calls return at once, as in deco.
func Queue(n int) Option {
	return func(c *config) error {
		if err := funcOnly(c, "Queue"); err != nil {
			return err
		}
		if n < 0 {
			return fmt.Errorf("deco: Queue(%d): the queue length must not be negative", n)
		}
		c.queue = n
		return nil
	}
}

// FailFast stops a batch or a scope at its first failure: calls that have
// not started yet never start (they fail with [ErrCancelled]), and the
// contexts of the calls still running are cancelled with the failure as
// their cause, as errgroup.WithContext does — in a batch, those of calls
// started with [Func.Go] and with [Func.GoContext] alike (the latter
// merges its own context with the batch's while it runs, one allocation);
// in a scope, those of calls started with the scope's context. Since calls
// start in call order, the calls behind the failed one in the queue never
// start: when call k fails promptly, no call after k + the limit starts.
// Without it every call runs and every error is collected.
func FailFast() Option {
	return func(c *config) error {
		c.failFast = true
		return nil
	}
}

// PanicAsError turns a task's panic into an error: the call fails with a
// [CallError] wrapping a *[PanicError] that carries the panic value and the
// task's stack. Without it the waiting goroutine re-panics with the
// *PanicError. In both cases the panic never crashes the process from a
// worker goroutine.
func PanicAsError() Option {
	return func(c *config) error {
		c.panicError = true
		return nil
	}
}

// On runs the function's calls on e (worker processes, a cluster) instead of
// in this process. The function must be named ([Name]); its argument and
// result travel through e's codec. Call sites and waits do not change.
func On(e backend.Executor) Option {
	return func(c *config) error {
		if err := funcOnly(c, "On"); err != nil {
			return err
		}
		if e == nil {
			return errors.New("deco: On(nil): the executor must not be nil")
		}
		c.executor = e
		return nil
	}
}

// OnProgress calls report each time a call of the function finishes, from
// the goroutine that ran it, before the call counts as done; report must
// be safe for concurrent use and quick. [Progress.Total] counts the calls
// started so far. A panic in report fails the call it reports with a
// *[PanicError], like a panic in the task. Nothing is paid when the option
// is not used.
func OnProgress(report func(Progress)) Option {
	return func(c *config) error {
		if err := funcOnly(c, "OnProgress"); err != nil {
			return err
		}
		if report == nil {
			return errors.New("deco: OnProgress(nil): the report function must not be nil")
		}
		c.progress = report
		return nil
	}
}

// Record records every call's start, end and slot into r, for a timeline
// picture ([Recorder.Trace]). Nothing is paid when the option is not used.
func Record(r *Recorder) Option {
	return func(c *config) error {
		if err := funcOnly(c, "Record"); err != nil {
			return err
		}
		if r == nil {
			return errors.New("deco: Record(nil): the recorder must not be nil")
		}
		c.recorder = r
		return nil
	}
}

// StatsTo makes [Synchronized] store the scope's statistics in *dst when it
// returns: its calls, failures and panics, its wall time, the calls' own
// run times summed, the most calls running at once and the queue waits. It
// times every call of the scope (two clock readings each), so it costs a
// little more than a function's always-on [Func.Stats]. It applies to
// Synchronized only.
func StatsTo(dst *Stats) Option {
	return func(c *config) error {
		if !c.forScope {
			return errors.New("deco: StatsTo is an option of Synchronized; a decorated function has Func.Stats")
		}
		if dst == nil {
			return errors.New("deco: StatsTo(nil): the destination must not be nil")
		}
		c.statsTo = dst
		return nil
	}
}
