package timeline

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"
)

// svgDoc is what the tests read back from WriteSVG's output.
type svgDoc struct {
	width, height float64
	traces        []svgTrace
	ticks         []string // axis tick labels, left to right
	raw           []byte
}

type svgTrace struct {
	title      string // the visible title text
	titleTip   string // the full title's tooltip, if shortened
	stats      string
	laneLabels []string
	spans      []svgSpan
}

type svgSpan struct {
	x, width float64
	fill     string
	tip      string
}

func (s svgSpan) right() float64 { return s.x + s.width }

// parseSVG decodes every token of data with encoding/xml, failing the test
// if the document is not well-formed, and collects the parts by class.
func parseSVG(t *testing.T, data []byte) svgDoc {
	t.Helper()
	doc := svgDoc{raw: data}
	dec := xml.NewDecoder(bytes.NewReader(data))
	// elem is an open element and its own character data, without that
	// of its children.
	type elem struct {
		name, class string
		text        *strings.Builder
	}
	var stack []elem
	attr := func(se xml.StartElement, name string) string {
		for _, a := range se.Attr {
			if a.Name.Local == name {
				return a.Value
			}
		}
		return ""
	}
	number := func(se xml.StartElement, name string) float64 {
		v, err := strconv.ParseFloat(attr(se, name), 64)
		if err != nil {
			t.Fatalf("<%s> attribute %s: %v", se.Name.Local, name, err)
		}
		return v
	}
	current := func() *svgTrace {
		if len(doc.traces) == 0 {
			t.Fatal("element outside any <g class=\"trace\">")
		}
		return &doc.traces[len(doc.traces)-1]
	}
	inTrace := false
	roots := 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v\n%s", err, data)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			e := elem{tok.Name.Local, attr(tok, "class"), new(strings.Builder)}
			if len(stack) == 0 {
				roots++
				if e.name != "svg" || tok.Name.Space != "http://www.w3.org/2000/svg" {
					t.Fatalf("root element %v, want svg in the SVG namespace", tok.Name)
				}
				doc.width, doc.height = number(tok, "width"), number(tok, "height")
			}
			stack = append(stack, e)
			switch {
			case e.name == "g" && e.class == "trace":
				if inTrace {
					t.Fatal("nested trace groups")
				}
				inTrace = true
				doc.traces = append(doc.traces, svgTrace{})
			case e.name == "rect" && e.class == "span":
				tr := current()
				tr.spans = append(tr.spans, svgSpan{x: number(tok, "x"), width: number(tok, "width"), fill: attr(tok, "fill")})
			}
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text.Write(tok)
			}
		case xml.EndElement:
			e := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			var parent elem
			if len(stack) > 0 {
				parent = stack[len(stack)-1]
			}
			s := e.text.String()
			switch {
			case e.name == "g" && e.class == "trace":
				inTrace = false
			case e.name == "title" && parent.name == "rect" && parent.class == "span":
				tr := current()
				tr.spans[len(tr.spans)-1].tip = s
			case e.name == "title" && parent.class == "title":
				current().titleTip = s
			case e.name == "text" && e.class == "title":
				current().title = s
			case e.name == "text" && e.class == "stats":
				current().stats = s
			case e.name == "text" && e.class == "lane-label":
				current().laneLabels = append(current().laneLabels, s)
			case e.name == "text" && e.class == "tick":
				doc.ticks = append(doc.ticks, s)
			}
		}
	}
	if roots != 1 || len(stack) != 0 {
		t.Fatalf("%d root elements, %d unclosed, want one closed <svg>", roots, len(stack))
	}
	return doc
}

func writeSVGDoc(t *testing.T, traces ...Trace) svgDoc {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteSVG(&buf, traces...); err != nil {
		t.Fatalf("WriteSVG: %v", err)
	}
	return parseSVG(t, buf.Bytes())
}

func TestWriteSVGStructure(t *testing.T) {
	serial, concurrent := serialAndConcurrent()
	untitled := Trace{Lanes: 3, Spans: []Span{{Name: "z", Lane: 2, Start: ms, End: ms}}} // zero length
	traces := []Trace{serial, concurrent, untitled}
	doc := writeSVGDoc(t, traces...)

	if doc.width != svgWidth {
		t.Errorf("width %v, want %d", doc.width, svgWidth)
	}
	if len(doc.traces) != len(traces) {
		t.Fatalf("%d trace groups, want %d", len(doc.traces), len(traces))
	}
	wantTitles := []string{"work, serial", "work, concurrent (4 cores)", "trace 3"}
	for n, tr := range traces {
		got := doc.traces[n]
		if got.title != wantTitles[n] {
			t.Errorf("trace %d title %q, want %q", n, got.title, wantTitles[n])
		}
		if len(got.spans) != len(tr.Spans) {
			t.Errorf("trace %d: %d rects with class span, want %d", n, len(got.spans), len(tr.Spans))
		}
		var want []string
		for lane := range tr.Lanes {
			want = append(want, fmt.Sprintf("slot %d", lane))
		}
		if fmt.Sprint(got.laneLabels) != fmt.Sprint(want) {
			t.Errorf("trace %d lane labels %q, want %q", n, got.laneLabels, want)
		}
		for i, s := range got.spans {
			if s.width < minSpanWidth {
				t.Errorf("trace %d span %d: width %v, want at least %v", n, i, s.width, minSpanWidth)
			}
			if s.x < plotLeft || s.right() > plotRight {
				t.Errorf("trace %d span %d: x %v..%v outside the plot %v..%v", n, i, s.x, s.right(), plotLeft, plotRight)
			}
		}
	}
	if !strings.HasPrefix(doc.traces[0].stats, "wall 40ms · 4 calls · 1 slot") {
		t.Errorf("serial stats %q, want wall 40ms, 4 calls, 1 slot", doc.traces[0].stats)
	}
	if !strings.Contains(doc.traces[1].stats, "wall 10ms") || !strings.Contains(doc.traces[1].stats, "4 slots, 100% busy") {
		t.Errorf("concurrent stats %q, want wall 10ms and 4 slots, 100%% busy", doc.traces[1].stats)
	}
	// Self-contained: nothing to fetch, nothing to run.
	for _, bad := range []string{"href", "<script", "@import", "url(", "<image", "<foreignObject"} {
		if bytes.Contains(doc.raw, []byte(bad)) {
			t.Errorf("SVG contains %q; it must be self-contained", bad)
		}
	}
}

func TestWriteSVGTooltipsAndColors(t *testing.T) {
	tr := Trace{Title: "t", Lanes: 2, Spans: []Span{
		{Name: "thumbnail", Index: 0, Lane: 0, Start: 0, End: 12300 * time.Microsecond},
		{Name: "thumbnail", Index: 1, Lane: 1, Start: 0, End: 5 * ms, Failed: true},
		{Name: "thumbnail", Index: 2, Lane: 0, Start: 13 * ms, End: 20 * ms, Panicked: true},
		{Name: "thumbnail", Index: 3, Lane: 1, Start: 6 * ms, End: 7 * ms, Failed: true, Panicked: true},
		{Name: `a<b&"c"`, Index: 4, Lane: 1, Start: 8 * ms, End: 9 * ms},
	}}
	doc := writeSVGDoc(t, tr)
	spans := doc.traces[0].spans
	want := []struct{ tip, fill string }{
		{"thumbnail #0: 12.3ms", colorOK},
		{"thumbnail #1: 5ms, failed", colorFailed},
		{"thumbnail #2: 7ms, panicked", colorPanicked},
		{"thumbnail #3: 1ms, panicked", colorPanicked},
		{`a<b&"c" #4: 1ms`, colorOK},
	}
	if len(spans) != len(want) {
		t.Fatalf("%d spans, want %d", len(spans), len(want))
	}
	for i, w := range want {
		if !strings.HasPrefix(spans[i].tip, w.tip+" (") {
			t.Errorf("span %d tooltip %q, want prefix %q", i, spans[i].tip, w.tip+" (")
		}
		if spans[i].fill != w.fill {
			t.Errorf("span %d fill %q, want %q", i, spans[i].fill, w.fill)
		}
	}
	if colorFailed == colorOK || colorPanicked == colorOK || colorPanicked == colorFailed {
		t.Error("span colours are not distinct")
	}
}

func TestWriteSVGEscapesTitles(t *testing.T) {
	serial, _ := serialAndConcurrent()
	serial.Title = `a <&> "b" 'c'`
	other := Trace{Title: "bad \x00 utf8 \xff", Lanes: 1}
	doc := writeSVGDoc(t, serial, other)
	if got := doc.traces[0].title; got != serial.Title {
		t.Errorf("title %q, want %q", got, serial.Title)
	}
	if !bytes.Contains(doc.raw, []byte("a &lt;&amp;&gt; &#34;b&#34;")) {
		t.Errorf("escaped title not found in output")
	}
	if bytes.Contains(doc.raw, []byte("<&>")) {
		t.Errorf("raw <&> in output")
	}
}

func TestWriteSVGLongTitle(t *testing.T) {
	long := Trace{Title: strings.Repeat("very long title ", 20) + "<end>", Lanes: 1}
	doc := writeSVGDoc(t, long)
	got := doc.traces[0]
	if !strings.HasSuffix(got.title, "…") || len(got.title) >= len(long.Title) {
		t.Errorf("title %q not shortened", got.title)
	}
	if got.titleTip != long.Title {
		t.Errorf("title tooltip %q, want the full title", got.titleTip)
	}
}

// TestWriteSVGSharedScale checks that all traces share one time scale: the
// serial run's bars reach four times as far right as the concurrent run's,
// both start at the same x, and the concurrent run alone is scaled up.
func TestWriteSVGSharedScale(t *testing.T) {
	serial, concurrent := serialAndConcurrent()
	for _, order := range [][]Trace{{serial, concurrent}, {concurrent, serial}} {
		doc := writeSVGDoc(t, order...)
		rights := map[string]float64{}
		lefts := map[string]float64{}
		for n, tr := range doc.traces {
			title := order[n].Title
			lefts[title] = plotRight
			for _, s := range tr.spans {
				rights[title] = max(rights[title], s.right())
				lefts[title] = min(lefts[title], s.x)
			}
		}
		rs, rc := rights[serial.Title], rights[concurrent.Title]
		if rs <= rc {
			t.Fatalf("serial bars end at x=%v, concurrent at x=%v; want serial further right", rs, rc)
		}
		if lefts[serial.Title] != lefts[concurrent.Title] {
			t.Errorf("first bars start at x=%v and x=%v, want one shared origin", lefts[serial.Title], lefts[concurrent.Title])
		}
		// 40ms against 10ms from the same origin; bars lose a pixel of gap.
		if ratio := (rs - plotLeft) / (rc - plotLeft); ratio < 3.8 || ratio > 4.2 {
			t.Errorf("serial/concurrent extent ratio %.2f, want about 4", ratio)
		}
	}
	alone := writeSVGDoc(t, concurrent)
	together := writeSVGDoc(t, serial, concurrent)
	if a, b := alone.traces[0].spans[0].width, together.traces[1].spans[0].width; a <= 2*b {
		t.Errorf("10ms bar is %vpx alone and %vpx beside a 40ms run, want it scaled to the longest run", a, b)
	}
}

func TestWriteSVGHeightGrowsWithLanes(t *testing.T) {
	var prev float64
	for _, lanes := range []int{1, 2, 8, 16, 17, 40, 41, 128} {
		doc := writeSVGDoc(t, Trace{Title: "t", Lanes: lanes})
		if doc.height <= prev {
			t.Errorf("%d lanes: height %v, not more than %v for fewer lanes", lanes, doc.height, prev)
		}
		prev = doc.height
	}
	one := writeSVGDoc(t, Trace{Lanes: 4})
	two := writeSVGDoc(t, Trace{Lanes: 4}, Trace{Lanes: 4})
	if two.height <= one.height {
		t.Errorf("two traces %vpx high, one %vpx, want taller", two.height, one.height)
	}
}

func TestWriteSVGAxis(t *testing.T) {
	serial, concurrent := serialAndConcurrent()
	doc := writeSVGDoc(t, serial, concurrent)
	// 40ms: ten 4ms intervals round up to 5ms steps.
	want := "[0 5ms 10ms 15ms 20ms 25ms 30ms 35ms 40ms]"
	if got := fmt.Sprint(doc.ticks); got != want {
		t.Errorf("ticks %v, want %v", got, want)
	}
	empty := writeSVGDoc(t)
	if len(empty.traces) != 0 || len(empty.ticks) == 0 {
		t.Errorf("no traces: %d traces, ticks %v; want an axis only", len(empty.traces), empty.ticks)
	}
}

func TestNewAxis(t *testing.T) {
	for _, tc := range []struct {
		longest time.Duration
		ticks   string
	}{
		{0, "[0 0.1ms 0.2ms 0.3ms 0.4ms 0.5ms 0.6ms 0.7ms 0.8ms 0.9ms 1ms]"},
		{863 * ms, "[0 100ms 200ms 300ms 400ms 500ms 600ms 700ms 800ms 900ms]"},
		{1000 * ms, "[0 0.1s 0.2s 0.3s 0.4s 0.5s 0.6s 0.7s 0.8s 0.9s 1s]"},
		{2345 * ms, "[0 0.5s 1s 1.5s 2s 2.5s]"},
		{12 * time.Second, "[0 2s 4s 6s 8s 10s 12s]"},
		{90 * time.Second, "[0 10s 20s 30s 40s 50s 60s 70s 80s 90s]"},
		{1500 * ms, "[0 0.2s 0.4s 0.6s 0.8s 1s 1.2s 1.4s 1.6s]"},
		{300 * time.Microsecond, "[0 50µs 100µs 150µs 200µs 250µs 300µs]"},
		{7 * time.Nanosecond, "[0 0.001µs 0.002µs 0.003µs 0.004µs 0.005µs 0.006µs 0.007µs]"},
	} {
		ax := newAxis(tc.longest)
		var labels []string
		for _, tick := range ax.ticks() {
			labels = append(labels, ax.label(tick))
		}
		if got := fmt.Sprint(labels); got != tc.ticks {
			t.Errorf("newAxis(%v) ticks %v, want %v", tc.longest, got, tc.ticks)
		}
		if ax.end < tc.longest {
			t.Errorf("newAxis(%v) ends at %v, before the longest trace", tc.longest, ax.end)
		}
		if n := len(labels); n < 4 || n > 11 {
			t.Errorf("newAxis(%v): %d ticks, want 4 to 11", tc.longest, n)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{0, "0ms"},
		{12300 * time.Microsecond, "12.3ms"},
		{12345 * time.Microsecond, "12.3ms"},
		{5 * ms, "5ms"},
		{812 * ms, "812ms"},
		{1500 * ms, "1.5s"},
		{2 * time.Second, "2s"},
		{740 * time.Microsecond, "740µs"},
		{1234 * time.Nanosecond, "1.23µs"},
		{42, "42ns"},
	} {
		if got := formatDuration(tc.d); got != tc.want {
			t.Errorf("formatDuration(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

func TestWriteSVGInvalidWritesNothing(t *testing.T) {
	serial, _ := serialAndConcurrent()
	for _, tc := range badTraces {
		t.Run(tc.name, func(t *testing.T) {
			w := &writeCounter{}
			err := WriteSVG(w, serial, tc.trace)
			if err == nil {
				t.Fatal("WriteSVG = nil, want an error")
			}
			if w.calls != 0 {
				t.Errorf("WriteSVG wrote %d times (%d bytes) before failing, want nothing", w.calls, w.bytes)
			}
			if !strings.HasPrefix(err.Error(), "timeline: traces[1] ") {
				t.Errorf("error %q does not name traces[1]", err)
			}
			for _, want := range tc.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
		})
	}
}

func TestWriteSVGOneWrite(t *testing.T) {
	serial, concurrent := serialAndConcurrent()
	w := &writeCounter{}
	if err := WriteSVG(w, serial, concurrent); err != nil {
		t.Fatal(err)
	}
	if w.calls != 1 {
		t.Errorf("%d Write calls, want 1", w.calls)
	}
	boom := errors.New("disk full")
	if err := WriteSVG(&writeCounter{err: boom}, serial); !errors.Is(err, boom) {
		t.Errorf("WriteSVG with a failing writer = %v, want %v", err, boom)
	}
}

func TestWriteSVGLabelsNamedLanes(t *testing.T) {
	long := "a-very-long-host-name.example.com:424242"
	tr := Trace{Title: "cluster", Lanes: 3, LaneNames: []string{"", "host:12", long},
		Spans: []Span{{Name: "f", Lane: 2, End: ms}}}
	var buf bytes.Buffer
	if err := WriteSVG(&buf, tr); err != nil {
		t.Fatal(err)
	}
	svg := buf.String()
	for _, want := range []string{">slot 0<", ">host:12<", ":424242<title>" + long + "</title>", "(" + long + ", ", "3 lanes"} {
		if !strings.Contains(svg, want) {
			t.Errorf("the SVG lacks %q", want)
		}
	}
	if strings.Contains(svg, ">"+long+"<title>") || !strings.Contains(svg, ">…") {
		t.Errorf("the long lane name is drawn whole, past the margin")
	}
}
