package process

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/deco-go/deco/backend"
)

// conn is a worker's end of the protocol (see protocol.go).
type conn struct {
	in      *receiver // calls and Static values
	out     *sender   // hello, results and requests
	cancels *receiver

	mu     sync.Mutex
	callID uint64             // the call running, or 0
	cancel context.CancelFunc // cancels the running call's context

	needMu sync.Mutex // one request for a Static at a time
}

// worker is the conn of this process when it is a worker, for Static.
var worker atomic.Pointer[conn]

// The worker's ends of the pipes.
const (
	fdCalls   = 3
	fdResults = 4
	fdCancels = 5
)

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
	c := &conn{in: newReceiver(files[0]), out: newSender(files[1]), cancels: newReceiver(files[2])}
	worker.Store(c)
	if err := c.out.send(&frame{Kind: kindHello, PID: os.Getpid()}); err != nil {
		return 0 // the parent is gone already
	}
	go c.readCancels()
	c.serveCalls()
	return 0
}

// openPipe opens an inherited pipe: in blocking mode for the calls and
// results (see protocol.go), for the runtime's poller for the cancels.
func openPipe(fd int, poll bool) (*os.File, error) {
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return nil, fmt.Errorf("file descriptor %d is not open (%v): this process was not started by a deco/process parent", fd, err)
	}
	if err := syscall.SetNonblock(fd, poll); err != nil {
		return nil, fmt.Errorf("file descriptor %d: %v", fd, err)
	}
	return os.NewFile(uintptr(fd), fmt.Sprintf("deco-pipe-%d", fd)), nil
}

// serveCalls runs the calls the parent sends, one at a time, until it
// closes the pipe.
func (c *conn) serveCalls() {
	f := new(frame)
	for {
		if err := c.in.receive(f); err != nil {
			c.readError(err)
		}
		if f.Kind != kindCall {
			fmt.Fprintf(os.Stderr, "deco/process: worker: unexpected frame of kind %d from the parent\n", f.Kind)
			exit(exitProtocol)
		}
		ctx, cancel := context.WithCancel(context.Background())
		c.mu.Lock()
		c.callID, c.cancel = f.ID, cancel
		c.mu.Unlock()
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

// readCancels cancels the running call when the parent asks; it exits the
// worker when the parent closes the pipe, even while a call runs.
func (c *conn) readCancels() {
	var f frame
	for {
		if err := c.cancels.receive(&f); err != nil {
			c.readError(err)
		}
		c.mu.Lock()
		if f.Kind == kindCancel && c.callID == f.ID && c.cancel != nil {
			c.cancel()
		}
		c.mu.Unlock()
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
	out, err := backend.Invoke(ctx, f.Name, f.Data)
	r := &frame{Kind: kindResult, ID: f.ID, Data: out}
	if err != nil {
		r.Err = err.Error()
	}
	returned = true
	c.finish(r)
}

// finish ends the running call and sends r. The call is over before r is
// sent: the parent may send the next call as soon as r arrives.
func (c *conn) finish(r *frame) {
	c.mu.Lock()
	if c.cancel != nil {
		c.cancel()
	}
	c.callID, c.cancel = 0, nil
	c.mu.Unlock()
	if err := c.out.send(r); err != nil {
		exit(0) // the parent is gone
	}
}

// need asks the parent for the encoded value of the Static called name
// and waits for it. The calls pipe is free to read: the goroutine that
// reads calls is running the task that asks.
func (c *conn) need(name string) ([]byte, error) {
	c.needMu.Lock()
	defer c.needMu.Unlock()
	if err := c.out.send(&frame{Kind: kindNeed, Name: name}); err != nil {
		exit(0) // the parent is gone
	}
	var f frame
	if err := c.in.receive(&f); err != nil {
		c.readError(err)
	}
	if f.Kind != kindStatic || f.Name != name {
		fmt.Fprintf(os.Stderr, "deco/process: worker: asked for Static %q, received a frame of kind %d for %q\n", name, f.Kind, f.Name)
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
