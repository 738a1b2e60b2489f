// Package cluster runs deco's decorated functions on NATS JetStream: the
// same functions, call sites and waits as in-process or on worker
// processes, on workers that may be on other machines.
//
// # Setting up
//
// Workers are the program's own binary. One call at the top of main turns
// a process started as a worker into one, and does nothing otherwise
// (a program with both executors calls cluster.Main and process.Main, in
// either order):
//
//	func main() {
//		cluster.Main()
//		...
//	}
//
// Tests whose functions run on workers call it in TestMain, before m.Run.
// Functions that run on workers are found by name
// ([github.com/deco-go/deco.Name]), so they must be decorated at package
// level.
//
// On one machine, with nothing to install:
//
//	var nats = cluster.New() // an embedded server and runtime.GOMAXPROCS(0) local workers
//	var resize = deco.ConcurrentValue(resizeImage, deco.Name("resize"), deco.On(nats))
//
// or DECO_EXECUTOR=nats:local in the environment, for every named
// function. The first call starts a nats-server with JetStream inside
// the program, on 127.0.0.1 with a random port and a random token, its
// streams in files under the user's cache folder ([Dir] sets another),
// and the local worker processes, which connect to it. [Executor.Close]
// stops them all; so does the program's end, however it ends (a worker
// reads a pipe from its parent and exits at its end).
//
// On many machines, with a NATS server or cluster of your own:
//
//	DECO_EXECUTOR=nats://nats.example.com:4222 ./program    # the caller
//	DECO_WORKER=nats://nats.example.com:4222 ./program      # on each worker machine
//
// or [URL] in the program. Credentials and TLS pass through to nats.go:
// [NATSOptions] in the program, or the environment of callers and workers
// ([EnvCreds], [EnvNKey], [EnvToken], [EnvCA], [EnvCert], [EnvKey]). A
// worker runs DECO_WORKER_SLOTS calls at once (default: its cores),
// reconnects for ever when the server goes away, and on SIGINT or SIGTERM
// finishes its calls and exits. [Inspect] (and command deco workers of
// github.com/deco-go/deco/cmd/deco) lists
// the workers connected to a server by host:pid, their calls, and the
// queues. Each result names the worker that ran it, so the caller's
// deco.Stats, progress reports and timelines show one worker per lane
// (see github.com/deco-go/deco/backend.Ran).
//
// For production, run a 3-node NATS cluster with JetStream and give the
// executor [Replicas](3): the tasks stream and the results bucket are then
// replicated, and survive the loss of a node. One embedded server is a
// single point of failure: for one machine only.
//
// # Semantics
//
// At-least-once execution, exactly-once results. A call is published to a
// work-queue stream with a message ID of its batch and index (a duplicate
// publish is dropped); a worker takes it, runs it, writes its outcome to a
// key-value bucket with Create (a second outcome of the same call is
// refused), and acks it. A worker heartbeats the calls it holds every
// [AckWait]/3; a worker that dies (killed, its machine lost) stops, and
// after AckWait JetStream gives its calls to another worker. So a call
// may run more than once — its functions should be idempotent, as for
// any at-least-once system — but its caller gets exactly one outcome,
// the first written. A call that kills its workers [Retries] + 1 times
// fails with a *[WorkerError] saying so, and is removed from the stream.
// A task's error or panic is an outcome: it comes back as it does
// in-process and is never retried.
//
// Calls that queue behind busy workers go in packs (see [Pack]): when
// more calls of a function are in flight than the local workers' slots
// (64 with [URL] and no local workers), as at a function's default
// limit of 256 calls in flight ([InFlight]), the calls that queue up
// while a publish of it is in flight go together in the next messages,
// packs. With local workers a pack takes a share of the queue per worker
// (up to 16 calls): large packs while many calls wait, small ones at the
// end of a batch, so that the workers finish together. A worker runs a
// pack's calls in as many slots as free up, and writes the outcomes of
// its calls in a few entries (an outcome waits up to 50 ms for those of
// the pack's other calls, which run meanwhile): so a busy caller pays a
// publish, a delivery and an ack per pack, not per call. Below that
// (deco.Limit of at most the slots, or [InFlight]), every call
// goes alone, at once. Each call of a pack still runs in a slot, keeps
// its own outcome, timeout and cancellation; a pack whose worker died is
// split into single calls (by the worker it goes to next, or when it
// reached MaxDeliver), so that deliveries are counted per call and only
// a call that kills its workers fails. Calls of [Durable] batches go
// alone.
//
// A call that ran shorter than 250 µs frees its slot before its outcome
// is written, so that the next call runs while the write travels; a
// longer one keeps it until its outcome is stored (in a pack, the last
// call a slot runs of it), so that the next CPU-bound call does not hold
// up the write.
//
// [Timeout] bounds a call on its worker; a call whose context ends is
// removed from the stream if it is still queued, and its context is
// cancelled on the worker if it runs. [Durable] makes a batch survive its
// caller: a caller started again with the same batch name collects the
// results computed meanwhile and waits only for the rest. Results are
// kept for [ResultTTL] (24 hours by default) for durable batches, for at
// most an hour otherwise.
//
// A worker of another build never takes a call: subjects and consumers
// carry a fingerprint of the functions a build registers (names with
// argument and result types). Calls of a build no worker serves wait in
// the stream for one (deco workers shows the builds); a local worker of
// another build (a function decorated in main rather than at package
// level) fails the calls with a *[StartError].
//
// Large read-only inputs are [github.com/deco-go/deco.Static] values,
// the same on every executor; a cluster carries each value once per
// worker, not with every call. The first call of a session after a Set encodes the value (gob),
// hashes it (SHA-256) and, unless JetStream's Object Store (bucket
// deco_statics) holds an object of that name already, puts it there in
// 128 KiB chunks; then each call carries one header naming every Static
// of the program and the hash of its value ([Stats].StaticPuts counts
// the puts). A worker's first Get of a value fetches and decodes it, once
// per worker process and value, and keeps it for the worker's life. An
// object is kept for [ResultTTL] (24 hours by default) after its put — a
// caller still running at half that puts it again — and is not removed at
// [Executor.Close]: another caller with the same value, or a [Durable]
// batch started again, uses the same object. A value larger than
// [MaxStatic], a missing (expired) or corrupt object, or a Static the
// caller never set fails the calls that need it, naming the Static. A
// worker runs at once only calls whose callers gave every Static the same
// value (the calls of one caller, or of callers with equal values); a call
// of a caller with other values waits until those end, so that Get always
// returns its own caller's value. (A put through nats.go v1.55.0's object
// store may leave one idle goroutine of nats.go behind, blocked for ever:
// a race in its Put's clean-up.)
//
// What crosses is what crosses to worker processes (see package
// github.com/deco-go/deco/process): the argument and the result as gob,
// [github.com/deco-go/deco.Map] writes replayed into the caller's Map,
// errors and panics.
//
// # Layout
//
// Stream DECO_TASKS (work queue, subjects deco.task.<build>.<function>)
// with one durable pull consumer per build and function, shared by all
// workers; bucket deco_results (<batch>.<index> → outcome); bucket
// deco_workers (the workers' presence, for [List] and [Inspect]);
// object store deco_statics ([github.com/deco-go/deco.Static] values by hash); core subject
// deco.cancel.<build>. [List] reads them.
//
// # Costs
//
// A call alone costs a publish, a pull, a key-value write and its watch,
// and an ack: on this project's 2-core machine, otherwise idle, a no-op
// round trip took 1.60-1.62 times the raw JetStream pattern's in the same
// rounds, with the same messages. Calls that queue go in packs: 2 local
// workers of 2 slots ran pipelined no-op calls at 4.7-6.7 times the raw
// pattern's rate (25.3k-28.3k calls/s), and 100 calls of about 2.2 ms of
// CPU on 2 local workers ran 1.68-1.70 times faster than serially
// (1.98-2.00 times on two goroutines in the same ops, load 1.1-2.0), the
// caller, with the embedded server, spending 0.21 ms of CPU per call
// on the same cores as the workers (see bench_test.go and README.md for
// the figures, their load and the commands). It pays for tasks much longer than a round trip, or
// for work spread over machines; batch small tasks into fewer calls.
package cluster
