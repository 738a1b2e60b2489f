// Command benchreport turns benchstat's CSV summary of the bench suite into
// the Markdown of BENCHMARKS.md. bench/run.sh runs it; by hand:
//
//	benchstat -format csv bench/results/raw.txt > bench/results/benchstat.csv
//	go run ./bench/cmd/benchreport -csv bench/results/benchstat.csv > BENCHMARKS.md
//
// Every number it prints comes from benchstat: the median of the -count runs
// of each benchmark and benchstat's confidence interval around it (as ±% of
// the median). The only arithmetic done here is unit scaling (seconds to
// ms or ns, per-batch bytes to per-task bytes) and the ratio of two medians
// ("vs handpool"), so the tables agree with `benchstat raw.txt`.
//
// Benchmarks are named Benchmark<Workload>/<row>; each workload becomes one
// table, rows in benchstat's order. Workloads it has no layout for are
// still printed, with every unit benchstat reported, so adding a workload or
// a library needs no change here.
package main

import (
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// cell is one benchstat summary: the median and its confidence interval,
// as benchstat prints it ("3%", "∞", "?").
type cell struct {
	center float64
	ci     string
}

// row is one benchmark: a row of its workload's table.
type row struct {
	name  string          // row name: the library, or serial/timerfloor/...
	cells map[string]cell // by benchstat unit: sec/op, B/op, speedup, ...
	units []string        // units in the order benchstat reported them
}

// workload is one table: Benchmark<name>.
type workload struct {
	name string
	rows []*row
}

func (w *workload) row(name string) *row {
	for _, r := range w.rows {
		if r.name == name {
			return r
		}
	}
	return nil
}

// procSuffix is the -GOMAXPROCS suffix go test appends to benchmark names.
var procSuffix = regexp.MustCompile(`-\d+$`)

// parseCSV reads the output of `benchstat -format csv` for one input file:
// blocks of ",<unit>,CI" followed by "<name>,<center>,<ci>" rows and a
// geomean row. Lines that are not CSV tables (goos:, cpu:) are skipped.
func parseCSV(r io.Reader) ([]*workload, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	var (
		workloads []*workload
		byName    = map[string]*workload{}
		unit      string
	)
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if len(rec) < 3 {
			continue // a header line such as "goos: linux"
		}
		name, value, ci := strings.TrimSpace(rec[0]), strings.TrimSpace(rec[1]), strings.TrimSpace(rec[2])
		switch {
		case name == "" && ci == "CI":
			unit = value // ",sec/op,CI" starts a unit's table
			continue
		case name == "" || name == "geomean" || unit == "":
			continue // ",file," captions and geomean rows
		}
		center, err := strconv.ParseFloat(value, 64)
		if err != nil {
			return nil, fmt.Errorf("benchstat csv: %s %s: bad value %q", name, unit, value)
		}
		name = procSuffix.ReplaceAllString(name, "")
		wname, rname, ok := strings.Cut(name, "/")
		if !ok {
			rname = "(whole)"
		}
		w := byName[wname]
		if w == nil {
			w = &workload{name: wname}
			byName[wname] = w
			workloads = append(workloads, w)
		}
		rw := w.row(rname)
		if rw == nil {
			rw = &row{name: rname, cells: map[string]cell{}}
			w.rows = append(w.rows, rw)
		}
		if _, dup := rw.cells[unit]; !dup {
			rw.units = append(rw.units, unit)
		}
		rw.cells[unit] = cell{center: center, ci: ci}
	}
	if len(workloads) == 0 {
		return nil, errors.New("benchstat csv: no benchmark rows found")
	}
	return workloads, nil
}

// column is one column of a table: a benchstat unit, scaled. benchstat
// normalises units: a benchmark's ns/op and ns/task arrive as sec/op and
// sec/task.
type column struct {
	unit   string  // benchstat unit
	header string  // column header
	scale  float64 // multiply the median by this
}

// layout is how one workload is shown.
type layout struct {
	title   string
	about   string
	columns []column
	ratioTo string // row whose sec/op is the denominator of "vs <ratioTo>"; "" for none
}

const handpool = "handpool"

// Task counts per batch, as in bench/workloads_test.go.
const (
	gatherTasks = 100_000
	seedTasks   = 100_000
)

var layouts = map[string]layout{
	"Overhead": {
		title: "Overhead: b.N no-op tasks, one wait",
		about: "Per-task cost of the executor itself: b.N no-op tasks submitted from one goroutine, then one wait; " +
			"limit GOMAXPROCS. The task is one shared func value, so every byte and allocation is the executor's.",
		columns: []column{
			{"sec/op", "ns/task", 1e9},
			{"B/op", "B/task", 1},
			{"allocs/op", "allocs/task", 1},
		},
		ratioTo: handpool,
	},
	"CPU": {
		title: "CPU: 2,000 tasks of ~50 µs",
		about: "One batch of 2,000 tasks of ~50 µs of integer hashing each (calibrated at start-up), limit GOMAXPROCS. " +
			"speedup = serial time of the same batch, measured in the same benchmark function just before the timed " +
			"batches, / parallel time; the ideal is the number of cores. The serial row is the batch run on one goroutine.",
		columns: []column{
			{"sec/op", "ms/batch", 1e3},
			{"speedup", "speedup", 1},
		},
		ratioTo: handpool,
	},
	"IO": {
		title: "IO: 2,000 sleeps of 2 ms, limit 200",
		about: "One batch of 2,000 tasks of time.Sleep(2 ms), limit 200: ideally 10 rounds, 20 ms. " +
			"x-ideal = wall / 20 ms; x-floor = wall / floor, the floor being 10 sleeps of 2 ms in a row measured " +
			"in the same benchmark function (what perfect scheduling costs with this machine's timers). " +
			"The timerfloor row times that floor itself. goroutines and wg.Go ignore the limit (all 2,000 sleep at once).",
		columns: []column{
			{"sec/op", "ms/batch", 1e3},
			{"x-ideal", "x-ideal", 1},
			{"x-floor", "x-floor", 1},
		},
		ratioTo: handpool,
	},
	"Gather": {
		title: "Gather: 100,000 results into a map",
		about: "One batch of 100,000 tasks, task i returning i*i, results ending in a map[int]int gathered each " +
			"library's idiomatic way (conc and pond: their result pools; ants: a mutex-protected map; the others: " +
			"a preallocated slice), limit GOMAXPROCS. B and allocs are per task (per batch / 100,000).",
		columns: []column{
			{"sec/op", "ms/batch", 1e3},
			{"sec/task", "ns/task", 1e9}, // benchstat turns ns/task into sec/task
			{"B/op", "B/task", 1.0 / gatherTasks},
			{"allocs/op", "allocs/task", 1.0 / gatherTasks},
		},
		ratioTo: handpool,
	},
	"Nested": {
		title: "Nested: 100 outer tasks x 100 inner tasks on the same executor, limit GOMAXPROCS",
		about: "Each outer task starts 100 inner tasks on the same executor and waits for them. With limit GOMAXPROCS " +
			"the outer tasks hold every slot and the inner ones can never start: \"deadlocked\" means a batch made no " +
			"progress for the timeout (10 s by default). A deadlocked library is run once per process and reported " +
			"as deadlocked in every later -count run without being run again (each run would leak more goroutines); " +
			"it has no time. goroutines and wg.Go are unbounded and cannot deadlock.",
		columns: []column{
			{"deadlocked", "deadlocked", 1},
			{"sec/op", "ms/batch", 1e3},
		},
		ratioTo: "goroutines", // the handpool deadlocks here
	},
	"Seed": {
		title: "Seed: the blog's times[offset] = elapsed, 100,000 tiny tasks",
		about: "The seed blog post's pattern: every task times itself and records times[offset] = elapsed from inside " +
			"the task, for 100,000 tasks of a few dozen ns of work, limit GOMAXPROCS. No peer records results by key, " +
			"so every library uses the same safe store, a presized map behind a sync.Mutex (the blog's times is a dict). " +
			"B and allocs are per task.",
		columns: []column{
			{"sec/op", "ms/batch", 1e3},
			{"sec/task", "ns/task", 1e9}, // benchstat turns ns/task into sec/task
			{"B/op", "B/task", 1.0 / seedTasks},
			{"allocs/op", "allocs/task", 1.0 / seedTasks},
		},
		ratioTo: handpool,
	},
	"SeedStore": {
		title: "SeedStore: the safe ways to record times[offset], on the handpool",
		about: "The Seed workload on the handpool only, once per store: a mutex-protected map (what Seed uses), a " +
			"sync.Map, and a preallocated slice written by index (no lock; only for dense integer keys known up front). " +
			"B and allocs are per task.",
		columns: []column{
			{"sec/op", "ms/batch", 1e3},
			{"sec/task", "ns/task", 1e9}, // benchstat turns ns/task into sec/task
			{"B/op", "B/task", 1.0 / seedTasks},
			{"allocs/op", "allocs/task", 1.0 / seedTasks},
		},
		ratioTo: "mutexmap",
	},
}

// referenceRows are rows that are not libraries (CPU's serial batch, IO's
// timer floor): the summary leaves them out.
var referenceRows = []string{"serial", "timerfloor"}

// order is the order of the tables; unknown workloads follow, as found.
var order = []string{"Overhead", "CPU", "IO", "Gather", "Nested", "Seed", "SeedStore"}

// num formats a median with three significant digits, without exponents.
func num(v float64) string {
	a := math.Abs(v)
	switch {
	case v == 0:
		return "0"
	case a >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case a >= 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	case a >= 0.01:
		return strconv.FormatFloat(v, 'f', 3, 64)
	default:
		return strconv.FormatFloat(v, 'g', 3, 64)
	}
}

// format prints a cell as "median ±ci".
func (c cell) format(scale float64) string {
	ci := c.ci
	if ci == "" {
		ci = "?"
	}
	return num(c.center*scale) + " ±" + ci
}

func isDeadlocked(r *row) bool {
	c, ok := r.cells["deadlocked"]
	return ok && c.center > 0
}

// ratio is r's median sec/op over the reference row's, or "" if either is
// missing.
func ratio(r, ref *row) (float64, bool) {
	if ref == nil || isDeadlocked(r) || isDeadlocked(ref) {
		return 0, false
	}
	a, ok1 := r.cells["sec/op"]
	b, ok2 := ref.cells["sec/op"]
	if !ok1 || !ok2 || b.center == 0 {
		return 0, false
	}
	return a.center / b.center, true
}

func ratioString(v float64, ok bool) string {
	if !ok {
		return "—"
	}
	return strconv.FormatFloat(v, 'f', 2, 64) + "×"
}

// meta is what the report says about the run.
type meta struct {
	cores, cpu, goVersion, date, load, elapsed, count string
	commands                                          string
}

func sortedWorkloads(ws []*workload) []*workload {
	out := slices.Clone(ws)
	rank := func(name string) int {
		if i := slices.Index(order, name); i >= 0 {
			return i
		}
		return len(order)
	}
	slices.SortStableFunc(out, func(a, b *workload) int { return rank(a.name) - rank(b.name) })
	return out
}

func writeTable(b *strings.Builder, w *workload) {
	lay, known := layouts[w.name]
	if !known {
		lay = layout{title: w.name, ratioTo: handpool}
		seen := map[string]bool{}
		for _, r := range w.rows {
			for _, u := range r.units {
				if !seen[u] {
					seen[u] = true
					lay.columns = append(lay.columns, column{u, u, 1})
				}
			}
		}
	}
	fmt.Fprintf(b, "## %s\n\n", lay.title)
	if lay.about != "" {
		fmt.Fprintf(b, "%s\n\n", lay.about)
	}
	ref := w.row(lay.ratioTo)
	b.WriteString("| library")
	sep := "|---"
	for _, c := range lay.columns {
		b.WriteString(" | " + c.header)
		sep += "|--:"
	}
	if ref != nil {
		b.WriteString(" | vs " + lay.ratioTo)
		sep += "|--:"
	}
	b.WriteString(" |\n" + sep + "|\n")
	for _, r := range w.rows {
		b.WriteString("| " + r.name)
		for _, col := range lay.columns {
			c, ok := r.cells[col.unit]
			switch {
			case col.unit == "deadlocked" && ok:
				if c.center > 0 {
					b.WriteString(" | **yes**")
				} else {
					b.WriteString(" | no")
				}
			case col.unit == "sec/op" && isDeadlocked(r):
				b.WriteString(" | deadlocked")
			case !ok:
				b.WriteString(" | —")
			default:
				b.WriteString(" | " + c.format(col.scale))
			}
		}
		if ref != nil {
			b.WriteString(" | " + ratioString(ratio(r, ref)))
		}
		b.WriteString(" |\n")
	}
	b.WriteString("\n")
}

// writeSummary prints every library's time ratio to handpool, one column
// per workload that has a handpool row.
func writeSummary(b *strings.Builder, ws []*workload) {
	var cols []*workload
	for _, w := range ws {
		if w.row(handpool) != nil {
			cols = append(cols, w)
		}
	}
	var libs []string
	for _, w := range cols {
		for _, r := range w.rows {
			if !slices.Contains(libs, r.name) && !slices.Contains(referenceRows, r.name) {
				libs = append(libs, r.name)
			}
		}
	}
	if len(cols) == 0 || len(libs) == 0 {
		return
	}
	b.WriteString("## Summary: time relative to handpool\n\n")
	b.WriteString("Median time of each library / median time of the hand-written pool in the same run " +
		"(lower is better; 1.00× = as fast as handpool; \"deadlocked\" = no time). " +
		"goroutines and wg.Go are unbounded: they ignore the limit the others honour.\n\n")
	b.WriteString("| library")
	sep := "|---"
	for _, w := range cols {
		b.WriteString(" | " + w.name)
		sep += "|--:"
	}
	b.WriteString(" |\n" + sep + "|\n")
	for _, n := range libs {
		b.WriteString("| " + n)
		for _, w := range cols {
			r := w.row(n)
			switch {
			case r == nil:
				b.WriteString(" | —")
			case isDeadlocked(r):
				b.WriteString(" | deadlocked")
			default:
				b.WriteString(" | " + ratioString(ratio(r, w.row(handpool))))
			}
		}
		b.WriteString(" |\n")
	}
	b.WriteString("\n")
}

func report(ws []*workload, m meta) string {
	var b strings.Builder
	b.WriteString("# Benchmarks: deco and its peers\n\n")
	b.WriteString("Generated by `bench/run.sh` (tables by `bench/cmd/benchreport` from benchstat's summary); " +
		"do not edit by hand, rerun the script. Raw `go test` output: `bench/results/raw.txt`; " +
		"benchstat's own tables: `bench/results/benchstat.txt`. How each library is used in each workload " +
		"is written next to its code, in `bench/<library>_test.go`.\n\n")
	b.WriteString("## Machine and run\n\n| | |\n|---|---|\n")
	for _, kv := range [][2]string{
		{"cores (nproc)", m.cores},
		{"CPU", m.cpu},
		{"Go", m.goVersion},
		{"date", m.date},
		{"runs per benchmark (-count)", m.count},
		{"load average before the run", m.load},
		{"duration of bench/run.sh", m.elapsed},
	} {
		if kv[1] != "" {
			fmt.Fprintf(&b, "| %s | %s |\n", kv[0], kv[1])
		}
	}
	b.WriteString("\n")
	if m.commands != "" {
		b.WriteString("Commands (from `bench/`):\n\n```sh\n" + strings.TrimRight(m.commands, "\n") + "\n```\n\n")
	}
	b.WriteString("Each cell is benchstat's median over the runs, ± its 95% confidence interval as a percentage " +
		"of the median (\"∞\": too few runs for an interval; \"?\": not computable, e.g. all zero). " +
		"\"vs\" columns divide two medians of sec/op from the same run. The limit is GOMAXPROCS unless a table says otherwise.\n\n")
	ws = sortedWorkloads(ws)
	writeSummary(&b, ws)
	for _, w := range ws {
		writeTable(&b, w)
	}
	return b.String()
}

func main() {
	var (
		csvPath  = flag.String("csv", "", "output of `benchstat -format csv raw.txt` (required)")
		cmdsPath = flag.String("commands", "", "file with the commands that produced raw.txt, shown in the report")
		m        meta
	)
	flag.StringVar(&m.cores, "cores", "", "number of cores (nproc)")
	flag.StringVar(&m.cpu, "cpu", "", "CPU model")
	flag.StringVar(&m.goVersion, "go", "", "Go version (go version)")
	flag.StringVar(&m.date, "date", "", "date of the run")
	flag.StringVar(&m.load, "load", "", "load average before the run")
	flag.StringVar(&m.elapsed, "elapsed", "", "how long the run took")
	flag.StringVar(&m.count, "count", "", "-count of the run")
	flag.Parse()
	if *csvPath == "" || flag.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "usage: benchreport -csv benchstat.csv [-commands file] [-cores N -cpu MODEL -go VERSION -date DATE ...]")
		os.Exit(2)
	}
	if *cmdsPath != "" {
		data, err := os.ReadFile(*cmdsPath)
		if err != nil {
			fmt.Fprintln(os.Stderr, "benchreport:", err)
			os.Exit(1)
		}
		m.commands = string(data)
	}
	f, err := os.Open(*csvPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchreport:", err)
		os.Exit(1)
	}
	defer f.Close()
	ws, err := parseCSV(f)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchreport:", err)
		os.Exit(1)
	}
	fmt.Print(report(ws, m))
}
