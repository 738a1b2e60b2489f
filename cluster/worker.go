package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// isWorker is set by Main in a worker.
var isWorker atomic.Bool

// Main turns this process into a worker when DECO_WORKER holds a NATS
// URL (nats://host:port, tls://host:port; comma-separated for a cluster),
// as it does in the local workers an [Executor] starts, and otherwise
// returns at once, having done nothing. Call it first thing in main
// (beside process.Main, in either order, if the program has both) and in
// TestMain before m.Run:
//
//	func main() {
//		cluster.Main()
//		// the program, which workers never run
//	}
//
// A worker pulls the calls of the functions this build registered (by
// name, decorated at package level) from the server, runs up to
// DECO_WORKER_SLOTS of them at once (default runtime.GOMAXPROCS(0)),
// and never runs the rest of main. It reads credentials and TLS files
// from the environment ([EnvCreds] and the others). A worker started by
// hand reconnects for ever when the server goes away, and on SIGINT or
// SIGTERM stops taking calls, finishes those it runs, and exits. A local
// worker exits as soon as its parent closes it or dies.
//
// Cost in a process that is not a worker: one environment lookup.
func Main() {
	v, ok := os.LookupEnv(envWorker)
	if !ok || !strings.Contains(v, "://") {
		return
	}
	if err := checkURL(v); err != nil {
		fmt.Fprintf(os.Stderr, "deco/cluster: %s=%q: %v\n", envWorker, v, err)
		os.Exit(2)
	}
	os.Unsetenv(envWorker)
	isWorker.Store(true)
	markWorker()
	os.Exit(serveWorker(v))
}

// worker is this process serving calls.
type worker struct {
	id      string // host:pid
	key     string // its key in the workers bucket
	build   string
	slots   chan struct{}
	nc      *nats.Conn
	js      jetstream.JetStream
	tasks   jetstream.Stream
	results jetstream.KeyValue
	ctx     context.Context // ends when the worker stops
	started time.Time

	mu        sync.Mutex
	pullers   map[*puller]bool
	stopping  bool
	running   map[string]*running
	cancelled map[string]time.Time // keys cancelled before they ran here, for a minute
	executed  atomic.Int64
	wg        sync.WaitGroup

	gos   *goPool // runs calls, their invocations and pack runners
	beats *beater // the heartbeats of the messages held

	objMu sync.Mutex
	obj   jetstream.ObjectStore // the Statics' object store, once a task read one

	refs atomic.Pointer[parsedRefs] // the Statics header parsed last
}

// parsedRefs is a Deco-Statics header and its parse.
type parsedRefs struct {
	refs  string
	names map[string]string // read only
}

// refsOf parses a call's Deco-Statics header, or returns the parse of
// the last one when it is the same (every call of a program carries the
// same header until a Static changes).
func (w *worker) refsOf(refs string) (map[string]string, error) {
	if p := w.refs.Load(); p != nil && p.refs == refs {
		return p.names, nil
	}
	names, err := parseRefs(refs)
	if err != nil {
		return nil, err
	}
	w.refs.Store(&parsedRefs{refs: refs, names: names})
	return names, nil
}

type running struct {
	Func   string    `json:"func"`
	Call   string    `json:"call"`
	Key    string    `json:"key"`
	Since  time.Time `json:"since"`
	cancel context.CancelFunc
}

// presence is a worker's entry in the workers bucket.
type presence struct {
	ID       string     `json:"id"` // host:pid
	Host     string     `json:"host"`
	PID      int        `json:"pid"`
	Build    string     `json:"build"`
	Funcs    int        `json:"funcs"`
	Slots    int        `json:"slots"`
	Started  time.Time  `json:"started"`
	Executed int64      `json:"executed"`
	Running  []*running `json:"running"`
}

func serveWorker(url string) int {
	mode := os.Getenv(envLocal)
	local := mode != ""
	os.Unsetenv(envLocal)
	slots := runtime.GOMAXPROCS(0)
	if v := os.Getenv(EnvSlots); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "deco/cluster: %s=%q is not a number of slots (at least 1)\n", EnvSlots, v)
			return 2
		}
		slots = n
	}
	// The requests of the worker's pullers do not outlive a reconnection.
	var self atomic.Pointer[worker]
	opts := []nats.Option{nats.Name("deco worker"), nats.ReconnectHandler(func(*nats.Conn) {
		if w := self.Load(); w != nil {
			w.reconnected()
		}
	})}
	opts = append(opts, envNATSOptions()...)
	os.Unsetenv(EnvToken) // not for the programs tasks start
	if mode == "embedded" {
		// The server is in the parent: when the connection goes, so has
		// the parent.
		opts = append(opts, nats.NoReconnect(), nats.ClosedHandler(func(*nats.Conn) { syscall.Exit(0) }))
	} else {
		opts = append(opts, nats.MaxReconnects(-1), nats.RetryOnFailedConnect(true), nats.ReconnectWait(time.Second))
	}
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		fmt.Fprintf(os.Stderr, "deco/cluster: worker: connecting to %s: %v\n", redact(url), err)
		return 1
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	host, _ := os.Hostname()
	w := &worker{
		id:        fmt.Sprintf("%s:%d", host, os.Getpid()),
		build:     fingerprint(),
		slots:     make(chan struct{}, slots),
		nc:        nc,
		ctx:       ctx,
		started:   time.Now(),
		running:   map[string]*running{},
		pullers:   map[*puller]bool{},
		cancelled: map[string]time.Time{},
		gos:       newGoPool(),
		beats:     newBeater(ctx.Done()),
	}
	w.key = w.build + "." + keyToken(host) + "_" + strconv.Itoa(os.Getpid())
	self.Store(w)
	serveStatics(w)
	if local {
		go func() {
			// The lifeline: the parent holds its other end. EOF means
			// the parent closed the executor or died.
			f := os.NewFile(lifeline, "deco-lifeline")
			io.Copy(io.Discard, f)
			syscall.Exit(0)
		}()
	}
	if err := w.setUp(); err != nil {
		fmt.Fprintf(os.Stderr, "deco/cluster: worker %s: %v\n", w.id, err)
		return 1
	}
	if local {
		f := os.NewFile(readyPipe, "deco-ready")
		fmt.Fprintf(f, "%s %d\n", w.build, os.Getpid())
		f.Close()
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
	// Stop taking calls, finish those running, say goodbye.
	w.stop()
	w.wg.Wait()
	dctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if kv, err := w.js.KeyValue(dctx, workersBucket); err == nil {
		kv.Delete(dctx, w.key)
	}
	nc.Drain()
	return 0
}

// keyToken makes s usable in a KV key.
func keyToken(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			b[i] = '-'
		}
	}
	return string(b)
}

// setUp opens the layout (creating it with defaults if no caller has),
// subscribes to cancels and MaxDeliver advisories, starts the presence
// and one pulling goroutine per function.
func (w *worker) setUp() error {
	js, err := jetstream.New(w.nc)
	if err != nil {
		return err
	}
	w.js = js
	ctx, cancel := context.WithTimeout(w.ctx, 30*time.Second)
	defer cancel()
	def, _ := newConfig(nil)
	if w.tasks, err = js.Stream(ctx, tasksStream); err == nil {
		w.results, err = js.KeyValue(ctx, resultsBucket)
	}
	if err != nil {
		if w.tasks, w.results, err = ensureLayout(ctx, js, &def); err != nil {
			return err
		}
	}
	workers, err := js.KeyValue(ctx, workersBucket)
	if err != nil {
		if workers, err = ensureWorkersBucket(ctx, js, jetstream.FileStorage, 1); err != nil {
			return err
		}
	}
	if _, err := w.nc.Subscribe(cancelPrefix+w.build, w.onCancel); err != nil {
		return err
	}
	if _, err := w.nc.QueueSubscribe(maxDeliverSubj, "deco-maxdeliver", w.onMaxDeliver); err != nil {
		return err
	}
	fns := names()
	for _, name := range fns {
		// The first puller here, so that set-up errors are reported;
		// pull makes new ones if the server ends one.
		cons, it, err := w.open(ctx, name, &def)
		if err != nil {
			return err
		}
		go w.pull(name, &def, cons, it)
	}
	if err := w.nc.FlushWithContext(ctx); err != nil {
		return err
	}
	w.announce(workers, len(fns), cap(w.slots))
	return nil
}

// open makes (or finds) the consumer of name and a puller of its calls.
func (w *worker) open(ctx context.Context, name string, def *config) (jetstream.Consumer, *puller, error) {
	cons, err := ensureConsumer(ctx, w.js, w.build, name, def, false)
	if err != nil {
		return nil, nil, err
	}
	// Not nats.go's iterator: its buffer held calls unbeaten (see puller).
	p, err := newPuller(w, cons)
	if err != nil {
		return nil, nil, fmt.Errorf("pulling the calls of %s: %w", name, err)
	}
	w.mu.Lock()
	stopping := w.stopping
	if !stopping {
		w.pullers[p] = true
	}
	w.mu.Unlock()
	if stopping {
		p.stop()
	}
	return cons, p, nil
}

// stop stops taking calls.
func (w *worker) stop() {
	w.mu.Lock()
	w.stopping = true
	for p := range w.pullers {
		p.stop()
	}
	w.mu.Unlock()
}

// reconnected tells the pullers that their requests are gone.
func (w *worker) reconnected() {
	w.mu.Lock()
	for p := range w.pullers {
		p.lost()
	}
	w.mu.Unlock()
}

// room is how many calls a puller asks for: the slots free and one to
// hold waiting for a slot (beaten).
func (w *worker) room() int { return cap(w.slots) - len(w.slots) + 1 }

// pull takes the calls of one function as slots free up: it holds one
// call waiting for a slot, and asks for no more meanwhile (see puller),
// so that free workers get the rest. When the server ends the puller
// (the consumer deleted), it opens another, until the worker stops. The goroutine that runs pull runs
// the first call it takes alone, having handed the pulling on to
// another goroutine (see take).
func (w *worker) pull(name string, def *config, cons jetstream.Consumer, it *puller) {
	for {
		if !w.take(name, def, cons, it) {
			return // another goroutine pulls now
		}
		w.mu.Lock()
		delete(w.pullers, it)
		stopping := w.stopping
		w.mu.Unlock()
		if stopping || w.ctx.Err() != nil {
			return
		}
		for {
			time.Sleep(250 * time.Millisecond)
			ctx, cancel := context.WithTimeout(w.ctx, 10*time.Second)
			var err error
			cons, it, err = w.open(ctx, name, def)
			cancel()
			if err == nil || w.ctx.Err() != nil {
				break
			}
		}
		if w.ctx.Err() != nil {
			return
		}
	}
}

// take runs the calls the puller yields, and reports true when it
// ends; or, given a call alone (not a pack), it hands the pulling on to
// another goroutine, runs the call in this one, and reports false.
func (w *worker) take(name string, def *config, cons jetstream.Consumer, it *puller) bool {
	for {
		msg, stop, err := it.next(w.room())
		if err != nil {
			it.stop()
			return true
		}
		if msg.Headers().Get(hdrPack) != "" {
			w.runPack(msg, stop)
			continue
		}
		w.slots <- struct{}{}
		w.wg.Add(1)
		// The call runs here and another goroutine pulls the next ones,
		// rather than the call being handed to another goroutine: it
		// starts without waiting for a goroutine switch (measured: 26 µs
		// from nats.go's iterator to the call's start, of a no-op round trip of
		// 570 µs). A task that ends its goroutine with runtime.Goexit
		// ends this one, not the pulling.
		w.gos.Go(func() { w.pull(name, def, cons, it) })
		w.run(msg, stop)
		return false
	}
}

// run runs one call, holding a slot: it writes its outcome with Create
// (the first outcome of a call wins), frees the slot (before the write,
// for a call that ran shorter than quickRun), then acks the call.
// A redelivered call whose outcome is there already runs again (the
// worker cannot know without a read per call), and its outcome is
// dropped: at-least-once execution, exactly-once results.
func (w *worker) run(msg jetstream.Msg, stopBeat func()) {
	defer w.wg.Done()
	slot := true
	free := func() {
		if slot {
			slot = false
			<-w.slots
		}
	}
	defer free()
	w.call(msg, stopBeat, free)
}

// call is run of one call, in a slot that free gives back (a runner of a
// pack gives a free that does nothing: it keeps the slot for the pack's
// next call). stopBeat is called when the call is answered; a quick call
// of a pack returns before its outcome is written, and the pack's writer
// answers it.
func (w *worker) call(msg jetstream.Msg, stopBeat func(), free func()) {
	beating := true
	defer func() {
		if beating {
			stopBeat()
		}
	}()
	h := msg.Headers()
	key, name := h.Get(hdrKey), h.Get(hdrFunc)
	if key == "" || name == "" {
		msg.TermWithReason("deco: not a deco call")
		return
	}
	ctx, cancel := context.WithCancel(w.ctx)
	defer cancel()
	if !w.begin(key, name, h.Get(hdrCall), cancel) {
		msg.Ack() // cancelled before it ran: nobody waits for it
		return
	}
	defer w.end(key)
	env := &envelope{worker: w.id, arg: h.Get(hdrArg)}
	if refs := h.Get(hdrStatics); refs != "" {
		// Wait until the calls running here have the same Statics' values.
		names, err := w.refsOf(refs)
		if err == nil {
			err = bound.bind(ctx, refs, names)
		}
		if err != nil && ctx.Err() != nil {
			msg.Ack() // cancelled while it waited: nobody waits for it
			return
		}
		if err != nil {
			env.kind, env.msg = kindNotRun, err.Error()
			if w.write(key, env, resultTTL(h)) {
				free()
				msg.Ack()
			}
			return
		}
		defer bound.unbind()
	}
	var timeout time.Duration
	if v := h.Get(hdrTimeout); v != "" {
		timeout, _ = time.ParseDuration(v)
	}
	type ran struct {
		out        []byte
		err        error
		goexit     bool
		start, end int64 // the run, for the caller's timeline
	}
	w.executed.Add(1)
	// answer writes the outcome of r, or of a timeout (the task still
	// runs, and ends on done), and acks the call.
	answer := func(r ran, timedOut bool, done <-chan ran) {
		switch {
		case timedOut:
			env.kind, env.timeout = kindTimedOut, timeout
		case r.goexit:
			env.kind = kindGoexit
		case r.err != nil:
			env.kind, env.msg = kindNotRun, r.err.Error()
		default:
			env.kind, env.outcome = kindOutcome, r.out
			env.start, env.end = r.start, r.end
		}
		ttl := resultTTL(h)
		quick := !timedOut && env.kind == kindOutcome && time.Duration(env.end-env.start) < quickRun
		if quick {
			// A quick call frees its slot before its outcome's write, so
			// that the next call runs while the write travels. A longer one
			// keeps it until the outcome is stored: the next call, as long,
			// would otherwise take the core from the write (and from the
			// connection's goroutines it needs), and outcomes of CPU-bound
			// calls would trail their runs by many calls.
			free()
		}
		stored := false
		pm, ok := msg.(*packMsg)
		if ok {
			pm.wrote = true
		}
		if ok && !timedOut && (quick || pm.out.others()) {
			// Written with the pack's other outcomes, while its other
			// calls run here (a long call's outcome waits for those of the
			// calls running or to start, up to packOutcomeHold; the last
			// call's goes at once, with the outcomes held).
			beating = false
			pm.out.writeThen(pm.call.key, env, false, func(stored bool) {
				if stored {
					msg.Ack()
				}
				stopBeat()
			})
			return
		} else if ok {
			stored = pm.out.write(pm.call.key, env) // with the pack's other outcomes
		} else {
			stored = w.write(key, env, ttl)
		}
		if !stored {
			return // the worker is stopping: the call goes to another one
		}
		if timedOut {
			<-done // the task keeps its slot until it returns
		}
		free()
		// A plain ack, not DoubleAck: a lost ack redelivers the call, whose
		// Create then finds the outcome there and acks again; waiting for
		// the server's confirmation cost a round trip per call.
		msg.Ack()
	}
	if timeout <= 0 {
		// No timeout: the task runs in this goroutine, not handed to
		// another and back. A task that ends it with runtime.Goexit is
		// answered from this deferred function, as the goroutine ends.
		exited := true
		defer func() {
			if exited {
				answer(ran{goexit: true}, false, nil)
			}
		}()
		start := time.Now().UnixNano()
		out, err := invoke(ctx, name, msg.Data())
		exited = false
		answer(ran{out: out, err: err, start: start, end: time.Now().UnixNano()}, false, nil)
		return
	}
	done := make(chan ran, 1)
	w.gos.Go(func() {
		returned := false
		defer func() {
			if !returned {
				done <- ran{goexit: true}
			}
		}()
		start := time.Now().UnixNano()
		out, err := invoke(ctx, name, msg.Data())
		returned = true
		done <- ran{out: out, err: err, start: start, end: time.Now().UnixNano()}
	})
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case r := <-done:
		answer(r, false, done)
	case <-t.C:
		cancel()
		answer(ran{}, true, done)
	}
}

// quickRun is the run time under which a call frees its slot before its
// outcome is written: about a round trip of the server.
const quickRun = 250 * time.Microsecond

// write stores env as key's outcome unless an outcome is there already,
// retrying while the server is away. It reports false if the worker
// stopped first.
func (w *worker) write(key string, env *envelope, ttl time.Duration) bool {
	return w.writeValue(key, env.encode(), ttl)
}

// writeValue is write of an encoded value.
func (w *worker) writeValue(key string, v []byte, ttl time.Duration) bool {
	wait := 50 * time.Millisecond
	for {
		ctx, cancel := context.WithTimeout(w.ctx, 5*time.Second)
		err := w.create(ctx, key, v, ttl)
		cancel()
		if err == nil || errors.Is(err, jetstream.ErrKeyExists) {
			return true
		}
		if errors.Is(err, nats.ErrConnectionClosed) {
			return false // the worker is ending
		}
		if !retryable(err) {
			fmt.Fprintf(os.Stderr, "deco/cluster: worker %s: writing the outcome of %s: %v\n", w.id, key, err)
			return false
		}
		select {
		case <-w.ctx.Done():
			return false
		case <-time.After(wait):
		}
		wait = min(2*wait, time.Second)
	}
}

// create is the results bucket's Create of key: a publish expecting no
// entry of key before, read with jsPublish; when one is there, the
// bucket's Create, which tells an outcome (ErrKeyExists) from a delete
// or expiry marker (written over).
func (w *worker) create(ctx context.Context, key string, v []byte, ttl time.Duration) error {
	m := &nats.Msg{Subject: resultsPrefix + key, Header: nats.Header{}, Data: v}
	m.Header.Set(jetstream.ExpectedLastSubjSeqHeader, "0")
	if ttl > 0 {
		m.Header.Set(jetstream.MsgTTLHeader, ttl.String())
	}
	_, _, err := jsPublish(ctx, w.nc, m)
	if err == nil || !errors.Is(err, jetstream.ErrKeyExists) {
		return err
	}
	_, err = w.results.Create(ctx, key, v, jetstream.KeyTTL(ttl))
	return err
}

// begin records a call as running; it reports false if the call was
// cancelled before it started.
func (w *worker) begin(key, name, call string, cancel context.CancelFunc) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.cancelled[key]; ok {
		delete(w.cancelled, key)
		return false
	}
	w.running[key] = &running{Func: name, Call: call, Key: key, Since: time.Now(), cancel: cancel}
	return true
}

func (w *worker) end(key string) {
	w.mu.Lock()
	delete(w.running, key)
	w.mu.Unlock()
}

// onCancel cancels a running call, or remembers the key for a minute in
// case the call is about to start here.
func (w *worker) onCancel(m *nats.Msg) {
	key := string(m.Data)
	w.mu.Lock()
	defer w.mu.Unlock()
	if r, ok := w.running[key]; ok {
		r.cancel()
		return
	}
	now := time.Now()
	for k, t := range w.cancelled {
		if now.Sub(t) > time.Minute {
			delete(w.cancelled, k)
		}
	}
	w.cancelled[key] = now
}

// maxDeliveries is the advisory JetStream sends when a call has been
// delivered MaxDeliver times without an ack.
type maxDeliveries struct {
	Stream     string `json:"stream"`
	Consumer   string `json:"consumer"`
	StreamSeq  uint64 `json:"stream_seq"`
	Deliveries uint64 `json:"deliveries"`
}

// onMaxDeliver answers a call that killed its workers MaxDeliver times
// with an error outcome, and removes it from the stream (where a work
// queue would keep it for ever). One worker of the queue group gets each
// advisory.
func (w *worker) onMaxDeliver(m *nats.Msg) {
	var a maxDeliveries
	if json.Unmarshal(m.Data, &a) != nil || a.Stream != tasksStream {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(w.ctx, 10*time.Second)
		defer cancel()
		raw, err := w.tasks.GetMsg(ctx, a.StreamSeq)
		if err != nil {
			return // answered and removed already
		}
		key := raw.Header.Get(hdrKey)
		if key == "" {
			return
		}
		ttl, err := time.ParseDuration(raw.Header.Get(hdrTTL))
		if err != nil || ttl < time.Second {
			ttl = ephemeralMaxTTL
		}
		env := &envelope{kind: kindKilled, worker: w.id, arg: raw.Header.Get(hdrArg), deliveries: a.Deliveries}
		if raw.Header.Get(hdrPack) != "" {
			// A pack whose workers died: its calls go on alone.
			if w.splitDead(raw.Subject, raw.Header, raw.Data) {
				w.tasks.DeleteMsg(ctx, a.StreamSeq)
			}
			return
		}
		if w.write(key, env, ttl) {
			w.tasks.DeleteMsg(ctx, a.StreamSeq)
		}
	}()
}

// announce keeps the worker's entry in the workers bucket fresh. Its
// first entry is written before it returns, so that a worker is listed
// as soon as it serves.
func (w *worker) announce(kv jetstream.KeyValue, funcs, slots int) {
	w.announceOnce(kv, funcs, slots)
	go func() {
		t := time.NewTicker(workersTTL / 3)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				w.announceOnce(kv, funcs, slots)
			case <-w.ctx.Done():
				return
			}
		}
	}()
}

func (w *worker) announceOnce(kv jetstream.KeyValue, funcs, slots int) {
	host, _ := os.Hostname()
	w.mu.Lock()
	p := presence{ID: w.id, Host: host, PID: os.Getpid(), Build: w.build, Funcs: funcs, Slots: slots,
		Started: w.started, Executed: w.executed.Load()}
	for _, r := range w.running {
		p.Running = append(p.Running, r)
	}
	w.mu.Unlock()
	b, _ := json.Marshal(p)
	ctx, cancel := context.WithTimeout(w.ctx, workersTTL/3)
	kv.Put(ctx, w.key, b)
	cancel()
}
