package demo

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/deco-go/deco/timeline"
)

// svgCounts is what a picture holds, read back with encoding/xml.
type svgCounts struct {
	root         xml.StartElement
	sections     int      // nested svg elements
	sectionYs    []int    // their y attributes
	traces       int      // g class="trace"
	spans        int      // rect class="span"
	laneLabels   int      // text class="lane-label"
	titles       []string // text class="title", in order
	spanTooltips []string
}

// readSVG parses an SVG document, failing the test if it is not
// well-formed XML.
func readSVG(t *testing.T, doc []byte) svgCounts {
	t.Helper()
	var c svgCounts
	dec := xml.NewDecoder(bytes.NewReader(doc))
	depth := 0
	var inTitle, inSpan bool
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			depth++
			class := attr(tok, "class")
			switch {
			case depth == 1:
				c.root = tok
			case tok.Name.Local == "svg":
				c.sections++
				y, _ := strconv.Atoi(attr(tok, "y"))
				c.sectionYs = append(c.sectionYs, y)
			case tok.Name.Local == "g" && class == "trace":
				c.traces++
			case tok.Name.Local == "rect" && class == "span":
				c.spans++
				inSpan = true
			case tok.Name.Local == "text" && class == "lane-label":
				c.laneLabels++
			case tok.Name.Local == "text" && class == "title":
				inTitle = true
				c.titles = append(c.titles, "")
			}
		case xml.EndElement:
			depth--
			if tok.Name.Local == "text" {
				inTitle = false
			}
			if tok.Name.Local == "rect" {
				inSpan = false
			}
		case xml.CharData:
			if inTitle {
				c.titles[len(c.titles)-1] += string(tok)
			}
			if inSpan {
				c.spanTooltips = append(c.spanTooltips, string(tok))
			}
		}
	}
	if depth != 0 {
		t.Fatalf("unbalanced document, depth %d at the end", depth)
	}
	return c
}

func attr(se xml.StartElement, name string) string {
	for _, a := range se.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// run makes a trace of n calls of d each on lanes lanes.
func run(title, name string, n, lanes int, d time.Duration) timeline.Trace {
	tr := timeline.Trace{Title: title, Lanes: lanes}
	for i := range n {
		start := time.Duration(i/lanes) * d
		tr.Spans = append(tr.Spans, timeline.Span{Name: name, Index: i, Lane: i % lanes, Start: start, End: start + d})
	}
	return tr
}

func TestSectionsSVG(t *testing.T) {
	sections := [][]timeline.Trace{
		{run("sleep, serial", "slow", 3, 1, time.Second), run("sleep, concurrent", "slow", 3, 3, time.Second)},
		{run("thumbnails, serial", "thumbnail", 10, 1, 200*time.Millisecond), run("thumbnails <&> concurrent", "thumbnail", 10, 2, 300*time.Millisecond)},
	}
	doc, err := sectionsSVG(`demo "on" <2> cores & more`, sections)
	if err != nil {
		t.Fatal(err)
	}
	c := readSVG(t, doc)
	if c.root.Name.Local != "svg" || c.root.Name.Space != "http://www.w3.org/2000/svg" {
		t.Errorf("root element %v", c.root.Name)
	}
	if c.sections != 2 || c.traces != 4 {
		t.Errorf("%d sections and %d traces, want 2 and 4", c.sections, c.traces)
	}
	if c.spans != 3+3+10+10 {
		t.Errorf("%d span bars, want one per call: 26", c.spans)
	}
	if c.laneLabels != 1+3+1+2 {
		t.Errorf("%d lane labels, want 7", c.laneLabels)
	}
	want := []string{"sleep, serial", "sleep, concurrent", "thumbnails, serial", "thumbnails <&> concurrent"}
	if strings.Join(c.titles, "|") != strings.Join(want, "|") {
		t.Errorf("titles %q, want %q", c.titles, want)
	}
	// Sections are stacked: the second starts where the first ends, and the
	// picture is as tall as the title and both sections.
	height, _ := strconv.Atoi(attr(c.root, "height"))
	var one bytes.Buffer
	if err := timeline.WriteSVG(&one, sections[0]...); err != nil {
		t.Fatal(err)
	}
	first, _ := strconv.Atoi(attr(readSVG(t, one.Bytes()).root, "height"))
	var two bytes.Buffer
	if err := timeline.WriteSVG(&two, sections[1]...); err != nil {
		t.Fatal(err)
	}
	second, _ := strconv.Atoi(attr(readSVG(t, two.Bytes()).root, "height"))
	if c.sectionYs[0] != sectionsHeader || c.sectionYs[1] != sectionsHeader+first || height != sectionsHeader+first+second {
		t.Errorf("sections at y %v, height %d; want %d, %d and height %d",
			c.sectionYs, height, sectionsHeader, sectionsHeader+first, sectionsHeader+first+second)
	}
	if !bytes.Contains(doc, []byte("demo &#34;on&#34; &lt;2&gt; cores &amp; more")) {
		t.Error("the picture's title is not escaped")
	}
}

func TestSectionsSVGRefusesInvalidTrace(t *testing.T) {
	bad := timeline.Trace{Title: "bad", Lanes: 1, Spans: []timeline.Span{{Lane: 3, End: time.Second}}}
	if _, err := sectionsSVG("x", [][]timeline.Trace{{bad}}); err == nil {
		t.Error("no error for a span on a lane out of range")
	}
}

func TestRandomPausesAreShuffled(t *testing.T) {
	for n := 1; n <= 6; n++ {
		for range 50 {
			p := randomPauses(n, time.Second)
			if len(p) != n {
				t.Fatalf("%d pauses, want %d", len(p), n)
			}
			seen := map[time.Duration]bool{}
			increasing := true
			for i, d := range p {
				seen[d] = true
				if d <= 0 || d > time.Second {
					t.Fatalf("pause %v out of (0, 1s]", d)
				}
				if i > 0 && d < p[i-1] {
					increasing = false
				}
			}
			if len(seen) != n {
				t.Fatalf("pauses %v are not distinct", p)
			}
			if n > 1 && increasing {
				t.Fatalf("pauses %v are in increasing order: calls would finish in call order", p)
			}
		}
	}
}
