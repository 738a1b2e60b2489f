// Package bench compares bounded executors: deco's peers (errgroup, conc,
// pond, ants) and the standard-library baselines, on the same workloads in
// the same run, so that anyone can rerun the numbers.
//
// The package has no API: everything lives in its _test.go files.
//
//   - workloads_test.go holds the workloads, the shared helpers and every
//     Benchmark function. Benchmarks are named Benchmark<Workload>/<library>
//     (for example BenchmarkOverhead/handpool) so that benchstat groups them.
//   - one file per library (baseline_test.go, handpool_test.go,
//     errgroup_test.go, conc_test.go, pond_test.go, ants_test.go) registers
//     that library's executor; adding a library is one more such file.
//
// Run the whole suite with bench/run.sh (it writes BENCHMARKS.md at the
// repository root), or a quick smoke run with bench/ci.sh; see README.md. A
// single workload by hand:
//
//	cd bench && go test -run '^$' -bench '^BenchmarkOverhead$' -count 6
package bench
