package cluster

import (
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// A beater tells the server that the messages a worker holds are in
// progress, each every AckWait/3 of its consumer, from one goroutine for
// all of them: a call that ends sooner (nearly all) costs a map entry,
// not a goroutine and a ticker of its own.
type beater struct {
	done <-chan struct{} // ends the goroutine (the worker stops)

	mu      sync.Mutex
	held    map[*beat]struct{}
	next    time.Time // when the goroutine wakes next
	wake    chan struct{}
	running bool
}

// beat is one message held.
type beat struct {
	msg   jetstream.Msg
	every time.Duration
	due   time.Time
}

func newBeater(done <-chan struct{}) *beater {
	return &beater{done: done, held: map[*beat]struct{}{}, wake: make(chan struct{}, 1)}
}

// noBeats, in tests, makes a worker send no beats: a worker starved of
// CPU for longer than AckWait, whose calls JetStream gives out again.
var noBeats bool

// start beats for msg every every, until the function it returns is
// called; no beat is sent after that function returns.
func (b *beater) start(msg jetstream.Msg, every time.Duration) func() {
	if noBeats {
		return func() {}
	}
	e := &beat{msg: msg, every: every, due: time.Now().Add(every)}
	b.mu.Lock()
	b.held[e] = struct{}{}
	if !b.running {
		b.running = true
		b.next = e.due
		go b.loop()
	} else if e.due.Before(b.next) {
		b.next = e.due
		select {
		case b.wake <- struct{}{}:
		default:
		}
	}
	b.mu.Unlock()
	return func() {
		b.mu.Lock()
		delete(b.held, e)
		b.mu.Unlock()
	}
}

// loop sends the beats that are due, then sleeps until the next one is
// (or a message with an earlier one comes), until done.
func (b *beater) loop() {
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for {
		b.mu.Lock()
		now := time.Now()
		next := now.Add(time.Hour)
		for e := range b.held {
			if !e.due.After(now) {
				// Under the lock: a stopped message gets no late beat.
				e.msg.InProgress()
				e.due = now.Add(e.every)
			}
			if e.due.Before(next) {
				next = e.due
			}
		}
		b.next = next
		b.mu.Unlock()
		t.Reset(time.Until(next))
		select {
		case <-t.C:
		case <-b.wake:
		case <-b.done:
			return
		}
	}
}
