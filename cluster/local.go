package cluster

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// localWorkers are the worker processes an executor starts on this
// machine: the program's own binary with DECO_WORKER set to the embedded
// server's URL. Each is watched by a goroutine that starts it again when
// it dies, until stop.
type localWorkers struct {
	s        *session
	n, slots int
	restarts atomic.Int64

	mu      sync.Mutex
	live    map[int]*exec.Cmd // by slot: workers serving
	lines   []*os.File        // the parent's ends of the lifelines
	broken  error             // a worker that could not start: calls fail with it
	ready   chan struct{}     // closed when every worker served once, or broken is set
	nReady  int
	stopped bool
	wg      sync.WaitGroup
}

// StartError is the error of calls when a local worker could not start:
// the binary could not be run, or it exited, or did not serve within a
// minute, which is what happens when main (or TestMain) does not call
// [Main] first; or it serves another set of functions than the caller.
type StartError struct {
	Worker int    // the worker's number
	Reason string // what went wrong
}

func (e *StartError) Error() string {
	return fmt.Sprintf("cluster: local worker %d: %s", e.Worker, e.Reason)
}

func startLocalWorkers(s *session, n, slots int) *localWorkers {
	l := &localWorkers{s: s, n: n, slots: slots, live: map[int]*exec.Cmd{}, ready: make(chan struct{})}
	for i := range n {
		l.wg.Add(1)
		go l.supervise(i)
	}
	return l
}

// waitReady waits until every worker has served once, or one could not
// start.
func (l *localWorkers) waitReady(closed chan struct{}) error {
	select {
	case <-l.ready:
	case <-closed:
		return ErrClosed
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.broken
}

func (l *localWorkers) pids() []int {
	l.mu.Lock()
	defer l.mu.Unlock()
	var p []int
	for i := range l.n {
		if c, ok := l.live[i]; ok {
			p = append(p, c.Process.Pid)
		}
	}
	return p
}

// fail records why workers cannot start, and fails the calls waiting.
func (l *localWorkers) fail(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.broken == nil {
		l.broken = err
		if l.nReady < l.n {
			close(l.ready)
		}
		l.s.breakWith(err)
	}
}

func (l *localWorkers) supervise(i int) {
	defer l.wg.Done()
	first, servedOnce := true, false
	for {
		l.mu.Lock()
		stopped := l.stopped || l.broken != nil
		l.mu.Unlock()
		if stopped {
			return
		}
		if !first {
			l.restarts.Add(1)
		}
		first = false
		served, err := l.runOne(i, servedOnce)
		servedOnce = servedOnce || served
		if err != nil {
			l.fail(err)
			return
		}
		if !served {
			time.Sleep(250 * time.Millisecond)
		}
	}
}

// runOne runs worker i until it exits; it reports whether it served.
// A worker that served before and fails to start again (its server is
// restarting) is started again; only one that never served is an error.
func (l *localWorkers) runOne(i int, servedBefore bool) (bool, error) {
	exe, err := os.Executable()
	if err != nil {
		return false, &StartError{Worker: i, Reason: fmt.Sprintf("cannot find the program's binary: %v", err)}
	}
	lifeR, lifeW, err := os.Pipe()
	if err != nil {
		return false, &StartError{Worker: i, Reason: err.Error()}
	}
	readyR, readyW, err := os.Pipe()
	if err != nil {
		lifeR.Close()
		lifeW.Close()
		return false, &StartError{Worker: i, Reason: err.Error()}
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(),
		envWorker+"="+l.s.url,
		EnvToken+"="+l.s.emb.tokenOrEmpty(),
		EnvSlots+"="+strconv.Itoa(l.slots),
		envLocal+"="+l.mode())
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	cmd.ExtraFiles = []*os.File{lifeR, readyW} // fds 3 and 4
	l.mu.Lock()
	if l.stopped {
		l.mu.Unlock()
		lifeR.Close()
		lifeW.Close()
		readyR.Close()
		readyW.Close()
		return false, nil
	}
	err = cmd.Start()
	if err == nil {
		l.lines = append(l.lines, lifeW)
	}
	l.mu.Unlock()
	lifeR.Close()
	readyW.Close()
	if err != nil {
		lifeW.Close()
		readyR.Close()
		return false, &StartError{Worker: i, Reason: fmt.Sprintf("cannot start %s: %v", exe, err)}
	}
	readyc := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(readyR).ReadString('\n')
		readyR.Close()
		readyc <- line
	}()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		l.mu.Lock()
		delete(l.live, i)
		for k, f := range l.lines {
			if f == lifeW {
				l.lines = append(l.lines[:k], l.lines[k+1:]...)
				break
			}
		}
		l.mu.Unlock()
		lifeW.Close()
	}()
	select {
	case line := <-readyc:
		build, _, _ := strings.Cut(strings.TrimSpace(line), " ")
		if build == "" {
			err := <-exited
			if l.isStopped() {
				return false, nil
			}
			if isSignal(err) || servedBefore {
				return false, nil // killed before it served, or transient: start another
			}
			return false, &StartError{Worker: i, Reason: fmt.Sprintf("exited before it served calls (%v): does main (or TestMain) call cluster.Main() first?", err)}
		}
		if build != l.s.build {
			cmd.Process.Kill()
			<-exited
			return false, &StartError{Worker: i, Reason: fmt.Sprintf("it registers another set of functions (build %s) than this process (build %s): are named functions decorated inside main or a test rather than at package level?", build, l.s.build)}
		}
	case <-time.After(time.Minute):
		cmd.Process.Kill()
		<-exited
		return false, &StartError{Worker: i, Reason: "did not serve within a minute: does main (or TestMain) call cluster.Main() first?"}
	}
	l.mu.Lock()
	l.live[i] = cmd
	if !servedBefore {
		l.nReady++
		if l.nReady == l.n && l.broken == nil {
			close(l.ready)
		}
	}
	l.mu.Unlock()
	<-exited
	return true, nil
}

func (l *localWorkers) isStopped() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.stopped
}

func isSignal(err error) bool {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ProcessState.String() != "" && strings.HasPrefix(ee.ProcessState.String(), "signal:")
	}
	return false
}

// stop closes every lifeline, so that the workers exit, kills those that
// have not within two seconds, and waits until all are reaped.
func (l *localWorkers) stop() {
	l.mu.Lock()
	l.stopped = true
	for _, f := range l.lines {
		f.Close()
	}
	live := make([]*exec.Cmd, 0, len(l.live))
	for _, c := range l.live {
		live = append(live, c)
	}
	l.mu.Unlock()
	done := make(chan struct{})
	go func() { l.wg.Wait(); close(done) }()
	select {
	case <-done:
		return
	case <-time.After(2 * time.Second):
	}
	for _, c := range live {
		c.Process.Kill()
	}
	<-done
}

// mode tells a local worker whether its server is the embedded one, in
// this process (it exits with the connection), or an external one (it
// reconnects).
func (l *localWorkers) mode() string {
	if l.s.emb != nil {
		return "embedded"
	}
	return "external"
}
