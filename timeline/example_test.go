package timeline_test

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/deco-go/deco/timeline"
)

const ms = time.Millisecond

// resize is a small run: three calls on two slots, the second one failing.
var resize = timeline.Trace{
	Title: "resize, 2 slots",
	Lanes: 2,
	Spans: []timeline.Span{
		{Name: "resize", Index: 0, Lane: 0, Start: 0, End: 1500 * time.Microsecond},
		{Name: "resize", Index: 1, Lane: 1, Start: 0, End: 2 * ms, Failed: true},
		{Name: "resize", Index: 2, Lane: 0, Start: 1500 * time.Microsecond, End: 2250 * time.Microsecond},
	},
}

func ExampleWriteChrome() {
	// In a program, write to a file named trace.json and open it at
	// https://ui.perfetto.dev or chrome://tracing.
	if err := timeline.WriteChrome(os.Stdout, resize); err != nil {
		fmt.Println(err)
	}
	// Output:
	// {"traceEvents":[
	// {"name":"process_name","ph":"M","pid":1,"tid":0,"args":{"name":"resize, 2 slots"}},
	// {"name":"process_sort_index","ph":"M","pid":1,"tid":0,"args":{"sort_index":0}},
	// {"name":"thread_name","ph":"M","pid":1,"tid":0,"args":{"name":"slot 0"}},
	// {"name":"thread_sort_index","ph":"M","pid":1,"tid":0,"args":{"sort_index":0}},
	// {"name":"thread_name","ph":"M","pid":1,"tid":1,"args":{"name":"slot 1"}},
	// {"name":"thread_sort_index","ph":"M","pid":1,"tid":1,"args":{"sort_index":1}},
	// {"name":"resize","ph":"X","pid":1,"tid":0,"ts":0,"dur":1500,"args":{"index":0,"failed":false,"panicked":false}},
	// {"name":"resize","ph":"X","pid":1,"tid":1,"ts":0,"dur":2000,"args":{"index":1,"failed":true,"panicked":false}},
	// {"name":"resize","ph":"X","pid":1,"tid":0,"ts":1500,"dur":750,"args":{"index":2,"failed":false,"panicked":false}}
	// ],"displayTimeUnit":"ms"}
}

func ExampleWriteSVG() {
	serial := timeline.Trace{Title: "resize, serial", Lanes: 1}
	for i := range 3 {
		start := time.Duration(i) * 2 * ms
		serial.Spans = append(serial.Spans, timeline.Span{Name: "resize", Index: i, Start: start, End: start + 2*ms})
	}

	// In a program, write to a file named timeline.svg and open it in a
	// browser: the serial run's bar reaches three times as far as the
	// concurrent run's.
	var buf bytes.Buffer
	if err := timeline.WriteSVG(&buf, serial, resize); err != nil {
		fmt.Println(err)
		return
	}

	// Read the picture back: count the span bars and the lane labels.
	spans, lanes := 0, 0
	dec := xml.NewDecoder(&buf)
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		if se, ok := tok.(xml.StartElement); ok {
			for _, a := range se.Attr {
				switch {
				case a.Name.Local == "class" && a.Value == "span":
					spans++
				case a.Name.Local == "class" && a.Value == "lane-label":
					lanes++
				}
			}
		}
	}
	fmt.Println("span bars:", spans)
	fmt.Println("lane labels:", lanes)
	// Output:
	// span bars: 6
	// lane labels: 3
}

func ExampleTrace_Validate() {
	bad := resize
	bad.Spans = append([]timeline.Span(nil), resize.Spans...)
	bad.Spans[2].Lane = 2
	fmt.Println(bad.Validate())

	// The writers report the same problem, naming the trace by position,
	// and write nothing.
	var buf bytes.Buffer
	fmt.Println(timeline.WriteSVG(&buf, resize, bad))
	fmt.Println("bytes written:", buf.Len())
	// Output:
	// timeline: trace "resize, 2 slots": Spans[2] ("resize" #2): Lane 2 out of range [0, 2)
	// timeline: traces[1] "resize, 2 slots": Spans[2] ("resize" #2): Lane 2 out of range [0, 2)
	// bytes written: 0
}

// A cluster's run has a lane per worker process: LaneNames names them,
// here and in both writers.
func ExampleTrace_laneNames() {
	run := timeline.Trace{
		Title:     "resize, 2 workers",
		Lanes:     2,
		LaneNames: []string{"vm:4242", "vm:4243"},
		Spans: []timeline.Span{
			{Name: "resize", Index: 0, Lane: 1, End: 2 * ms},
			{Name: "resize", Index: 1, Lane: 0, End: 2 * ms},
		},
	}
	var buf bytes.Buffer
	if err := timeline.WriteChrome(&buf, run); err != nil {
		fmt.Println(err)
	}
	for _, line := range bytes.Split(buf.Bytes(), []byte("\n")) {
		if bytes.Contains(line, []byte(`"thread_name"`)) {
			fmt.Println(string(line))
		}
	}
	// Output:
	// {"name":"thread_name","ph":"M","pid":1,"tid":0,"args":{"name":"vm:4242"}},
	// {"name":"thread_name","ph":"M","pid":1,"tid":1,"args":{"name":"vm:4243"}},
}
