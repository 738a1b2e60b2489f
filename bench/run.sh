#!/usr/bin/env bash
# Runs the peer benchmarks (bench/*_test.go) and writes BENCHMARKS.md at the
# repository root.
#
#   bench/run.sh                 # 6 rounds (~8 min on 2 idle cores, ~12 busy)
#   COUNT=10 bench/run.sh        # more rounds, tighter ranges
#   NOTE='The machine was shared with ...' bench/run.sh   # a paragraph for the report
#
# Outputs, all overwritten:
#   bench/results/raw.txt        raw `go test -bench` output, every round
#   bench/results/commands.txt   the commands of one round
#   bench/results/benchstat.txt  benchstat's tables
#   bench/results/benchstat.csv  the same as CSV, read by bench/cmd/benchreport
#   BENCHMARKS.md                the report
#
# Rounds, not -count: the test binary is built once, then each round runs
# every workload once (as `go test -count 1` would), COUNT rounds in a row.
# Each workload runs as two processes: its unbounded baselines' rows
# (goroutines, wg.Go; DECO_BENCH_ROWS=unbounded), then every other row
# (DECO_BENCH_ROWS=bounded), so that the goroutines the baselines leave on
# the heap do not lower the collector's cost of the rows after them (why:
# rowsWanted in bench/executor_test.go).
# Every ratio in the report divides a row's result by its reference row's
# result of the same round, so the two were measured seconds apart, not the
# minutes -count=6 would put between them (it repeats each benchmark six
# times before the next one); the rounds give the min–max. Each workload
# has a -benchtime that suits it: a fixed number of tasks (Overhead) or
# batches (Nx), the same in every round. Other processes running at the same
# time skew the numbers: the load average before and after the run is
# printed and written into the report.
set -euo pipefail

count="${COUNT:-6}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
results="$here/results"
# Pinned, so that every rerun summarises the same way.
benchstat_version="v0.0.0-20260908200009-22c9c6c9d4da"

start=$(date +%s)
mkdir -p "$results"

# benchstat: from PATH, or installed into GOBIN (GOPATH/bin) from the Go
# module proxy.
gobin="$(go env GOBIN)"
gobin="${gobin:-$(go env GOPATH)/bin}"
if command -v benchstat >/dev/null 2>&1; then
	benchstat="$(command -v benchstat)"
elif [[ -x "$gobin/benchstat" ]]; then
	benchstat="$gobin/benchstat"
else
	echo "installing benchstat@$benchstat_version into $gobin" >&2
	go install "golang.org/x/perf/cmd/benchstat@$benchstat_version"
	benchstat="$gobin/benchstat"
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$here" && go test -c -o "$tmp/bench.test" .)

load="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"
echo "load average before the run: $load" >&2
if awk -v l="${load%% *}" 'BEGIN { exit !(l > 0.5) }' 2>/dev/null; then
	echo "warning: the machine is busy (1-minute load $load); results will be noisy" >&2
fi

raw="$results/raw.txt"
commands="$results/commands.txt"
: >"$raw"
: >"$commands"

# The workloads of one round and their -benchtime.
workloads=(
	"Overhead 1000000x" # 1,000,000 tasks per row
	"CPU 4x"            # 4 batches of 2,000 x 50 µs (~0.2 s) + 1 serial batch
	"IO 15x"            # 15 batches of ~22 ms
	"Gather 10x"        # 10 batches of 100,000 tasks
	"Nested 30x"        # 30 batches of 100 x 100 tasks; each deadlock costs 1 s, once per round
	"Spawn 30x"         # the same, spawn-only
	"Seed 5x"           # 5 batches of 100,000 tasks
	"SeedStore 5x"
)
for w in "${workloads[@]}"; do
	set -- $w
	for rows in unbounded bounded; do
		printf 'DECO_BENCH_ROWS=%s go test -run ^$ -bench ^Benchmark%s$ -benchtime %s -count 1 -timeout 0 .\n' "$rows" "$1" "$2" >>"$commands"
	done
done

for round in $(seq 1 "$count"); do
	for w in "${workloads[@]}"; do
		set -- $w
		for rows in unbounded bounded; do
			echo "== $(date -u +%T) round $round/$count: Benchmark$1, -benchtime $2, $rows rows" >&2
			(cd "$here" && DECO_BENCH_ROWS=$rows "$tmp/bench.test" -test.run '^$' -test.bench "^Benchmark$1\$" \
				-test.benchtime "$2" -test.count 1 -test.timeout 0) | tee -a "$raw"
		done
	done
done

"$benchstat" "$raw" >"$results/benchstat.txt"
"$benchstat" -format csv "$raw" >"$results/benchstat.csv" 2>/dev/null

elapsed=$(($(date +%s) - start))
load_after="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"
cpu="$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)"
(cd "$here" && go run ./cmd/benchreport \
	-csv "$results/benchstat.csv" \
	-raw "$raw" \
	-commands "$commands" \
	-cores "$(nproc)" \
	-cpu "${cpu:-unknown}" \
	-go "$(go version)" \
	-date "$(date -u '+%Y-%m-%d %H:%M UTC')" \
	-load "$load" \
	-load-after "$load_after" \
	-count "$count" \
	-note "${NOTE:-}" \
	-elapsed "$((elapsed / 60)) min $((elapsed % 60)) s") >"$root/BENCHMARKS.md"

echo "wrote $root/BENCHMARKS.md and $results/ in $((elapsed / 60)) min $((elapsed % 60)) s" >&2
