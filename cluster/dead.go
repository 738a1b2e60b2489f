package cluster

import (
	"context"
	"errors"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Calls JetStream gave up on: a call (or pack) delivered MaxDeliver
// times stays in the work-queue stream, and is answered by the worker
// that gets its MAX_DELIVERIES advisory (onMaxDeliver). An advisory can
// be lost (its worker killed, or no pull request pending when it fired),
// and then the call's caller would wait for ever. So the caller's
// sweeper looks for the messages of its awaited calls that are still in
// the stream although their consumer has passed them, twice in a row,
// and answers them as onMaxDeliver does: a pack is split into single
// calls, a call gets a "worker died" outcome, and the message is
// removed.

// inStream is where an awaited call's message is: its function and
// stream sequence (its pack's, for a call in a pack).
type inStream struct {
	fn  string
	seq uint64
}

// track records key's message, for sweepDead.
func (s *session) track(key, fn string, seq uint64) {
	if seq == 0 {
		return
	}
	s.mu.Lock()
	if s.tracked == nil {
		s.tracked = map[string]inStream{}
	}
	s.tracked[key] = inStream{fn, seq}
	s.mu.Unlock()
}

// sweepDead answers the awaited calls whose messages JetStream gave up
// on, when found so in two sweeps in a row.
func (s *session) sweepDead() {
	s.mu.Lock()
	byFn := map[string]map[uint64][]string{}
	for key, at := range s.tracked {
		if _, ok := s.waiters[key]; !ok {
			delete(s.tracked, key)
			continue
		}
		if byFn[at.fn] == nil {
			byFn[at.fn] = map[uint64][]string{}
		}
		byFn[at.fn][at.seq] = append(byFn[at.fn][at.seq], key)
	}
	s.mu.Unlock()
	suspects := map[uint64]bool{}
	for fn, seqs := range byFn {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		c, err := s.js.Consumer(ctx, tasksStream, consumerName(s.build, fn))
		cancel()
		if err != nil {
			continue
		}
		info := c.CachedInfo() // as of this lookup
		for seq := range seqs {
			// Passed: below the ack floor (a message past MaxDeliver does
			// not hold the floor back), or delivered while the consumer
			// has no delivery awaiting an ack.
			passed := seq <= info.AckFloor.Stream || info.NumAckPending == 0 && seq <= info.Delivered.Stream
			if !passed {
				continue // waiting, or with a worker
			}
			suspects[seq] = true
			if !s.suspects[seq] {
				continue // passed just now, maybe answered: look again next time
			}
			s.answerDead(seq, info.Config.MaxDeliver)
		}
	}
	s.suspects = suspects
}

// answerDead answers the message seq if it is still in the stream.
func (s *session) answerDead(seq uint64, maxDeliver int) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	raw, err := s.tasks.GetMsg(ctx, seq)
	if err != nil {
		return // answered and removed meanwhile
	}
	if raw.Header.Get(hdrPack) != "" {
		if splitDead(ctx, s.js, raw.Subject, raw.Header, raw.Data) {
			s.tasks.DeleteMsg(ctx, seq)
		}
		return
	}
	key := raw.Header.Get(hdrKey)
	env := &envelope{kind: kindKilled, arg: raw.Header.Get(hdrArg), deliveries: uint64(max(maxDeliver, 1))}
	_, err = s.kv.Create(ctx, key, env.encode(), jetstream.KeyTTL(resultTTL(raw.Header)))
	if err == nil || errors.Is(err, jetstream.ErrKeyExists) {
		s.tasks.DeleteMsg(ctx, seq)
	}
}

// republishCalls publishes the calls of a pack as single calls, their
// keys as message IDs: a pack split twice queues each call once.
func republishCalls(ctx context.Context, js jetstream.JetStream, subject string, h nats.Header, calls []packedCall) error {
	for i := range calls {
		m := nats.NewMsg(subject)
		m.Header = calls[i].header(h)
		m.Data = calls[i].arg
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := js.PublishMsg(pctx, m, jetstream.WithMsgID(calls[i].key))
		cancel()
		if err != nil {
			return err
		}
	}
	return nil
}
