#!/usr/bin/env bash
# Smoke run of the peer benchmarks for CI: every benchmark once, one batch
# each (-benchtime 1x), nesting deadlocks detected after 0.5 s instead of
# 1 s, then the report pipeline (raw output -> benchstat CSV ->
# bench/cmd/benchreport) on that output. It catches rot (a benchmark that
# fails, hangs or no longer builds, a report that no longer parses), not
# regressions: the numbers of a single batch mean nothing. Takes well under
# 2 minutes on 2 cores (~20 s of benchmarks after the build). Writes nothing
# into the repository.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
benchstat_version="v0.0.0-20260908200009-22c9c6c9d4da"
export DECO_BENCH_NESTED_TIMEOUT="${DECO_BENCH_NESTED_TIMEOUT:-500ms}"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

cd "$here"
go test -run '^$' -bench . -benchtime 1x -count 1 -timeout 5m . | tee "$tmp/raw.txt"

# Every workload must have produced rows, in both forms where it has two.
for w in Overhead/shared Overhead/closure CPU/shared CPU/closure IO/shared IO/closure \
	Gather Nested/shared Nested/closure Spawn/shared Spawn/closure Seed SeedStore; do
	if ! grep -q "^Benchmark$w/" "$tmp/raw.txt"; then
		echo "ci.sh: no Benchmark$w rows in the output" >&2
		exit 1
	fi
done

gobin="$(go env GOBIN)"
gobin="${gobin:-$(go env GOPATH)/bin}"
if command -v benchstat >/dev/null 2>&1; then
	benchstat="$(command -v benchstat)"
elif [[ -x "$gobin/benchstat" ]]; then
	benchstat="$gobin/benchstat"
else
	go install "golang.org/x/perf/cmd/benchstat@$benchstat_version"
	benchstat="$gobin/benchstat"
fi
"$benchstat" -format csv "$tmp/raw.txt" >"$tmp/benchstat.csv" 2>/dev/null
go run ./cmd/benchreport -csv "$tmp/benchstat.csv" -raw "$tmp/raw.txt" >"$tmp/BENCHMARKS.md"
grep -q '^## Headline' "$tmp/BENCHMARKS.md"
grep -q '^## Summary: time relative to handpool' "$tmp/BENCHMARKS.md"
echo "ci.sh: every benchmark ran once and the report builds"
