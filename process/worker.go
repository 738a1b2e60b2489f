package process

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/deco-go/deco/backend"
)

// conn is a worker's end of the protocol (see protocol.go).
type conn struct {
	in      *receiver // calls
	inFd    int       // in's descriptor
	spin    spinner   // whether to poll for the next call before waiting for it
	outs    []*sender // results and requests, one pipe per call in flight; hello on the first
	cancels *receiver // cancels and Static values

	mu       sync.Mutex
	callID   uint64             // the call running, or 0
	reply    int                // the results pipe of the call started last
	lastID   uint64             // the call started last
	cancel   context.CancelFunc // cancels the running call's context
	deadline bool               // the running call's context has the caller's deadline
	early    map[uint64]early   // calls cancelled or given back before they started, which will not run

	needMu  sync.Mutex  // one request for a Static at a time
	statics chan *frame // the parent's answers to need, from readCancels

	started []byte // the started word, shared with the parent
}

// early is what became of a call before the worker reached it.
type early uint8

const (
	earlyCancelled early = iota + 1 // its result, NotRun, is sent when the worker reaches it
	earlyGivenBack                  // revoked: its result, GivenBack, has been sent
)

// worker is the conn of this process when it is a worker, for Static.
var worker atomic.Pointer[conn]

// The worker's ends of the pipes.
const (
	fdCalls   = 3
	fdResults = 4
	fdCancels = 5
	fdStarted = 6 // the started word (see newStartedWord)
	fdReplies = 7 // the results pipes after the first, up to the window
)

// envNumber reads a positive number from the environment variable name
// and removes it; def when it is not set.
func envNumber(name string, def, most int) (int, error) {
	v, ok := os.LookupEnv(name)
	if !ok {
		return def, nil
	}
	os.Unsetenv(name)
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > most {
		return 0, fmt.Errorf("%s=%q is not a number from 1 to %d", name, v, most)
	}
	return n, nil
}

// newConn returns a worker's end of the protocol: calls read from in (fd
// 3), results sent on outs, cancels and Static values read from cancels,
// and the started word.
func newConn(in *receiver, outs []*sender, cancels *receiver, started []byte) *conn {
	return &conn{
		in: in, inFd: fdCalls, spin: spinner{budget: workerSpinMax}, outs: outs, cancels: cancels,
		started: started, statics: make(chan *frame, 1),
	}
}

// serve runs the worker until its parent goes away.
func serve() int {
	var files [3]*os.File
	for i, fd := range []int{fdCalls, fdResults, fdCancels} {
		f, err := openPipe(fd, fd == fdCancels)
		if err != nil {
			fmt.Fprintf(os.Stderr, "deco/process: worker: %v\n", err)
			return exitProtocol
		}
		files[i] = f
	}
	started, err := mapStartedWord(fdStarted)
	if err != nil {
		fmt.Fprintf(os.Stderr, "deco/process: worker: %v\n", err)
		return exitProtocol
	}
	max, err := envNumber(envMaxMessage, defaultMaxMessage, mostMessage)
	if err != nil {
		fmt.Fprintf(os.Stderr, "deco/process: worker: %v\n", err)
		return exitProtocol
	}
	replies, err := envNumber(envReplies, 1, maxWindow)
	if err != nil {
		fmt.Fprintf(os.Stderr, "deco/process: worker: %v\n", err)
		return exitProtocol
	}
	// Results are written quietly (see quietFile). Calls are read in
	// blocking reads, never through the poller: a blocking read holds its
	// P, or wakes the runtime's monitor as it returns if the monitor took
	// that P and then slept, so that the monitor is awake when a task
	// starts, to preempt its goroutines and poll for cancels if they take
	// every P. (Waiting in the poller after long calls, as the parent does,
	// let the monitor sleep through tasks, for no gain measurable on 2
	// loaded cores.)
	outs := []*sender{newSender(newQuietWriter(files[1]), max)}
	for j := 1; j < replies; j++ {
		f, err := openPipe(fdReplies+j-1, false)
		if err != nil {
			fmt.Fprintf(os.Stderr, "deco/process: worker: %v\n", err)
			return exitProtocol
		}
		outs = append(outs, newSender(newQuietWriter(f), max))
	}
	c := newConn(newReceiver(files[0], max), outs, newReceiver(files[2], max), started)
	worker.Store(c)
	backend.ServeStatics(&workerStatics{c: c}) // deco.Static values, from the parent (static.go)
	// The fingerprint of the functions this process has, which the
	// parent compares with its own before it sends a call.
	if err := c.outs[0].send(&frame{Kind: kindHello, PID: os.Getpid(), Name: backend.Fingerprint()}); err != nil {
		return 0 // the parent is gone already
	}
	go c.readCancels()
	c.serveCalls()
	return 0
}

// serveCalls runs the calls the parent sends, one at a time, until it
// closes the pipe.
func (c *conn) serveCalls() {
	f := new(frame)
	for {
		if c.in.buffered() == 0 {
			// The parent sends the next call as soon as it has the
			// last result (or has sent it already, with Pipeline): poll
			// for it before sleeping in the read (see spinner).
			c.spin.before(c.inFd)
		}
		if err := c.in.receive(f); err != nil {
			c.readError(err)
		}
		if f.Kind != kindCall || int(f.Reply) >= len(c.outs) {
			fmt.Fprintf(os.Stderr, "deco/process: worker: unexpected frame of kind %d (reply %d) from the parent\n", f.Kind, f.Reply)
			exit(exitProtocol)
		}
		c.mu.Lock()
		if why := c.early[f.ID]; why != 0 {
			delete(c.early, f.ID)
			c.lastID = f.ID
			c.mu.Unlock()
			if why == earlyGivenBack {
				continue // the parent has it back, and sends it elsewhere
			}
			// Cancelled while it waited behind another call: it does not
			// run, and the parent returns the caller's context's cause.
			if err := c.outs[f.Reply].send(&frame{Kind: kindResult, ID: f.ID, NotRun: true}); err != nil {
				exit(0) // the parent is gone
			}
			continue
		}
		for id := range c.early {
			if id < f.ID {
				delete(c.early, id) // a cancel of a call that never came: keep the map small
			}
		}
		// The task's context has the caller's deadline, so that it ends
		// with context.DeadlineExceeded as it would in the caller.
		ctx, cancel := context.WithCancel(context.Background())
		if f.Deadline != 0 {
			ctx, cancel = context.WithDeadline(context.Background(), time.Unix(0, f.Deadline))
		}
		c.callID, c.lastID, c.reply, c.cancel, c.deadline = f.ID, f.ID, int(f.Reply), cancel, f.Deadline != 0
		c.mu.Unlock()
		// From here on, a death of this process is the call's: the
		// parent reads this word to tell (see child.await).
		atomic.StoreUint64((*uint64)(unsafe.Pointer(&c.started[0])), f.ID)
		c.run(ctx, f)
	}
}

// readError exits the worker after a failed read: the parent is gone (the
// end of the pipe), or it broke the protocol.
func (c *conn) readError(err error) {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, os.ErrClosed) {
		exit(0)
	}
	fmt.Fprintf(os.Stderr, "deco/process: worker: reading from the parent: %v\n", err)
	exit(exitProtocol)
}

// readCancels cancels the running call when the parent asks, remembers
// the cancels of calls not started yet (they are sent ahead, see Pipeline),
// gives back the calls not started yet that the parent revokes, and hands the Static values the parent sends to need. It exits the
// worker when the parent closes the pipe, even while a call runs.
func (c *conn) readCancels() {
	for {
		f := new(frame)
		if err := c.cancels.receive(f); err != nil {
			c.readError(err)
		}
		if f.Kind == kindStatic {
			select {
			case c.statics <- f:
			default:
				fmt.Fprintf(os.Stderr, "deco/process: worker: Static %q sent unasked\n", f.Name)
				exit(exitProtocol)
			}
			continue
		}
		if f.Kind == kindRevoke {
			c.revoke(f)
			continue
		}
		if f.Kind != kindCancel {
			fmt.Fprintf(os.Stderr, "deco/process: worker: unexpected frame of kind %d on the cancels pipe\n", f.Kind)
			exit(exitProtocol)
		}
		c.mu.Lock()
		switch {
		case f.ID == c.callID && c.cancel != nil:
			// A deadline the task's context has already ends it, as
			// context.DeadlineExceeded, on the same clock.
			if f.CancelCause != causeDeadline || !c.deadline {
				c.cancel()
			}
		case f.ID > c.lastID:
			// Sent ahead and not started: it will not run.
			if c.early == nil {
				c.early = map[uint64]early{}
			}
			if c.early[f.ID] == 0 { // a call given back stays so: its pipe may serve another call now
				c.early[f.ID] = earlyCancelled
			}
		}
		// Otherwise the call is over: the cancel came late.
		c.mu.Unlock()
	}
}

// revoke gives back call f.ID, answering on its results pipe f.Reply, if
// the worker has not started it: the parent sends it to an idle worker.
// The worker then skips it when it reaches it. A call started already
// runs, and its result answers the parent. Either way it runs once:
// serveCalls starts a call and revoke gives one back under c.mu.
func (c *conn) revoke(f *frame) {
	if int(f.Reply) >= len(c.outs) {
		fmt.Fprintf(os.Stderr, "deco/process: worker: a revoke of call %d names results pipe %d, of %d\n", f.ID, f.Reply, len(c.outs))
		exit(exitProtocol)
	}
	c.mu.Lock()
	if f.ID <= c.lastID || c.early[f.ID] == earlyGivenBack {
		c.mu.Unlock()
		return // started, or given back already
	}
	if c.early == nil {
		c.early = map[uint64]early{}
	}
	c.early[f.ID] = earlyGivenBack
	c.mu.Unlock()
	if err := c.outs[f.Reply].send(&frame{Kind: kindResult, ID: f.ID, GivenBack: true}); err != nil {
		exit(0) // the parent is gone
	}
}

// run runs the current call and sends its outcome.
func (c *conn) run(ctx context.Context, f *frame) {
	returned := false
	defer func() {
		if !returned {
			// The task called runtime.Goexit, which is ending this
			// goroutine: fail the call, and serve the next ones from a
			// new goroutine.
			c.finish(&frame{Kind: kindResult, ID: f.ID, Err: fmt.Sprintf("deco: %s: the task ended its goroutine with runtime.Goexit", f.Name)})
			go c.serveCalls()
		}
	}()
	start := time.Now()
	if f.Timeout > 0 {
		// The call that runs past its timeout is this one: report it,
		// and end the process, which is the only way to stop the task.
		t := time.AfterFunc(f.Timeout, func() {
			if c.claim(f.ID) {
				c.outs[f.Reply].send(&frame{Kind: kindResult, ID: f.ID, TimedOut: true})
				exit(exitTimeout)
			}
		})
		defer t.Stop()
	}
	out, err := backend.Invoke(ctx, f.Name, f.Data)
	r := &frame{Kind: kindResult, ID: f.ID, Data: out, Start: start.UnixNano(), End: time.Now().UnixNano()}
	if err != nil {
		r.Err = err.Error()
	}
	returned = true
	if f.Timeout > 0 && time.Since(start) > f.Timeout {
		// It ended past its timeout, before the timer could report it:
		// report it and exit, as the timer does, so that no call sent
		// ahead starts in a process the parent is about to kill.
		if c.claim(f.ID) {
			c.outs[f.Reply].send(&frame{Kind: kindResult, ID: f.ID, TimedOut: true})
			exit(exitTimeout)
		}
		select {} // the timer reported the call, and is ending the process
	}
	c.finish(r)
}

// claim ends call id, if it is still the running one, and reports whether
// it did: the call's end is reported once, by the task's return or by its
// timeout.
func (c *conn) claim(id uint64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.callID != id {
		return false
	}
	if c.cancel != nil {
		c.cancel()
	}
	c.callID, c.cancel = 0, nil
	return true
}

// finish ends the running call and sends r. The call is over before r is
// sent: the parent may send the next call as soon as r arrives.
func (c *conn) finish(r *frame) {
	out := c.out()
	if !c.claim(r.ID) {
		select {} // the timeout reported the call, and is ending the process
	}
	if err := out.send(r); err != nil {
		exit(0) // the parent is gone
	}
}

// out is the results pipe of the call started last.
func (c *conn) out() *sender {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.outs[c.reply]
}

// need asks the parent for the encoded value of the Static called name
// and waits for it; readCancels hands it over.
func (c *conn) need(name string) ([]byte, error) {
	c.needMu.Lock()
	defer c.needMu.Unlock()
	if err := c.out().send(&frame{Kind: kindNeed, Name: name}); err != nil {
		exit(0) // the parent is gone
	}
	f := <-c.statics
	if f.Name != name {
		fmt.Fprintf(os.Stderr, "deco/process: worker: asked for Static %q, received %q\n", name, f.Name)
		exit(exitProtocol)
	}
	if f.Err != "" {
		return nil, errors.New(f.Err)
	}
	return f.Data, nil
}

// exit ends the worker at once. It skips what os.Exit runs first: under
// the race detector that is a one-second wait for late reports, which
// would make every Close take a second (races are reported as they are
// found, not at exit).
func exit(code int) {
	syscall.Exit(code)
}
