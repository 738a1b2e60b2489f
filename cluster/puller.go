package cluster

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// A puller takes one function's calls from its consumer with pull
// requests of its own, where nats.go's iterator would keep a buffer of
// its own: every call the server delivers starts its heartbeat the moment
// it arrives, in the subscription's handler, and then waits (beaten) in
// the puller's queue until the worker takes it, so that no call ever
// waits on a worker unbeaten, whatever requests of the worker still
// stand (after a reconnection, or a request taken for lost that was
// not). A request asks for as many calls as the worker has room for when
// it is sent (its slots free, plus one to hold waiting for a slot), and
// the next one goes only when every call asked for came (or the request
// ended): one request serves several calls, and free workers get the
// rest.
type puller struct {
	w       *worker
	cons    jetstream.Consumer
	reqSubj string // $JS.API.CONSUMER.MSG.NEXT.<stream>.<consumer>
	inbox   string // requests reply to inbox.<n>
	sub     *nats.Subscription

	mu     sync.Mutex
	queue  []heldCall      // delivered and beaten, not taken yet
	live   map[string]bool // the requests standing, by reply subject
	asked  int             // calls the standing requests may still deliver
	heard  time.Time       // the last word of the server on this inbox
	reqs   uint64
	pause  bool // JetStream did not answer: wait before asking again
	closed bool
	err    error
	wake   chan struct{}
}

// heldCall is a call delivered to a puller, its heartbeat started.
type heldCall struct {
	msg  jetstream.Msg
	stop func() // stops its heartbeat
}

// Pull requests expire after pullExpires (the next one goes then), and
// the server sends an idle heartbeat every pullHeartbeat to a request
// that waits: a puller that hears nothing for 2*pullHeartbeat while it
// has calls asked for takes its requests for lost and asks again.
const (
	pullExpires   = 30 * time.Second
	pullHeartbeat = 5 * time.Second
)

// stalePulls, in tests, makes every pull request go twice, the second
// unknown to the puller, as a request it took for lost that still
// stands.
var stalePulls bool

// errPullerClosed ends a puller whose consumer was deleted, or which was
// stopped.
var errPullerClosed = errors.New("cluster: pulling stopped")

// newPuller subscribes to the calls of cons.
func newPuller(w *worker, cons jetstream.Consumer) (*puller, error) {
	info := cons.CachedInfo()
	p := &puller{
		w:       w,
		cons:    cons,
		reqSubj: "$JS.API.CONSUMER.MSG.NEXT." + info.Stream + "." + info.Name,
		inbox:   w.nc.NewInbox(),
		live:    map[string]bool{},
		wake:    make(chan struct{}, 1),
	}
	sub, err := w.nc.Subscribe(p.inbox+".*", p.receive)
	if err != nil {
		return nil, err
	}
	sub.SetPendingLimits(-1, -1) // a call is beaten once its handler ran: never drop one
	p.sub = sub
	return p, nil
}

// receive is the subscription's handler: a call is beaten at once and
// queued; a status ends a request or is a heartbeat.
func (p *puller) receive(m *nats.Msg) {
	if status := m.Header.Get("Status"); status != "" && len(m.Data) == 0 {
		p.status(m, status)
		return
	}
	msg := &pulled{m: m, nc: p.w.nc}
	// Every third of the AckWait the call's caller set on the consumer
	// (the one cached here may be older).
	var ackWait time.Duration
	if v := m.Header.Get(hdrAckWait); v != "" {
		ackWait, _ = time.ParseDuration(v)
	}
	if ackWait <= 0 {
		ackWait = p.cons.CachedInfo().Config.AckWait
	}
	beat := ackWait / 3
	if beat <= 0 {
		beat = defaultAckWait / 3
	}
	stop := p.w.beats.start(msg, beat)
	p.mu.Lock()
	p.heard = time.Now()
	if p.asked > 0 {
		p.asked--
	}
	closed := p.closed
	if !closed {
		p.queue = append(p.queue, heldCall{msg, stop})
	}
	p.mu.Unlock()
	if closed {
		stop()
		msg.Nak() // for another worker, now
		return
	}
	p.signal()
}

// status handles a status message of the server on a request's inbox.
func (p *puller) status(m *nats.Msg, status string) {
	p.mu.Lock()
	p.heard = time.Now()
	switch status {
	case "100": // an idle heartbeat: the requests stand
	case "503": // no JetStream: nobody holds the requests
		p.asked = 0
		clear(p.live)
		p.pause = true
	default: // 404, 408, 409: the request ended, with what it had not delivered
		if p.live[m.Subject] {
			delete(p.live, m.Subject)
			if n, err := strconv.Atoi(m.Header.Get("Nats-Pending-Messages")); err == nil && len(p.live) > 0 {
				p.asked = max(p.asked-n, 0)
			} else {
				p.asked = 0
			}
		}
		if status == "409" {
			// Consumer deleted, or a limit reached (waiting requests,
			// acks pending): no request at once again.
			p.pause = true
			if desc := m.Header.Get("Description"); strings.Contains(desc, "Consumer Deleted") || strings.Contains(desc, "Consumer is push based") {
				p.closed, p.err = true, fmt.Errorf("%w: %s", errPullerClosed, desc)
			}
		}
	}
	p.mu.Unlock()
	p.signal()
}

func (p *puller) signal() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// lost takes the requests for gone (the connection reconnected): the
// next call of next asks again.
func (p *puller) lost() {
	p.mu.Lock()
	p.asked = 0
	clear(p.live)
	p.mu.Unlock()
	p.signal()
}

// next returns the next call delivered (beaten, with the function that
// stops its beats), asking the server for up to room calls when no
// request stands; it blocks until a call comes or the puller stops.
func (p *puller) next(room int) (jetstream.Msg, func(), error) {
	var t *time.Timer
	defer func() {
		if t != nil {
			t.Stop()
		}
	}()
	for {
		p.mu.Lock()
		if len(p.queue) > 0 {
			c := p.queue[0]
			p.queue[0] = heldCall{}
			p.queue = p.queue[1:]
			p.mu.Unlock()
			return c.msg, c.stop, nil
		}
		if p.closed {
			err := p.err
			p.mu.Unlock()
			return nil, nil, err
		}
		now := time.Now()
		if p.asked > 0 && now.Sub(p.heard) > 2*pullHeartbeat {
			// No call nor heartbeat: the requests (or their answers) are
			// lost. Should one stand still, its calls are beaten as they
			// come, like any other.
			p.asked = 0
			clear(p.live)
		}
		var reply string
		n := max(room, 1)
		pause := p.pause
		if p.asked == 0 && !pause {
			p.reqs++
			reply = p.inbox + "." + strconv.FormatUint(p.reqs, 10)
			p.live[reply] = true
			p.asked = n
			p.heard = now
		}
		p.pause = false
		p.mu.Unlock()
		if reply != "" {
			req := []byte(`{"batch":` + strconv.Itoa(n) + `,"expires":` + strconv.FormatInt(int64(pullExpires), 10) +
				`,"idle_heartbeat":` + strconv.FormatInt(int64(pullHeartbeat), 10) + `}`)
			err := p.w.nc.PublishRequest(p.reqSubj, reply, req)
			if err == nil && stalePulls {
				p.w.nc.PublishRequest(p.reqSubj, reply+"s", req)
			}
			if err != nil {
				if errors.Is(err, nats.ErrConnectionClosed) {
					return nil, nil, fmt.Errorf("%w: %w", errPullerClosed, err)
				}
				p.mu.Lock()
				delete(p.live, reply)
				p.asked = 0
				p.pause = true
				p.mu.Unlock()
			}
		}
		wait := 2*pullHeartbeat + 100*time.Millisecond
		if pause {
			wait = 250 * time.Millisecond
		}
		if t == nil {
			t = time.NewTimer(wait)
		} else {
			t.Reset(wait)
		}
		select {
		case <-p.wake:
		case <-t.C:
		case <-p.w.ctx.Done():
			return nil, nil, fmt.Errorf("%w: %w", errPullerClosed, p.w.ctx.Err())
		}
	}
}

// stop ends the puller: no more calls come, and those delivered and not
// taken go back to the stream at once (naked), for other workers.
func (p *puller) stop() {
	p.sub.Unsubscribe()
	p.mu.Lock()
	if !p.closed {
		p.closed, p.err = true, errPullerClosed
	}
	queue := p.queue
	p.queue = nil
	p.mu.Unlock()
	for _, c := range queue {
		c.stop()
		c.msg.Nak()
	}
	p.signal()
}

// pulled is a call a puller received: a jetstream.Msg over the core
// message, whose acks go to its reply subject.
type pulled struct {
	m  *nats.Msg
	nc *nats.Conn

	mu    sync.Mutex
	acked bool
}

func (p *pulled) Metadata() (*jetstream.MsgMetadata, error) {
	md, err := p.m.Metadata()
	if err != nil {
		return nil, err
	}
	return &jetstream.MsgMetadata{
		Sequence:     jetstream.SequencePair{Consumer: md.Sequence.Consumer, Stream: md.Sequence.Stream},
		NumDelivered: md.NumDelivered,
		NumPending:   md.NumPending,
		Timestamp:    md.Timestamp,
		Stream:       md.Stream,
		Consumer:     md.Consumer,
		Domain:       md.Domain,
	}, nil
}

func (p *pulled) Data() []byte         { return p.m.Data }
func (p *pulled) Headers() nats.Header { return p.m.Header }
func (p *pulled) Subject() string      { return p.m.Subject }
func (p *pulled) Reply() string        { return p.m.Reply }
func (p *pulled) Ack() error           { return p.reply("+ACK", true) }
func (p *pulled) Nak() error           { return p.reply("-NAK", true) }
func (p *pulled) InProgress() error    { return p.reply("+WPI", false) }
func (p *pulled) Term() error          { return p.reply("+TERM", true) }
func (p *pulled) TermWithReason(r string) error {
	return p.reply("+TERM "+r, true)
}
func (p *pulled) NakWithDelay(d time.Duration) error {
	return p.reply("-NAK {\"delay\": "+strconv.FormatInt(d.Nanoseconds(), 10)+"}", true)
}

// DoubleAck acks and waits for the server's confirmation.
func (p *pulled) DoubleAck(ctx context.Context) error {
	if err := p.settle(); err != nil {
		return err
	}
	if _, deadline := ctx.Deadline(); !deadline {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
	}
	_, err := p.nc.RequestWithContext(ctx, p.m.Reply, []byte("+ACK"))
	return err
}

// settle marks the message answered, or reports that it was.
func (p *pulled) settle() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.acked {
		return jetstream.ErrMsgAlreadyAckd
	}
	p.acked = true
	return nil
}

// reply sends an ack of kind body; final ones are sent once.
func (p *pulled) reply(body string, final bool) error {
	if p.m.Reply == "" {
		return jetstream.ErrMsgNoReply
	}
	if final {
		if err := p.settle(); err != nil {
			return err
		}
	} else {
		p.mu.Lock()
		acked := p.acked
		p.mu.Unlock()
		if acked {
			return jetstream.ErrMsgAlreadyAckd
		}
	}
	return p.nc.Publish(p.m.Reply, []byte(body))
}
