package cluster

// Every use of deco's backend boundary (package backend) is in this file.

import (
	"context"
	"time"

	"github.com/deco-go/deco/backend"
)

// envWorker is deco's worker marker: this package sets it to the server's
// URL in the workers it starts, and a program started with it set to a
// nats:// or tls:// URL is a worker of that server ([Main]).
const envWorker = backend.EnvWorker

// callInfo is what deco tells of the call an Execute serves.
type callInfo struct {
	fn    string
	index int
	ok    bool
}

func callOf(ctx context.Context) callInfo {
	c, ok := backend.CallOf(ctx)
	return callInfo{fn: c.Func, index: c.Index, ok: ok}
}

// ran tells deco which worker ran the call whose context ctx is, and
// when on that worker's clock (Unix ns; 0 if not known), for its stats
// and timeline.
func ran(ctx context.Context, worker string, start, end int64) {
	r := backend.Run{Worker: worker}
	if start != 0 && end >= start {
		r.Start, r.End = time.Unix(0, start), time.Unix(0, end)
	}
	backend.Ran(ctx, r)
}

// invoke runs a call of the function registered as name in this process.
func invoke(ctx context.Context, name string, arg []byte) ([]byte, error) {
	return backend.Invoke(ctx, name, arg)
}

// names lists the functions this program registered, sorted.
func names() []string { return backend.Names() }

// markWorker tells deco this process is a worker: it ignores
// DECO_EXECUTOR from then on.
func markWorker() { backend.MarkWorker() }

// inWorker reports whether this process is a worker of some executor.
func inWorker() bool { return backend.InWorker() }

// fingerprint identifies the functions this build registers (names with
// their argument and result types): callers publish to, and workers pull
// from, subjects that carry it, so that a worker of another build never
// takes a call. It is read when a caller starts and when a worker starts,
// after package initialisation.
func fingerprint() string { return backend.Fingerprint()[:12] }

func init() {
	backend.RegisterExecutor(Scheme, fromEnv)
}

var (
	_ backend.Executor = (*Executor)(nil)
	_ backend.Sized    = (*Executor)(nil)
)
