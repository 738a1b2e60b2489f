// Command deco is the command line of github.com/deco-go/deco, which brings
// Python's deco ("Decorated Concurrency") to Go.
//
// Its first command reproduces, on the machine it runs on, the experiments
// of the blog post that introduced deco. From a clone of the repository:
//
//	go run ./cmd/deco demo
//
// Run `deco demo -h` for the experiments and their flags. Another command
// lists the deco workers connected to a NATS server and the calls they
// run:
//
//	deco workers -url nats://host:4222
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/deco-go/deco/cluster"
	"github.com/deco-go/deco/process"
)

func main() {
	// In a worker process of -executor nats or -executor processes these
	// serve calls and never return; in the command itself they return at
	// once. Each leaves the other's workers alone.
	cluster.Main()
	process.Main()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// A second Ctrl-C kills the program at once.
	context.AfterFunc(ctx, stop)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
