// Package bench compares bounded executors: deco's peers (errgroup, conc,
// pond, ants), hand-written pools and the standard-library baselines, on
// the same workloads in the same run, so that anyone can rerun the numbers.
//
// The package has no API: everything lives in its _test.go files.
//
//   - executor_test.go holds the executor interface, the two forms of a
//     task (one shared func, or a closure per task capturing its index) and
//     the registry of rows.
//   - workloads_test.go and nesting_test.go hold the workloads and every
//     Benchmark function. Benchmarks are named Benchmark<Workload>/<form>/<row>
//     (for example BenchmarkOverhead/closure/handpool), or
//     Benchmark<Workload>/<row> for the workloads with one form, so that
//     benchstat groups them.
//   - one file per library (baseline_test.go, handpool_test.go,
//     errgroup_test.go, conc_test.go, pond_test.go, ants_test.go,
//     deco_test.go) registers that library's rows; adding a library is one
//     more such file.
//
// Run the whole suite with bench/run.sh (it writes BENCHMARKS.md at the
// repository root), or a quick smoke run with bench/ci.sh; see README.md. A
// single workload by hand:
//
//	cd bench && go test -run '^$' -bench '^BenchmarkOverhead$' -benchtime 1000000x -count 6
package bench
