#!/usr/bin/env bash
# Runs the peer benchmarks (bench/*_test.go) and writes BENCHMARKS.md at the
# repository root.
#
#   bench/run.sh                 # 6 runs of every benchmark (~8 min on 2 cores)
#   COUNT=10 bench/run.sh        # more runs, tighter intervals
#
# Outputs, all overwritten:
#   bench/results/raw.txt        raw `go test -bench` output, every run
#   bench/results/commands.txt   the exact commands that produced raw.txt
#   bench/results/benchstat.txt  benchstat's tables
#   bench/results/benchstat.csv  the same as CSV, read by bench/cmd/benchreport
#   BENCHMARKS.md                the report
#
# Each workload runs as its own `go test` command with a -benchtime that
# suits it: a fixed number of batches (Nx) for the batch workloads, so the
# whole script stays within ~15 minutes on 2 cores. Other processes running
# at the same time skew the numbers: the load average before the run is
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

load="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"
echo "load average before the run: $load" >&2
if awk -v l="${load%% *}" 'BEGIN { exit !(l > 0.5) }' 2>/dev/null; then
	echo "warning: the machine is busy (1-minute load $load); results will be noisy" >&2
fi

raw="$results/raw.txt"
commands="$results/commands.txt"
: >"$raw"
: >"$commands"

# bench WORKLOAD BENCHTIME: one go test run of Benchmark<WORKLOAD> and all
# its rows, appended to raw.txt.
bench() {
	local cmd=(go test -run '^$' -bench "^Benchmark$1\$" -benchtime "$2" -count "$count" -timeout 0 .)
	printf '%s\n' "${cmd[*]}" >>"$commands"
	echo "== ${cmd[*]}" >&2
	(cd "$here" && "${cmd[@]}") | tee -a "$raw"
}

bench Overhead 1s # b.N tasks: ~1 s of tasks per run
bench CPU 20x     # 20 batches of 2,000 x 50 µs (~1 s) + 2 serial batches
bench IO 40x      # 40 batches of ~22 ms
bench Gather 20x  # 20 batches of 100,000 tasks
bench Nested 20x  # 20 batches of 100 x 100 tasks; each deadlock costs 10 s, once
bench Seed 20x    # 20 batches of 100,000 tasks
bench SeedStore 20x

"$benchstat" "$raw" >"$results/benchstat.txt"
"$benchstat" -format csv "$raw" >"$results/benchstat.csv" 2>/dev/null

elapsed=$(($(date +%s) - start))
cpu="$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)"
(cd "$here" && go run ./cmd/benchreport \
	-csv "$results/benchstat.csv" \
	-commands "$commands" \
	-cores "$(nproc)" \
	-cpu "${cpu:-unknown}" \
	-go "$(go version)" \
	-date "$(date -u '+%Y-%m-%d %H:%M UTC')" \
	-load "$load" \
	-count "$count" \
	-elapsed "$((elapsed / 60)) min $((elapsed % 60)) s") >"$root/BENCHMARKS.md"

echo "wrote $root/BENCHMARKS.md and $results/ in $((elapsed / 60)) min $((elapsed % 60)) s" >&2
