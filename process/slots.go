package process

import (
	"context"
	"time"
)

// The slots are the executor's state machine: slot i is worker i, and
// moves stopped → starting → idle ⇄ busy → exiting → stopped (or starting
// again, for a replacement). e.mu guards every slot; every change is
// announced by notify, which wakes the calls waiting for a worker.

// slot is worker number i: the process that runs the calls of lanes i,
// i+n, … when it has room for them.
type slot struct {
	state  slotState
	child  *child
	broken error       // why its worker could not start; calls fail with it until Close
	timer  *time.Timer // the idle timer, while idle
	gen    int         // counts idle periods, so that a late timer does nothing
}

type slotState uint8

const (
	stopped  slotState = iota // no process
	starting                  // a process is starting, or about to be
	idle                      // ready for a call
	busy                      // running a call, and maybe holding others sent ahead (child.load)
	exiting                   // told to go, or dead, and not yet reaped
)

// acquire returns a worker for a call on lane: the lane's own worker if
// it is idle, else any idle one, else it starts one; else, if the call may
// be sent ahead (ahead), the lane's worker if its window has room
// (Pipeline), else the busy worker with the fewest calls and room; else it
// waits. While a call that needs an idle worker waits, no call is sent
// ahead, so that the workers drain and it cannot starve.
func (e *Executor) acquire(ctx context.Context, lane int, ahead bool) (*child, error) {
	e.mu.Lock()
	for {
		if e.closing == 0 {
			if i := e.pick(lane); i >= 0 {
				s := &e.slots[i]
				s.state = busy
				e.stopTimer(s)
				c := s.child
				c.load = 1
				e.mu.Unlock()
				return c, nil
			}
			i, err := e.startOne(lane)
			if err != nil {
				e.mu.Unlock()
				return nil, err
			}
			if i >= 0 {
				c := e.slots[i].child
				e.mu.Unlock()
				select {
				case <-c.ready:
				case <-ctx.Done():
					return nil, context.Cause(ctx)
				}
				if err := c.notServing(); err != nil {
					return nil, err
				}
				e.mu.Lock()
				continue
			}
			if ahead && e.wantIdle == 0 {
				if i := e.pickAhead(lane); i >= 0 {
					c := e.slots[i].child
					c.load++
					e.mu.Unlock()
					e.stats.ahead.Add(1)
					return c, nil
				}
			}
		}
		ch := e.changed
		e.waiters++
		if !ahead {
			e.wantIdle++
		}
		e.mu.Unlock()
		var err error
		select {
		case <-ch:
		case <-ctx.Done():
			err = context.Cause(ctx)
		}
		e.mu.Lock()
		e.waiters--
		if !ahead {
			e.wantIdle--
		}
		if err != nil {
			e.mu.Unlock()
			return nil, err
		}
	}
}

// pick returns an idle worker, preferring lane's, or -1. e.mu is held.
func (e *Executor) pick(lane int) int {
	if lane >= 0 {
		if i := lane % e.n; e.slots[i].state == idle {
			return i
		}
	}
	for i := range e.slots {
		if e.slots[i].state == idle {
			return i
		}
	}
	return -1
}

// pickAhead returns a busy worker whose window has room, preferring lane's,
// then the one with the fewest calls, or -1. e.mu is held.
func (e *Executor) pickAhead(lane int) int {
	room := func(i int) bool {
		s := &e.slots[i]
		return s.state == busy && s.child != nil && s.child.load < e.cfg.window
	}
	if lane >= 0 && room(lane%e.n) {
		return lane % e.n
	}
	best := -1
	for i := range e.slots {
		if room(i) && (best < 0 || e.slots[i].child.load < e.slots[best].child.load) {
			best = i
		}
	}
	return best
}

// startOne starts a stopped worker, preferring lane's, and returns its
// number, or -1 if none is stopped. A worker that could not start before
// fails the call instead. e.mu is held.
func (e *Executor) startOne(lane int) (int, error) {
	i := -1
	if lane >= 0 && e.slots[lane%e.n].state == stopped {
		i = lane % e.n
	}
	for j := range e.slots {
		if i >= 0 {
			break
		}
		if e.slots[j].state == stopped {
			i = j
		}
	}
	if i < 0 {
		return -1, nil
	}
	if err := e.slots[i].broken; err != nil {
		return -1, err
	}
	if _, err := e.startLocked(i); err != nil {
		return -1, err
	}
	return i, nil
}

// startLocked starts worker i, which is stopped. e.mu is held, and is
// released while the process starts.
func (e *Executor) startLocked(i int) (*child, error) {
	s := &e.slots[i]
	s.state = starting
	e.mu.Unlock()
	c, err := e.spawn(i)
	e.mu.Lock()
	if err != nil {
		s.state = stopped
		s.broken = &StartError{Worker: i, Err: err}
		e.notify()
		return nil, s.broken
	}
	s.child = c
	e.wg.Add(1)
	go c.watch()
	e.notify()
	return c, nil
}

// notServing reports why c, whose ready channel is closed, is not
// serving, or nil if it is: its StartError, which watch sets before it
// closes c.dead, or ErrClosed when the executor stopped it.
func (c *child) notServing() error {
	if c.serving() {
		return nil
	}
	<-c.dead
	if err := c.startError(); err != nil {
		return err
	}
	return ErrClosed
}

// ready is called by c's reader when the worker serves.
func (e *Executor) ready(c *child) {
	e.mu.Lock()
	s := &e.slots[c.num]
	var victim *child
	var p *pending
	if s.child == c && s.state == starting {
		s.state = idle
		e.armTimer(c.num)
		e.notify()
		if e.waiters == 0 && e.closing == 0 {
			victim, p = e.revokeLocked() // a replacement takes a call sent ahead to another
		}
	}
	e.mu.Unlock()
	if p != nil {
		victim.revoke(p)
	}
}

// release gives back c's place for a call; the last one makes c's slot
// idle again, unless c has died meanwhile or Close wants it gone, and then,
// if no call waits for a worker, revokes a call sent ahead to another
// (revokeLocked). It wakes the calls waiting for a worker, if any.
func (e *Executor) release(c *child) {
	e.mu.Lock()
	s := &e.slots[c.num]
	var victim *child
	var p *pending
	if s.child == c && s.state == busy {
		c.load--
		if c.load == 0 {
			if e.closing > 0 {
				s.state = exiting
				c.stop("closed")
			} else {
				s.state = idle
				e.armTimer(c.num)
				if e.waiters == 0 {
					victim, p = e.revokeLocked()
				}
			}
		}
		if e.waiters > 0 {
			e.notify()
		}
	}
	e.mu.Unlock()
	if p != nil {
		victim.revoke(p)
	}
}

// revokeLocked picks a call to take back from a busy worker for one that
// has become idle, when no call waits for a worker: the newest call sent
// ahead to the busy worker holding the most, not revoked yet. Else such a
// call would wait behind the call its worker runs, however long that one
// runs, while a worker idles. It returns the worker and the call, or nil.
// e.mu is held.
//
// The call's goroutine, given the call back, makes it again (try), and
// finds the idle worker, unless another call took it first. A revoke may
// be in vain — the next call was about to come from the goroutine that
// made the worker idle, or the busy worker starts the call meanwhile —
// which costs a message each way.
func (e *Executor) revokeLocked() (*child, *pending) {
	best := -1
	for i := range e.slots {
		s := &e.slots[i]
		if s.state == busy && s.child != nil && s.child.load > 1 && (best < 0 || s.child.load > e.slots[best].child.load) {
			best = i
		}
	}
	if best < 0 {
		return nil, nil
	}
	c := e.slots[best].child
	if p := c.revocable(); p != nil {
		return c, p
	}
	return nil, nil
}

// exited is called by c's reader once c has been reaped. A worker that
// died unasked, or was killed by Timeout, is replaced at once; one that
// died before it served marks its slot broken.
func (e *Executor) exited(c *child) {
	reason, _ := c.why()
	e.mu.Lock()
	defer e.mu.Unlock()
	s := &e.slots[c.num]
	if s.child != c {
		return
	}
	s.child = nil
	e.stopTimer(s)
	switch err := c.startError(); {
	case err != nil:
		s.state = stopped
		s.broken = err
	case e.closing == 0 && (reason == "" || reason == "timeout"):
		if _, err := e.startLocked(c.num); err != nil {
			s.state = stopped
		}
	default:
		s.state = stopped
	}
	e.notify()
}

// armTimer starts slot i's idle timer, if IdleTimeout is set. e.mu is
// held.
func (e *Executor) armTimer(i int) {
	if e.cfg.idle <= 0 {
		return
	}
	s := &e.slots[i]
	s.gen++
	gen := s.gen
	e.wg.Add(1)
	s.timer = time.AfterFunc(e.cfg.idle, func() {
		defer e.wg.Done()
		e.mu.Lock()
		defer e.mu.Unlock()
		if s.state == idle && s.gen == gen && s.child != nil {
			s.state = exiting
			s.timer = nil
			s.child.stop("idle")
			e.notify()
		}
	})
}

// stopTimer stops slot s's idle timer. e.mu is held.
func (e *Executor) stopTimer(s *slot) {
	if s.timer != nil && s.timer.Stop() {
		e.wg.Done()
	}
	s.timer = nil
}

// notify wakes the goroutines waiting for a slot to change. e.mu is held.
func (e *Executor) notify() {
	close(e.changed)
	e.changed = make(chan struct{})
}

// waitChange waits for a slot to change. e.mu is held, released while it
// waits.
func (e *Executor) waitChange() {
	ch := e.changed
	e.mu.Unlock()
	<-ch
	e.mu.Lock()
}
