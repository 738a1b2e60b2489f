package process

import (
	"os/exec"
	"runtime"
	"sync"
)

// spawner starts worker processes from one goroutine locked to its OS
// thread. On Linux a worker gets a parent-death signal (SIGKILL), which
// the kernel sends when the *thread* that forked it ends, not the
// process: so the thread must outlive every worker it started. The Go
// runtime ends a thread only when a goroutine locked to it returns, which
// the spawner's goroutine does only once no worker it started is alive.
// Between two uses it costs nothing: no goroutine, no thread.
type spawner struct {
	mu    sync.Mutex
	reqs  chan func()
	users int           // workers alive or being started
	done  chan struct{} // closed when the last goroutine has returned
}

// start runs cmd.Start on the spawner's thread. Unless it fails, the
// caller must call release once the worker has been reaped.
func (s *spawner) start(cmd *exec.Cmd) error {
	s.mu.Lock()
	s.users++
	if s.reqs == nil {
		s.reqs = make(chan func())
		s.done = make(chan struct{})
		go s.loop(s.reqs, s.done)
	}
	reqs := s.reqs
	s.mu.Unlock()
	errc := make(chan error, 1)
	reqs <- func() { errc <- cmd.Start() }
	err := <-errc
	if err != nil {
		s.release()
	}
	return err
}

// release tells the spawner a worker it started has been reaped; the
// last one stops its goroutine and thread.
func (s *spawner) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users--
	if s.users == 0 && s.reqs != nil {
		close(s.reqs)
		s.reqs = nil
	}
}

// wait waits until the spawner's goroutine, if it was stopped, has
// returned.
func (s *spawner) wait() {
	s.mu.Lock()
	done, running := s.done, s.reqs != nil
	s.mu.Unlock()
	if done != nil && !running {
		<-done
	}
}

func (s *spawner) loop(reqs chan func(), done chan struct{}) {
	defer close(done)
	// Never unlocked: returning ends the thread, when no worker of it
	// is left.
	runtime.LockOSThread()
	for f := range reqs {
		f()
	}
}
