package process

import (
	"errors"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"

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

	mu     sync.Mutex
	hello  bool // the worker is serving
	state  *os.ProcessState
	reason string // why the parent ended it: "", "timeout", "closed", "idle"
}

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
	var p [2]int
	if err := syscall.Pipe2(p[:], syscall.O_CLOEXEC); err != nil {
		return nil, nil, os.NewSyscallError("pipe2", err)
	}
	return os.NewFile(uintptr(p[0]), "|0"), os.NewFile(uintptr(p[1]), "|1"), nil
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
	c := &child{
		e: e, num: num,
		calls:   newSender(ends[0][1]),
		results: newReceiver(ends[1][1]),
		cancels: newSender(ends[2][1]),
		files:   []*os.File{ends[0][1], ends[1][1], ends[2][1]},
		stderr:  newLineWriter(e.stderr, e.cfg.prefix, num),
		ready:   make(chan struct{}), dead: make(chan struct{}),
	}
	cmd := exec.Command(e.exe)
	cmd.Env = append(os.Environ(), backend.EnvWorker+"="+protocolVersion)
	cmd.ExtraFiles = []*os.File{ends[0][0], ends[1][0], ends[2][0]} // fds 3, 4, 5: see protocol.go
	cmd.Stdout = e.stdout                                           // not an *os.File: a copying goroutine, which Wait waits for
	cmd.Stderr = c.stderr
	cmd.SysProcAttr = sysProcAttr()
	cmd.WaitDelay = waitDelay
	c.cmd = cmd
	err := e.spawner.start(cmd)
	for _, p := range ends {
		p[0].Close()
	}
	if err != nil {
		for _, p := range ends {
			p[1].Close()
		}
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
	if err := c.results.receive(&f); err == nil && f.Kind == kindHello {
		c.mu.Lock()
		c.hello = true
		c.mu.Unlock()
		c.e.ready(c)
	} else if err == nil {
		c.kill("") // not a worker of ours
	}
	close(c.ready)
	c.cmd.Wait()
	for _, f := range c.files {
		f.Close()
	}
	c.stderr.flush()
	c.e.spawner.release()
	c.mu.Lock()
	c.state = c.cmd.ProcessState
	c.mu.Unlock()
	close(c.dead)
	c.e.exited(c)
}

// errDied is returned by call when the worker died before it replied.
var errDied = errors.New("process: the worker died")

// call runs one call on the worker, which must be serving and idle, and
// returns its outcome. It serves the worker's requests for Static values
// meanwhile. When the worker dies or breaks the protocol, it returns
// errDied once the worker has been reaped.
func (c *child) call(id uint64, name string, arg []byte) (out []byte, errText string, err error) {
	if err := c.calls.send(&frame{Kind: kindCall, ID: id, Name: name, Data: arg}); err != nil {
		c.kill("")
		<-c.dead
		return nil, "", errDied
	}
	var f frame
	for {
		if err := c.results.receive(&f); err != nil {
			c.kill("")
			<-c.dead
			return nil, "", errDied
		}
		switch {
		case f.Kind == kindResult && f.ID == id:
			return f.Data, f.Err, nil
		case f.Kind == kindNeed:
			c.e.sendStatic(c, f.Name)
		default:
			c.kill("") // a broken protocol
		}
	}
}

// kill kills the worker, for reason ("" when it broke the protocol or its
// pipes broke).
func (c *child) kill(reason string) {
	c.mu.Lock()
	if c.reason == "" {
		c.reason = reason
	}
	c.mu.Unlock()
	c.cmd.Process.Kill()
}

// stop asks an idle worker to exit, for reason: it reads the end of its
// pipes and exits.
func (c *child) stop(reason string) {
	c.mu.Lock()
	if c.reason == "" {
		c.reason = reason
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
	return c.reason, status
}

// serving reports whether the worker said hello.
func (c *child) serving() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hello
}
