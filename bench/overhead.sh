#!/usr/bin/env bash
# overhead.sh - what `memscope --backend exact` costs, as a ratio to the same
# program run untracked, next to heaptrack's ratio on the same runs.
#
#   bench/overhead.sh [build directory]      (default: build)
#
# Workloads: bench/alloc_loop.c (a pure malloc/free loop, 2,000,000
# iterations) and python3 running bench/python_workload.py with
# PYTHONMALLOC=malloc.  Each command runs several times under hyperfine;
# ratios are of the medians, all from this one run.  Needs hyperfine,
# heaptrack and python3 (apt-get install hyperfine heaptrack python3).
set -euo pipefail

build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
memscope="$build/cli/memscope"
jemalloc=$(pkg-config --variable=libdir jemalloc)/libjemalloc.so.2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for tool in hyperfine heaptrack; do
	command -v "$tool" >/dev/null || { echo "overhead: $tool is not installed" >&2; exit 1; }
done
[ -x "$memscope" ] || { echo "overhead: $memscope not built (meson compile -C $build)" >&2; exit 1; }

cc -O2 -g -o "$work/alloc_loop" "$here/alloc_loop.c"
# The distribution's python3 itself, not a version-manager shim script.
python=/usr/bin/python3
[ -x "$python" ] || python=$(command -v python3)

# median seconds of one hyperfine CSV row
median() { awk -F, -v row="$2" 'NR == row + 1 {print $4}' "$1"; }

measure() {
	local name=$1 runs=$2
	shift 2
	local plain=$1 tracked=$2 heaptracked=$3
	hyperfine --style none --runs "$runs" --warmup 1 --export-csv "$work/$name.csv" \
		-n untracked "$plain" \
		-n jemalloc "env LD_PRELOAD=$jemalloc $plain" \
		-n memscope "$tracked" \
		-n heaptrack "$heaptracked" >/dev/null
	local base jem ms ht
	base=$(median "$work/$name.csv" 1)
	jem=$(median "$work/$name.csv" 2)
	ms=$(median "$work/$name.csv" 3)
	ht=$(median "$work/$name.csv" 4)
	awk -v name="$name" -v base="$base" -v jem="$jem" -v ms="$ms" -v ht="$ht" 'BEGIN {
		printf "%-14s untracked %7.3f s | jemalloc %5.2fx | memscope exact %6.2fx | heaptrack %6.2fx | memscope adds %.0f%% of what heaptrack adds\n",
			name, base, jem / base, ms / base, ht / base, 100 * (ms - base) / (ht - base)
	}'
}

echo "overhead of tracing, ratio to the untracked run (median of the runs):"
measure alloc_loop 10 \
	"$work/alloc_loop" \
	"$memscope -q -o $work/loop.memscope $work/alloc_loop" \
	"heaptrack -o $work/loop.heaptrack $work/alloc_loop"
measure python3 10 \
	"env PYTHONMALLOC=malloc $python $here/python_workload.py" \
	"env PYTHONMALLOC=malloc $memscope -q -o $work/py.memscope $python $here/python_workload.py" \
	"env PYTHONMALLOC=malloc heaptrack -o $work/py.heaptrack $python $here/python_workload.py"
