package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// WorkerInfo describes a connected worker, as it last announced itself
// (every 2 s; an entry expires 6 s after the last).
type WorkerInfo struct {
	ID       string    // host:pid
	Host     string    // its host name
	PID      int       // its process ID
	Build    string    // the fingerprint of its function set: callers of another build are not served by it
	Funcs    int       // functions it serves
	Slots    int       // calls it runs at once
	Started  time.Time // when it started
	Executed int64     // calls it started since then
	Running  []Running // calls it runs now
}

// Running is a call a worker runs.
type Running struct {
	Func  string    // the function's name
	Call  int       // the call's index in its batch
	Key   string    // its key in the results bucket
	Since time.Time // when it started
}

// Queue is what waits for the workers of one build and function. Its
// counts are of the stream's messages, as JetStream counts them: a call
// is one message, except with [Pack], where one message carries several
// calls and counts once.
type Queue struct {
	Build   string
	Func    string // the function's name
	Pending uint64 // messages (calls, or packs of calls) no worker has taken yet
	Running int    // messages taken and not answered
	Pulling int    // pull requests of workers waiting for calls
	Retried uint64 // deliveries beyond the first (workers that died or were slow)
}

// Snapshot is what [List] reports.
type Snapshot struct {
	Workers []WorkerInfo
	Queues  []Queue
}

// List reports the workers connected to the server nc is connected to,
// with the calls they run, and the queues of calls waiting, by build and
// function. It reads the workers bucket and the consumers' state: a few
// requests, bounded by ctx.
func List(ctx context.Context, nc *nats.Conn) (*Snapshot, error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	snap := &Snapshot{}
	kv, err := js.KeyValue(ctx, workersBucket)
	if err != nil && !errors.Is(err, jetstream.ErrBucketNotFound) {
		return nil, fmt.Errorf("cluster: reading the workers: %w", err)
	}
	if kv != nil {
		keys, err := kv.ListKeys(ctx)
		if err != nil {
			return nil, fmt.Errorf("cluster: reading the workers: %w", err)
		}
		for k := range keys.Keys() {
			ent, err := kv.Get(ctx, k)
			if err != nil {
				continue // expired meanwhile
			}
			var p presence
			if json.Unmarshal(ent.Value(), &p) != nil {
				continue
			}
			wi := WorkerInfo{ID: p.ID, Host: p.Host, PID: p.PID, Build: p.Build, Funcs: p.Funcs, Slots: p.Slots, Started: p.Started, Executed: p.Executed}
			for _, r := range p.Running {
				call, _ := strconv.Atoi(r.Call)
				wi.Running = append(wi.Running, Running{Func: r.Func, Call: call, Key: r.Key, Since: r.Since})
			}
			snap.Workers = append(snap.Workers, wi)
		}
	}
	sort.Slice(snap.Workers, func(i, j int) bool { return snap.Workers[i].ID < snap.Workers[j].ID })
	st, err := js.Stream(ctx, tasksStream)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return snap, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cluster: reading the queues: %w", err)
	}
	lister := st.ListConsumers(ctx)
	for ci := range lister.Info() {
		build, fn := ci.Config.FilterSubject, ci.Config.Description
		if len(build) > len(taskPrefix) {
			build = build[len(taskPrefix):]
			if i := strings.IndexByte(build, '.'); i >= 0 {
				build = build[:i]
			}
		}
		if len(fn) > 5 {
			fn = fn[5:] // "deco <name>"
		}
		snap.Queues = append(snap.Queues, Queue{Build: build, Func: fn, Pending: ci.NumPending, Running: ci.NumAckPending, Pulling: ci.NumWaiting, Retried: uint64(ci.NumRedelivered)})
	}
	if err := lister.Err(); err != nil {
		return nil, fmt.Errorf("cluster: reading the queues: %w", err)
	}
	sort.Slice(snap.Queues, func(i, j int) bool {
		a, b := snap.Queues[i], snap.Queues[j]
		return a.Build < b.Build || a.Build == b.Build && a.Func < b.Func
	})
	return snap, nil
}

// List reports the workers and queues of e's server (see [List]). It
// starts e if it is not running.
func (e *Executor) List(ctx context.Context) (*Snapshot, error) {
	s, err := e.session()
	if err != nil {
		return nil, err
	}
	return List(ctx, s.nc)
}

// Connect connects to the server at url as callers and workers do:
// credentials and TLS from the environment ([EnvCreds] and the others),
// opts after them, connecting bounded by timeout, with an error that
// names what failed. For tools such as [List]; an [Executor] connects by
// itself.
func Connect(url string, timeout time.Duration, opts ...nats.Option) (*nats.Conn, error) {
	if err := checkURL(url); err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	o := append([]nats.Option{nats.Name("deco tool"), nats.Timeout(timeout)}, envNATSOptions()...)
	return connect(url, timeout, append(o, opts...))
}
