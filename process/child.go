package process

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/deco-go/deco/backend"
)

// child is one worker process, seen from the parent.
type child struct {
	e       *Executor
	num     int // the worker's number: its slot and lane
	cmd     *exec.Cmd
	pid     int
	calls   *sender   // fd 3 of the worker
	results *receiver // fd 4 of the worker
	cancels *sender   // fd 5 of the worker
	files   []*os.File
	stderr  *lineWriter
	ready   chan struct{} // closed when the worker said hello, or died
	dead    chan struct{} // closed when the worker has been reaped

	mu       sync.Mutex
	hello    bool // the worker is serving
	state    *os.ProcessState
	ended    string // why the parent ended it: "", "timeout", "closed", "idle", "protocol"
	protocol string // the protocol violation, when reason is "protocol"
	running  uint64 // the call the worker runs, or 0
	startErr error  // why the worker never served, set before dead is closed
	started  []byte // the started word (see newStartedWord), mapped until the worker is reaped
	lastRun  uint64 // the call the worker had started when it died
}

// startedID reads the started word.
func startedID(mem []byte) uint64 { return atomic.LoadUint64((*uint64)(unsafe.Pointer(&mem[0]))) }

// waitDelay bounds how long reaping a worker waits for its output pipes to
// close once it has exited: a process the task started may hold them.
const waitDelay = 2 * time.Second

// pipe returns a pipe whose parent end is read or written with plain
// blocking system calls (see protocol.go), or through the runtime's
// poller if poll is set.
func pipe(poll bool) (r, w *os.File, err error) {
	if poll {
		return os.Pipe()
	}
	return blockingPipe()
}

// spawn starts worker num. It returns once the process runs, without
// waiting for it to serve; c.ready tells that.
func (e *Executor) spawn(num int) (*child, error) {
	if e.exeErr != nil {
		return nil, e.exeErr
	}
	var ends [3][2]*os.File // the worker's end, the parent's end
	closeAll := func() {
		for _, p := range ends {
			for _, f := range p {
				if f != nil {
					f.Close()
				}
			}
		}
	}
	for i := range ends {
		r, w, err := pipe(i == 2)
		if err != nil {
			closeAll()
			return nil, err
		}
		if i == 1 { // results flow from the worker
			ends[i] = [2]*os.File{w, r}
		} else {
			ends[i] = [2]*os.File{r, w}
		}
	}
	word, mem, err := newStartedWord()
	if err != nil {
		closeAll()
		return nil, err
	}
	max := e.cfg.maxMessage
	c := &child{
		started: mem,
		e:       e, num: num,
		calls:   newSender(ends[0][1], max),
		results: newReceiver(ends[1][1], max),
		cancels: newSender(ends[2][1], max),
		files:   []*os.File{ends[0][1], ends[1][1], ends[2][1]},
		stderr:  newLineWriter(e.stderr, e.cfg.prefix, num),
		ready:   make(chan struct{}), dead: make(chan struct{}),
	}
	cmd := exec.Command(e.exe)
	cmd.Env = append(os.Environ(), backend.EnvWorker+"="+protocolVersion, envMaxMessage+"="+strconv.Itoa(max))
	cmd.ExtraFiles = []*os.File{ends[0][0], ends[1][0], ends[2][0], word} // fds 3, 4, 5, 6: see protocol.go
	cmd.Stdout = e.stdout                                                 // not an *os.File: a copying goroutine, which Wait waits for
	cmd.Stderr = c.stderr
	cmd.SysProcAttr = sysProcAttr()
	cmd.WaitDelay = waitDelay
	c.cmd = cmd
	err = e.spawner.start(cmd)
	for _, p := range ends {
		p[0].Close()
	}
	word.Close()
	if err != nil {
		for _, p := range ends {
			p[1].Close()
		}
		unmap(mem)
		return nil, err
	}
	c.pid = cmd.Process.Pid
	e.stats.started.Add(1)
	return c, nil
}

// watch waits for the worker's hello, then for its end; then it reaps it
// and tells the executor. Between the two, the results pipe belongs to the
// goroutine running a call on the worker.
func (c *child) watch() {
	defer c.e.wg.Done()
	var f frame
	err := c.results.receive(&f)
	switch {
	case err == nil && f.Kind == kindHello && f.Name == c.e.fingerprint():
		c.mu.Lock()
		c.hello = true
		c.mu.Unlock()
		c.e.ready(c)
	case err == nil && f.Kind == kindHello:
		c.mu.Lock()
		c.startErr = &StartError{Worker: c.num, Err: fmt.Errorf("%w: the worker has other functions than this program (fingerprint %s, this program's %s): is it another build of the program?", ErrMismatch, f.Name, c.e.fingerprint())}
		c.mu.Unlock()
		c.kill("mismatch")
	default:
		c.kill("") // not a worker of ours, or a broken one
	}
	close(c.ready)
	c.cmd.Wait()
	c.mu.Lock()
	c.lastRun = startedID(c.started)
	c.mu.Unlock()
	unmap(c.started)
	for _, f := range c.files {
		f.Close()
	}
	c.stderr.flush()
	c.e.spawner.release()
	c.mu.Lock()
	c.state = c.cmd.ProcessState
	if !c.hello && c.startErr == nil && c.ended == "" {
		tail, _ := c.stderr.last()
		c.startErr = &StartError{Worker: c.num, Status: c.state.String(), Stderr: tail}
	}
	c.mu.Unlock()
	// The executor learns of the end before the goroutines waiting on
	// dead do, so that they find the slot's StartError, if any.
	c.e.exited(c)
	close(c.dead)
}

// The ways a call can fail on its worker, besides its own outcome.
var (
	// errDied: the worker died (or broke the protocol) while it had the
	// call.
	errDied = errors.New("process: the worker died")
	// errNotRun: the worker was dead before it read the call: the call
	// never ran, and goes to another worker.
	errNotRun = errors.New("process: the worker was dead before the call reached it")
)

// call runs one call on the worker, which must be serving and idle, and
// returns its result frame. It serves the worker's requests for Static
// values meanwhile. When the worker dies or breaks the protocol, it
// returns once the worker has been reaped: errNotRun if the worker never
// read the call, else errDied.
func (c *child) call(f *frame) (*frame, error) {
	c.mu.Lock()
	c.running = f.ID
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.running = 0
		c.mu.Unlock()
	}()
	if err := c.calls.send(f); err != nil {
		if tl, ok := err.(errTooLarge); ok {
			return nil, tl
		}
		c.kill("")
		<-c.dead
		return nil, errNotRun // the pipe is broken: the worker is gone
	}
	r := new(frame)
	for {
		err := c.results.receive(r)
		if err == nil && r.Kind == kindResult && r.ID == f.ID {
			return r, nil
		}
		if err == nil && r.Kind == kindNeed {
			c.e.sendStatic(c, r.Name)
			continue
		}
		if err == nil {
			err = fmt.Errorf("%w: a frame of kind %d (ID %d) while call %d ran", errProtocol, r.Kind, r.ID, f.ID)
		}
		if errors.Is(err, errProtocol) {
			c.mu.Lock()
			c.protocol = err.Error()
			c.mu.Unlock()
			c.kill("protocol")
		} else {
			c.kill("")
		}
		<-c.dead
		if c.reason() == "" && c.lastStarted() != f.ID {
			return nil, errNotRun // it died before it started the call
		}
		return nil, errDied
	}
}

// timeout kills the worker for call id, if it still runs it: the backstop
// for a worker that cannot report its own timeout (see Timeout).
func (c *child) timeout(id uint64) {
	c.mu.Lock()
	mine := c.running == id
	c.mu.Unlock()
	if mine {
		c.kill("timeout")
	}
}

func (c *child) lastStarted() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lastRun
}

func (c *child) reason() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ended
}

// kill kills the worker, for reason ("" when it broke the protocol or its
// pipes broke).
func (c *child) kill(reason string) {
	c.mu.Lock()
	if c.ended == "" {
		c.ended = reason
	}
	c.mu.Unlock()
	c.cmd.Process.Kill()
}

// stop asks an idle worker to exit, for reason: it reads the end of its
// pipes and exits.
func (c *child) stop(reason string) {
	c.mu.Lock()
	if c.ended == "" {
		c.ended = reason
	}
	c.mu.Unlock()
	c.calls.close()
	c.cancels.close()
}

// why returns why the parent ended the worker, and how it ended.
func (c *child) why() (reason, status string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state != nil {
		status = c.state.String()
	}
	return c.ended, status
}

func (c *child) protocolError() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.protocol
}

// startError reports why the worker, which is dead, never served, or nil.
func (c *child) startError() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.startErr
}

// serving reports whether the worker said hello.
func (c *child) serving() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hello
}
