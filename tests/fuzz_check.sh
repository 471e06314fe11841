#!/bin/sh
# fuzz_check.sh - the capture reader under libFuzzer for a fixed time
# (tests/fuzz_capture_reader.c says what it checks), with its memory
# capped, seeded with the damaged captures of tests/damaged/ and a real
# one: any crash, leak, hang or allocation over the cap fails the test.
#
# usage: tests/fuzz_check.sh SOURCE_DIR BUILD_DIR [SECONDS]
# Exit 0 when nothing was found, 1 otherwise, 77 without clang's libFuzzer.
set -u
source=$1
build=$2
seconds=${3:-60}
clang=$(command -v clang) || { echo "fuzz_check: no clang" >&2; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if ! "$clang" -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
	-I"$source/core" "$source/tests/fuzz_capture_reader.c" "$source/core/capture_reader.c" \
	"$source/core/varint.c" -lzstd -o "$work/fuzz" 2>"$work/build.log"; then
	cat "$work/build.log" >&2
	echo "fuzz_check: clang cannot build a libFuzzer harness here (libclang-rt-14-dev?)" >&2
	exit 77
fi
mkdir "$work/corpus"
"$build/cli/memscope" -q -o "$work/real.memscope" "$build/tests/programs/counts" ||
	{ echo "fuzz_check: no real capture to seed with" >&2; exit 1; }
n=0
for capture in "$source"/tests/damaged/*.memscope "$work/real.memscope"; do
	# The first byte chooses the mode: 0 as it is, 1 with checksums fixed.
	for mode in '\000' '\001'; do
		n=$((n + 1))
		{ printf "$mode"; cat "$capture"; } >"$work/corpus/seed$n"
	done
done
cd "$work"
if ! ./fuzz -max_total_time="$seconds" -rss_limit_mb=512 -max_len=4096 -timeout=10 \
	-print_final_stats=1 corpus >fuzz.log 2>&1; then
	tail -40 fuzz.log >&2
	echo "fuzz_check: the reader failed on an input (kept in $work while this runs)" >&2
	exit 1
fi
echo "fuzz_check: $(grep -o 'stat::number_of_executed_units: [0-9]*' fuzz.log | awk '{print $2}') inputs in ${seconds} s, nothing found"
