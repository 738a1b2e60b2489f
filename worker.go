package deco

// worker is what one worker goroutine accumulates between two settles, so
// that finishing a call costs no contended atomic add and no clock reading:
// the calls a batch is owed (its pending count) and, for the function of
// the current streak of calls, how many finished and the streak's start,
// whose length is the calls' run time. A worker settles before it parks,
// before it runs a call of another batch or function, and every
// settleEvery calls.
type worker struct {
	pool        *Pool
	lane        int
	id          int     // written into the goroutine's stack, see help.go
	home        *worker // the goroutine's own worker; itself unless inline
	stack       []frame // calls running on this goroutine, innermost last, in stack[:depth]; in home
	depth       int
	inlines     []*worker // runInline's workers by depth; in home
	inlineDepth int       // inline runs in progress on the goroutine; in home
	owner       *batch
	owed        int64
	fc          *funcCore
	since       int64 // nanotime the streak started, 0 if none
	done        int64
	// bare: the worker is a pool's worker goroutine's own, whose loop
	// (Pool.drain) recovers a panic or Goexit of the call it runs, so
	// that call.run runs a call without a deferred function of its own
	// (an inline worker runs calls of a waiting call, whose own frames a
	// panic must not unwind: its calls keep theirs). inCall: such a call's
	// function is running. Flags, not a pointer to the call: drain knows
	// the call, and a pointer written twice a call went through the
	// collector's write barrier while it marked.
	bare, inCall bool
}

const settleEvery = 64

// frame is a call running on a worker's goroutine, for the self-wait
// checks. It holds addresses, not pointers: the call is alive while it
// runs, and writing addresses costs no write barrier per call.
type frame struct {
	call, owner uintptr
	index       int
}

// push records fr as running on w's goroutine. Growing aside, it writes
// no pointer: a call pays no write barrier for it while the collector runs.
func (w *worker) push(fr frame) {
	if w.depth < len(w.stack) {
		w.stack[w.depth] = fr
	} else {
		w.stack = append(w.stack, fr)
	}
	w.depth++
}

// running returns the calls running on w's goroutine, innermost last.
func (w *worker) running() []frame { return w.stack[:w.depth] }

// account counts a finished call of owner and of the streak's function
// (begin made it w.fc). Its common case, inlined: one more call of the
// streak's batch, with no settle due.
func (w *worker) account(owner *batch) {
	if w.owner == owner && w.done < settleEvery-1 {
		w.owed++
		w.done++
	} else {
		w.accountSlow(owner, true)
	}
}

// accountSlow is account; countDone is false when the call was counted in
// its function's stats already.
func (w *worker) accountSlow(owner *batch, countDone bool) {
	if w.owner != owner {
		w.settleOwner()
		w.owner = owner
	}
	w.owed++
	if countDone {
		w.done++
		if w.done >= settleEvery {
			w.settleStats(nanotime())
		}
	}
}

// begin is called before a call of fc runs. Inlined: its common case, a
// call of the streak's function and batch, does nothing.
func (w *worker) begin(fc *funcCore, owner *batch) {
	if w.fc != fc || w.since == 0 || w.owner != owner {
		w.beginSlow(fc, owner)
	}
}

func (w *worker) beginSlow(fc *funcCore, owner *batch) {
	if w.owner != nil && w.owner != owner {
		w.settleOwner()
	}
	if w.fc != fc {
		now := nanotime()
		w.settleStats(now)
		w.fc = fc
		w.since = now
	} else if w.since == 0 {
		w.since = nanotime()
	}
}

func (w *worker) settleOwner() {
	if w.owner != nil && w.owed > 0 {
		w.owner.doneN(w.owed, 0)
	}
	w.owner, w.owed = nil, 0
}

// settleStats adds the streak so far to the function's stats.
func (w *worker) settleStats(now int64) {
	if w.fc != nil {
		if w.since > 0 && now > w.since {
			w.fc.stats.busy.Add(now - w.since)
		}
		if w.done > 0 {
			w.fc.stats.done.Add(w.done)
		}
	}
	w.done = 0
	w.since = now
}

// settle pays everything owed and ends the streak, reading the clock once.
func (w *worker) settle() {
	if w.fc == nil && w.owed == 0 {
		return
	}
	now := nanotime()
	if w.fc != nil {
		w.settleStats(now)
	}
	w.since = 0
	if w.owner != nil && w.owed > 0 {
		w.owner.doneN(w.owed, now)
	}
	w.owner, w.owed = nil, 0
}
