package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// inspectWait bounds [Inspect] when its context has no deadline.
const inspectWait = 5 * time.Second

// Inspect connects to the NATS server at url as callers and workers do
// (credentials and TLS from the environment, then opts: see [Connect]),
// reads what [List] reports — the workers connected, by host:pid, the
// calls each runs now, and the calls waiting by build and function — and
// closes its connection. It is what command deco workers runs.
//
// ctx bounds all of it, connecting included; a ctx without a deadline
// gets 5 seconds. A url that is not a NATS URL, a server that does not
// answer, refused credentials and a server without JetStream are errors
// that say so. Inspect leaves no connection or goroutine behind.
func Inspect(ctx context.Context, url string, opts ...nats.Option) (*Snapshot, error) {
	if err := checkURL(url); err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, inspectWait)
		defer cancel()
	}
	deadline, _ := ctx.Deadline()
	wait := time.Until(deadline).Truncate(time.Millisecond)
	if wait <= 0 || ctx.Err() != nil {
		return nil, fmt.Errorf("cluster: inspecting %s: %w", redact(url), context.Cause(ctx))
	}
	nc, err := Connect(url, wait, opts...)
	if err != nil {
		return nil, err
	}
	defer nc.Close()
	s, err := List(ctx, nc)
	switch {
	case err == nil:
		return s, nil
	case errors.Is(err, context.DeadlineExceeded):
		return nil, fmt.Errorf("cluster: the server at %s did not answer JetStream requests within %v (is JetStream enabled?): %w", redact(url), wait, err)
	case errors.Is(err, nats.ErrNoResponders), errors.Is(err, jetstream.ErrJetStreamNotEnabled), errors.Is(err, jetstream.ErrJetStreamNotEnabledForAccount):
		return nil, fmt.Errorf("cluster: the server at %s does not answer JetStream requests (is JetStream enabled?): %w", redact(url), err)
	}
	return nil, err
}

// WriteTable writes s as text tables for a terminal, with durations
// measured up to now: the workers (host:pid, build, slots, calls running,
// calls run, time up), the count of workers, then, if there are any, the
// calls running (worker, function and call index, results key, time
// running) and the queues (build, function, messages queued and taken — see [Queue] —, pull
// requests waiting, redeliveries). It writes with one call to w.Write and
// returns its error.
func (s *Snapshot) WriteTable(w io.Writer, now time.Time) error {
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "WORKER\tBUILD\tSLOTS\tRUNNING\tEXECUTED\tUP\n")
	for _, wk := range s.Workers {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%v\n", wk.ID, wk.Build, wk.Slots, len(wk.Running), wk.Executed, now.Sub(wk.Started).Round(time.Second))
	}
	tw.Flush()
	fmt.Fprintf(&buf, "%d workers\n", len(s.Workers))
	var calls []string
	for _, wk := range s.Workers {
		for _, r := range wk.Running {
			calls = append(calls, fmt.Sprintf("%s\t%s #%d\t%s\t%v", wk.ID, r.Func, r.Call, r.Key, now.Sub(r.Since).Round(time.Millisecond)))
		}
	}
	if len(calls) > 0 {
		sort.Strings(calls)
		fmt.Fprintln(&buf)
		tw = tabwriter.NewWriter(&buf, 2, 4, 2, ' ', 0)
		fmt.Fprintf(tw, "WORKER\tCALL\tKEY\tFOR\n")
		for _, c := range calls {
			fmt.Fprintln(tw, c)
		}
		tw.Flush()
	}
	if len(s.Queues) > 0 {
		fmt.Fprintln(&buf)
		tw = tabwriter.NewWriter(&buf, 2, 4, 2, ' ', 0)
		fmt.Fprintf(tw, "BUILD\tFUNC\tQUEUED\tTAKEN\tPULLING\tREDELIVERED\n")
		for _, q := range s.Queues {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\n", q.Build, q.Func, q.Pending, q.Running, q.Pulling, q.Retried)
		}
		tw.Flush()
	}
	_, err := w.Write(buf.Bytes())
	return err
}
