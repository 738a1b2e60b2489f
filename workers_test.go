package deco_test

import (
	"context"
	"fmt"
	"time"

	"github.com/deco-go/deco/backend"
)

// namedWorkers is an executor whose calls run in this process, through
// the bytes a worker would see, and which says each ran on the worker
// that worker(info) names, whose clock is an hour behind this one. A call
// waits publish before it runs and deliver after, as on a cluster.
type namedWorkers struct {
	worker           func(backend.CallInfo) string
	publish, deliver time.Duration
	noTimes          bool // report the worker without its run times
}

func (e namedWorkers) Execute(ctx context.Context, name string, arg []byte) ([]byte, error) {
	info, _ := backend.CallOf(ctx)
	time.Sleep(e.publish)
	start := time.Now()
	out, err := backend.Invoke(ctx, name, arg)
	end := time.Now()
	time.Sleep(e.deliver)
	run := backend.Run{Worker: e.worker(info)}
	if !e.noTimes {
		run.Start, run.End = start.Add(-time.Hour), end.Add(-time.Hour)
	}
	backend.Ran(ctx, run)
	return out, err
}

// byLane names a worker per lane of the pool: "host:100", "host:101", ...
func byLane(info backend.CallInfo) string { return fmt.Sprintf("host:%d", 100+info.Lane) }
