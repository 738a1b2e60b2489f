package pages

import (
	"bytes"
	"fmt"
	"strings"
)

// words is the vocabulary of the pages' filler text.
var words = strings.Fields(`
	the of and to in is that for it as with was on be by this are from or at
	an have not which but all were when one there can their has more if will
	decorator concurrent parallel python function call thread process pool
	result value dictionary index download thumbnail image page server time
	second wait network request response latency bound core speed serial
	experiment measure average total worker queue task schedule return code`)

// pageBody is the HTML of page i for the given seed: a title, some
// paragraphs of filler text and links to the neighbouring pages, between
// 2 KB and about 6 KB. It is deterministic, like [Latency].
func pageBody(i int, seed int64) []byte {
	state := mix64(uint64(seed)^0x626f6479) + uint64(i)*0x9e3779b97f4a7c15
	next := func() uint64 {
		state += 0x9e3779b97f4a7c15
		return mix64(state)
	}
	target := 2048 + int(next()%4096)

	var b bytes.Buffer
	fmt.Fprintf(&b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"+
		"<title>Page %d</title>\n</head>\n<body>\n<h1>Page %d</h1>\n", i, i)
	for b.Len() < target {
		b.WriteString("<p>")
		n := 40 + int(next()%80)
		for w := range n {
			if w > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(words[next()%uint64(len(words))])
		}
		b.WriteString(".</p>\n")
	}
	fmt.Fprintf(&b, "<p><a href=\"/page/%d\">previous</a> <a href=\"/page/%d\">next</a></p>\n</body>\n</html>\n", i-1, i+1)
	return b.Bytes()
}
