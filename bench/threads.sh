#!/usr/bin/env bash
# threads.sh - how allocation throughput scales with threads, untracked and
# under memscope: bench/threads.c with 1, 2, 4 and 8 threads, each thread
# doing OPERATIONS (default 5,000,000) free+malloc pairs on a working set of
# 32 blocks of 16 to 4096 bytes.  The program times itself (from the
# threads' common start to the last one's end, so memscope's start-up and
# capture finishing are not counted) and prints operations per second.
#
#   bench/threads.sh [build directory]      (default: build)
#
# Columns: glibc (the program untracked), jemalloc (LD_PRELOAD), memscope
# --backend lockfree at its default interval (on the C library's malloc, its
# default), the same on jemalloc (--allocator jemalloc, with its ratio to
# plain jemalloc), and memscope --backend exact (on jemalloc), each with its
# ratio to the untracked run.  Each cell is the median of REPEATS runs (default 5), the
# variants taking turns so that a slower moment of the machine does not fall
# on one of them only; all from this one run.  Each tracked run's stdout
# (threads and operations; the timing figures aside) and exit status must
# equal the untracked run's, else the script exits 1.  The tracking figures
# of the last lockfree capture at each thread count (events recorded and
# dropped) are printed.
#
# Needs cc and jemalloc (apt-get install gcc libjemalloc2).
set -euo pipefail

build=${1:-build}
operations=${OPERATIONS:-5000000}
repeats=${REPEATS:-5}
here=$(cd "$(dirname "$0")" && pwd)
memscope=$(cd "$build" 2>/dev/null && pwd)/cli/memscope || true
jemalloc=$(pkg-config --variable=libdir jemalloc 2>/dev/null || true)/libjemalloc.so.2
[ -f "$jemalloc" ] || jemalloc=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2

die() {
	echo "threads: $*" >&2
	exit 2
}

command -v cc >/dev/null || die "cc is not installed"
[ -x "$memscope" ] || die "no memscope in $build/cli (build with: meson compile -C $build)"
[ -f "$jemalloc" ] || die "no jemalloc at $jemalloc (apt-get install libjemalloc2)"

work=$(mktemp -d "${TMPDIR:-/tmp}/memscope-threads.XXXXXX")
trap 'rm -rf "$work"' EXIT
unset LD_PRELOAD MALLOC_CONF
export LC_ALL=C

cc -O2 -g -pthread -o "$work/threads" "$here/threads.c"

variants=(glibc jemalloc lockfree lockfree_jemalloc exact)

# run VARIANT THREADS: one run; prints its ops/s, keeps its stdout and status.
run() {
	local variant=$1 threads=$2 status=0
	local program=("$work/threads" "$threads" "$operations")
	case $variant in
	glibc) "${program[@]}" ;;
	jemalloc) env LD_PRELOAD="$jemalloc" "${program[@]}" ;;
	lockfree) "$memscope" -q --backend lockfree -o "$work/lockfree.memscope" "${program[@]}" ;;
	lockfree_jemalloc)
		"$memscope" -q --backend lockfree --allocator jemalloc -o "$work/lockfree_jemalloc.memscope" \
			"${program[@]}" ;;
	exact) "$memscope" -q --backend exact -o "$work/exact.memscope" "${program[@]}" ;;
	esac </dev/null >"$work/out" 2>"$work/err" || status=$?
	echo "$status" >"$work/$variant.$threads.status"
	sed 's/, [0-9.]* s, [0-9]* ops\/s$//' "$work/out" >"$work/$variant.$threads.out"
	if [ -s "$work/err" ]; then
		echo "$variant, $threads threads: $(head -c 300 "$work/err")" >>"$work/notes"
	fi
	sed -n 's/.*, \([0-9]*\) ops\/s$/\1/p' "$work/out"
}

median() { sort -n | awk '{ value[NR] = $1 } END { print NR ? value[int((NR + 1) / 2)] : "" }'; }

failed=0
rows=()
: >"$work/notes"
load_before=$(cut -d" " -f1-3 /proc/loadavg)
for threads in 1 2 4 8; do
	echo "threads: $threads threads ..." >&2
	for variant in "${variants[@]}"; do
		: >"$work/$variant.$threads.rates"
	done
	for repeat in $(seq 1 "$repeats"); do
		for variant in "${variants[@]}"; do
			run "$variant" "$threads" >>"$work/$variant.$threads.rates"
			if ! cmp -s "$work/glibc.$threads.out" "$work/$variant.$threads.out" ||
				! cmp -s "$work/glibc.$threads.status" "$work/$variant.$threads.status"; then
				echo "$variant, $threads threads, run $repeat: stdout or exit status differs:" \
					"$(cat "$work/$variant.$threads.out") (status $(cat "$work/$variant.$threads.status"))," \
					"untracked: $(cat "$work/glibc.$threads.out") (status $(cat "$work/glibc.$threads.status"))" \
					>>"$work/notes"
				failed=1
			fi
		done
	done
	# The last lockfree capture of this thread count: were events dropped?
	tracking=$("$memscope" report --top 1 "$work/lockfree.memscope" 2>&1 | sed -n 's/^TRACKING *//p')
	echo "lockfree, $threads threads, last run: ${tracking:-no TRACKING line in its report}" >>"$work/notes"
	declare -A rate=()
	for variant in "${variants[@]}"; do
		rate[$variant]=$(median <"$work/$variant.$threads.rates")
		[ -n "${rate[$variant]}" ] || rate[$variant]=0
	done
	rows+=("$(awk -v threads="$threads" -v glibc="${rate[glibc]}" -v jemalloc="${rate[jemalloc]}" \
		-v lockfree="${rate[lockfree]}" -v lockfree_jemalloc="${rate[lockfree_jemalloc]}" \
		-v exact="${rate[exact]}" 'BEGIN {
		if (glibc <= 0) glibc = 1e-9 # no rate: the ratios come out huge, not a division by zero
		if (jemalloc <= 0) jemalloc = 1e-9
		printf "%d|%.1f M|%.1f M (%.2fx)|%.1f M (%.2fx)|%.1f M (%.2fx of jemalloc)|%.1f M (%.2fx)\n",
			threads, glibc / 1e6, jemalloc / 1e6, jemalloc / glibc,
			lockfree / 1e6, lockfree / glibc,
			lockfree_jemalloc / 1e6, lockfree_jemalloc / jemalloc,
			exact / 1e6, exact / glibc
	}')")
done

echo
echo "allocation throughput, operations (one free + one malloc) per second, millions;"
echo "$operations operations per thread; median of $repeats runs; ratio to untracked glibc:"
{
	echo "threads|untracked glibc|jemalloc|memscope lockfree|lockfree on jemalloc|memscope exact"
	printf '%s\n' "${rows[@]}"
} | awk -F'|' -f "$here/columns.awk"
echo "(this machine has $(nproc) cores (nproc): 4 and 8 threads oversubscribe it, and memscope's"
echo " writer thread competes with the program's threads for them)"
echo "(load average before: $load_before, after: $(cut -d" " -f1-3 /proc/loadavg), this script's own threads"
echo " included; other work on the machine skews the timings)"
while IFS= read -r note; do
	echo "note: $note"
done <"$work/notes"
exit "$failed"
