package cluster

import "time"

// A goPool runs functions on goroutines it keeps for a while after they
// finish one, so that a worker's calls do not each start a goroutine
// whose stack then grows, copied, to the depth of a call, its decoding
// and its outcome's write (a fifth of a worker's CPU for no-op calls,
// measured). A goroutine idle for goIdle ends.
type goPool struct {
	work chan func()
}

// goIdle is how long a pool's goroutine waits for more work.
const goIdle = 2 * time.Second

func newGoPool() *goPool { return &goPool{work: make(chan func())} }

// Go runs f on an idle goroutine of the pool, or on a new one.
func (p *goPool) Go(f func()) {
	select {
	case p.work <- f:
	default:
		go p.loop(f)
	}
}

func (p *goPool) loop(f func()) {
	t := time.NewTimer(goIdle)
	defer t.Stop()
	for {
		f()
		f = nil
		t.Reset(goIdle)
		select {
		case f = <-p.work:
		case <-t.C:
			return
		}
	}
}
