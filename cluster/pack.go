package cluster

// Packs: calls of one function that wait to be published while another
// publish of it is in flight go together in the next messages, so that a
// busy caller pays one publish, one delivery and one ack per pack rather
// than per call. A call alone is published alone, at once: packing adds
// no wait to a call that a worker could start now. Each call of a pack
// keeps its own result key (results stay exactly once per call), its own
// slot on the worker, its own cancellation; a pack delivered a second
// time (its worker died) is split into single calls, so that MaxDeliver
// counts the deliveries of each call and a call that kills its workers
// is the one that fails.

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

const (
	hdrPack      = "Deco-Pack" // the number of calls in a pack message
	hdrMore      = "Deco-More" // on a pack published with more calls queued behind it
	packMaxBytes = 512 << 10   // a pack's body, below NATS's default 1 MiB payload
)

// packWaitFor, in tests, makes the next publish wait (up to 5 s) until
// that many calls are queued, so that they go in one pack.
var packWaitFor atomic.Int32

// packer publishes a function's calls, packing those that queue up.
type packer struct {
	inFlight atomic.Int64 // the function's calls submitted and not returned

	mu    sync.Mutex
	queue []*queued
	busy  bool // a goroutine publishes
}

// queued is a call waiting for its publish.
type queued struct {
	m     *nats.Msg // the call's message, as published alone
	key   string
	index int
	done  chan published
}

type published struct {
	seq  uint64 // of a call published alone (0 for a duplicate or a pack)
	pack *pack
	err  error
}

// pack is a published pack, for cancellation: when all its calls are
// cancelled, it is removed from the stream.
type pack struct {
	id        string
	seq       uint64
	n         int32
	cancelled atomic.Int32
}

func (s *session) packerOf(name string) *packer {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.packers == nil {
		s.packers = map[string]*packer{}
	}
	p := s.packers[name]
	if p == nil {
		p = &packer{}
		s.packers[name] = p
	}
	return p
}

// submit publishes m (the call key of index, of p's function) alone if
// the function has at most packAbove calls in flight (counting this one)
// or no publish of it is in flight, or else in a pack with the calls
// that queue meanwhile, and waits for its publish. A caller whose ctx ends while its
// call waits in the queue returns at once; the call, published later, is
// cancelled on the workers.
func (s *session) submit(ctx context.Context, p *packer, m *nats.Msg, key string, index int) (uint64, *pack, error) {
	if (s.cfg.pack <= 1 || p.inFlight.Load() <= int64(s.cfg.packAbove)) && packWaitFor.Load() == 0 {
		// No packs, or the workers have a slot for this call: alone, at
		// once.
		seq, err := s.publish(ctx, m, key)
		return seq, nil, err
	}
	p.mu.Lock()
	if !p.busy && packWaitFor.Load() == 0 {
		// Alone: published at once, in the caller's goroutine, under its
		// context; calls that queue meanwhile go in a pack after it.
		p.busy = true
		p.mu.Unlock()
		seq, err := s.publish(ctx, m, key)
		p.mu.Lock()
		if len(p.queue) == 0 {
			p.busy = false
			p.mu.Unlock()
		} else {
			p.mu.Unlock()
			s.startFlush(p)
		}
		return seq, nil, err
	}
	q := &queued{m: m, key: key, index: index, done: make(chan published, 1)}
	p.queue = append(p.queue, q)
	start := !p.busy
	p.busy = true
	p.mu.Unlock()
	if start {
		s.startFlush(p)
	}
	select {
	case r := <-q.done:
		return r.seq, r.pack, r.err
	case <-ctx.Done():
		s.cancel(key, 0)
		return 0, nil, context.Cause(ctx)
	case <-s.closed:
		return 0, nil, ErrClosed
	}
}

// startFlush starts a goroutine that publishes p's queue, unless the
// session is closed (the queued calls then fail with ErrClosed).
func (s *session) startFlush(p *packer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-s.closed:
		return
	default:
	}
	s.wg.Add(1)
	go s.flush(p)
}

// flush publishes the packer's queue until it is empty.
func (s *session) flush(p *packer) {
	defer s.wg.Done()
	p.mu.Lock()
	forced := false // by PackNext, in tests: packs of Pack's n, no hold
	if want := int(packWaitFor.Load()); want > 0 {
		for deadline := time.Now().Add(5 * time.Second); len(p.queue) < want && time.Now().Before(deadline); {
			p.mu.Unlock()
			time.Sleep(time.Millisecond)
			p.mu.Lock()
		}
		packWaitFor.Store(0)
		forced = true
	}
	for len(p.queue) > 0 {
		if !forced {
			s.hold(p)
		}
		batch := take(&p.queue, s.packSize(len(p.queue), forced))
		more := len(p.queue) > 0
		p.mu.Unlock()
		s.publishBatch(batch, more)
		p.mu.Lock()
	}
	p.busy = false
	p.mu.Unlock()
}

// packSize is how many of queued calls the next message takes: with
// local workers, a share of the queue per worker (guided self-scheduling:
// large packs while many calls wait, small ones near the end of a batch,
// so that the workers finish together), at most Pack's n; with URL (the
// workers unknown), Pack's n. The share is per worker, not per slot: a
// worker runs a pack on all its slots at once, so a pack of a worker's
// share keeps it as busy as that many calls alone would, in fewer
// messages (a share per slot, at 2 slots per worker, made 14 packs of a
// queue of 95, 9 now, and BenchmarkCPU's server 38% more messages).
func (s *session) packSize(queued int, forced bool) int {
	n := max(s.cfg.pack, 2) // 2: PackNext packs also under Pack(1)
	if w := s.cfg.workers; w > 0 && !forced {
		n = min(n, (queued+w-1)/w)
	}
	return max(n, 1)
}

// hold waits, with p.mu held on entry and return, while calls still
// join p's queue (up to packHold): they queue behind busy workers, so a
// pack that takes them costs them no time, and saves a message each.
func (s *session) hold(p *packer) {
	if s.cfg.pack <= 1 {
		return
	}
	for deadline := time.Now().Add(packHold); len(p.queue) < s.cfg.pack*max(s.cfg.workers*s.cfg.slots, 1); {
		n := len(p.queue)
		p.mu.Unlock()
		time.Sleep(packHoldStep)
		p.mu.Lock()
		if len(p.queue) == n || time.Now().After(deadline) {
			return
		}
	}
}

// packHold bounds a pack's wait for more calls; packHoldStep is how
// long the queue may stay unchanged before the pack goes.
const (
	packHold     = 2 * time.Millisecond
	packHoldStep = 100 * time.Microsecond
)

// take removes from the queue the calls of the next message: those with
// the headers of the first, up to most of them and packMaxBytes.
func take(queue *[]*queued, most int) []*queued {
	all := *queue
	n, size := 1, len(all[0].m.Data)
	for n < len(all) && n < most {
		size += len(all[n].m.Data) + len(all[n].key) + 20
		if size > packMaxBytes || !sameHeaders(all[0].m.Header, all[n].m.Header) {
			break
		}
		n++
	}
	batch := all[:n:n]
	*queue = append(all[:0:0], all[n:]...)
	return batch
}

// sameHeaders reports whether two calls' messages differ only in their
// key and index.
func sameHeaders(a, b nats.Header) bool {
	for _, h := range []string{hdrTTL, hdrTimeout, hdrStatics, hdrArg, hdrFunc} {
		if a.Get(h) != b.Get(h) {
			return false
		}
	}
	return true
}

// publishBatch publishes one call alone or several as a pack, and tells
// their callers; more says that calls queue behind it, in the next
// messages.
func (s *session) publishBatch(batch []*queued, more bool) {
	ctx := context.Background() // publish retries end at Close
	if len(batch) == 1 {
		seq, err := s.publish(ctx, batch[0].m, batch[0].key)
		batch[0].done <- published{seq: seq, err: err}
		return
	}
	m := nats.NewMsg(batch[0].m.Subject)
	for k, v := range batch[0].m.Header {
		m.Header[k] = v
	}
	id := s.id + ".p" + strconv.FormatUint(s.packSeq.Add(1), 10)
	m.Header.Set(hdrKey, id)
	m.Header.Set(hdrPack, strconv.Itoa(len(batch)))
	if more {
		m.Header.Set(hdrMore, "1")
	}
	var body []byte
	for _, q := range batch {
		body = appendCall(body, q.key, q.index, q.m.Data)
	}
	m.Data = body
	seq, err := s.publish(ctx, m, id)
	// publish counted the pack as one call: count its calls.
	s.e.stats.published.Add(int64(len(batch) - 1))
	if err == nil {
		s.e.stats.packs.Add(1)
	}
	if seq == 0 && err == nil {
		s.e.stats.duplicates.Add(int64(len(batch) - 1))
	}
	pk := &pack{id: id, seq: seq, n: int32(len(batch))}
	for _, q := range batch {
		q.done <- published{pack: pk, err: err}
	}
}

// cancelInPack removes a pack from the stream once all its calls were
// cancelled.
func (s *session) cancelInPack(pk *pack) {
	if pk == nil || pk.seq == 0 || pk.cancelled.Add(1) != pk.n {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := s.tasks.DeleteMsg(ctx, pk.seq); err == nil {
		s.e.stats.removed.Add(int64(pk.n))
	}
}

// unpack reads a pack message's calls.
func unpack(data []byte, n int) ([]packedCall, error) {
	calls := make([]packedCall, 0, n)
	for range n {
		var c packedCall
		l, k := binary.Uvarint(data)
		if k <= 0 || uint64(len(data)-k) < l {
			return nil, errPack
		}
		c.key, data = string(data[k:k+int(l)]), data[k+int(l):]
		i, k := binary.Varint(data)
		if k <= 0 {
			return nil, errPack
		}
		c.index, data = i, data[k:]
		l, k = binary.Uvarint(data)
		if k <= 0 || uint64(len(data)-k) < l {
			return nil, errPack
		}
		c.arg, data = data[k:k+int(l)], data[k+int(l):]
		calls = append(calls, c)
	}
	if len(data) != 0 {
		return nil, errPack
	}
	return calls, nil
}

var errPack = errors.New("deco: a malformed pack of calls")

type packedCall struct {
	key   string
	index int64
	arg   []byte
}

// header is the call's message header: the pack's, with its key and
// index.
func (c *packedCall) header(pack nats.Header) nats.Header {
	h := make(nats.Header, len(pack))
	for k, v := range pack {
		h[k] = v
	}
	delete(h, hdrPack)
	delete(h, hdrMore)
	h.Set(hdrKey, c.key)
	h.Set(hdrCall, strconv.FormatInt(c.index, 10))
	return h
}

// runPack runs the calls of a pack message and acks the pack when all
// are answered; the pack's heartbeat runs until then. Its calls are run
// by runners, each holding a slot and running the pack's next call until
// none is left: as many runners as slots free up, and while the pack's
// calls stop starting for packSlotGrace (the slots are busy with longer
// calls), the rest of the pack goes back to the stream, for a worker
// with free slots. A pack delivered before (its worker died holding it)
// is split into single calls instead. runPack returns as soon as the
// pack's first call has a slot (or the pack was split or refused).
func (w *worker) runPack(msg jetstream.Msg, stopBeat func()) {
	h := msg.Headers()
	n, err := strconv.Atoi(h.Get(hdrPack))
	var calls []packedCall
	if err == nil && n > 0 {
		calls, err = unpack(msg.Data(), n)
	}
	if err != nil {
		stopBeat()
		msg.TermWithReason(errPack.Error())
		return
	}
	md, err := msg.Metadata()
	if err == nil && md.NumDelivered > 1 {
		w.wg.Add(1)
		go w.split(msg, calls, stopBeat)
		return
	}
	// Its caller published more calls behind this pack: the other
	// workers have work of their own, and the pack's calls run here as
	// slots free up. Only the last pack of a burst sends its rest back
	// when the slots stay busy, for a worker that may be idle.
	spread := h.Get(hdrMore) == ""
	// The pack is acked when every call is answered; its heartbeat
	// stops when every call's run ended (a call left unanswered, its
	// worker stopping, makes the pack come back after AckWait, split).
	var left, answered atomic.Int32
	left.Store(int32(len(calls)))
	ended := func() {
		if left.Add(-1) == 0 {
			stopBeat()
			if answered.Load() == int32(len(calls)) {
				msg.Ack()
			}
		}
	}
	answer := func() { answered.Add(1) }
	id := h.Get(hdrKey)
	var next atomic.Int32 // the index of the next call to start
	out := &packWriter{w: w, id: id, ttl: resultTTL(h)}
	out.open.Store(int32(len(calls)))
	// claim takes the next call, or reports false when none is left.
	claim := func() (int, bool) {
		for {
			i := next.Load()
			if int(i) >= len(calls) {
				return 0, false
			}
			if next.CompareAndSwap(i, i+1) {
				return int(i), true
			}
		}
	}
	runner := func() {
		defer w.wg.Done()
		defer func() { <-w.slots }()
		for {
			i, ok := claim()
			if !ok {
				return
			}
			c := &packMsg{Msg: msg, call: &calls[i], h: calls[i].header(h), end: answer, out: out}
			w.call(c, ended, func() {})
			if !c.wrote {
				out.closeOne() // ended with no outcome for the writer (cancelled, say)
			}
		}
	}
	w.slots <- struct{}{} // the pack waits here, beaten, for its first slot
	w.wg.Add(1)
	w.gos.Go(runner)
	if int(next.Load()) >= len(calls) {
		return
	}
	// The rest of its calls start from another goroutine, as slots free
	// up, while this one pulls the next message, which then waits here
	// (beaten) for a slot of its own: so the slots do not wait for a pull
	// round trip when this pack's last calls end, and the worker holds at
	// most one message waiting for a slot.
	w.wg.Add(1)
	w.gos.Go(func() {
		defer w.wg.Done()
		w.startRest(msg, h, id, calls, spread, &next, runner, answer, ended, out)
	})
}

// startRest starts runners of a pack's calls beyond its first as slots
// free up, or sends the rest back to the stream (see runPack).
func (w *worker) startRest(msg jetstream.Msg, h nats.Header, id string, calls []packedCall, spread bool, next *atomic.Int32, runner, answer, ended func(), out *packWriter) {
	for runners := 1; int(next.Load()) < len(calls); {
		before := next.Load()
		if runners < len(calls) && !spread {
			w.slots <- struct{}{}
			if int(next.Load()) >= len(calls) {
				<-w.slots // the runners took every call meanwhile
				return
			}
			runners++
			w.wg.Add(1)
			w.gos.Go(runner)
			continue
		}
		if runners < len(calls) && w.slotWithin(packSlotGrace) {
			runners++
			w.wg.Add(1)
			w.gos.Go(runner)
			continue
		}
		if runners < len(calls) && next.Load() != before {
			continue // the runners go on: the slots are busy with quick calls
		}
		if runners == len(calls) {
			return
		}
		// No call of the pack started for packSlotGrace: the slots are
		// busy with longer calls, and the rest of the pack goes back to
		// the stream, for a worker with free slots.
		i := next.Load()
		if int(i) >= len(calls) || !next.CompareAndSwap(i, int32(len(calls))) {
			continue
		}
		rest := calls[i:]
		if w.repack(msg.Subject(), h, id+".r"+strconv.Itoa(int(i)), rest) == nil {
			for range rest {
				answer()
				ended()
				out.closeOne()
			}
			return
		}
		// It could not go back: its calls run here, after the others.
		next.Store(i)
		w.slots <- struct{}{}
		runners++
		w.wg.Add(1)
		w.gos.Go(runner)
	}
}

// packSlotGrace is how long a pack's calls may stop starting, its
// runners and the other slots busy, before the rest of the pack is
// published again for other workers: long enough for short calls to free
// a slot, short against calls worth spreading.
const packSlotGrace = 500 * time.Microsecond

// slotWithin takes a slot if one frees up within d.
func (w *worker) slotWithin(d time.Duration) bool {
	select {
	case w.slots <- struct{}{}:
		return true
	default:
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case w.slots <- struct{}{}:
		return true
	case <-t.C:
		return false
	}
}

// repack publishes calls, the rest of a pack, as a pack of their own
// under id (its outcomes' parts then have keys under the first pack's
// id), or alone under its key.
func (w *worker) repack(subject string, h nats.Header, id string, calls []packedCall) error {
	if len(calls) == 1 {
		return w.republish(subject, h, calls)
	}
	m := nats.NewMsg(subject)
	for k, v := range h {
		m.Header[k] = v
	}
	m.Header.Set(hdrKey, id)
	m.Header.Set(hdrPack, strconv.Itoa(len(calls)))
	m.Header.Set(hdrCall, strconv.FormatInt(calls[0].index, 10))
	var body []byte
	for _, c := range calls {
		body = appendCall(body, c.key, int(c.index), c.arg)
	}
	m.Data = body
	ctx, cancel := context.WithTimeout(w.ctx, 5*time.Second)
	defer cancel()
	_, err := w.js.PublishMsg(ctx, m, jetstream.WithMsgID(id))
	return err
}

// appendCall appends a call to a pack's body.
func appendCall(body []byte, key string, index int, arg []byte) []byte {
	body = binary.AppendUvarint(body, uint64(len(key)))
	body = append(body, key...)
	body = binary.AppendVarint(body, int64(index))
	body = binary.AppendUvarint(body, uint64(len(arg)))
	return append(body, arg...)
}

// split publishes the calls of a redelivered pack as single calls, then
// acks the pack. If a publish fails, the pack is left to be delivered
// again (or split by onMaxDeliver).
func (w *worker) split(msg jetstream.Msg, calls []packedCall, stopBeat func()) {
	defer w.wg.Done()
	defer stopBeat()
	if w.republish(msg.Subject(), msg.Headers(), calls) == nil {
		msg.Ack()
	}
}

// republish publishes the calls of a pack as single calls, their keys as
// message IDs: a pack split twice (its worker died while splitting it)
// queues each call once.
func (w *worker) republish(subject string, h nats.Header, calls []packedCall) error {
	return republishCalls(w.ctx, w.js, subject, h, calls)
}

// packMsg is one call of a pack, as run sees a message: its own headers
// and argument; its ack or term answers its part of the pack.
type packMsg struct {
	jetstream.Msg
	call  *packedCall
	h     nats.Header
	once  sync.Once
	end   func()
	out   *packWriter
	wrote bool // its outcome went to out
}

func (m *packMsg) Headers() nats.Header { return m.h }
func (m *packMsg) Data() []byte         { return m.call.arg }
func (m *packMsg) Ack() error           { m.once.Do(m.end); return nil }
func (m *packMsg) Term() error          { m.once.Do(m.end); return nil }
func (m *packMsg) TermWithReason(string) error {
	m.once.Do(m.end)
	return nil
}
func (m *packMsg) DoubleAck(context.Context) error { m.once.Do(m.end); return nil }
func (m *packMsg) InProgress() error               { return nil } // the pack's heartbeat
func (m *packMsg) Nak() error                      { return fmt.Errorf("cluster: a call of a pack cannot be naked alone") }
func (m *packMsg) NakWithDelay(time.Duration) error {
	return fmt.Errorf("cluster: a call of a pack cannot be naked alone")
}

// splitDead splits a pack delivered MaxDeliver times into single calls,
// each with deliveries of its own, so that only a call that kills its
// workers fails; it reports whether the pack may be removed.
func (w *worker) splitDead(subject string, h nats.Header, data []byte) bool {
	return splitDead(w.ctx, w.js, subject, h, data)
}

// splitDead is a worker's, or a caller's (see sweepDead), splitDead.
func splitDead(ctx context.Context, js jetstream.JetStream, subject string, h nats.Header, data []byte) bool {
	n, err := strconv.Atoi(h.Get(hdrPack))
	if err != nil {
		return true // not a pack of this version: remove it
	}
	calls, err := unpack(data, n)
	if err != nil {
		return true
	}
	return republishCalls(ctx, js, subject, h, calls) == nil
}

// packWriter writes the outcomes of a pack's calls: an outcome that
// arrives while a write is in flight goes with the others that do in the
// next one, a part keyed <pack>.<n> (first writer wins, as for a call;
// the rest of a pack published again has keys <pack>.r<i>.<n>).
type packWriter struct {
	w   *worker
	id  string
	ttl time.Duration
	// open counts the pack's calls that may still give an outcome here:
	// those to start, and those running. An outcome waits while another
	// is open, so that the calls of a pack that run side by side, in
	// several slots, end in one part rather than one each.
	open atomic.Int32

	mu      sync.Mutex
	pending []byte       // keyed outcomes: uvarint len, key, uvarint len, outcome
	waiting []func(bool) // their callers
	busy    bool
	urgent  bool        // an outcome pending must be written now
	held    *time.Timer // writes the outcomes held, after packOutcomeHold
	part    int
}

// packOutcomeHold is how long an outcome of a pack may wait for those of
// the pack's other calls, which run here meanwhile, to go in one part:
// each part is a write, a store and a delivery to the caller.
const packOutcomeHold = 50 * time.Millisecond

// others reports whether a call of the pack other than the one asking
// may still give an outcome here.
func (p *packWriter) others() bool { return p.open.Load() > 1 }

// closeOne records that a call of the pack ended here without an outcome
// for p (or never ran here), and writes the outcomes held if it was the
// last call open.
func (p *packWriter) closeOne() {
	if p.open.Add(-1) > 0 {
		return
	}
	p.mu.Lock()
	if len(p.waiting) == 0 {
		p.mu.Unlock()
		return
	}
	p.flushLocked()
}

// flushLocked starts a write of the outcomes pending, unless a write is
// in flight (which writes them next) or they may wait (see holdLocked).
// p.mu is held on entry, and released.
func (p *packWriter) flushLocked() {
	if p.busy || p.holdLocked() {
		p.mu.Unlock()
		return
	}
	p.busy = true
	p.mu.Unlock()
	p.w.wg.Add(1)
	p.w.gos.Go(func() {
		defer p.w.wg.Done()
		p.writeAll()
	})
}

// write stores key's outcome env in a part of the pack's outcomes, now,
// and reports false if the worker stopped first.
func (p *packWriter) write(key string, env *envelope) bool {
	ch := make(chan bool, 1)
	p.writeThen(key, env, true, func(ok bool) { ch <- ok })
	return <-ch
}

// writeThen is write without the wait: then is called with its result,
// once the part holding the outcome is written. Unless now, while other
// calls of the pack run or are to start here, the outcome waits for
// theirs (up to packOutcomeHold). The caller's call is no longer open.
func (p *packWriter) writeThen(key string, env *envelope, now bool, then func(bool)) {
	v := env.encode()
	p.open.Add(-1)
	p.mu.Lock()
	p.pending = binary.AppendUvarint(p.pending, uint64(len(key)))
	p.pending = append(p.pending, key...)
	p.pending = binary.AppendUvarint(p.pending, uint64(len(v)))
	p.pending = append(p.pending, v...)
	p.waiting = append(p.waiting, then)
	p.urgent = p.urgent || now
	p.flushLocked()
}

// holdLocked reports whether the outcomes pending may wait for more (no
// write of them is urgent and calls of the pack are still open here),
// and if so makes sure a timer writes them after packOutcomeHold; else
// it stops that timer. p.mu is held.
func (p *packWriter) holdLocked() bool {
	if !p.urgent && p.open.Load() > 0 {
		if p.held == nil {
			p.w.wg.Add(1) // until the timer's write, or its stop
			p.held = time.AfterFunc(packOutcomeHold, func() {
				defer p.w.wg.Done()
				p.mu.Lock()
				p.held = nil
				if p.busy || len(p.waiting) == 0 {
					p.mu.Unlock()
					return
				}
				p.busy = true
				p.mu.Unlock()
				p.writeAll()
			})
		}
		return true
	}
	if p.held != nil && p.held.Stop() {
		p.w.wg.Done()
	}
	p.held = nil
	return false
}

// writeAll writes the outcomes pending, and those that arrive meanwhile
// until they may wait for more (see holdLocked); p.busy is set on entry
// and cleared on return.
func (p *packWriter) writeAll() {
	p.mu.Lock()
	for len(p.waiting) > 0 {
		part, thens := p.pending, p.waiting
		p.pending, p.waiting, p.urgent = nil, nil, false
		n := p.part
		p.part++
		p.mu.Unlock()
		ok := p.w.writeValue(p.id+"."+strconv.Itoa(n), part, p.ttl)
		for _, f := range thens {
			f(ok)
		}
		p.mu.Lock()
		if len(p.waiting) > 0 && p.holdLocked() {
			break // the timer writes them, with the next ones
		}
	}
	p.busy = false
	p.mu.Unlock()
}

// isPart reports whether key is a part of a pack's outcomes.
func (s *session) isPart(key string) bool {
	return strings.HasPrefix(key, s.id+".p")
}

// deliverPart hands each outcome of a part to its call's waiter.
func (s *session) deliverPart(v []byte) {
	for len(v) > 0 {
		l, k := binary.Uvarint(v)
		if k <= 0 || uint64(len(v)-k) < l {
			return
		}
		call, rest := string(v[k:k+int(l)]), v[k+int(l):]
		l, k = binary.Uvarint(rest)
		if k <= 0 || uint64(len(rest)-k) < l {
			return
		}
		s.deliver(call, rest[k:k+int(l)])
		v = rest[k+int(l):]
	}
}

// packed records that key's call went in pack pk, for the sweeper.
func (s *session) packed(key string, pk *pack) {
	if pk == nil {
		return
	}
	s.mu.Lock()
	if s.packOf == nil {
		s.packOf = map[string]string{}
	}
	s.packOf[key] = pk.id
	s.mu.Unlock()
}

// sweepPacks looks up the parts of the packs whose calls are awaited
// and were at the sweep before (all of them if all), and returns the
// packs awaited now.
func (s *session) sweepPacks(before map[string]bool, all bool) map[string]bool {
	s.mu.Lock()
	ids := map[string]bool{}
	for _, id := range s.packOf {
		ids[id] = true
	}
	s.mu.Unlock()
	for id := range ids {
		if !all && !before[id] {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		keys, err := s.kv.ListKeysFiltered(ctx, id+".>")
		if err == nil {
			for k := range keys.Keys() {
				if ent, err := s.kv.Get(ctx, k); err == nil && len(ent.Value()) > 0 {
					s.deliver(k, ent.Value())
				}
			}
			keys.Stop()
		}
		cancel()
	}
	return ids
}
