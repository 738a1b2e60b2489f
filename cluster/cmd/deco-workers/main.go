// Command deco-workers lists the deco workers connected to a NATS server
// and the calls they run, and the calls waiting, by build and function:
//
//	deco-workers -url nats://host:4222
//	deco-workers -url nats://host:4222 -watch 2s
//
// Credentials and TLS come from the environment, as for callers and
// workers (DECO_NATS_CREDS, DECO_NATS_NKEY, DECO_NATS_TOKEN, DECO_NATS_CA,
// DECO_NATS_CERT, DECO_NATS_KEY; see package cluster). Command deco
// (github.com/deco-go/deco/cmd/deco) has the same listing as `deco
// workers`; both print what cluster.Inspect reads with
// cluster.Snapshot.WriteTable.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/deco-go/deco/cluster"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("deco-workers", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", os.Getenv("DECO_WORKER"), "the NATS server's URL (default $DECO_WORKER)")
	watch := fs.Duration("watch", 0, "list again at this interval, until interrupted")
	timeout := fs.Duration("timeout", 5*time.Second, "bound on connecting and on each listing")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *url == "" {
		fmt.Fprintln(stderr, "deco-workers: give the server's URL with -url nats://host:port")
		return 2
	}
	for {
		ctx, cancel := context.WithTimeout(context.Background(), *timeout)
		s, err := cluster.Inspect(ctx, *url)
		cancel()
		if err == nil {
			err = s.WriteTable(stdout, time.Now())
		}
		if err != nil {
			fmt.Fprintln(stderr, "deco-workers:", err)
			return 1
		}
		if *watch <= 0 {
			return 0
		}
		time.Sleep(*watch)
		fmt.Fprintln(stdout)
	}
}
