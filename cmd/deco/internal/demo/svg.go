package demo

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"regexp"
	"strconv"

	"github.com/deco-go/deco/timeline"
)

// Layout of the combined picture, in pixels.
const (
	sectionsWidth  = 1000 // timeline.WriteSVG's width
	sectionsHeader = 34   // room for the picture's title
)

// rootTag matches the start tag of the svg element that timeline.WriteSVG
// writes, and its height.
var rootTag = regexp.MustCompile(`<svg xmlns="http://www.w3.org/2000/svg" ([^>]*?)height="(\d+)"`)

// sectionsSVG draws each section — the serial and concurrent runs of one
// experiment — with timeline.WriteSVG, on a time scale of its own, and
// stacks the pictures in one self-contained SVG document under title.
//
// Each experiment gets its own scale because their lengths differ by
// orders of magnitude (1 s of sleeps, 20 s of thumbnails); within a section
// the serial and the concurrent run share one scale, so that the picture
// shows how much shorter the concurrent run is.
func sectionsSVG(title string, sections [][]timeline.Trace) ([]byte, error) {
	var body bytes.Buffer
	y := sectionsHeader
	for i, traces := range sections {
		var buf bytes.Buffer
		if err := timeline.WriteSVG(&buf, traces...); err != nil {
			return nil, err
		}
		doc := buf.Bytes()
		if j := bytes.Index(doc, []byte("<svg")); j >= 0 {
			doc = doc[j:] // drop the XML declaration
		}
		m := rootTag.FindSubmatchIndex(doc)
		if m == nil || m[0] != 0 {
			return nil, fmt.Errorf("section %d: unexpected SVG from timeline.WriteSVG", i+1)
		}
		height, err := strconv.Atoi(string(doc[m[4]:m[5]]))
		if err != nil {
			return nil, fmt.Errorf("section %d: height: %w", i+1, err)
		}
		// A nested svg element is placed by its x and y.
		fmt.Fprintf(&body, `<svg x="0" y="%d" `, y)
		body.Write(doc[len(`<svg xmlns="http://www.w3.org/2000/svg" `):])
		y += height
	}

	var doc bytes.Buffer
	doc.WriteString(xml.Header)
	fmt.Fprintf(&doc, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %[1]d %[2]d" font-family="system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif" role="img">`+"\n",
		sectionsWidth, y)
	doc.WriteString("<title>")
	_ = xml.EscapeText(&doc, []byte(title))
	doc.WriteString("</title>\n")
	fmt.Fprintf(&doc, `<rect width="%d" height="%d" fill="#ffffff"/>`+"\n", sectionsWidth, y)
	doc.WriteString(`<text x="16" y="24" font-size="16" font-weight="700" fill="#1f2328">`)
	_ = xml.EscapeText(&doc, []byte(title))
	doc.WriteString("</text>\n")
	doc.Write(body.Bytes())
	doc.WriteString("</svg>\n")
	return doc.Bytes(), nil
}
