package progress

import (
	"io"
	"os"
	"sync"

	"golang.org/x/term"
)

// Bar is the progress display of one batch of tasks. Its methods are safe
// to call from many goroutines at once.
type Bar struct {
	mu       sync.Mutex
	done     int
	failed   int
	total    int
	finished bool
	r        renderer
}

// renderer draws a Bar's state; the Bar's mutex is held during calls.
type renderer interface {
	update(done, total, failed int)
	finish(done, total, failed int)
}

// New makes the progress display of a batch of total tasks named title,
// written to w (nil discards it).
//
// If w is an *os.File that is a terminal, the display is a live bar drawn
// with github.com/schollz/progressbar: the title and the failed count,
// the bar, done/total and the rate. Otherwise it is plain lines such as
//
//	thumbnails: 10/100 done, 0 failed
//
// one each time the done count reaches another tenth of the total, and
// one from [Bar.Finish] unless that state was just printed: at most 11
// lines per bar. New writes nothing itself.
//
// Cost: New, Update and Finish take a mutex and, at most, write one line
// to w; they block only as long as w's Write does. Write errors are
// ignored: progress output never fails the work it reports on.
func New(w io.Writer, title string, total int) *Bar {
	if w == nil {
		w = io.Discard
	}
	return newBar(w, title, total, isTerminal(w))
}

// isTerminal reports whether w is an *os.File open on a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// newBar is New with the choice of display made by the caller.
func newBar(w io.Writer, title string, total int, terminal bool) *Bar {
	b := &Bar{total: total}
	if terminal {
		b.r = newTerminal(w, title, total)
	} else {
		b.r = newPlain(w, title)
	}
	return b
}

// Update reports that done tasks out of total have finished, failed of
// them with an error. Reports may come from many goroutines and so arrive
// out of order: a done or failed count lower than one already reported is
// ignored, while total is always taken as given. Update after
// [Bar.Finish] does nothing.
func (b *Bar) Update(done, total, failed int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.finished {
		return
	}
	b.done = max(b.done, done)
	b.failed = max(b.failed, failed)
	b.total = total
	b.r.update(b.done, b.total, b.failed)
}

// Finish shows the final state and ends the display: a terminal bar is
// completed (or left where it stopped, if not all tasks finished) and
// followed by a newline; the plain display prints the final line unless
// it just did. Finish is idempotent: calls after the first do nothing.
func (b *Bar) Finish() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.finished {
		return
	}
	b.finished = true
	b.r.finish(b.done, b.total, b.failed)
}
