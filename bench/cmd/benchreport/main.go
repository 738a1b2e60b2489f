// Command benchreport turns a run of the bench suite into the Markdown of
// BENCHMARKS.md. bench/run.sh runs it; by hand:
//
//	benchstat -format csv bench/results/raw.txt > bench/results/benchstat.csv
//	go run ./bench/cmd/benchreport -csv bench/results/benchstat.csv -raw bench/results/raw.txt > BENCHMARKS.md
//
// Two sources, two kinds of number:
//
//   - the cells of each table (time, bytes, allocations per task or batch)
//     are benchstat's: the median of the runs of each benchmark and its
//     confidence interval (as ±% of the median), from benchstat's CSV, so
//     the tables agree with `benchstat raw.txt`;
//   - the ratios ("vs handpool") and the metrics marked as ranges
//     (x-floor, speedup) are computed here from the raw `go test` output,
//     run by run: the k-th result of a row is divided by the k-th result of
//     its reference row (bench/run.sh runs every workload once per round,
//     so the k-th results of two rows come from the same round, minutes
//     apart at most), and the report shows the median of those ratios and
//     their min–max. A ratio within one round cancels what the machine was
//     doing at the time; a range across rounds shows what it could not.
//
// Benchmarks are named Benchmark<Workload>/<row> or, for the workloads run
// in two forms, Benchmark<Workload>/<form>/<row>; each workload and form
// becomes one table, rows in benchstat's order. Workloads it has no layout
// for are still printed, with every unit benchstat reported, so adding a
// workload or a library needs no change here.
package main

import (
	"bufio"
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

// row is one benchmark: a row of its table.
type row struct {
	name  string          // row name: the library, or serial/timerfloor/...
	cells map[string]cell // by benchstat unit: sec/op, B/op, speedup, ...
	units []string        // units in the order benchstat reported them
	// runs are the raw results, in the order of the raw file (one per
	// round), by go test unit: ns/op, B/op, x-floor, deadlocked, ...
	runs []map[string]float64
}

// table is one workload in one form: Benchmark<workload>[/<form>].
type table struct {
	workload, form string
	rows           []*row
}

func (t *table) key() string {
	if t.form == "" {
		return t.workload
	}
	return t.workload + "/" + t.form
}

func (t *table) row(name string) *row {
	if t == nil {
		return nil
	}
	for _, r := range t.rows {
		if r.name == name {
			return r
		}
	}
	return nil
}

// tables holds every table of a run, in the order first seen.
type tables struct {
	list  []*table
	byKey map[string]*table
}

// split parses a benchmark name without its "Benchmark" prefix and
// -GOMAXPROCS suffix: workload/row or workload/form/row.
func split(name string) (workload, form, rowName string) {
	parts := strings.Split(name, "/")
	switch len(parts) {
	case 1:
		return parts[0], "", "(whole)"
	case 2:
		return parts[0], "", parts[1]
	default:
		return parts[0], parts[1], strings.Join(parts[2:], "/")
	}
}

// get returns the row for a benchmark name, adding its table and row.
func (ts *tables) get(name string) *row {
	w, f, rn := split(name)
	t := ts.byKey[w+"/"+f]
	if t == nil {
		t = &table{workload: w, form: f}
		if ts.byKey == nil {
			ts.byKey = map[string]*table{}
		}
		ts.byKey[w+"/"+f] = t
		ts.list = append(ts.list, t)
	}
	r := t.row(rn)
	if r == nil {
		r = &row{name: rn, cells: map[string]cell{}}
		t.rows = append(t.rows, r)
	}
	return r
}

// procSuffix is the -GOMAXPROCS suffix go test appends to benchmark names.
var procSuffix = regexp.MustCompile(`-\d+$`)

// parseCSV reads the output of `benchstat -format csv` for one input file:
// blocks of ",<unit>,CI" followed by "<name>,<center>,<ci>" rows and a
// geomean row. Lines that are not CSV tables (goos:, cpu:) are skipped.
func parseCSV(ts *tables, r io.Reader) error {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	var unit string
	found := false
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
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
			return fmt.Errorf("benchstat csv: %s %s: bad value %q", name, unit, value)
		}
		rw := ts.get(procSuffix.ReplaceAllString(name, ""))
		if _, dup := rw.cells[unit]; !dup {
			rw.units = append(rw.units, unit)
		}
		rw.cells[unit] = cell{center: center, ci: ci}
		found = true
	}
	if !found {
		return errors.New("benchstat csv: no benchmark rows found")
	}
	return nil
}

// parseRaw reads `go test -bench` output: "BenchmarkName-2  N  v unit  v
// unit ...". Every other line is skipped. Each result line appends one run
// to its row.
func parseRaw(ts *tables, r io.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	found := false
	for line := 1; sc.Scan(); line++ {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") || len(f)%2 != 0 {
			continue
		}
		if _, err := strconv.Atoi(f[1]); err != nil {
			continue // not a result line ("BenchmarkX-2 deadlocked ..." in a log)
		}
		run := map[string]float64{}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return fmt.Errorf("raw line %d: %s: bad value %q", line, f[0], f[i])
			}
			run[f[i+1]] = v
		}
		name := procSuffix.ReplaceAllString(strings.TrimPrefix(f[0], "Benchmark"), "")
		rw := ts.get(name)
		rw.runs = append(rw.runs, run)
		found = true
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if !found {
		return errors.New("raw: no benchmark results found")
	}
	return nil
}

// column is one column of a table: a benchstat unit, scaled, or (ranged) a
// go test unit shown as the median and min–max of its runs.
type column struct {
	unit   string  // benchstat unit, or the go test unit when ranged
	header string  // column header
	scale  float64 // multiply the median by this
	ranged bool    // from the raw runs: median (min–max)
}

// layout is how one workload is shown.
type layout struct {
	title   string
	about   string
	columns []column
	ratioTo string // row whose ns/op is the denominator of "vs <ratioTo>"; "" for none
	// headline is what the Headline table shows for this workload: "" for
	// the ratio, or a ranged go test unit (x-floor).
	headline string
}

const handpool = "handpool"

// Task counts per batch, as in bench/workloads_test.go.
const (
	gatherTasks = 100_000
	seedTasks   = 100_000
)

var layouts = map[string]layout{
	"Overhead": {
		title: "Overhead: no-op tasks, one wait",
		about: "Per-task cost of the executor itself: b.N no-op tasks submitted from one goroutine, then one wait; " +
			"limit GOMAXPROCS. shared: one func value for every task, so every byte and allocation is the executor's; " +
			"closure: a closure per task capturing its index (deco: the index as the call's argument; deco.closure: " +
			"a closure, as the peers).",
		columns: []column{
			{unit: "sec/op", header: "ns/task", scale: 1e9},
			{unit: "B/op", header: "B/task", scale: 1},
			{unit: "allocs/op", header: "allocs/task", scale: 1},
		},
		ratioTo: handpool,
	},
	"CPU": {
		title: "CPU: 2,000 tasks of ~50 µs",
		about: "One batch of 2,000 tasks of ~50 µs of integer hashing each (calibrated at start-up), limit GOMAXPROCS. " +
			"speedup = serial time of the same batch, measured in the same benchmark function just before the timed " +
			"batches, / parallel time; the ideal is the number of cores. The serial row is the batch run on one goroutine.",
		columns: []column{
			{unit: "sec/op", header: "ms/batch", scale: 1e3},
			{unit: "speedup", header: "speedup", scale: 1, ranged: true},
		},
		ratioTo:  handpool,
		headline: "speedup",
	},
	"IO": {
		title: "IO: 2,000 sleeps of 2 ms, limit 200",
		about: "One batch of 2,000 tasks of time.Sleep(2 ms) on the machine's real timers, limit 200: ideally 10 rounds, 20 ms. " +
			"x-ideal = wall / 20 ms; x-floor = wall / floor, the floor being 10 sleeps of 2 ms in a row measured " +
			"in the same benchmark function (what perfect scheduling costs with this machine's timers). " +
			"The timerfloor row times that floor itself; the static row is a perfect static executor (200 goroutines started per batch, " +
			"each sleeping its 10 times back to back, no queue): the floor of any executor in Go on this machine. goroutines and wg.Go ignore the limit (all 2,000 sleep at once).",
		columns: []column{
			{unit: "sec/op", header: "ms/batch", scale: 1e3},
			{unit: "x-ideal", header: "x-ideal", scale: 1},
			{unit: "x-floor", header: "x-floor", scale: 1, ranged: true},
		},
		ratioTo:  handpool,
		headline: "x-floor",
	},
	"Gather": {
		title: "Gather: 100,000 results into a map",
		about: "One batch of 100,000 tasks, task i returning i*i, results ending keyed by i, gathered each " +
			"library's idiomatic way (deco: deco.Assign into a plain map; conc and pond.group: their result pools; " +
			"ants: a mutex-protected map; the others: a preallocated slice), or by hand under a mutex " +
			"(handpool.mutexmap), or through a deco.Map written from the tasks (deco.Map); limit GOMAXPROCS. " +
			"B and allocs are per task (per batch / 100,000).",
		columns: []column{
			{unit: "sec/op", header: "ms/batch", scale: 1e3},
			{unit: "sec/task", header: "ns/task", scale: 1e9}, // benchstat turns ns/task into sec/task
			{unit: "B/op", header: "B/task", scale: 1.0 / gatherTasks},
			{unit: "allocs/op", header: "allocs/task", scale: 1.0 / gatherTasks},
		},
		ratioTo: handpool,
	},
	"Nested": {
		title: "Nested: 100 × 100 fork-join on one executor, limit 2",
		about: "Each of 100 outer tasks starts 100 inner tasks on the same executor and waits for them (deco: with " +
			"Synchronized). With limit 2 the outer tasks hold both slots and the inner ones can never start: " +
			"\"deadlocked\" means a batch made no progress for the timeout (1 s; a batch takes milliseconds). A " +
			"library that deadlocked is not run again in the same process (each run would leak more goroutines): " +
			"its other form is reported deadlocked too. goroutines (go + sync.WaitGroup) and wg.Go are unbounded, " +
			"cannot deadlock, and are the reference. B and allocs are per batch.",
		columns: []column{
			{unit: "deadlocked", header: "deadlocked", scale: 1},
			{unit: "sec/op", header: "ms/batch", scale: 1e3},
			{unit: "B/op", header: "KiB/batch", scale: 1.0 / 1024},
			{unit: "allocs/op", header: "allocs/batch", scale: 1},
		},
		ratioTo: "goroutines", // the handpool deadlocks here
	},
	"Spawn": {
		title: "Spawn: 100 × 100 spawn-only nesting on one executor, limit 2",
		about: "Each of 100 outer tasks starts 100 inner tasks on the same executor and returns without waiting; the " +
			"batch waits for all 10,100 tasks. Executors whose submit blocks while the limit is reached deadlock " +
			"(both slots held by outer tasks blocked in submit; the hand pool once its 256-slot channel is full); " +
			"the ones with an unbounded queue finish. Deadlock detection and the reference as in Nested.",
		columns: []column{
			{unit: "deadlocked", header: "deadlocked", scale: 1},
			{unit: "sec/op", header: "ms/batch", scale: 1e3},
			{unit: "B/op", header: "KiB/batch", scale: 1.0 / 1024},
			{unit: "allocs/op", header: "allocs/batch", scale: 1},
		},
		ratioTo: "goroutines",
	},
	"Seed": {
		title: "Seed: the blog's times[offset] = elapsed, 100,000 tiny tasks",
		about: "The pattern of Python deco's blog post: every task times itself and records times[offset] = elapsed from inside " +
			"the task, for 100,000 tasks of a few dozen ns of work, limit GOMAXPROCS. No peer records results by key, " +
			"so every library uses the same safe store, a presized map behind a sync.Mutex (the blog's times is a dict). " +
			"B and allocs are per task.",
		columns: []column{
			{unit: "sec/op", header: "ms/batch", scale: 1e3},
			{unit: "sec/task", header: "ns/task", scale: 1e9},
			{unit: "B/op", header: "B/task", scale: 1.0 / seedTasks},
			{unit: "allocs/op", header: "allocs/task", scale: 1.0 / seedTasks},
		},
		ratioTo: handpool,
	},
	"SeedStore": {
		title: "SeedStore: the safe ways to record times[offset], on the handpool",
		about: "The Seed workload on the handpool only, once per store: a mutex-protected map (what Seed uses), a " +
			"sync.Map, and a preallocated slice written by index (no lock; only for dense integer keys known up front). " +
			"B and allocs are per task.",
		columns: []column{
			{unit: "sec/op", header: "ms/batch", scale: 1e3},
			{unit: "sec/task", header: "ns/task", scale: 1e9},
			{unit: "B/op", header: "B/task", scale: 1.0 / seedTasks},
			{unit: "allocs/op", header: "allocs/task", scale: 1.0 / seedTasks},
		},
		ratioTo: "mutexmap",
	},
}

// formTitles name the forms in table titles.
var formTitles = map[string]string{
	"shared":  "shared func",
	"closure": "closure per task",
}

// referenceRows are rows that are not libraries (CPU's serial batch, IO's
// timer floor and static executor): the summary leaves them out.
var referenceRows = []string{"serial", "timerfloor", "static"}

// peers are the libraries the headline compares deco with: a row is a
// peer's if its name, up to the first dot, is one of these.
var peers = []string{"errgroup", "conc", "pond", "ants"}

// order is the order of the tables; unknown workloads follow, as found.
var order = []string{"Overhead", "CPU", "IO", "Gather", "Nested", "Spawn", "Seed", "SeedStore"}

// formOrder is the order of a workload's forms.
var formOrder = []string{"", "shared", "closure"}

// num formats a value with three significant digits, without exponents.
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
	if c, ok := r.cells["deadlocked"]; ok {
		return c.center > 0
	}
	for _, run := range r.runs {
		if run["deadlocked"] > 0 {
			return true
		}
	}
	return false
}

// spread is the median and min–max of a set of values.
type spread struct {
	median, min, max float64
	n                int
}

func spreadOf(vs []float64) (spread, bool) {
	if len(vs) == 0 {
		return spread{}, false
	}
	s := slices.Clone(vs)
	slices.Sort(s)
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return spread{median: m, min: s[0], max: s[len(s)-1], n: len(s)}, true
}

// ratio is the spread of r's ns/op over ref's, run by run (the k-th run of
// each), or false if either deadlocked or has no runs.
func ratio(r, ref *row) (spread, bool) {
	if r == nil || ref == nil || isDeadlocked(r) || isDeadlocked(ref) {
		return spread{}, false
	}
	var vs []float64
	for k := 0; k < len(r.runs) && k < len(ref.runs); k++ {
		a, ok1 := r.runs[k]["ns/op"]
		b, ok2 := ref.runs[k]["ns/op"]
		if ok1 && ok2 && b > 0 {
			vs = append(vs, a/b)
		}
	}
	return spreadOf(vs)
}

// metric is the spread of a go test unit over r's runs.
func metric(r *row, unit string) (spread, bool) {
	if r == nil || isDeadlocked(r) {
		return spread{}, false
	}
	var vs []float64
	for _, run := range r.runs {
		if v, ok := run[unit]; ok {
			vs = append(vs, v)
		}
	}
	return spreadOf(vs)
}

// times formats a ratio spread: "1.23× (1.10–1.41)".
func (s spread) times() string {
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }
	if s.n == 1 {
		return f(s.median) + "×"
	}
	return f(s.median) + "× (" + f(s.min) + "–" + f(s.max) + ")"
}

// plain formats a metric spread: "1.05 (1.03–1.08)".
func (s spread) plain() string {
	if s.n == 1 {
		return num(s.median)
	}
	return num(s.median) + " (" + num(s.min) + "–" + num(s.max) + ")"
}

func timesOr(s spread, ok bool, none string) string {
	if !ok {
		return none
	}
	return s.times()
}

// meta is what the report says about the run.
type meta struct {
	cores, cpu, goVersion, date, load, loadAfter, elapsed, count, note string
	commands                                                           string
}

func sortedTables(ts []*table) []*table {
	out := slices.Clone(ts)
	rank := func(t *table) int {
		w := slices.Index(order, t.workload)
		if w < 0 {
			w = len(order)
		}
		f := slices.Index(formOrder, t.form)
		if f < 0 {
			f = len(formOrder)
		}
		return w*(len(formOrder)+1) + f
	}
	slices.SortStableFunc(out, func(a, b *table) int { return rank(a) - rank(b) })
	return out
}

func layoutOf(t *table) layout {
	lay, known := layouts[t.workload]
	if known {
		return lay
	}
	lay = layout{title: t.workload, ratioTo: handpool}
	seen := map[string]bool{}
	for _, r := range t.rows {
		for _, u := range r.units {
			if !seen[u] {
				seen[u] = true
				lay.columns = append(lay.columns, column{unit: u, header: u, scale: 1})
			}
		}
	}
	return lay
}

func title(t *table, lay layout) string {
	if t.form == "" {
		return lay.title
	}
	ft := formTitles[t.form]
	if ft == "" {
		ft = t.form
	}
	return lay.title + " — " + ft
}

func writeTable(b *strings.Builder, t *table) {
	lay := layoutOf(t)
	fmt.Fprintf(b, "### %s\n\n", title(t, lay))
	if lay.about != "" && t.form != "closure" {
		fmt.Fprintf(b, "%s\n\n", lay.about)
	}
	ref := t.row(lay.ratioTo)
	b.WriteString("| library")
	sep := "|---"
	for _, c := range lay.columns {
		h := c.header
		if c.ranged {
			h += " (min–max)"
		}
		b.WriteString(" | " + h)
		sep += "|--:"
	}
	if ref != nil {
		b.WriteString(" | vs " + lay.ratioTo + " (min–max)")
		sep += "|--:"
	}
	b.WriteString(" |\n" + sep + "|\n")
	for _, r := range t.rows {
		b.WriteString("| " + r.name)
		for _, col := range lay.columns {
			c, ok := r.cells[col.unit]
			switch {
			case col.unit == "deadlocked":
				if isDeadlocked(r) {
					b.WriteString(" | **yes**")
				} else {
					b.WriteString(" | no")
				}
			case isDeadlocked(r) && col.unit != "deadlocked":
				b.WriteString(" | —")
			case col.ranged:
				if s, ok := metric(r, col.unit); ok {
					b.WriteString(" | " + s.plain())
				} else {
					b.WriteString(" | —")
				}
			case !ok:
				b.WriteString(" | —")
			default:
				b.WriteString(" | " + c.format(col.scale))
			}
		}
		if ref != nil {
			s, ok := ratio(r, ref)
			none := "—"
			if isDeadlocked(r) {
				none = "deadlocked"
			}
			b.WriteString(" | " + timesOr(s, ok, none))
		}
		b.WriteString(" |\n")
	}
	b.WriteString("\n")
}

// writeSummary prints every library's time ratio to the reference row of
// each table, one column per table: one summary for the tables compared
// with handpool, one for those compared with goroutines.
func writeSummary(b *strings.Builder, ts []*table, ref, heading, about string) {
	var cols []*table
	for _, t := range ts {
		if layoutOf(t).ratioTo == ref && t.row(ref) != nil {
			cols = append(cols, t)
		}
	}
	var libs []string
	for _, t := range cols {
		for _, r := range t.rows {
			if !slices.Contains(libs, r.name) && !slices.Contains(referenceRows, r.name) {
				libs = append(libs, r.name)
			}
		}
	}
	if len(cols) == 0 || len(libs) == 0 {
		return
	}
	b.WriteString("## " + heading + "\n\n" + about + "\n\n")
	b.WriteString("| library")
	sep := "|---"
	for _, t := range cols {
		b.WriteString(" | " + t.key())
		sep += "|--:"
	}
	b.WriteString(" |\n" + sep + "|\n")
	for _, n := range libs {
		b.WriteString("| " + n)
		for _, t := range cols {
			r := t.row(n)
			switch {
			case r == nil:
				b.WriteString(" | ")
			case isDeadlocked(r):
				b.WriteString(" | deadlocked")
			default:
				s, ok := ratio(r, t.row(ref))
				b.WriteString(" | " + timesOr(s, ok, "—"))
			}
		}
		b.WriteString(" |\n")
	}
	b.WriteString("\n")
}

func isPeer(name string) bool {
	base, _, _ := strings.Cut(name, ".")
	return slices.Contains(peers, base)
}

// writeHeadline prints, per table, deco's rows and the best peer's: the
// figures the README quotes.
func writeHeadline(b *strings.Builder, ts []*table) {
	var decoRows []string
	for _, t := range ts {
		for _, r := range t.rows {
			if (r.name == "deco" || strings.HasPrefix(r.name, "deco.")) && !slices.Contains(decoRows, r.name) {
				decoRows = append(decoRows, r.name)
			}
		}
	}
	if len(decoRows) == 0 {
		return
	}
	b.WriteString("## Headline: deco against the reference and the best peer\n\n")
	b.WriteString("Per table: the median of the per-round ratios to the reference row of the same round, and their " +
		"min–max over the rounds (IO: wall time over the timer floor measured in the same benchmark; CPU: speed-up " +
		"over the serial batch of the same benchmark, higher is better). \"best peer\" is the errgroup, conc, pond " +
		"or ants row with the best median that did not deadlock.\n\n")
	b.WriteString("| table | measure |")
	sep := "|---|---|"
	for _, n := range decoRows {
		b.WriteString(" " + n + " |")
		sep += "--:|"
	}
	b.WriteString(" best peer |\n" + sep + "---|\n")
	for _, t := range ts {
		lay := layoutOf(t)
		ref := t.row(lay.ratioTo)
		value := func(r *row) (spread, bool) {
			if lay.headline != "" {
				return metric(r, lay.headline)
			}
			return ratio(r, ref)
		}
		measure := "× " + lay.ratioTo
		better := func(a, b float64) bool { return a < b }
		switch lay.headline {
		case "x-floor":
			measure = "× timer floor"
		case "speedup":
			measure = "speed-up"
			better = func(a, b float64) bool { return a > b }
		case "":
			if ref == nil {
				continue
			}
		}
		hasDeco := false
		for _, n := range decoRows {
			if t.row(n) != nil {
				hasDeco = true
			}
		}
		if !hasDeco {
			continue
		}
		fmt.Fprintf(b, "| %s | %s |", t.key(), measure)
		for _, n := range decoRows {
			r := t.row(n)
			switch {
			case r == nil:
				b.WriteString(" |")
				continue
			case isDeadlocked(r):
				b.WriteString(" deadlocked |")
				continue
			}
			s, ok := value(r)
			b.WriteString(" " + fmtHeadline(s, ok, lay.headline) + " |")
		}
		var best *row
		var bestS spread
		for _, r := range t.rows {
			if !isPeer(r.name) {
				continue
			}
			if s, ok := value(r); ok && (best == nil || better(s.median, bestS.median)) {
				best, bestS = r, s
			}
		}
		if best == nil {
			b.WriteString(" every peer deadlocked |\n")
			continue
		}
		fmt.Fprintf(b, " %s %s |\n", best.name, fmtHeadline(bestS, true, lay.headline))
	}
	b.WriteString("\n")
}

func fmtHeadline(s spread, ok bool, unit string) string {
	switch {
	case !ok:
		return "—"
	case unit == "":
		return s.times()
	default:
		return s.plain()
	}
}

func report(ts []*table, m meta) string {
	var b strings.Builder
	b.WriteString("# Benchmarks: deco and its peers\n\n")
	b.WriteString("Generated by `bench/run.sh` (tables by `bench/cmd/benchreport` from the raw results and benchstat's " +
		"summary of them); do not edit by hand, rerun the script. Raw `go test` output: `bench/results/raw.txt`; " +
		"benchstat's own tables: `bench/results/benchstat.txt`. How each library is used in each workload " +
		"is written next to its code, in `bench/<library>_test.go`; the two forms of a task are described in " +
		"`bench/executor_test.go`.\n\n")
	b.WriteString("## Machine and run\n\n| | |\n|---|---|\n")
	for _, kv := range [][2]string{
		{"cores (nproc)", m.cores},
		{"CPU", m.cpu},
		{"Go", m.goVersion},
		{"date", m.date},
		{"rounds (runs per benchmark)", m.count},
		{"load average before the run", m.load},
		{"load average after the run", m.loadAfter},
		{"duration of bench/run.sh", m.elapsed},
	} {
		if kv[1] != "" {
			fmt.Fprintf(&b, "| %s | %s |\n", kv[0], kv[1])
		}
	}
	b.WriteString("\n")
	if m.note != "" {
		b.WriteString(m.note + "\n\n")
	}
	if m.count != "" {
		b.WriteString("Reproduce the whole report from the repository root: `COUNT=" + m.count + " bench/run.sh`.\n\n")
	}
	if m.commands != "" {
		b.WriteString("Commands of one round (from `bench/`; bench/run.sh runs the test binary they build, once per " +
			"round, every workload in each round):\n\n```sh\n" + strings.TrimRight(m.commands, "\n") + "\n```\n\n")
	}
	b.WriteString("Cells: benchstat's median over the rounds, ± its 95% confidence interval as a percentage " +
		"of the median (\"∞\": too few runs for an interval; \"?\": not computable, e.g. all zero). " +
		"Ratios (\"vs\" columns, the summaries and the headline): each round's time divided by the reference " +
		"row's time in the same round; shown as the median of those ratios and, in brackets, their min–max over " +
		"the rounds. Absolute times on a shared machine drift by tens of percent; the ratios are the figures to " +
		"quote. The limit is GOMAXPROCS unless a table says otherwise.\n\n")
	ts = sortedTables(ts)
	writeHeadline(&b, ts)
	writeSummary(&b, ts, handpool, "Summary: time relative to handpool",
		"Each library's time / the hand-written pool's (`handpool`) in the same round: median (min–max); lower is "+
			"better, 1.00× = as fast as handpool. goroutines and wg.Go are unbounded: they ignore the limit the others honour.")
	writeSummary(&b, ts, "goroutines", "Summary: nesting, time relative to go + WaitGroup",
		"The nesting workloads at limit 2, where every bounded hand pool deadlocks: each library's time / unbounded "+
			"`go` statements with a sync.WaitGroup (`goroutines`) in the same round: median (min–max).")
	b.WriteString("## Tables\n\n")
	for _, t := range ts {
		writeTable(&b, t)
	}
	return b.String()
}

func main() {
	var (
		csvPath  = flag.String("csv", "", "output of `benchstat -format csv raw.txt` (required)")
		rawPath  = flag.String("raw", "", "the raw `go test -bench` output benchstat read (required)")
		cmdsPath = flag.String("commands", "", "file with the commands of one round, shown in the report")
		m        meta
	)
	flag.StringVar(&m.cores, "cores", "", "number of cores (nproc)")
	flag.StringVar(&m.cpu, "cpu", "", "CPU model")
	flag.StringVar(&m.goVersion, "go", "", "Go version (go version)")
	flag.StringVar(&m.date, "date", "", "date of the run")
	flag.StringVar(&m.load, "load", "", "load average before the run")
	flag.StringVar(&m.loadAfter, "load-after", "", "load average after the run")
	flag.StringVar(&m.elapsed, "elapsed", "", "how long the run took")
	flag.StringVar(&m.count, "count", "", "rounds of the run")
	flag.StringVar(&m.note, "note", "", "a paragraph about the run (e.g. that the machine was shared)")
	flag.Parse()
	if *csvPath == "" || *rawPath == "" || flag.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "usage: benchreport -csv benchstat.csv -raw raw.txt [-commands file] [-cores N -cpu MODEL -go VERSION -date DATE ...]")
		os.Exit(2)
	}
	if err := run(*csvPath, *rawPath, *cmdsPath, m, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "benchreport:", err)
		os.Exit(1)
	}
}

func run(csvPath, rawPath, cmdsPath string, m meta, out io.Writer) error {
	if cmdsPath != "" {
		data, err := os.ReadFile(cmdsPath)
		if err != nil {
			return err
		}
		m.commands = string(data)
	}
	var ts tables
	for _, in := range []struct {
		path  string
		parse func(*tables, io.Reader) error
	}{{rawPath, parseRaw}, {csvPath, parseCSV}} {
		f, err := os.Open(in.path)
		if err != nil {
			return err
		}
		err = in.parse(&ts, f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", in.path, err)
		}
	}
	_, err := io.WriteString(out, report(ts.list, m))
	return err
}
