package progress

import (
	"fmt"
	"io"
	"time"

	"github.com/schollz/progressbar/v3"
)

// redrawEvery is the least time between two redraws of a terminal bar,
// except for the final state, which is always drawn.
const redrawEvery = 50 * time.Millisecond

// terminal draws a live bar with github.com/schollz/progressbar. The bar
// starts no goroutine as long as its maximum is known, which it always is
// here. The throttling is done here rather than by the library's, which
// could leave the final state undrawn.
type terminal struct {
	w          io.Writer
	title      string
	bar        *progressbar.ProgressBar
	max        int
	lastFailed int
	lastDraw   time.Time
	ended      bool // the completion newline has been written
}

func newTerminal(w io.Writer, title string, total int) *terminal {
	t := &terminal{w: w, title: title, max: max(total, 1)}
	t.bar = progressbar.NewOptions(t.max,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(t.describe(0)),
		progressbar.OptionSetWidth(30),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("items"),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionEnableColorCodes(false),
		progressbar.OptionOnCompletion(t.end),
	)
	return t
}

func (t *terminal) describe(failed int) string {
	return fmt.Sprintf("%s (%d failed)", t.title, failed)
}

// end writes the newline after the bar, once. The bar calls it when it
// reaches its maximum; Finish calls it otherwise.
func (t *terminal) end() {
	if !t.ended {
		t.ended = true
		_, _ = io.WriteString(t.w, "\n")
	}
}

func (t *terminal) update(done, total, failed int) {
	t.draw(done, total, failed, false)
}

// draw shows the state unless the last redraw was too recent; force and
// a full bar always draw.
func (t *terminal) draw(done, total, failed int, force bool) {
	if total > 0 && total != t.max {
		t.max = total
		t.bar.ChangeMax(total)
	}
	now := time.Now()
	if !force && done < t.max && now.Sub(t.lastDraw) < redrawEvery {
		return
	}
	t.lastDraw = now
	if failed != t.lastFailed {
		t.lastFailed = failed
		t.bar.Describe(t.describe(failed))
	}
	_ = t.bar.Set(min(done, t.max))
}

func (t *terminal) finish(done, total, failed int) {
	t.draw(done, total, failed, true)
	if done >= t.max {
		_ = t.bar.Finish()
	} else {
		_ = t.bar.Exit()
	}
	t.end()
}
