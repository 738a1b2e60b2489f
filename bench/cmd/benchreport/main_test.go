package main

import (
	"strings"
	"testing"
)

// sample is `benchstat -format csv` output for a run with two workloads.
const sample = `goos: linux
goarch: amd64
pkg: github.com/deco-go/deco/bench
cpu: AMD EPYC
,raw.txt,
,sec/op,CI
Overhead/handpool-2,4e-08,3%
Overhead/conc-2,3e-07,5%
Nested/goroutines-2,0.005,2%
Nested/handpool-2,0,∞
Mystery/handpool-2,2,1%
geomean,1e-06,

,raw.txt,
,sec/task,CI
Seed/handpool-2,3.5e-07,2%
geomean,3.5e-07,

,raw.txt,
,B/op,CI
Overhead/handpool-2,0,0%
Overhead/conc-2,24,0%
geomean,,

,raw.txt,
,deadlocked,CI
Nested/goroutines-2,0,0%
Nested/handpool-2,1,0%
Nested/my-lib-7,1,0%
geomean,,
`

func TestReport(t *testing.T) {
	ws, err := parseCSV(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	if len(ws) != 4 {
		t.Fatalf("got %d workloads, want 4 (Overhead, Nested, Mystery, Seed)", len(ws))
	}
	out := report(ws, meta{cores: "2", cpu: "AMD EPYC", commands: "go test -bench ."})
	for _, want := range []string{
		"| cores (nproc) | 2 |",
		"| CPU | AMD EPYC |",
		"go test -bench .",
		"| handpool | 40.0 ±3% | 0 ±0% | — | 1.00× |", // allocs/op absent from the sample
		"| conc | 300 ±5% | 24.0 ±0% | — | 7.50× |",
		"| handpool | **yes** | deadlocked | — |", // Nested compares with goroutines
		"| goroutines | no | 5.00 ±2% | 1.00× |",
		"| my-lib | **yes** | deadlocked | — |", // -7 suffix stripped, dash kept
		"## Mystery",                             // unknown workload: generic table
		"| conc | 7.50× | — | — | — |",           // summary row
		"| handpool | — | 350 ±2% | — | — | — |", // Seed: sec/task shown as ns/task; no sec/op, no ratio
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q\n%s", want, out)
		}
	}
	if strings.Index(out, "## Overhead") > strings.Index(out, "## Nested") {
		t.Error("tables out of order: Overhead must come before Nested")
	}
}

func TestParseCSVEmpty(t *testing.T) {
	if _, err := parseCSV(strings.NewReader("goos: linux\n")); err == nil {
		t.Fatal("no error for input without benchmarks")
	}
}

func TestNum(t *testing.T) {
	for v, want := range map[float64]string{0: "0", 1234.5: "1234", 12.34: "12.3", 1.234: "1.23", 0.1234: "0.123", 0.001234: "0.00123"} {
		if got := num(v); got != want {
			t.Errorf("num(%v) = %q, want %q", v, got, want)
		}
	}
}
