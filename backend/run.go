package backend

import (
	"context"
	"time"

	"github.com/deco-go/deco/internal/registry"
)

// Run tells where a call ran, for an executor whose calls run on workers
// it can name, such as the processes of a cluster: see [Ran].
type Run struct {
	// Worker names the worker that ran the call: the same for every call
	// it runs, different from every other worker's. For a process,
	// "host:pid".
	Worker string
	// Start and End are when the call ran on the worker, as the worker's
	// clock read them; zero when not known. The worker's clock need not
	// agree with the caller's: deco compares only readings of one worker.
	Start, End time.Time
}

// Ran tells deco that the call whose context ctx is, as [Executor.Execute]
// received it, ran as r says. An executor calls it in Execute, before
// Execute returns, once it knows the worker (from the worker's answer, for
// example); a later call for the same call replaces the earlier one
// (a call retried on another worker). deco then shows the worker where a
// user looks:
//
//   - a function's Stats count each worker's calls, failures and run time
//     (deco.Stats.Workers);
//   - OnProgress reports the worker of each call that finishes
//     (deco.Progress.Worker);
//   - a deco.Recorder draws one lane per worker, named r.Worker (more
//     lanes, "name #2" and on, for a worker that ran calls at once), and
//     draws a call for its run time on the worker rather than the time
//     its caller waited, when Start and End are given.
//
// Calls that no executor reports stay on the lanes of their pool's slots.
// Ran does nothing for a context that belongs to no running call, or when
// r.Worker is empty; an End before Start counts as unknown times. Cost: an
// allocation per call; it is meant for calls that cross a process
// boundary, whose cost it does not change.
func Ran(ctx context.Context, r Run) {
	if r.Worker == "" {
		return
	}
	var start, end int64
	if !r.Start.IsZero() && !r.End.IsZero() && !r.End.Before(r.Start) {
		start, end = r.Start.UnixNano(), r.End.UnixNano()
	}
	registry.Ran(ctx, r.Worker, start, end)
}
