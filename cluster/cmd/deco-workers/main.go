// Command deco-workers lists the deco workers connected to a NATS server
// and the calls they run, and the calls waiting, by build and function:
//
//	deco-workers -url nats://host:4222
//	deco-workers -url nats://host:4222 -watch 2s
//
// Credentials and TLS come from the environment, as for callers and
// workers (DECO_NATS_CREDS, DECO_NATS_NKEY, DECO_NATS_TOKEN, DECO_NATS_CA,
// DECO_NATS_CERT, DECO_NATS_KEY; see package cluster).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/deco-go/deco/cluster"
	"github.com/nats-io/nats.go"
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
	nc, err := cluster.Connect(*url, *timeout)
	if err != nil {
		fmt.Fprintln(stderr, "deco-workers:", err)
		return 1
	}
	defer nc.Close()
	for {
		if err := list(nc, stdout, *timeout); err != nil {
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

func list(nc *nats.Conn, w io.Writer, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	s, err := cluster.List(ctx, nc)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("%w (is JetStream enabled on the server?)", err)
		}
		return err
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "WORKER\tBUILD\tSLOTS\tRUNNING\tEXECUTED\tUP\n")
	for _, wk := range s.Workers {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%v\n", wk.ID, wk.Build, wk.Slots, len(wk.Running), wk.Executed, time.Since(wk.Started).Round(time.Second))
	}
	tw.Flush()
	fmt.Fprintf(w, "%d workers\n", len(s.Workers))
	var calls []string
	for _, wk := range s.Workers {
		for _, r := range wk.Running {
			calls = append(calls, fmt.Sprintf("%s\t%s #%d\t%s\t%v", wk.ID, r.Func, r.Call, r.Key, time.Since(r.Since).Round(time.Millisecond)))
		}
	}
	if len(calls) > 0 {
		sort.Strings(calls)
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
		fmt.Fprintf(tw, "WORKER\tCALL\tKEY\tFOR\n")
		for _, c := range calls {
			fmt.Fprintln(tw, c)
		}
		tw.Flush()
	}
	if len(s.Queues) > 0 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
		fmt.Fprintf(tw, "BUILD\tFUNC\tQUEUED\tTAKEN\tPULLING\tREDELIVERED\n")
		for _, q := range s.Queues {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\n", q.Build, q.Func, q.Pending, q.Running, q.Pulling, q.Retried)
		}
		tw.Flush()
	}
	return nil
}
