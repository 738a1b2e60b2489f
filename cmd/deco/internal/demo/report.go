package demo

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/deco-go/deco"
	"github.com/deco-go/deco/timeline"
)

// Result is what one experiment measured.
type Result struct {
	Experiment string
	Calls      int // calls in each run; each call recorded its own time
	Workers    int // the concurrent run's limit (deco.Limit)
	Cores      int // runtime.GOMAXPROCS(0)

	Serial     time.Duration // the plain loop's wall time (the post's "before")
	Concurrent time.Duration // the decorated run's wall time (the post's "after")

	// SerialSum and WouldHaveTaken are the sums of the calls' own times, as
	// the calls recorded them, in the serial and the concurrent run: the
	// post's WOULD HAVE TAKEN.
	SerialSum      time.Duration
	WouldHaveTaken time.Duration

	// SerialCPU and ConcurrentCPU are the CPU time the process used during
	// each run (0 where the system does not say): the "Activity Monitor"
	// of the post, as a number of cores kept busy.
	SerialCPU     time.Duration
	ConcurrentCPU time.Duration

	// Stats is what deco's Func.Stats says of the concurrent run.
	Stats deco.Stats

	traces []timeline.Trace // serial, then concurrent
}

// Speedup is the serial wall time over the concurrent one: how much faster
// the decorated run finished than the plain loop. It is 0 when unknown.
func (r Result) Speedup() float64 {
	if r.Concurrent <= 0 {
		return 0
	}
	return float64(r.Serial) / float64(r.Concurrent)
}

// Parallelism is how many calls ran at once on average in the concurrent
// run: the calls' own times over the run's wall time.
func (r Result) Parallelism() float64 {
	if r.Concurrent <= 0 {
		return 0
	}
	return float64(r.WouldHaveTaken) / float64(r.Concurrent)
}

// cores is how many cores cpu kept busy, on average, during wall.
func cores(cpu, wall time.Duration) float64 {
	if wall <= 0 {
		return 0
	}
	return float64(cpu) / float64(wall)
}

// Report is the outcome of a whole run.
type Report struct {
	Cores   int
	Results []Result
	Out     string // output folder
	Trace   string // Chrome trace-event JSON file
	SVG     string // timeline picture
}

// seconds formats d for the summary: seconds with three significant
// digits or so.
func seconds(d time.Duration) string {
	s := d.Seconds()
	switch {
	case s >= 100:
		return fmt.Sprintf("%.0fs", s)
	case s >= 10:
		return fmt.Sprintf("%.1fs", s)
	case s >= 1:
		return fmt.Sprintf("%.2fs", s)
	default:
		return fmt.Sprintf("%.3fs", s)
	}
}

// summaryColumns are the summary table's headers; each is one word so that
// the table splits on spaces.
var summaryColumns = []string{"experiment", "calls", "workers", "cores", "serial", "concurrent", "would-have-taken", "speed-up"}

// WriteSummary prints the summary table: one row per experiment, columns
// separated by spaces, durations in seconds ("3.00s"), speed-ups as "2.95x".
func (r *Report) WriteSummary(w io.Writer) error {
	rows := [][]string{summaryColumns}
	for _, res := range r.Results {
		rows = append(rows, []string{
			res.Experiment,
			fmt.Sprint(res.Calls),
			fmt.Sprint(res.Workers),
			fmt.Sprint(res.Cores),
			seconds(res.Serial),
			seconds(res.Concurrent),
			seconds(res.WouldHaveTaken),
			fmt.Sprintf("%.2fx", res.Speedup()),
		})
	}
	widths := make([]int, len(summaryColumns))
	for _, row := range rows {
		for i, cell := range row {
			widths[i] = max(widths[i], len(cell))
		}
	}
	var b strings.Builder
	for _, row := range rows {
		for i, cell := range row {
			if i == 0 {
				fmt.Fprintf(&b, "%-*s", widths[i], cell)
			} else {
				fmt.Fprintf(&b, "  %*s", widths[i], cell)
			}
		}
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// jsonResult is a Result as --json prints it; times are in seconds.
type jsonResult struct {
	Experiment     string       `json:"experiment"`
	Calls          int          `json:"calls"`
	Workers        int          `json:"workers"`
	Cores          int          `json:"cores"`
	Serial         float64      `json:"serial_seconds"`
	Concurrent     float64      `json:"concurrent_seconds"`
	SerialSum      float64      `json:"serial_would_have_taken_seconds"`
	WouldHaveTaken float64      `json:"would_have_taken_seconds"`
	Speedup        float64      `json:"speedup"`
	Parallelism    float64      `json:"parallelism"`
	SerialCPU      float64      `json:"serial_cpu_seconds"`
	ConcurrentCPU  float64      `json:"concurrent_cpu_seconds"`
	Stats          jsonStats    `json:"deco_stats"`
	Timeline       jsonTimeline `json:"timeline"`
}

// jsonStats is deco.Stats of the concurrent run.
type jsonStats struct {
	Calls           int64   `json:"calls"`
	Done            int64   `json:"done"`
	Failed          int64   `json:"failed"`
	Panicked        int64   `json:"panicked"`
	MaxParallel     int     `json:"max_parallel"`
	Took            float64 `json:"took_seconds"`
	WouldHaveTaken  float64 `json:"would_have_taken_seconds"`
	Speedup         float64 `json:"speedup"`
	QueueWaitMedian float64 `json:"queue_wait_p50_seconds"`
	QueueWaitP99    float64 `json:"queue_wait_p99_seconds"`
	// Workers are the worker processes that ran the calls, on a cluster.
	Workers []jsonWorker `json:"workers,omitempty"`
}

// jsonWorker is a deco.WorkerStats.
type jsonWorker struct {
	Worker string  `json:"worker"`
	Calls  int64   `json:"calls"`
	Failed int64   `json:"failed"`
	Ran    float64 `json:"ran_seconds"`
}

// jsonTimeline counts what the timeline files hold for the experiment.
type jsonTimeline struct {
	SerialSpans     int `json:"serial_spans"`
	ConcurrentSpans int `json:"concurrent_spans"`
	ConcurrentLanes int `json:"concurrent_lanes"`
}

type jsonReport struct {
	Cores       int          `json:"cores"`
	Out         string       `json:"out"`
	Trace       string       `json:"trace"`
	SVG         string       `json:"svg"`
	Experiments []jsonResult `json:"experiments"`
}

// WriteJSON prints the report as one JSON object.
func (r *Report) WriteJSON(w io.Writer) error {
	jr := jsonReport{Cores: r.Cores, Out: r.Out, Trace: r.Trace, SVG: r.SVG, Experiments: []jsonResult{}}
	for _, res := range r.Results {
		st := res.Stats
		j := jsonResult{
			Experiment:     res.Experiment,
			Calls:          res.Calls,
			Workers:        res.Workers,
			Cores:          res.Cores,
			Serial:         res.Serial.Seconds(),
			Concurrent:     res.Concurrent.Seconds(),
			SerialSum:      res.SerialSum.Seconds(),
			WouldHaveTaken: res.WouldHaveTaken.Seconds(),
			Speedup:        res.Speedup(),
			Parallelism:    res.Parallelism(),
			SerialCPU:      res.SerialCPU.Seconds(),
			ConcurrentCPU:  res.ConcurrentCPU.Seconds(),
			Stats: jsonStats{
				Calls:           st.Calls,
				Done:            st.Done,
				Failed:          st.Failed,
				Panicked:        st.Panicked,
				MaxParallel:     st.MaxParallel,
				Took:            st.Took.Seconds(),
				WouldHaveTaken:  st.WouldHaveTaken.Seconds(),
				Speedup:         st.Speedup(),
				QueueWaitMedian: st.QueueWaitMedian.Seconds(),
				QueueWaitP99:    st.QueueWaitP99.Seconds(),
			},
		}
		for _, w := range st.Workers {
			j.Stats.Workers = append(j.Stats.Workers, jsonWorker{Worker: w.Worker, Calls: w.Calls, Failed: w.Failed, Ran: w.Ran.Seconds()})
		}
		if len(res.traces) == 2 {
			j.Timeline = jsonTimeline{
				SerialSpans:     len(res.traces[0].Spans),
				ConcurrentSpans: len(res.traces[1].Spans),
				ConcurrentLanes: res.traces[1].Lanes,
			}
		}
		jr.Experiments = append(jr.Experiments, j)
	}
	b, err := json.MarshalIndent(jr, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
