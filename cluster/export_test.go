package cluster

import (
	"context"
	"os"
	"time"

	"github.com/deco-go/deco/backend"
	"github.com/nats-io/nats-server/v2/server"
)

// EnvStalePulls, set in a worker's environment, makes each of its pull
// requests go twice, the second unknown to the worker (as a request
// taken for lost that still stands, after a reconnection or missed
// heartbeats).
const EnvStalePulls = "DECO_CLUSTER_TEST_STALE_PULLS"

// EnvNoBeats, set in a worker's environment, makes it send no heartbeats,
// as a worker starved of CPU for most of AckWait whose beats come too
// late: JetStream gives its calls to a worker again after AckWait.
const EnvNoBeats = "DECO_CLUSTER_TEST_NO_BEATS"

func init() {
	stalePulls = os.Getenv(EnvStalePulls) != ""
	noBeats = os.Getenv(EnvNoBeats) != ""
}

// StaticFetches reports how many Static values this process fetched from
// the object store: the tests' functions return it from workers.
func StaticFetches() int64 { return staticFetches.Load() }

// PackNext makes the next publish wait until n calls are queued, so that
// they go in one pack (the returned function undoes it if it did not
// happen).
func PackNext(n int) (undo func()) {
	packWaitFor.Store(int32(n))
	return func() { packWaitFor.Store(0) }
}

// SetStatics counts the distinct values of the Statics set in this
// process.
func SetStatics() int {
	sums := map[string]bool{}
	for _, s := range backend.Statics() {
		if s.IsSet() {
			_, sum, _ := s.Encoded()
			sums[sum] = true
		}
	}
	return len(sums)
}

// EmbeddedServer returns e's embedded server, nil if it runs none.
func EmbeddedServer(e *Executor) *server.Server {
	s := e.running()
	if s == nil || s.emb == nil {
		return nil
	}
	return s.emb.srv
}

// TasksPublished reports how many messages the tasks stream has stored
// since it was made (callers' calls and packs, and what workers
// published again).
func TasksPublished(e *Executor) (uint64, error) {
	s := e.running()
	if s == nil {
		return 0, ErrClosed
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	info, err := s.tasks.Info(ctx)
	if err != nil {
		return 0, err
	}
	return info.State.LastSeq, nil
}

// OutcomeParts reports how many parts (results entries of several calls'
// outcomes) the workers wrote for e's packs.
func OutcomeParts(e *Executor) (int, error) {
	s := e.running()
	if s == nil {
		return 0, ErrClosed
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	keys, err := s.kv.ListKeysFiltered(ctx, s.id+".>")
	if err != nil {
		return 0, err
	}
	defer keys.Stop()
	n := 0
	for k := range keys.Keys() {
		if s.isPart(k) {
			n++
		}
	}
	return n, nil
}
