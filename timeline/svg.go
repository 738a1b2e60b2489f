package timeline

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// WriteSVG writes a self-contained SVG (no external fonts/scripts/CSS files):
// the traces stacked one above the other on ONE shared time scale (so a
// serial run drawn beside a concurrent one is visibly longer), each with its
// title and total wall time, one lane (row) per slot labelled "slot N" (or
// by [Trace.LaneNames]; a name too long for the margin is shortened at its
// start, the full name kept as a tooltip), one
// <rect class="span"> per span (a <title> child tooltip "name #index:
// 12.3ms"), failed spans red, panicked spans dark red, a time axis with
// "nice" tick labels (ms or s), and a small legend. Width ~1000px, height
// grows with lanes. Escape all text (XML).
//
// Traces are drawn top to bottom in argument order, each in a
// <g class="trace"> element; lanes top to bottom from slot 0; spans in
// [Trace.Spans] order, so a later span overlapping an earlier one on the
// same lane is drawn over it. The shared scale runs from the origin to a
// round tick value at or past the latest [Span.End] of all traces; ticks are
// labelled in seconds from one second up, in microseconds below one
// millisecond, and in milliseconds otherwise. Each trace's header gives its
// wall time (its latest Span.End), its number of calls, and how busy its
// lanes were (the summed span durations over wall time times Lanes); a dashed
// line marks its wall time across its lanes. A trace with an empty Title is
// titled "trace N", N being its position plus one; titles too long for the
// header are shortened with an ellipsis, the full title kept as a tooltip.
// A span bar is at least one pixel wide, and wide bars are labelled with the
// span's name and index. A span that both failed and panicked is drawn as
// panicked. With no traces, WriteSVG draws the axis and legend only.
//
// WriteSVG validates every trace with [Trace.Validate] first and returns the
// first error, naming the trace by its position, without writing anything.
// Otherwise it writes the whole document with one call to w.Write and returns
// that call's error.
func WriteSVG(w io.Writer, traces ...Trace) error {
	if err := validateAll(traces); err != nil {
		return err
	}
	var longest time.Duration
	for _, t := range traces {
		longest = max(longest, t.wall())
	}
	ax := newAxis(longest)
	x := func(d time.Duration) float64 {
		return plotLeft + plotWidth*float64(d)/float64(ax.end)
	}

	var body bytes.Buffer
	p := &svgPrinter{buf: &body}
	y := float64(marginTop)
	for i, t := range traces {
		y = p.trace(i, t, y, ax, x)
		y += traceGap
	}
	y = p.axis(y, ax, x)
	y = p.legend(y + legendGap)
	height := int(y + marginBottom)

	var doc bytes.Buffer
	fmt.Fprintf(&doc, `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="%s" font-size="11" role="img">
`, svgWidth, height, svgWidth, height, fontFamily)
	titles := make([]string, len(traces))
	for i, t := range traces {
		titles[i] = t.title(i)
	}
	fmt.Fprintf(&doc, "<title>%s</title>\n", esc("timeline: "+strings.Join(titles, "; ")))
	doc.WriteString("<style>.span:hover{opacity:.7}.span-label{pointer-events:none}</style>\n")
	fmt.Fprintf(&doc, "<rect width=\"%d\" height=\"%d\" fill=\"%s\"/>\n", svgWidth, height, colorBackground)
	doc.Write(body.Bytes())
	doc.WriteString("</svg>\n")
	_, err := w.Write(doc.Bytes())
	return err
}

// Layout, in pixels. The plot area, where time runs left to right, is the
// same for every trace: that is what makes the time scale shared.
const (
	svgWidth     = 1000
	marginLeft   = 16 // left edge of titles and the legend
	marginTop    = 14
	marginBottom = 12
	plotLeft     = 76.0
	plotRight    = 976.0
	plotWidth    = plotRight - plotLeft
	headerHeight = 26 // title line above a trace's lanes
	traceGap     = 16
	legendGap    = 14
	minSpanWidth = 1.0

	fontFamily = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"

	colorBackground = "#ffffff"
	colorText       = "#1f2328"
	colorMuted      = "#59636e"
	colorLane       = "#f1f3f5"
	colorGrid       = "#d8dde3"
	colorAxis       = "#59636e"
	colorOK         = "#4e79a7"
	colorFailed     = "#e15759"
	colorPanicked   = "#8b1a1a"
)

// laneGeometry is a trace's row size: roomy for a few lanes, denser for many
// so that a 64-core run still fits on a screen, yet always taller for more
// lanes.
type laneGeometry struct {
	height, gap, font float64
	labels            bool // whether bars are tall enough for text
}

func geometry(lanes int) laneGeometry {
	// Up to 16 lanes get 24px each; each lane past that adds 12px to the
	// trace, so rows shrink smoothly towards 12px.
	const roomy, extra = 24.0, 12.0
	pitch := roomy
	if lanes > 16 {
		pitch = (16*roomy + float64(lanes-16)*extra) / float64(lanes)
	}
	gap := max(1, pitch/6)
	height := pitch - gap
	return laneGeometry{
		height: height,
		gap:    gap,
		font:   min(11, max(8, height*0.6)),
		labels: height >= 15,
	}
}

// svgPrinter writes SVG elements to buf.
type svgPrinter struct {
	buf *bytes.Buffer
}

func (p *svgPrinter) printf(format string, args ...any) {
	fmt.Fprintf(p.buf, format, args...)
}

// trace draws trace number i with its header starting at y and returns the
// y just below its last lane.
func (p *svgPrinter) trace(i int, t Trace, y float64, ax axis, x func(time.Duration) float64) float64 {
	g := geometry(t.Lanes)
	wall := t.wall()
	p.printf("<g class=\"trace\">\n")

	// Header: the title on the left, the numbers on the right.
	stats := traceStats(t, wall)
	title := t.title(i)
	// Titles are bold 14px, about 8px a character; the stats are 12px.
	room := int((plotRight-marginLeft-float64(utf8.RuneCountInString(stats))*6.5-24)/8) + 1
	shown := truncate(title, max(room, 8))
	p.printf(`<text class="title" x="%d" y="%s" font-size="14" font-weight="600" fill="%s">%s`,
		marginLeft, num(y+17), colorText, esc(shown))
	if shown != title {
		p.printf("<title>%s</title>", esc(title))
	}
	p.printf("</text>\n")
	p.printf("<text class=\"stats\" x=\"%s\" y=\"%s\" font-size=\"12\" text-anchor=\"end\" fill=\"%s\">%s</text>\n",
		num(plotRight), num(y+17), colorMuted, esc(stats))
	y += headerHeight

	// Lanes: a pale stripe and a label each.
	top := y
	for lane := range t.Lanes {
		ly := laneY(top, g, lane)
		p.printf("<rect class=\"lane\" x=\"%s\" y=\"%s\" width=\"%s\" height=\"%s\" fill=\"%s\"/>\n",
			num(plotLeft), num(ly), num(plotWidth), num(g.height), colorLane)
		name := t.laneName(lane)
		shown := truncateStart(name, int((plotLeft-8-2)/(g.font*0.62)))
		p.printf("<text class=\"lane-label\" x=\"%s\" y=\"%s\" font-size=\"%s\" text-anchor=\"end\" fill=\"%s\">%s",
			num(plotLeft-8), num(ly+g.height/2+g.font*0.35), num(g.font), colorMuted, esc(shown))
		if shown != name {
			p.printf("<title>%s</title>", esc(name))
		}
		p.printf("</text>\n")
	}
	bottom := laneY(top, g, t.Lanes) - g.gap

	// Grid lines at the axis ticks, behind the spans.
	for _, tick := range ax.ticks() {
		if tick == 0 {
			continue
		}
		p.printf("<line class=\"grid\" x1=\"%[1]s\" x2=\"%[1]s\" y1=\"%[2]s\" y2=\"%[3]s\" stroke=\"%[4]s\" stroke-width=\"1\"/>\n",
			num(x(tick)), num(top), num(bottom), colorGrid)
	}

	// Spans.
	for _, s := range t.Spans {
		x0, x1 := x(s.Start), x(s.End)
		width := x1 - x0
		if width >= 3 {
			width-- // a hairline gap between back-to-back calls on one lane
		}
		width = max(width, minSpanWidth)
		sy := laneY(top, g, s.Lane)
		fill, state := colorOK, ""
		switch {
		case s.Panicked:
			fill, state = colorPanicked, ", panicked"
		case s.Failed:
			fill, state = colorFailed, ", failed"
		}
		tip := fmt.Sprintf("%s #%d: %s%s (%s, %s–%s)", s.Name, s.Index, formatDuration(s.End-s.Start),
			state, t.laneName(s.Lane), formatDuration(s.Start), formatDuration(s.End))
		p.printf("<rect class=\"span\" x=\"%s\" y=\"%s\" width=\"%s\" height=\"%s\" rx=\"2\" fill=\"%s\"><title>%s</title></rect>\n",
			num(x0), num(sy+1), num(width), num(g.height-2), fill, esc(tip))
		if g.labels {
			if label := spanLabel(s, width-6, g.font-1); label != "" {
				p.printf("<text class=\"span-label\" x=\"%s\" y=\"%s\" font-size=\"%s\" fill=\"#ffffff\">%s</text>\n",
					num(x0+3), num(sy+g.height/2+(g.font-1)*0.35), num(g.font-1), esc(label))
			}
		}
	}

	// The trace's wall time, across its lanes.
	if wall > 0 {
		p.printf("<line class=\"wall\" x1=\"%[1]s\" x2=\"%[1]s\" y1=\"%[2]s\" y2=\"%[3]s\" stroke=\"%[4]s\" stroke-width=\"1\" stroke-dasharray=\"3 2\"/>\n",
			num(x(wall)), num(top-3), num(bottom+3), colorText)
	}
	p.printf("</g>\n")
	return bottom
}

// laneY is the top of a lane's row.
func laneY(top float64, g laneGeometry, lane int) float64 {
	return top + float64(lane)*(g.height+g.gap)
}

// laneWord is what the header calls t's lanes: "slot", or "lane" when
// they are named (a cluster's workers).
func laneWord(t Trace) string {
	if t.LaneNames != nil {
		return "lane"
	}
	return "slot"
}

// traceStats is the right-hand side of a trace's header, for example
// "wall 812ms · 24 calls · 4 slots, 97% busy".
func traceStats(t Trace, wall time.Duration) string {
	s := fmt.Sprintf("wall %s · %s · %s", formatDuration(wall),
		plural(len(t.Spans), "call"), plural(t.Lanes, laneWord(t)))
	if wall > 0 {
		busy := 100 * float64(t.busy()) / (float64(wall) * float64(t.Lanes))
		s += fmt.Sprintf(", %.0f%% busy", busy)
	}
	return s
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// spanLabel is the text drawn inside a span's bar: "name #index" or just
// "#index", whichever fits in room pixels at the given font size, or "".
func spanLabel(s Span, room, font float64) string {
	for _, label := range []string{fmt.Sprintf("%s #%d", s.Name, s.Index), fmt.Sprintf("#%d", s.Index)} {
		// Digits and most letters are narrower than 0.7em in common
		// sans-serif fonts; erring wide keeps labels inside their bars.
		if float64(utf8.RuneCountInString(label))*font*0.7 <= room {
			return label
		}
	}
	return ""
}

// axis draws the time axis with its top at y and returns the y below it.
func (p *svgPrinter) axis(y float64, ax axis, x func(time.Duration) float64) float64 {
	p.printf("<g class=\"axis\">\n")
	p.printf("<line x1=\"%s\" x2=\"%s\" y1=\"%[3]s\" y2=\"%[3]s\" stroke=\"%[4]s\" stroke-width=\"1\"/>\n",
		num(plotLeft), num(plotRight), num(y), colorAxis)
	for _, tick := range ax.ticks() {
		p.printf("<line x1=\"%[1]s\" x2=\"%[1]s\" y1=\"%[2]s\" y2=\"%[3]s\" stroke=\"%[4]s\" stroke-width=\"1\"/>\n",
			num(x(tick)), num(y), num(y+5), colorAxis)
		p.printf("<text class=\"tick\" x=\"%s\" y=\"%s\" text-anchor=\"middle\" fill=\"%s\">%s</text>\n",
			num(x(tick)), num(y+18), colorMuted, esc(ax.label(tick)))
	}
	p.printf("<text x=\"%s\" y=\"%s\" text-anchor=\"end\" fill=\"%s\">time</text>\n",
		num(plotLeft-12), num(y+18), colorMuted)
	p.printf("</g>\n")
	return y + 22
}

// legend draws the colour key with its top at y and returns the y below it.
func (p *svgPrinter) legend(y float64) float64 {
	p.printf("<g class=\"legend\">\n")
	lx := float64(marginLeft)
	for _, item := range []struct{ color, label string }{
		{colorOK, "call"},
		{colorFailed, "failed"},
		{colorPanicked, "panicked"},
	} {
		p.printf("<rect x=\"%s\" y=\"%s\" width=\"12\" height=\"12\" rx=\"2\" fill=\"%s\"/>\n", num(lx), num(y), item.color)
		p.printf("<text x=\"%s\" y=\"%s\" fill=\"%s\">%s</text>\n", num(lx+17), num(y+10), colorText, item.label)
		lx += 17 + float64(len(item.label))*6.5 + 18
	}
	p.printf("<text x=\"%s\" y=\"%s\" text-anchor=\"end\" fill=\"%s\">one time scale for all runs; dashed line: wall time; hover a bar for details</text>\n",
		num(plotRight), num(y+10), colorMuted)
	p.printf("</g>\n")
	return y + 12
}

// axis is the shared time scale: from 0 to end in steps of step, both
// "nice" round durations.
type axis struct {
	end, step, unit time.Duration
	suffix          string
}

// newAxis picks a step of 1, 2 or 5 times a power of ten nanoseconds giving
// at most ten intervals up to longest, and ends the axis at the first tick
// at or past longest. An empty timeline gets a one-millisecond axis.
func newAxis(longest time.Duration) axis {
	if longest <= 0 {
		longest = time.Millisecond
	}
	const intervals = 10
	raw := (longest + intervals - 1) / intervals
	mag := time.Duration(1)
	for mag*10 <= raw {
		mag *= 10
	}
	step := 10 * mag
	for _, m := range []time.Duration{1, 2, 5} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	ax := axis{end: (longest + step - 1) / step * step, step: step}
	switch {
	case ax.end >= time.Second:
		ax.unit, ax.suffix = time.Second, "s"
	case ax.end >= time.Millisecond:
		ax.unit, ax.suffix = time.Millisecond, "ms"
	default:
		ax.unit, ax.suffix = time.Microsecond, "µs"
	}
	return ax
}

// ticks are the tick times, from 0 to ax.end inclusive.
func (ax axis) ticks() []time.Duration {
	var ts []time.Duration
	for t := time.Duration(0); t <= ax.end; t += ax.step {
		ts = append(ts, t)
	}
	return ts
}

// label is a tick's text: "0", then for example "0.5s" or "200ms".
func (ax axis) label(t time.Duration) string {
	if t == 0 {
		return "0"
	}
	return strconv.FormatFloat(float64(t)/float64(ax.unit), 'f', -1, 64) + ax.suffix
}

// formatDuration writes d with three significant digits in the largest unit
// that keeps it at least 1: "812ms", "12.3ms", "1.5s", "740µs".
func formatDuration(d time.Duration) string {
	if d == 0 {
		return "0ms"
	}
	unit, suffix := time.Nanosecond, "ns"
	switch {
	case d >= time.Second:
		unit, suffix = time.Second, "s"
	case d >= time.Millisecond:
		unit, suffix = time.Millisecond, "ms"
	case d >= time.Microsecond:
		unit, suffix = time.Microsecond, "µs"
	}
	v := float64(d) / float64(unit)
	decimals := 2
	switch {
	case v >= 100:
		decimals = 0
	case v >= 10:
		decimals = 1
	}
	s := strconv.FormatFloat(v, 'f', decimals, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s + suffix
}

// truncate shortens s to at most n runes, ending it with an ellipsis.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// truncateStart shortens s to at most n runes (at least 2), starting it
// with an ellipsis: the end of a lane name ("host:pid") tells lanes apart.
func truncateStart(s string, n int) string {
	n = max(n, 2)
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return "…" + string(r[len(r)-n+1:])
}

// esc escapes s for XML text and attribute values.
func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s)) // a strings.Builder never fails
	return b.String()
}

// num formats a coordinate with at most two decimals.
func num(f float64) string {
	s := strconv.FormatFloat(f, 'f', 2, 64)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	if s == "-0" {
		return "0"
	}
	return s
}
