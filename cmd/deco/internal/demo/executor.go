package demo

import (
	"fmt"

	"github.com/deco-go/deco"
	"github.com/deco-go/deco/cluster"
	"github.com/deco-go/deco/process"
)

// ExecutorLocal runs the thumbnails on goroutines of this process, deco's
// default; ExecutorProcesses runs them in worker processes, which are this
// program's own binary (main calls process.Main first); ExecutorNATS runs
// them on a NATS JetStream cluster embedded in this program, with local
// worker processes of the same binary (main calls cluster.Main first).
const (
	ExecutorLocal     = "local"
	ExecutorProcesses = "processes"
	ExecutorNATS      = "nats"
)

// Executors lists the values of -executor.
var Executors = []string{ExecutorLocal, ExecutorProcesses, ExecutorNATS}

// executorOptions returns the deco options that put the thumbnail calls on
// the executor called name, for workers calls at once, and a function that
// releases the executor when the run is over.
//
// A call that crosses a process boundary is a named function decorated at
// package level (thumbnailFunc), whose argument gob-encodes: the task's
// writes into the deco.Map of times come back with each call's result.
func executorOptions(name string, workers int) ([]deco.Option, func() error, error) {
	switch name {
	case ExecutorLocal:
		return nil, func() error { return nil }, nil
	case ExecutorProcesses:
		procs := process.New(workers)
		return []deco.Option{deco.On(procs)}, procs.Close, nil
	case ExecutorNATS:
		// The demo keeps nothing after its run, so the embedded server
		// keeps its streams in memory rather than in the user's cache.
		nats := cluster.New(cluster.Workers(workers), cluster.Memory())
		return []deco.Option{deco.On(nats)}, nats.Close, nil
	}
	return nil, nil, fmt.Errorf("-executor %q is not available", name)
}
