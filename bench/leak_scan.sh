#!/usr/bin/env bash
# leak_scan.sh - what classifying the blocks live at exit costs
# (core/leak_scan.c) against the heap's size, next to valgrind memcheck's
# whole run of the same program and its leak kinds.
#
#   bench/leak_scan.sh [build directory]      (default: build)
#
# bench/leak_scan.c builds a heap of 1, 100 and 1,000 MB (blocks of 64 to
# 4,096 bytes: half kept by a global table, a quarter in lists whose heads
# are lost, a quarter in lists the table holds by an interior pointer) and
# scans it in the same process: the time of the sort, the roots and the
# scan is printed beside the program's own run without the scan and
# valgrind --leak-check=full's whole run of it, with both tools' totals of
# each kind.  The kinds need not agree to the block: a stale pointer left
# on a stack or in a register differs between the two runs (valgrind's
# allocator puts the blocks elsewhere), and keeps a list one way or the
# other; the definitely lost figures, one head per lost list, do agree.
#
# Needs valgrind (apt-get install valgrind) and /usr/bin/time.
set -euo pipefail

build=${1:-build}
program="$build/bench/leak_scan"
if [ ! -x "$program" ]; then
	echo "leak_scan.sh: $program not built (ninja -C $build)" >&2
	exit 2
fi
for tool in valgrind /usr/bin/time; do
	if ! command -v "$tool" >/dev/null; then
		echo "leak_scan.sh: needs $tool" >&2
		exit 2
	fi
done
work=$(mktemp -d /tmp/memscope-leak-scan.XXXXXX)
trap 'rm -rf "$work"' EXIT

# The seconds of a command's whole run.
elapsed() {
	/usr/bin/time -f "%e" -o "$work/time" "$@" >"$work/out" 2>"$work/err"
	cat "$work/time"
}

printf '%-8s %12s %10s %12s %12s %10s\n' heap "blocks" "scan" "program" "valgrind" "scan/valgrind"
for megabytes in 1 100 1000; do
	"$program" "$megabytes" >"$work/scan.$megabytes"
	scan=$(awk '/in all/ { print $(NF-3) }' "$work/scan.$megabytes")
	blocks=$(awk '/^heap/ { print $5 }' "$work/scan.$megabytes")
	alone=$(elapsed "$program" "$megabytes" --no-scan)
	memcheck=$(elapsed valgrind --leak-check=full --show-leak-kinds=all \
		--errors-for-leak-kinds=none "$program" "$megabytes" --no-scan)
	cp "$work/err" "$work/valgrind.$megabytes"
	printf '%-8s %12s %9ss %11ss %11ss %10s\n' "$megabytes MB" "$blocks" "$scan" "$alone" \
		"$memcheck" "$(awk -v a="$scan" -v b="$memcheck" 'BEGIN { printf "%.3fx", a / b }')"
done
echo "(scan: the sort, the roots and the scan, in the program's process; program: its run"
echo " without the scan; valgrind: memcheck's whole run of that, its leak check included)"
echo
echo "kinds at 1000 MB, blocks and bytes, memscope's scan against memcheck:"
for kind in "definitely lost" "indirectly lost" "possibly lost" "still reachable"; do
	ours=$(awk -v k="$kind" 'index($0, k) { print $3, $5 }' "$work/scan.1000")
	theirs=$(awk -v k="$kind:" 'index($0, k) { gsub(",", ""); print $(NF-1), $(NF-4) }' \
		"$work/valgrind.1000")
	printf '  %-16s memscope %-24s memcheck %s\n' "$kind" "$ours" "$theirs"
done
