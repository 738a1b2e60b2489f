package deco

import (
	"context"
	"errors"
	"fmt"

	"github.com/deco-go/deco/backend"
	"github.com/deco-go/deco/internal/registry"
)

// The caller's side of a call on an executor: the argument is checked
// and encoded here, sent by the executor, run by invoke (invoke.go) in
// another process, and its outcome decoded here (wire.go has the format).

// ErrLostMutation is wrapped by the error of a call that ran on an
// executor ([github.com/deco-go/deco/backend.Executor]) and changed, in
// place, data that its argument shares with the caller — an element of
// a slice, an entry of a Go map, a field behind a pointer, or a value
// held by a [Map] (a nested write). In this process the caller would
// have seen such a change; from another process it cannot be carried
// back, so deco refuses it rather than lose it silently, as Python's deco
// did. The error names the path of the first change found, such as
// arg.Out.Width or arg.Times[3][0]. Writes made with [Map.Set] are not
// refused: they are replayed (see [Map]).
var ErrLostMutation = errors.New("deco: the task changed data its argument shares with the caller, which cannot be carried back from another process")

// remoteFunc returns the function that runs f's calls on exec. The
// function must be named, and its argument and result types must be able
// to cross (checkCrossing): for an executor given with On, a type that
// cannot makes the decoration panic, naming the field; for one that
// DECO_EXECUTOR chose, every call fails with that message instead, since
// a panic there would be a stack trace at package initialisation.
func remoteFunc[A, R any](exec backend.Executor, cfg config) func(context.Context, A) (R, error) {
	if cfg.name == "" {
		panic("deco: On: only a named function can run on an executor; add deco.Name")
	}
	if err := errors.Join(checkCrossing(typeFor[A](), "argument"), checkCrossing(typeFor[R](), "result")); err != nil {
		if cfg.executor != nil {
			panic(fmt.Sprintf("deco: %s: On: %v", cfg.name, err))
		}
		exec = failing{fmt.Errorf("deco: %s: %s moves it to an executor, but %w", cfg.name, EnvExecutor, err)}
	}
	return remote[A, R](exec, cfg.name)
}

// remote returns a function that runs calls of name on e. Its cost per
// call, beyond e's: encoding the argument and decoding the outcome, and,
// only for argument types that can hold a *Map, an interface value or a
// cycle, a walk of the argument.
func remote[A, R any](e backend.Executor, name string) func(context.Context, A) (R, error) {
	return func(ctx context.Context, a A) (R, error) {
		var zero R
		maps, err := checkValue(&a, "argument")
		if err != nil {
			return zero, fmt.Errorf("deco: %s: %w", name, err)
		}
		arg, err := appendValue(nil, &a)
		if err != nil {
			return zero, fmt.Errorf("deco: %s: cannot encode argument of type %s: %w", name, typeText(a), err)
		}
		out, err := e.Execute(ctx, name, arg)
		if err != nil {
			var pe *PanicError
			if errors.As(err, &pe) {
				panic(pe)
			}
			return zero, err
		}
		return receive[R](ctx, name, out, maps)
	}
}

// receive decodes the outcome of a call of name, replays its Map writes
// into maps and returns its result and error, or re-panics with its panic.
func receive[R any](ctx context.Context, name string, out []byte, maps map[uint64]replayable) (R, error) {
	var r R
	o, err := decodeOutcome(out, &r)
	if err != nil {
		var zero R
		return zero, fmt.Errorf("deco: %s: %w", name, err)
	}
	if o == nil {
		return r, nil
	}
	var errs []error
	for _, w := range o.Writes {
		m, ok := maps[w.ID]
		if !ok {
			errs = append(errs, fmt.Errorf("deco: %s: the task wrote into a deco.Map that is not reachable from the argument (inside a type with its own GobEncode?): its writes are lost", name))
			continue
		}
		if err := m.replay(w.Data); err != nil {
			errs = append(errs, fmt.Errorf("deco: %s: cannot replay the task's writes into a deco.Map: %w", name, err))
		}
	}
	if o.Panicked {
		pe := &PanicError{Func: name, Value: o.PanicValue, Stack: o.PanicStack, remote: true}
		if o.PanicErr != nil {
			pe.Value = fromWire(o.PanicErr)
		}
		if c := runningCall(ctx); c != nil {
			pe.Index = c.index
		}
		panic(pe)
	}
	if o.Err != nil {
		errs = append([]error{fromWire(o.Err)}, errs...)
	}
	if o.Lost != "" {
		errs = append(errs, fmt.Errorf("%w: %s", ErrLostMutation, o.Lost))
	}
	if len(errs) == 1 {
		return r, errs[0]
	}
	return r, errors.Join(errs...)
}

// ranOn is where a call on an executor ran, as the executor said with
// backend.Ran: the worker's name and, if known, when the call ran there
// (Unix nanoseconds on the worker's clock, else 0). Stats count it by
// worker (stats.go), OnProgress reports it, a Recorder gives each worker
// its lanes (recorder.go).
type ranOn struct {
	worker     string
	start, end int64
}

// ranOn returns where the call ran, or nil if no executor said.
func (c *callCore) ranOn() *ranOn {
	if e := c.extra.Load(); e != nil {
		return e.ran.Load()
	}
	return nil
}

// name is the worker's name, or "" for nil.
func (r *ranOn) name() string {
	if r == nil {
		return ""
	}
	return r.worker
}

// ran is where the backend package's Ran lands (it cannot import this
// package). Only the call's own run reads what it stores, at finish, but
// an executor may call Ran from a goroutine of its own: hence the atomic.
func ran(ctx context.Context, worker string, start, end int64) {
	c := runningCall(ctx)
	if c == nil || worker == "" {
		return
	}
	c.ext().ran.Store(&ranOn{worker: worker, start: start, end: end})
}

func init() { registry.Ran = ran }
