package process_test

import (
	"encoding/binary"
	"flag"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// BenchmarkWakeCost measures what the parent's wake-ups per result cost
// the speed-up of CPU-bound calls on 2 worker processes, apart from deco:
// a batch of cpuTasks calls of spin, each a 16-byte call and an 8-byte
// result over pipes (raw system calls on the parent's side, through the
// poller, as the executor's), to 2 worker processes (this test binary run
// as the helper "wakecost"), in four designs of the parent, against 2
// goroutines in this process (inprocess), in the same iteration:
//
//   - per-call: a goroutine per call in flight, 2 per worker, each
//     reading its own results pipe and sending the next call when its
//     result comes: the executor's design (Pipeline(2));
//   - callback: one goroutine per worker reads its results, finishes each
//     by callback and sends the next call itself (what a
//     backend.Starter-like interface would let the executor do), 2 calls
//     in flight per worker;
//   - callback-pairs: as callback, with 3 calls in flight per worker, and
//     the worker holds a result while two calls or more wait behind it,
//     and sends it with the next: one read, by one goroutine, for two
//     results;
//   - per-call-pairs: as per-call, with 3 calls in flight per worker, and
//     results held as in callback-pairs, each written to its own pipe.
//
// Each design reports the parent's CPU per call (<design>-parent-ns/call)
// and context switches per call (<design>-switches/call), and the
// workers' CPU per call beyond inprocess's (<design>-worker-extra-ns/call),
// and the in-process batch time over its own (<design>-vs-inprocess).
// -wakecost.work adds that much of the parent's CPU per result, standing
// for deco's own (decoding the outcome, finishing the call). Linux only.
func BenchmarkWakeCost(b *testing.B) {
	type design struct {
		name  string
		ps    []*wakeProc
		batch func([]*wakeProc)
	}
	spawn := func(pipes int, pairs bool) []*wakeProc {
		ps := []*wakeProc{startWakeProc(b, pipes, pairs), startWakeProc(b, pipes, pairs)}
		b.Cleanup(func() {
			for _, p := range ps {
				p.stop()
			}
		})
		return ps
	}
	designs := []design{
		{"per-call", spawn(2, false), func(ps []*wakeProc) { wakePerCall(ps, 2) }},
		{"callback", spawn(1, false), func(ps []*wakeProc) { wakeCallback(ps, 2) }},
		{"callback-pairs", spawn(1, true), func(ps []*wakeProc) { wakeCallback(ps, 3) }},
		{"per-call-pairs", spawn(3, true), func(ps []*wakeProc) { wakePerCall(ps, 3) }},
	}
	for _, d := range designs {
		d.batch(d.ps) // the workers are up and warm
	}
	var local, localCPU time.Duration
	took := make([]time.Duration, len(designs))
	cpu := make([]time.Duration, len(designs))
	wcpu := make([]time.Duration, len(designs))
	sw := make([]int64, len(designs))
	b.ResetTimer()
	for range b.N {
		c0, _ := selfUsage()
		t := time.Now()
		wakeLocal()
		local += time.Since(t)
		c1, _ := selfUsage()
		localCPU += c1 - c0
		for i, d := range designs {
			pids := []int{d.ps[0].cmd.Process.Pid, d.ps[1].cmd.Process.Pid}
			w0, _, _ := workersUsage(pids)
			c0, s0 := selfUsage()
			t := time.Now()
			d.batch(d.ps)
			took[i] += time.Since(t)
			c1, s1 := selfUsage()
			w1, _, _ := workersUsage(pids)
			cpu[i] += c1 - c0
			sw[i] += s1 - s0
			wcpu[i] += w1 - w0
		}
	}
	calls := float64(b.N * cpuTasks)
	for i, d := range designs {
		b.ReportMetric(float64(cpu[i])/calls, d.name+"-parent-ns/call")
		b.ReportMetric(float64(sw[i])/calls, d.name+"-switches/call")
		b.ReportMetric(float64(wcpu[i]-localCPU)/calls, d.name+"-worker-extra-ns/call")
		b.ReportMetric(float64(local)/float64(took[i]), d.name+"-vs-inprocess")
	}
}

// wakeWork is the parent's CPU per result in BenchmarkWakeCost.
var wakeWork = flag.Duration("wakecost.work", 0, "BenchmarkWakeCost: the parent's CPU per result")

func init() {
	helpers["wakecost"] = func() int { wakeWorker(); return 0 }
}

// wakeProc is a worker process of BenchmarkWakeCost: calls go to its fd
// 0, results come from its fds 3 and on.
type wakeProc struct {
	cmd   *exec.Cmd
	mu    sync.Mutex // one call write at a time
	calls *os.File
	res   []*os.File
}

func startWakeProc(b *testing.B, pipes int, pairs bool) *wakeProc {
	p := &wakeProc{cmd: exec.Command(os.Args[0])}
	p.cmd.Env = append(os.Environ(), envHelper+"=wakecost")
	if pairs {
		p.cmd.Env = append(p.cmd.Env, "DECO_WAKECOST_PAIRS=1")
	}
	r, w, err := os.Pipe()
	if err != nil {
		b.Fatal(err)
	}
	p.cmd.Stdin, p.calls = r, w
	for range pipes {
		rr, ww, err := os.Pipe()
		if err != nil {
			b.Fatal(err)
		}
		p.cmd.ExtraFiles = append(p.cmd.ExtraFiles, ww)
		p.res = append(p.res, rr)
	}
	p.cmd.Stderr = os.Stderr
	if err := p.cmd.Start(); err != nil {
		b.Fatal(err)
	}
	r.Close()
	for _, f := range p.cmd.ExtraFiles {
		f.Close()
	}
	return p
}

func (p *wakeProc) stop() {
	p.calls.Close()
	p.cmd.Wait()
	for _, f := range p.res {
		f.Close()
	}
}

// send writes calls quietly (see quietFile), one writer at a time.
func (p *wakeProc) send(b []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	rc, err := p.calls.SyscallConn()
	if err != nil {
		panic(err)
	}
	rc.Write(func(fd uintptr) bool {
		for len(b) > 0 {
			n, _, e := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
			switch e {
			case 0:
				b = b[n:]
			case syscall.EINTR:
			case syscall.EAGAIN:
				return false
			default:
				panic(e)
			}
		}
		return true
	})
}

// receive reads results pipe j quietly, waiting in the poller.
func (p *wakeProc) receive(j int, b []byte) int {
	rc, err := p.res[j].SyscallConn()
	if err != nil {
		panic(err)
	}
	var n uintptr
	rc.Read(func(fd uintptr) bool {
		for {
			var e syscall.Errno
			n, _, e = syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
			switch e {
			case 0:
				return true
			case syscall.EINTR:
			case syscall.EAGAIN:
				return false
			default:
				panic(e)
			}
		}
	})
	if n == 0 {
		panic("wakecost: a worker ended")
	}
	return int(n)
}

func wakeCall(id, pipe int) []byte {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:], uint64(id))
	binary.LittleEndian.PutUint64(b[8:], uint64(pipe))
	return b[:]
}

func wakeBurn() {
	if *wakeWork > 0 {
		for t := time.Now(); time.Since(t) < *wakeWork; {
		}
	}
}

// wakePerCall runs a batch with window goroutines per worker, goroutine g
// on worker g%2 and its results pipe g/2.
func wakePerCall(ps []*wakeProc, window int) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for g := range 2 * window {
		wg.Go(func() {
			p, pipe := ps[g%2], g/2
			var r [8]byte
			for {
				i := int(next.Add(1))
				if i > cpuTasks {
					return
				}
				p.send(wakeCall(i, pipe))
				for n := 0; n < len(r); {
					n += p.receive(pipe, r[n:])
				}
				wakeBurn()
			}
		})
	}
	wg.Wait()
}

// wakeCallback runs a batch with one goroutine per worker, which keeps
// window calls in flight on it.
func wakeCallback(ps []*wakeProc, window int) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for _, p := range ps {
		wg.Go(func() {
			inflight := 0
			var out []byte
			for range window {
				if i := int(next.Add(1)); i <= cpuTasks {
					out = append(out, wakeCall(i, 0)...)
					inflight++
				}
			}
			if len(out) > 0 {
				p.send(out)
			}
			buf := make([]byte, 4096)
			have := 0
			for inflight > 0 {
				have += p.receive(0, buf[have:])
				out = out[:0]
				for ; have >= 8; have -= 8 {
					copy(buf, buf[8:have])
					inflight--
					wakeBurn() // the callback
					if i := int(next.Add(1)); i <= cpuTasks {
						out = append(out, wakeCall(i, 0)...)
						inflight++
					}
				}
				if len(out) > 0 {
					p.send(out)
				}
			}
		})
	}
	wg.Wait()
}

// wakeLocal runs a batch on 2 goroutines.
func wakeLocal() {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for {
				i := int(next.Add(1))
				if i > cpuTasks {
					return
				}
				spin(i)
			}
		})
	}
	wg.Wait()
}

// wakeWorker serves BenchmarkWakeCost's calls: it reads a call (an ID
// and a results pipe) from fd 0, runs spin, and writes the ID to fd 3 +
// pipe. With DECO_WAKECOST_PAIRS set, it holds a result while two calls
// or more wait behind it, and writes it when the next ends, or before it
// waits for a call.
func wakeWorker() {
	pairs := os.Getenv("DECO_WAKECOST_PAIRS") != ""
	var buf, held []byte
	tmp := make([]byte, 4096)
	heldPipe := 0
	flush := func() {
		if len(held) > 0 {
			wakeWrite(3+heldPipe, held)
			held = held[:0]
		}
	}
	for {
		if len(buf) < 16 {
			if wakeQueued(0) == 0 {
				flush()
			}
			for len(buf) < 16 {
				n, err := syscall.Read(0, tmp[:16-len(buf)])
				if err == syscall.EINTR {
					continue
				}
				if err != nil || n == 0 {
					return
				}
				buf = append(buf, tmp[:n]...)
			}
		}
		id := binary.LittleEndian.Uint64(buf)
		pipe := int(binary.LittleEndian.Uint64(buf[8:]))
		buf = buf[16:]
		spin(int(id))
		var r [8]byte
		binary.LittleEndian.PutUint64(r[:], id)
		if !pairs {
			wakeWrite(3+pipe, r[:])
			continue
		}
		if n := wakeQueued(0); n > 0 {
			if m, err := syscall.Read(0, tmp[:min(n, len(tmp))]); err == nil {
				buf = append(buf, tmp[:m]...)
			}
		}
		if len(held) == 0 && len(buf)/16 >= 2 {
			held, heldPipe = append(held, r[:]...), pipe
			continue
		}
		if len(held) > 0 && heldPipe != pipe {
			flush()
			wakeWrite(3+pipe, r[:])
			continue
		}
		wakeWrite(3+pipe, append(held, r[:]...))
		held = held[:0]
	}
}

// wakeQueued reports how many bytes fd holds, unread.
func wakeQueued(fd int) int {
	var n int32
	syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), syscall.TIOCINQ, uintptr(unsafe.Pointer(&n)))
	return int(n)
}

func wakeWrite(fd int, b []byte) {
	for len(b) > 0 {
		n, err := syscall.Write(fd, b)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			os.Exit(0) // the parent is gone
		}
		b = b[n:]
	}
}
