package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sampleRaw is `go test -bench` output of two rounds (the k-th line of a
// benchmark is round k), with a log line that must not count as a result.
const sampleRaw = `goos: linux
goarch: amd64
pkg: github.com/deco-go/deco/bench
cpu: AMD EPYC
BenchmarkOverhead/shared/handpool-2   	1000000	        40.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkOverhead/shared/conc-2       	1000000	       300 ns/op	      24 B/op	       0 allocs/op
BenchmarkOverhead/shared/deco-2       	1000000	        60.0 ns/op	     100 B/op	       0 allocs/op
BenchmarkOverhead/closure/handpool-2  	1000000	        50.0 ns/op	      24 B/op	       1 allocs/op
BenchmarkOverhead/closure/deco-2      	1000000	        60.0 ns/op	     100 B/op	       0 allocs/op
BenchmarkIO/shared/timerfloor-2       	      20	  21000000 ns/op	         1.05 x-ideal	         1.00 x-floor
BenchmarkIO/shared/handpool-2         	      20	  22000000 ns/op	         1.10 x-ideal	         1.04 x-floor
BenchmarkIO/shared/pond-2             	      20	  22000000 ns/op	         1.10 x-ideal	         1.06 x-floor
BenchmarkIO/shared/deco-2             	      20	  23000000 ns/op	         1.15 x-ideal	         1.10 x-floor
BenchmarkNested/shared/goroutines-2   	      20	   5000000 ns/op	         0 deadlocked
BenchmarkNested/shared/handpool-2     	       1	         0 ns/op	         1 deadlocked
--- BENCH: BenchmarkNested/shared/handpool-2
    nesting_test.go:99: Nested/handpool: batch 1 made no progress for 1s
BenchmarkNested/shared/my-lib-7       	       1	         0 ns/op	         1 deadlocked
BenchmarkGather/handpool-2            	      20	  10000000 ns/op	     350.0 ns/task
BenchmarkMystery/handpool-2           	       1	         2000000000 ns/op
BenchmarkOverhead/shared/handpool-2   	1000000	        40.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkOverhead/shared/conc-2       	1000000	       260 ns/op	      24 B/op	       0 allocs/op
BenchmarkOverhead/shared/deco-2       	1000000	        80.0 ns/op	     100 B/op	       0 allocs/op
BenchmarkOverhead/closure/handpool-2  	1000000	        50.0 ns/op	      24 B/op	       1 allocs/op
BenchmarkOverhead/closure/deco-2      	1000000	        70.0 ns/op	     100 B/op	       0 allocs/op
BenchmarkIO/shared/timerfloor-2       	      20	  21000000 ns/op	         1.05 x-ideal	         1.00 x-floor
BenchmarkIO/shared/handpool-2         	      20	  22000000 ns/op	         1.10 x-ideal	         1.04 x-floor
BenchmarkIO/shared/pond-2             	      20	  22000000 ns/op	         1.10 x-ideal	         1.08 x-floor
BenchmarkIO/shared/deco-2             	      20	  23000000 ns/op	         1.15 x-ideal	         1.12 x-floor
BenchmarkNested/shared/goroutines-2   	      20	   5000000 ns/op	         0 deadlocked
BenchmarkNested/shared/handpool-2     	       1	         0 ns/op	         1 deadlocked
BenchmarkNested/shared/my-lib-7       	       1	         0 ns/op	         1 deadlocked
BenchmarkGather/handpool-2            	      20	  10000000 ns/op	     350.0 ns/task
BenchmarkMystery/handpool-2           	       1	         2000000000 ns/op
`

// sampleCSV is what `benchstat -format csv` says of sampleRaw (the
// medians; only the cells the report prints from it).
const sampleCSV = `goos: linux
goarch: amd64
pkg: github.com/deco-go/deco/bench
cpu: AMD EPYC
,raw.txt,
,sec/op,CI
Overhead/shared/handpool-2,4e-08,3%
Overhead/shared/conc-2,2.8e-07,5%
Overhead/shared/deco-2,7e-08,9%
Overhead/closure/handpool-2,5e-08,1%
Overhead/closure/deco-2,6.5e-08,2%
IO/shared/timerfloor-2,0.021,0%
IO/shared/handpool-2,0.022,0%
IO/shared/pond-2,0.022,0%
IO/shared/deco-2,0.023,0%
Nested/shared/goroutines-2,0.005,2%
Nested/shared/handpool-2,0,∞
Nested/shared/my-lib-7,0,∞
Gather/handpool-2,0.01,1%
Mystery/handpool-2,2,1%
geomean,1e-06,

,raw.txt,
,sec/task,CI
Gather/handpool-2,3.5e-07,2%
geomean,3.5e-07,

,raw.txt,
,B/op,CI
Overhead/shared/handpool-2,0,0%
Overhead/shared/conc-2,24,0%
geomean,,

,raw.txt,
,deadlocked,CI
Nested/shared/goroutines-2,0,0%
Nested/shared/handpool-2,1,0%
Nested/shared/my-lib-7,1,0%
geomean,,
`

func TestReport(t *testing.T) {
	var ts tables
	if err := parseRaw(&ts, strings.NewReader(sampleRaw)); err != nil {
		t.Fatal(err)
	}
	if err := parseCSV(&ts, strings.NewReader(sampleCSV)); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, tb := range ts.list {
		keys = append(keys, tb.key())
	}
	if got, want := strings.Join(keys, " "), "Overhead/shared Overhead/closure IO/shared Nested/shared Gather Mystery"; got != want {
		t.Fatalf("tables %q, want %q", got, want)
	}
	if r := ts.byKey["Nested/"].row("handpool"); r != nil {
		t.Error("Nested/shared/handpool parsed as a one-form row")
	}
	if got := len(ts.byKey["Nested/shared"].row("handpool").runs); got != 2 {
		t.Errorf("Nested/shared/handpool: %d runs, want 2 (the log line is not a result)", got)
	}
	out := report(ts.list, meta{cores: "2", cpu: "AMD EPYC", count: "6", commands: "go test -bench .", note: "The machine was shared."})
	for _, want := range []string{
		"| cores (nproc) | 2 |",
		"| CPU | AMD EPYC |",
		"The machine was shared.",
		"go test -bench .",
		"`COUNT=6 bench/run.sh`",
		"### Overhead: no-op tasks, one wait — shared func",
		"### Overhead: no-op tasks, one wait — closure per task",
		// cells from benchstat, ratios per round: conc 300/40 = 7.5, 260/40 = 6.5
		"| handpool | 40.0 ±3% | 0 ±0% | — | 1.00× (1.00–1.00) |",
		"| conc | 280 ±5% | 24.0 ±0% | — | 7.00× (6.50–7.50) |",
		"| deco | 70.0 ±9% | — | — | 1.75× (1.50–2.00) |",
		// ranged metric from the raw runs: median (min–max)
		"| deco | 23.0 ±0% | — | 1.11 (1.10–1.12) | 1.05× (1.05–1.05) |",
		"| handpool | **yes** | — | — | — | deadlocked |", // Nested compares with goroutines
		"| goroutines | no | 5.00 ±2% | — | — | 1.00× (1.00–1.00) |",
		"| my-lib | **yes** | — | — | — | deadlocked |", // -7 suffix stripped, dash kept
		"### Mystery",                     // unknown workload: generic table
		"| conc | 7.00× (6.50–7.50) |  |", // summary row: no conc row in Overhead/closure
		"| handpool | 10.0 ±1% | 350 ±2% | — | — | 1.00× (1.00–1.00) |", // Gather: sec/task as ns/task
		// headline: deco's ratio; IO against the timer floor; best peer
		"| Overhead/shared | × handpool | 1.75× (1.50–2.00) | conc 7.00× (6.50–7.50) |",
		"| IO/shared | × timer floor | 1.11 (1.10–1.12) | pond 1.07 (1.06–1.08) |",
		"| Overhead/closure | × handpool | 1.30× (1.20–1.40) | every peer deadlocked |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q\n%s", want, out)
		}
	}
	if strings.Index(out, "### Overhead") > strings.Index(out, "### Nested") {
		t.Error("tables out of order: Overhead must come before Nested")
	}
}

func TestRun(t *testing.T) {
	dir := t.TempDir()
	raw, csv := filepath.Join(dir, "raw.txt"), filepath.Join(dir, "b.csv")
	if err := os.WriteFile(raw, []byte(sampleRaw), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(csv, []byte(sampleCSV), 0o644); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if err := run(csv, raw, "", meta{}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "## Headline") {
		t.Errorf("no headline in\n%s", out.String())
	}
	if err := run(csv, filepath.Join(dir, "missing.txt"), "", meta{}, &out); err == nil {
		t.Error("no error for a missing raw file")
	}
}

func TestParseEmpty(t *testing.T) {
	if err := parseCSV(new(tables), strings.NewReader("goos: linux\n")); err == nil {
		t.Error("csv: no error for input without benchmarks")
	}
	if err := parseRaw(new(tables), strings.NewReader("goos: linux\nPASS\n")); err == nil {
		t.Error("raw: no error for input without benchmarks")
	}
	if err := parseRaw(new(tables), strings.NewReader("BenchmarkX/a-2 10 abc ns/op\n")); err == nil {
		t.Error("raw: no error for a bad value")
	}
}

func TestSpread(t *testing.T) {
	s, ok := spreadOf([]float64{3, 1, 2, 10})
	if !ok || s.median != 2.5 || s.min != 1 || s.max != 10 || s.n != 4 {
		t.Errorf("spreadOf(3 1 2 10) = %+v, %v; want median 2.5, 1–10, n 4", s, ok)
	}
	if _, ok := spreadOf(nil); ok {
		t.Error("spreadOf(nil) reports a value")
	}
}

func TestNum(t *testing.T) {
	for v, want := range map[float64]string{0: "0", 1234.5: "1234", 12.34: "12.3", 1.234: "1.23", 0.1234: "0.123", 0.001234: "0.00123"} {
		if got := num(v); got != want {
			t.Errorf("num(%v) = %q, want %q", v, got, want)
		}
	}
}
