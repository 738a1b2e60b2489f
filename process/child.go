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
	name    string   // host:pid, the worker's name in deco's stats and timelines (backend.Ran)
	calls   *sender  // fd 3 of the worker
	replies []*reply // fds 4, 7, 8, 9 of the worker: results, one pipe per call in flight
	cancels *sender  // fd 5 of the worker
	files   []*os.File
	stderr  *lineWriter
	ready   chan struct{} // closed when the worker said hello, or died
	dead    chan struct{} // closed when the worker has been reaped

	// The worker's last call ran for longCall or more: wait for the next
	// result through the poller (see resultPipe).
	long atomic.Bool
	// Whether the goroutines awaiting a result after a short call poll
	// its pipe a little before they sleep in the read (see spinner).
	spin spinner

	load int // calls handed to the worker and not yet released (guarded by e.mu, see slots.go)

	nextID uint64 // the last call's ID; guarded by calls.mu, so that calls are sent in the order of their IDs

	mu       sync.Mutex
	hello    bool // the worker is serving
	state    *os.ProcessState
	ended    string     // why the parent ended it: "", "timeout", "closed", "idle", "protocol"
	protocol string     // the protocol violation, when reason is "protocol"
	startErr error      // why the worker never served, set before dead is closed
	started  []byte     // the started word (see newStartedWord), mapped until the worker is reaped
	lastRun  uint64     // the call the worker had started when it died
	window   []*pending // the calls sent and not answered, oldest first
	reaped   bool       // watch has reaped the worker
}

// reply is a results pipe: the worker answers each call on the pipe the
// call names, which no other call in flight uses, so that the goroutine
// waiting for a call's result reads it itself, woken by its arrival, with
// no hand-over between goroutines.
type reply struct {
	r      *receiver
	pipe   *resultPipe
	busy   bool // a call in flight answers on it (guarded by child.mu)
	closed bool
}

// pending is a call sent to the worker: its place in the window.
type pending struct {
	id       uint64
	reply    int // its results pipe
	done     bool
	revoked  bool        // a revoke of it has been sent (see Executor.revokeLocked)
	backstop *time.Timer // kills a worker that cannot report its timeout (see Timeout)
}

// hostname is this machine's name, as the names of workers use it.
var hostname = sync.OnceValue(func() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "localhost"
	}
	return h
})

// startedID reads the started word.
func startedID(mem []byte) uint64 { return atomic.LoadUint64((*uint64)(unsafe.Pointer(&mem[0]))) }

// waitDelay bounds how long reaping a worker waits for its output pipes to
// close once it has exited: a process the task started may hold them.
const waitDelay = 2 * time.Second

// pipe returns a pipe in blocking mode and out of the runtime's poller,
// whose parent end is then read as a resultPipe or written quietly (see
// protocol.go), or one in the poller if poll is set.
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
	// Pipes 0 to 2: calls, results for reply 0, cancels; then results for
	// replies 1 to k-1 (see Pipeline).
	k := e.cfg.window
	ends := make([][2]*os.File, 3+k-1) // the worker's end, the parent's end
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
		if i == 1 || i > 2 { // results flow from the worker
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
		calls:   newSender(newQuietWriter(ends[0][1]), max),
		cancels: newSender(ends[2][1], max),
		files:   []*os.File{ends[0][1], ends[2][1]},
		stderr:  newLineWriter(e.stderr, e.cfg.prefix, num),
		ready:   make(chan struct{}), dead: make(chan struct{}),
	}
	extra := []*os.File{ends[0][0], ends[1][0], ends[2][0], word} // fds 3, 4, 5, 6, then 7…: see protocol.go
	for j := range k {
		i := 1
		if j > 0 {
			i = 2 + j
			extra = append(extra, ends[i][0])
		}
		rp := newResultPipe(ends[i][1])
		c.replies = append(c.replies, &reply{r: newReceiver(rp, max), pipe: rp})
	}
	cmd := exec.Command(e.exe)
	cmd.Env = append(os.Environ(), backend.EnvWorker+"="+protocolVersion,
		envMaxMessage+"="+strconv.Itoa(max), envReplies+"="+strconv.Itoa(k))
	cmd.ExtraFiles = extra
	cmd.Stdout = e.stdout // not an *os.File: a copying goroutine, which Wait waits for
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
	c.name = hostname() + ":" + strconv.Itoa(c.pid)
	e.stats.started.Add(1)
	return c, nil
}

// watch waits for the worker's hello, then for its end; then it reaps it
// and tells the executor. Between the two, the results pipe belongs to the
// goroutine running a call on the worker.
func (c *child) watch() {
	defer c.e.wg.Done()
	var f frame
	err := c.replies[0].r.receive(&f)
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
	// A results pipe may still hold results the worker sent before it
	// died: the goroutine reading it closes it once it has read them all
	// (see await).
	for _, f := range c.files {
		f.Close()
	}
	c.mu.Lock()
	c.reaped = true
	for _, r := range c.replies {
		c.closeReplyLocked(r)
	}
	c.mu.Unlock()
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
	// errDied: the worker died (or broke the protocol) with the call
	// started.
	errDied = errors.New("process: the worker died")
	// errNotRun: the worker was dead before it started the call, which
	// never ran and goes to another worker.
	errNotRun = errors.New("process: the worker was dead before the call reached it")
)

// post sends call f to the worker, which must be serving and have room
// for it (child.load), and returns its place in the window; await waits
// for its result. Calls are numbered, and sent, in the order of their
// numbers. A call too large for MaxMessage is not sent and fails with
// errTooLarge; a call that cannot be sent because the worker is gone fails
// with errNotRun, once the worker has been reaped.
func (c *child) post(f *frame) (*pending, error) {
	s := c.calls
	s.mu.Lock()
	if s.err != nil {
		s.mu.Unlock()
		c.kill("")
		<-c.dead
		return nil, errNotRun // the pipe is broken or closed: the worker is gone
	}
	f.ID = c.nextID + 1
	p := &pending{id: f.ID, reply: -1}
	c.mu.Lock()
	for j, r := range c.replies {
		if !r.busy {
			p.reply = j
			break
		}
	}
	c.mu.Unlock()
	if p.reply < 0 {
		s.mu.Unlock()
		panic("process: no free results pipe: more calls in flight than the window") // a bug in slots.go
	}
	f.Reply = uint8(p.reply)
	b := f.marshal(s.buf[:0])
	if len(b)-4 > s.max {
		s.buf = nil
		s.mu.Unlock()
		return nil, errTooLarge{len(b) - 4, s.max}
	}
	c.nextID = f.ID
	c.mu.Lock()
	c.replies[p.reply].busy = true
	c.window = append(c.window, p)
	if len(c.window) == 1 {
		c.armLocked(p)
	}
	c.mu.Unlock()
	err := s.writeLocked(b)
	s.mu.Unlock()
	if err != nil {
		c.kill("") // await finds the end of the results and settles the call
	}
	return p, nil
}

// await waits for the outcome of call p, reading its results pipe and
// answering the worker's requests for Static values meanwhile: its result
// frame, or, when the worker dies or breaks the protocol, once it has been
// reaped, errDied if the worker had started the call, else errNotRun (the
// call never ran; calls start in the order of their IDs).
func (c *child) await(p *pending) (frame, error) {
	rp := c.replies[p.reply]
	for {
		var r frame
		long := c.long.Load()
		rp.pipe.setPoll(long)
		if !long && rp.r.buffered() == 0 && c.oldest(p) {
			// After a short call the next result comes soon: poll for
			// it before sleeping in the read (see spinner). Not for a
			// call sent ahead, behind another: that one's result comes
			// first, and two spinners would take turns at the cores.
			c.spin.before(rp.pipe.fd)
		}
		err := rp.r.receive(&r)
		if err == nil && r.Kind == kindNeed {
			c.e.sendStatic(c, r.Name)
			continue
		}
		if err == nil && r.Kind == kindResult && r.ID == p.id && r.GivenBack {
			c.finish(p) // it did not start, and will not run here
			return r, nil
		}
		if err == nil && r.Kind == kindResult && r.ID == p.id {
			c.long.Store(time.Duration(r.End-r.Start) >= longCall)
			if r.TimedOut {
				// The worker reports the timeout and exits: the reason
				// is the timeout, whoever sees the end of a pipe first.
				c.kill("timeout")
			}
			c.finish(p)
			return r, nil
		}
		if err == nil {
			err = fmt.Errorf("%w: a frame of kind %d (ID %d) while call %d was awaited", errProtocol, r.Kind, r.ID, p.id)
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
		c.finish(p)
		if p.id <= c.lastStarted() {
			return frame{}, errDied
		}
		return frame{}, errNotRun
	}
}

// finish takes call p out of the window, arms the backstop of the next
// oldest, and frees p's results pipe, closing it if the worker has been
// reaped.
func (c *child) finish(p *pending) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p.done = true
	if p.backstop != nil {
		p.backstop.Stop()
	}
	for i, w := range c.window {
		if w == p {
			c.window = append(c.window[:i], c.window[i+1:]...)
			if i == 0 && len(c.window) > 0 && c.window[0].backstop == nil {
				c.armLocked(c.window[0])
			}
			break
		}
	}
	r := c.replies[p.reply]
	r.busy = false
	c.closeReplyLocked(r)
}

// oldest reports whether p is the oldest call in the window: the one the
// worker runs, or starts next.
func (c *child) oldest(p *pending) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.window) > 0 && c.window[0] == p
}

// revocable returns the newest call sent ahead to c that has not been
// revoked yet, marking it revoked, or nil. The worker may have started it
// meanwhile: then it ignores the revoke.
func (c *child) revocable() *pending {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := len(c.window) - 1; i >= 1; i-- { // window[0] runs, or starts next
		if p := c.window[i]; !p.done && !p.revoked {
			p.revoked = true
			return p
		}
	}
	return nil
}

// revoke asks the worker to give back call p, which was sent ahead, if it
// has not started it (see conn.revoke); the call's result, or GivenBack,
// answers it.
func (c *child) revoke(p *pending) {
	c.cancels.send(&frame{Kind: kindRevoke, ID: p.id, Reply: uint8(p.reply)})
}

// closeReplyLocked closes results pipe r once the worker has been reaped
// and no call waits for a result in it. c.mu is held.
func (c *child) closeReplyLocked(r *reply) {
	if c.reaped && !r.busy && !r.closed {
		r.closed = true
		r.pipe.Close()
	}
}

// armLocked starts the backstop of call p, which has become the oldest in
// the window: the one the worker runs, or starts next. c.mu is held.
func (c *child) armLocked(p *pending) {
	if d := c.e.cfg.timeout; d > 0 {
		p.backstop = time.AfterFunc(d+timeoutGrace(d), func() { c.timeout(p) })
	}
}

// timeout kills the worker for call p if it is still the oldest in the
// window: the backstop for a worker that cannot report its own timeout
// (see Timeout). A call it had not started is not blamed (read).
func (c *child) timeout(p *pending) {
	c.mu.Lock()
	mine := !p.done && len(c.window) > 0 && c.window[0] == p
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
