package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/deco-go/deco/cluster"
)

const workersUsage = `Usage: deco workers [-url nats://host:port] [-timeout 5s] [-watch 2s]

Lists the deco workers connected to a NATS server, by host:pid, with their
build, slots and calls run; the calls they run now; and the calls waiting,
by build and function. The server is -url, else DECO_EXECUTOR when it is a
NATS URL (nats://, tls://, ws://, wss://), else DECO_WORKER. Credentials
and TLS come from the environment, as for callers and workers
(DECO_NATS_CREDS, DECO_NATS_NKEY, DECO_NATS_TOKEN, DECO_NATS_CA,
DECO_NATS_CERT, DECO_NATS_KEY).

Flags:
`

// runWorkers is `deco workers`.
func runWorkers(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("deco workers", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported below, on one line
	url := fs.String("url", "", "the NATS server's `URL` (default $DECO_EXECUTOR if a NATS URL, else $DECO_WORKER)")
	timeout := fs.Duration("timeout", 5*time.Second, "bound on connecting and reading, per listing")
	watch := fs.Duration("watch", 0, "list again at this interval until interrupted")
	if err := fs.Parse(args); err != nil {
		if printedHelp(err, fs, workersUsage, stdout) {
			return exitOK
		}
		return failWorkers(stderr, exitUsage, err)
	}
	if fs.NArg() > 0 {
		return failWorkers(stderr, exitUsage, fmt.Errorf("unexpected argument %q (the server is -url nats://host:port)", fs.Arg(0)))
	}
	if *timeout <= 0 {
		return failWorkers(stderr, exitUsage, fmt.Errorf("-timeout %v: want a positive duration", *timeout))
	}
	if *watch < 0 {
		return failWorkers(stderr, exitUsage, fmt.Errorf("-watch %v: want a positive duration, or 0 to list once", *watch))
	}
	server, err := workersServer(*url, os.Getenv)
	if err != nil {
		return failWorkers(stderr, exitUsage, err)
	}
	for {
		lctx, cancel := context.WithTimeout(ctx, *timeout)
		s, err := cluster.Inspect(lctx, server)
		cancel()
		if err == nil {
			err = s.WriteTable(stdout, time.Now())
		}
		if err != nil {
			if ctx.Err() != nil {
				return failWorkers(stderr, exitInterrupted, context.Cause(ctx))
			}
			return failWorkers(stderr, exitFailed, err)
		}
		if *watch == 0 {
			return exitOK
		}
		select {
		case <-ctx.Done():
			return exitOK // the user ended the watch
		case <-time.After(*watch):
		}
		fmt.Fprintln(stdout)
	}
}

// workersServer is the URL deco workers lists: flagURL, else
// DECO_EXECUTOR when it names a NATS server, else DECO_WORKER.
func workersServer(flagURL string, getenv func(string) string) (string, error) {
	if flagURL != "" {
		return flagURL, nil
	}
	if v := getenv("DECO_EXECUTOR"); v != "" {
		if strings.Contains(v, "://") {
			return v, nil
		}
		if strings.HasPrefix(v, cluster.Scheme+":") {
			return "", fmt.Errorf("DECO_EXECUTOR=%s runs its NATS server inside the program that uses it, for its run only: give a server's URL with -url nats://host:port", v)
		}
	}
	if v := getenv("DECO_WORKER"); strings.Contains(v, "://") {
		return v, nil
	}
	return "", errors.New("give the server's URL with -url nats://host:port, or set DECO_EXECUTOR=nats://host:port")
}

// failWorkers prints err on one line of stderr and returns code.
func failWorkers(stderr io.Writer, code int, err error) int {
	fmt.Fprintf(stderr, "deco workers: %s\n", strings.Join(strings.Fields(err.Error()), " "))
	return code
}
