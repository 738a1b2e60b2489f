package cluster

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"
)

// Executor runs calls of named deco functions on workers that pull them
// from NATS JetStream: local worker processes (the program's own binary)
// with an embedded server by default, or any number of workers on other
// machines with [URL]. It implements deco's executor interface: give it to
// a function with deco.On, or set DECO_EXECUTOR=nats:local or
// DECO_EXECUTOR=nats://host:port.
//
// Nothing starts in [New]: the first call (or [Executor.Start]) starts
// the embedded server and the local workers, or connects, and the
// executor stays up until [Executor.Close]. After Close the next call
// starts it again.
//
// A call is published to the tasks stream and its caller waits for its
// result in the results bucket; see the package documentation for the
// semantics (at-least-once execution, exactly-once results) and costs.
//
// An Executor is safe for concurrent use, by any number of functions.
type Executor struct {
	cfg   config
	local bool // this process is a worker: calls run here

	mu      sync.Mutex
	s       *session
	err     error // why the session could not start; calls fail with it until Close
	closing chan struct{}

	stats counters
}

type counters struct {
	published, duplicates, collected, cancelled, removed atomic.Int64
	staticPuts, packs                                    atomic.Int64
}

// New returns an executor configured by opts. It starts nothing, so it
// may initialise a package-level variable:
//
//	var nats = cluster.New()
//	var resize = deco.ConcurrentValue(resizeImage, deco.Name("resize"), deco.On(nats))
//
// New panics if an option is invalid, naming it. In a worker process, New
// returns an executor that runs its calls in that process, so a worker
// never sends calls to workers of its own.
func New(opts ...Option) *Executor {
	cfg, err := newConfig(opts)
	if err != nil {
		panic(err.Error())
	}
	return &Executor{cfg: cfg, local: inWorker()}
}

// Workers reports the default limit of the functions that run on e:
// calls in flight per function, as [InFlight] sets it.
func (e *Executor) Workers() int { return e.cfg.inFlight }

// Stats is what [Executor.Stats] reports; counts are since New.
type Stats struct {
	Published  int64 // calls published to the tasks stream
	Duplicates int64 // publishes JetStream dropped as duplicates (a Durable batch re-submitted)
	Collected  int64 // calls of Durable batches whose result was there already: not run again
	Cancelled  int64 // calls whose context ended while they waited for their result
	Removed    int64 // of those, calls still queued, removed from the stream before any worker took them
	Workers    int   // local worker processes alive and serving
	Restarts   int64 // local worker processes started again after they died
	StaticPuts int64 // Static values put into the object store (once per value, unless another caller had)
	Packs      int64 // messages of several calls published (calls that queued behind busy workers while a publish was in flight; see Pack)
}

// Stats returns a snapshot of e's statistics.
func (e *Executor) Stats() Stats {
	st := Stats{
		Published:  e.stats.published.Load(),
		Duplicates: e.stats.duplicates.Load(),
		Collected:  e.stats.collected.Load(),
		Cancelled:  e.stats.cancelled.Load(),
		Removed:    e.stats.removed.Load(),
		StaticPuts: e.stats.staticPuts.Load(),
		Packs:      e.stats.packs.Load(),
	}
	if s := e.running(); s != nil && s.local != nil {
		st.Workers = len(s.local.pids())
		st.Restarts = s.local.restarts.Load()
	}
	return st
}

// PIDs returns the process IDs of the local workers that serve calls now.
func (e *Executor) PIDs() []int {
	s := e.running()
	if s == nil || s.local == nil {
		return nil
	}
	return s.local.pids()
}

// URL returns the URL workers connect to: the embedded server's (with its
// token, which local workers get in their environment, not in the URL) or
// the one given with [URL]. It starts e if it is not running.
func (e *Executor) URL() (string, error) {
	s, err := e.session()
	if err != nil {
		return "", err
	}
	return s.url, nil
}

// Start starts the embedded server and the local workers, or connects to
// the server, and waits until the local workers serve calls. Calls do not
// need it; it moves the start-up out of the first call and reports its
// errors.
func (e *Executor) Start() error {
	if e.local {
		return nil
	}
	s, err := e.session()
	if err != nil {
		return err
	}
	if s.local != nil {
		return s.local.waitReady(s.closed)
	}
	return nil
}

// Close stops e: calls waiting for their results fail with [ErrClosed]
// (they may still run on workers, and their results expire with
// [ResultTTL]), local worker processes exit, the connection closes and
// the embedded server shuts down. Close waits until every process and
// goroutine e started has ended. The next call starts e again. Close
// always returns nil.
func (e *Executor) Close() error {
	e.mu.Lock()
	s := e.s
	e.s, e.err = nil, nil
	e.mu.Unlock()
	if s != nil {
		s.close()
	}
	return nil
}

// running returns e's session, nil if e is not running; unlike session,
// it never starts one.
func (e *Executor) running() *session {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.s
}

// session returns e's session, starting it if e is not running.
func (e *Executor) session() (*session, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.s != nil {
		select {
		case <-e.s.broken:
			return nil, e.s.brokenErr
		default:
		}
		return e.s, nil
	}
	if e.err != nil {
		return nil, e.err
	}
	s, err := startSession(e)
	if err != nil {
		e.err = err
		return nil, err
	}
	e.s = s
	return s, nil
}

// Execute runs a call of the function name with the encoded argument arg
// on a worker, and returns its encoded outcome. It blocks until the
// result is in, ctx is done, or e is closed; see the package
// documentation for what happens on the way.
func (e *Executor) Execute(ctx context.Context, name string, arg []byte) ([]byte, error) {
	if e.local {
		return invoke(ctx, name, arg)
	}
	s, err := e.session()
	if err != nil {
		return nil, err
	}
	return s.execute(ctx, name, arg)
}

// session is a running executor: the server or connection, the layout,
// the local workers and the callers' result watch.
type session struct {
	e     *Executor
	cfg   *config
	emb   *embedded
	url   string
	nc    *nats.Conn
	js    jetstream.JetStream
	tasks jetstream.Stream
	kv    jetstream.KeyValue
	build string
	funcs map[string]bool // the functions of the build, when it started
	id    string
	seq   atomic.Uint64
	local *localWorkers

	mu        sync.Mutex
	waiters   map[string]chan []byte
	watched   map[string]jetstream.ConsumeContext // result watches, by key prefix
	consumers map[string]*consumerInit            // functions whose consumer this session made (or makes)
	statics   staticState
	packers   map[string]*packer // by function
	packOf    map[string]string  // awaited call key → its pack's id
	packSeq   atomic.Uint64
	tracked   map[string]inStream // awaited call key → its message (see sweepDead)
	suspects  map[uint64]bool     // messages sweepDead found passed by their consumer, still in the stream; the sweeper's own

	closed    chan struct{}
	broken    chan struct{} // closed when local workers cannot start
	brokenErr error
	brokeOnce sync.Once
	sweepNow  chan struct{}
	wg        sync.WaitGroup
	closeOnce sync.Once
}

func startSession(e *Executor) (*session, error) {
	cfg := &e.cfg
	s := &session{
		e: e, cfg: cfg,
		build:     fingerprint(),
		funcs:     map[string]bool{},
		id:        "s." + nuid.Next(),
		waiters:   map[string]chan []byte{},
		watched:   map[string]jetstream.ConsumeContext{},
		consumers: map[string]*consumerInit{},
		closed:    make(chan struct{}),
		broken:    make(chan struct{}),
		sweepNow:  make(chan struct{}, 1),
	}
	for _, n := range names() {
		s.funcs[n] = true
	}
	ok := false
	defer func() {
		if !ok {
			s.close()
		}
	}()
	nopts := []nats.Option{
		nats.Name("deco caller"),
		nats.Timeout(cfg.connWait),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250 * time.Millisecond),
		nats.ReconnectHandler(func(*nats.Conn) { s.kick() }),
	}
	if cfg.url == "" {
		emb, err := startEmbedded(cfg)
		if err != nil {
			return nil, err
		}
		s.emb, s.url = emb, emb.url
		nopts = append(nopts, nats.InProcessServer(emb.srv), nats.Token(emb.token))
	} else {
		s.url = cfg.url
		nopts = append(nopts, envNATSOptions()...)
		nopts = append(nopts, cfg.natsOpts...)
	}
	nc, err := connect(s.url, cfg.connWait, nopts)
	if err != nil {
		return nil, err
	}
	s.nc = nc
	if s.js, err = jetstream.New(nc); err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.connWait)
	defer cancel()
	if s.tasks, s.kv, err = ensureLayout(ctx, s.js, cfg); err != nil {
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, jetstream.ErrJetStreamNotEnabled) || errors.Is(err, nats.ErrNoResponders) {
			return nil, fmt.Errorf("cluster: the server at %s does not answer JetStream requests (is JetStream enabled?): %w", redact(s.url), err)
		}
		return nil, err
	}
	if err := s.watch(ctx, s.id); err != nil {
		return nil, err
	}
	s.wg.Add(1)
	go s.sweeper()
	if cfg.workers > 0 {
		s.local = startLocalWorkers(s, cfg.workers, cfg.slots)
	}
	ok = true
	return s, nil
}

// connect connects to url, bounded by wait, with an error that names the
// server and what failed.
func connect(url string, wait time.Duration, opts []nats.Option) (*nats.Conn, error) {
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		switch {
		case errors.Is(err, nats.ErrAuthorization), errors.Is(err, nats.ErrAuthExpired), errors.Is(err, nats.ErrAuthRevoked):
			return nil, fmt.Errorf("cluster: connecting to %s: the server refused the credentials: %w", redact(url), err)
		case errors.Is(err, nats.ErrNoServers):
			return nil, fmt.Errorf("cluster: connecting to %s: no server answered within %v: %w", redact(url), wait, err)
		}
		return nil, fmt.Errorf("cluster: connecting to %s: %w", redact(url), err)
	}
	return nc, nil
}

// redact hides a password or token in url.
func redact(url string) string {
	scheme, rest, ok := strings.Cut(url, "://")
	if !ok {
		return url
	}
	if _, host, ok := strings.Cut(rest, "@"); ok {
		return scheme + "://***@" + host
	}
	return url
}

// watch makes the session receive the results whose keys start with
// prefix: an ordered consumer of the results bucket's stream, from now
// on (results already there are read with Get). It recovers from a lost
// connection or server by itself, from the last result it saw.
func (s *session) watch(ctx context.Context, prefix string) error {
	s.mu.Lock()
	_, ok := s.watched[prefix]
	s.mu.Unlock()
	if ok {
		return nil
	}
	cons, err := s.js.OrderedConsumer(ctx, resultsStream, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{resultsPrefix + prefix + ".>"},
		DeliverPolicy:  jetstream.DeliverNewPolicy,
	})
	if err != nil {
		return fmt.Errorf("cluster: watching results: %w", err)
	}
	cc, err := cons.Consume(func(m jetstream.Msg) {
		if len(m.Data()) == 0 {
			return // a delete or expiry marker
		}
		s.deliver(m.Subject()[len(resultsPrefix):], m.Data())
	})
	if err != nil {
		return fmt.Errorf("cluster: watching results: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.watched[prefix]; ok {
		cc.Stop()
		return nil
	}
	s.watched[prefix] = cc
	return nil
}

func (s *session) deliver(key string, v []byte) {
	if s.isPart(key) {
		s.deliverPart(v)
		return
	}
	s.mu.Lock()
	ch := s.waiters[key]
	s.mu.Unlock()
	if ch != nil {
		select {
		case ch <- v:
		default: // delivered already
		}
	}
}

// kick asks the sweeper to look up every awaited result now.
func (s *session) kick() {
	select {
	case s.sweepNow <- struct{}{}:
	default:
	}
}

// sweeper looks awaited results up by key every few seconds and after a
// reconnection: a safety net under the watch, which cannot miss a result
// while the connection holds. On its ticks it looks up only the calls
// (and packs) that were awaited at the tick before too: a younger one is
// looked up at the next tick, if it is still awaited then, so that a busy
// caller's short calls cost no request each.
func (s *session) sweeper() {
	defer s.wg.Done()
	t := time.NewTicker(3 * time.Second)
	defer t.Stop()
	var before, packsBefore map[string]bool // awaited at the last sweep
	for {
		all := false
		select {
		case <-s.closed:
			return
		case <-t.C:
		case <-s.sweepNow:
			all = true // a reconnection: results may have been missed
		}
		s.mu.Lock()
		keys := make([]string, 0, len(s.waiters))
		for k := range s.waiters {
			keys = append(keys, k)
		}
		s.mu.Unlock()
		now := make(map[string]bool, len(keys))
		for _, k := range keys {
			now[k] = true
			if !all && !before[k] {
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			ent, err := s.kv.Get(ctx, k)
			cancel()
			if err == nil && len(ent.Value()) > 0 {
				s.deliver(k, ent.Value())
			}
		}
		before = now
		packsBefore = s.sweepPacks(packsBefore, all)
		s.sweepDead()
	}
}

// ensureConsumer makes sure name's consumer exists, once per session: the
// first call of a function asks the server, and the calls that start
// meanwhile wait for its answer rather than each asking too (a burst of
// first calls would otherwise queue as many requests, and time out on a
// busy server). They share its error; a later call asks again.
func (s *session) ensureConsumer(ctx context.Context, name string) error {
	s.mu.Lock()
	c := s.consumers[name]
	if c == nil {
		c = &consumerInit{done: make(chan struct{})}
		s.consumers[name] = c
		s.mu.Unlock()
		// Not under the caller's ctx: the calls waiting share the answer.
		rctx, cancel := context.WithTimeout(context.Background(), s.cfg.connWait)
		_, err := ensureConsumer(rctx, s.js, s.build, name, s.cfg, true)
		cancel()
		if err != nil {
			err = fmt.Errorf("cluster: setting up the consumer of %s: %w", name, err)
			s.mu.Lock()
			delete(s.consumers, name)
			s.mu.Unlock()
		}
		c.err = err
		close(c.done)
		return err
	}
	s.mu.Unlock()
	select {
	case <-c.done:
		return c.err
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-s.closed:
		return ErrClosed
	}
}

// consumerInit is a session's setting up of a function's consumer.
type consumerInit struct {
	done chan struct{} // closed when it ended
	err  error         // why it failed, after done
}

func (s *session) execute(ctx context.Context, name string, arg []byte) ([]byte, error) {
	info := callOf(ctx)
	if !info.ok {
		info.fn, info.index = name, -1
	}
	durable, isDurable, err := durableOf(ctx)
	if err != nil {
		return nil, err
	}
	if !s.funcs[name] {
		// No worker of this build has it: its calls would wait for ever.
		return nil, fmt.Errorf("cluster: %s was decorated after the executor started (inside main or a test?): workers find functions by name among those decorated at package level, so they would never take its calls", name)
	}
	if err := s.ensureConsumer(ctx, name); err != nil {
		return nil, s.ctxOr(ctx, err)
	}
	var key, argHash string
	ttl := min(s.cfg.ttl, ephemeralMaxTTL)
	if isDurable {
		if info.index < 0 {
			return nil, fmt.Errorf("cluster: %s: a Durable batch's calls need their index: start them with GoContext or in a Synchronized scope", name)
		}
		prefix := "d." + durable + "." + funcToken(name)
		if err := s.watch(ctx, prefix); err != nil {
			return nil, s.ctxOr(ctx, err)
		}
		key = prefix + "." + strconv.Itoa(info.index)
		h := sha256.Sum256(arg)
		argHash = hex.EncodeToString(h[:12])
		ttl = s.cfg.ttl
	} else {
		key = s.id + "." + strconv.FormatUint(s.seq.Add(1), 10)
	}
	ch := make(chan []byte, 1)
	s.mu.Lock()
	s.waiters[key] = ch
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.waiters, key)
		delete(s.packOf, key)
		delete(s.tracked, key)
		s.mu.Unlock()
	}()
	if isDurable {
		// The watch is on: a result written from now on arrives on ch,
		// one written before is in the bucket.
		ent, err := s.kv.Get(ctx, key)
		if err == nil && len(ent.Value()) > 0 {
			s.e.stats.collected.Add(1)
			return s.outcome(ctx, ent.Value(), info, argHash, durable, true)
		}
		if err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
			return nil, s.ctxOr(ctx, fmt.Errorf("cluster: %s call #%d: reading durable batch %q: %w", name, info.index, durable, err))
		}
	}
	refs, err := s.staticRefs(ctx)
	if err != nil {
		return nil, s.ctxOr(ctx, fmt.Errorf("%w (call #%d of %s)", err, info.index, name))
	}
	m := nats.NewMsg(taskSubject(s.build, name))
	m.Header.Set(hdrKey, key)
	m.Header.Set(hdrFunc, name)
	m.Header.Set(hdrCall, strconv.Itoa(info.index))
	if ttl != ephemeralMaxTTL { // a worker's default: headers cost on every hop
		m.Header.Set(hdrTTL, ttl.String())
	}
	if s.cfg.timeout > 0 {
		m.Header.Set(hdrTimeout, s.cfg.timeout.String())
	}
	if s.cfg.ackWait != defaultAckWait {
		// The consumer's AckWait is the one its last caller set, which a
		// worker that opened it before does not see.
		m.Header.Set(hdrAckWait, s.cfg.ackWait.String())
	}
	if argHash != "" {
		m.Header.Set(hdrArg, argHash)
	}
	if refs != "" {
		m.Header.Set(hdrStatics, refs)
	}
	m.Data = arg
	var seq uint64
	var pk *pack
	if isDurable {
		seq, err = s.publish(ctx, m, key)
	} else {
		p := s.packerOf(name)
		p.inFlight.Add(1)
		defer p.inFlight.Add(-1)
		seq, pk, err = s.submit(ctx, p, m, key, info.index)
		s.packed(key, pk)
	}
	if err != nil {
		return nil, fmt.Errorf("cluster: %s call #%d: %w", name, info.index, err)
	}
	if pk != nil {
		s.track(key, name, pk.seq)
	} else {
		s.track(key, name, seq)
	}
	select {
	case v := <-ch:
		return s.outcome(ctx, v, info, argHash, durable, false)
	case <-ctx.Done():
		s.cancel(key, seq)
		s.cancelInPack(pk)
		return nil, context.Cause(ctx)
	case <-s.closed:
		return nil, ErrClosed
	case <-s.broken:
		return nil, s.brokenErr
	}
}

// ctxOr returns ctx's cause when ctx is done (err is then its
// consequence), else err.
func (s *session) ctxOr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	return err
}

// outcome turns a result's envelope into Execute's return values, and
// tells deco which worker ran the call, unless the result was collected
// from an earlier run of a durable batch: that call ran in no worker
// now, and stays on its pool's lane in the caller's stats and timeline.
func (s *session) outcome(ctx context.Context, v []byte, info callInfo, argHash, durable string, collected bool) ([]byte, error) {
	env, err := decodeEnvelope(v)
	if err != nil {
		return nil, fmt.Errorf("cluster: %s call #%d: %w", info.fn, info.index, err)
	}
	if argHash != "" && env.arg != argHash {
		return nil, fmt.Errorf("cluster: %s call #%d of durable batch %q: its argument differs from the one submitted under this name and index before (a durable batch must make the same calls in the same order)", info.fn, info.index, durable)
	}
	if !collected && env.kind != kindKilled && env.kind != kindNotRun { // a killed call's worker only noticed it
		ran(ctx, env.worker, env.start, env.end)
	}
	return env.result(info.fn, info.index)
}

// publish publishes m with key as its message ID, again and again while
// the server cannot be reached (the ID makes that harmless), and returns
// its stream sequence (0 for a duplicate).
func (s *session) publish(ctx context.Context, m *nats.Msg, key string) (uint64, error) {
	wait := 50 * time.Millisecond
	m.Header.Set(jetstream.MsgIDHeader, key)
	for {
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		seq, duplicate, err := jsPublish(pctx, s.nc, m)
		cancel()
		if err == nil {
			s.e.stats.published.Add(1)
			if duplicate {
				s.e.stats.duplicates.Add(1)
				return 0, nil
			}
			return seq, nil
		}
		if ctx.Err() != nil {
			return 0, context.Cause(ctx)
		}
		if !retryable(err) {
			return 0, fmt.Errorf("publishing the call: %w", err)
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return 0, context.Cause(ctx)
		case <-s.closed:
			return 0, ErrClosed
		}
		wait = min(2*wait, time.Second)
	}
}

// retryable reports whether a failed publish or write may succeed later:
// the connection or server is away, not the request at fault.
func retryable(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout) ||
		errors.Is(err, nats.ErrNoResponders) || errors.Is(err, jetstream.ErrNoStreamResponse) ||
		errors.Is(err, nats.ErrConnectionReconnecting) || errors.Is(err, nats.ErrDisconnected) ||
		errors.Is(err, jetstream.ErrJetStreamNotEnabled) || errors.Is(err, jetstream.ErrJetStreamNotEnabledForAccount)
}

// cancel removes a queued call from the stream, and tells the workers to
// cancel it if one runs it already (or is about to).
func (s *session) cancel(key string, seq uint64) {
	s.e.stats.cancelled.Add(1)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	// The notice first, also for a call that is removed next: a worker
	// may hold it already, waiting for a slot.
	s.nc.Publish(cancelPrefix+s.build, []byte(key))
	if seq != 0 {
		if err := s.tasks.DeleteMsg(ctx, seq); err == nil {
			s.e.stats.removed.Add(1)
		}
	}
}

func (s *session) close() {
	s.closeOnce.Do(func() {
		close(s.closed)
		if s.local != nil {
			s.local.stop()
		}
		s.mu.Lock()
		for _, cc := range s.watched {
			cc.Stop()
		}
		s.mu.Unlock()
		s.wg.Wait()
		if s.nc != nil {
			s.nc.Close()
		}
		if s.emb != nil {
			s.emb.stop()
		}
	})
}

// breakWith fails the calls waiting with err, and every call until Close.
func (s *session) breakWith(err error) {
	s.brokeOnce.Do(func() { s.brokenErr = err; close(s.broken) })
}
