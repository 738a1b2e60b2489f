package progress

import (
	"fmt"
	"io"
)

// plain prints a line at each tenth of the total and at the end.
type plain struct {
	w        io.Writer
	title    string
	lastStep int    // last tenth printed, 0 for none
	lastLine string // last line printed
}

func newPlain(w io.Writer, title string) *plain {
	return &plain{w: w, title: title}
}

func (p *plain) update(done, total, failed int) {
	if total <= 0 {
		return
	}
	step := min(done, total) * 10 / total
	if step > p.lastStep {
		p.lastStep = step
		p.print(done, total, failed)
	}
}

func (p *plain) finish(done, total, failed int) {
	if line := p.line(done, total, failed); line != p.lastLine {
		p.print(done, total, failed)
	}
}

func (p *plain) line(done, total, failed int) string {
	return fmt.Sprintf("%s: %d/%d done, %d failed\n", p.title, done, total, failed)
}

func (p *plain) print(done, total, failed int) {
	p.lastLine = p.line(done, total, failed)
	_, _ = io.WriteString(p.w, p.lastLine)
}
