#!/bin/sh
# damaged_check.sh - every damaged capture kept in tests/damaged/ read by
# every report format, `memscope analyze` and the split layout, each with
# its memory capped at 1 GiB and its time at 60 s: a report comes (exit
# 0), whatever the file holds, never a crash, a hang, or memory that
# follows a number read from the file rather than what the file holds.
#   huge_thread_index     blocks of threads near 2^32 that no record names
#   sparse_thread         one thread record of index 2^20 - 1, a stack never recorded
#   died_without_trailer  a program killed by SIGKILL: no trailer, an INFO death
#   cut_mid_block         a capture cut in the middle of a block
#   bad_checksum          one byte changed inside a block
#   header_only           the 16-byte header and nothing else
# A binary copy of each keeps how it ended: "no trailer" stays, and a cut
# one still reads as cut short.
#
# usage: tests/damaged_check.sh BUILD_DIR SOURCE_DIR [sanitized]
# With "sanitized" (a build under AddressSanitizer, whose shadow memory
# takes more address space than the cap), memory is not capped.
set -u
build=$1
corpus=$2/tests/damaged
cap=1048576
[ "${3:-}" = sanitized ] && cap=unlimited
memscope="$build/cli/memscope"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=0

# Runs memscope with its arguments under the caps; prints what went wrong.
capped() {
	name=$1
	shift
	( ulimit -v $cap; exec timeout 60 "$memscope" "$@" ) >"$work/out" 2>"$work/err"
	status=$?
	if [ $status -ne 0 ]; then
		echo "damaged_check: $name: memscope $*: exit $status" >&2
		cat "$work/err" >&2
		failed=1
	fi
	return $status
}

for capture in "$corpus"/*.memscope; do
	name=$(basename "$capture" .memscope)
	capped "$name" report "$capture"
	for format in json html svg binary; do
		capped "$name" report "$capture" --format "$format" -o "$work/$name.$format"
	done
	capped "$name" report "$capture" --format json --split "$work/$name-split"
	capped "$name" analyze "$capture"
	capped "$name" report "$work/$name.binary" || continue
	# How the source ended, kept by its copy.
	grep -q "the capture has no trailer\|ended before finishing" "$work/out" ||
		{ echo "damaged_check: $name: its copy has a trailer" >&2; failed=1; }
	case $name in
	cut_mid_block|bad_checksum)
		grep -q "cut short or damaged" "$work/out" ||
			{ echo "damaged_check: $name: its copy is not cut short" >&2; failed=1; } ;;
	esac
done
[ $failed -eq 0 ] && echo "damaged_check: $(ls "$corpus"/*.memscope | wc -l) damaged captures, every format, address space capped at $cap KiB"
exit $failed
