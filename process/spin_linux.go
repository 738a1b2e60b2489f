package process

import (
	"runtime"
	"syscall"
	"time"
	"unsafe"
)

// spinWait polls fd until it has data to read (or its writer has gone, or
// it fails: the read that follows tells), for at most budget, yielding the
// thread to other threads (sched_yield) between polls, and its processor
// to the program's other goroutines only if it is the only one (see
// below). It reports whether fd has data; it gives up early, at a yield
// that gave the core away (took longer than spinYield), which tells that
// other threads want the cores. It never blocks.
func spinWait(fd int, budget time.Duration) bool {
	if budget <= 0 || fd < 0 {
		return false
	}
	pfd := struct {
		fd             int32
		events, revent int16
	}{fd: int32(fd), events: 0x1} // POLLIN
	var zero syscall.Timespec // return at once
	// With one processor, none is idle: runtime.Gosched wakes no thread
	// (see below), and lets the goroutines that wait for the processor
	// run meanwhile.
	gosched := runtime.GOMAXPROCS(0) == 1
	start := time.Now()
	for {
		n, _, e := syscall.RawSyscall6(syscall.SYS_PPOLL, uintptr(unsafe.Pointer(&pfd)), 1, uintptr(unsafe.Pointer(&zero)), 0, 0, 0)
		if e == 0 && n > 0 {
			return true
		}
		if e != 0 && e != syscall.EINTR {
			return false // a bad descriptor: the read says so
		}
		t := time.Now()
		if t.Sub(start) >= budget {
			return false
		}
		// The thread yields, to other threads that want this core; the
		// processor does not, with more than one: runtime.Gosched, with a
		// processor idle (the spinner's usual case: one goroutine waiting
		// for its message), wakes another thread to look for goroutines
		// to run — a wake-up per poll, on the other core, where the
		// process the spinner waits for runs — and that thread's run
		// then made this yield give the core away, ending the spin.
		// Goroutines readied meanwhile run on another processor:
		// readying them wakes a thread for it.
		if gosched {
			runtime.Gosched()
		}
		syscall.RawSyscall(syscall.SYS_SCHED_YIELD, 0, 0, 0)
		if time.Since(t) > spinYield {
			return false
		}
	}
}
