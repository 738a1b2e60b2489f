#!/usr/bin/env bash
# Counts the instructions one op of a benchmark row takes, under valgrind's
# callgrind: a measure that other processes on the machine do not move,
# where wall and CPU time drift by tens of percent on a shared machine.
#
#   bench/icount.sh '^BenchmarkOverhead$/shared/deco$' 100000 300000
#   bench/icount.sh '^BenchmarkSpawn$/shared/deco$' 20 60 /tmp/old.test
#
# It runs the row twice, with -benchtime N1x and N2x, and prints
# (instructions of N2 ops - instructions of N1 ops) / (N2 - N1), which
# leaves out the process's start and the benchmark's setup. The row runs
# with one processor (-test.cpu 1) and without asynchronous preemption,
# which callgrind does not survive, so that goroutines take turns
# deterministically: repeated counts of a row agree within about 3%
# (Overhead) to 5% (Spawn, Nested), so compare builds by counts, not by
# one run. It counts instructions, not their cost: an atomic operation or
# a cache miss counts one. The test binary is built from bench/ unless a
# third argument names one. Needs valgrind (apt-get install valgrind).
set -euo pipefail

if [[ $# -lt 3 ]]; then
	echo "usage: $0 BENCH-REGEX N1 N2 [test-binary]" >&2
	exit 2
fi
re=$1 n1=$2 n2=$3
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
command -v valgrind >/dev/null || { echo "$0: valgrind is not installed" >&2; exit 1; }
bin=${4:-}
if [[ -z "$bin" ]]; then
	bin="$(mktemp -d)/bench.test"
	(cd "$here" && go test -c -o "$bin")
fi

count() {
	(cd "$here" && GODEBUG=asyncpreemptoff=1 \
		valgrind --tool=callgrind --callgrind-out-file=/dev/null \
		"$bin" -test.run '^$' -test.bench "$re" -test.benchtime "${1}x" -test.cpu 1 2>&1) |
		awk '/Collected/ { print $4 }'
}
a=$(count "$n1")
b=$(count "$n2")
if [[ -z "$a" || -z "$b" ]]; then
	echo "$0: callgrind reported no count (did the row run? $re)" >&2
	exit 1
fi
echo "$re: $(( (b - a) / (n2 - n1) )) instructions/op ($n1 ops: $a, $n2 ops: $b)"
