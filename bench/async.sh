#!/usr/bin/env bash
# async.sh - what memscope --backend async costs: on the exact backend's
# workloads, per coroutine switch and annotation, and with many tasks.
#
#   bench/async.sh [build directory]      (default: build)
#
# Three sections (SECTIONS, default "overhead switch scale"):
#
# overhead  bench/alloc_loop.c (2,000,000 iterations) and python3 running
#           bench/python_workload.py with PYTHONMALLOC=malloc, as
#           bench/overhead.sh runs them: untracked, --backend exact and
#           --backend async.  Every command runs RUNS times (default 10,
#           after a warm-up round) under hyperfine, the commands taking
#           turns, each round starting one command further on, with a sync
#           before every run; each ratio is the median over the rounds of
#           the two commands' times in one round.  The target, async within
#           10% of exact (<= 1.10x), is held against PAIRS more rounds
#           (default 20, after a warm-up) of the exact and the async command
#           alone, back to back, in alternate order.  Before timing, each
#           command runs once on its own: its stdout and exit status must
#           equal the untracked run's (else the script exits 1).
# switch    bench/switch.c, which times itself (start-up and capture
#           writing are not counted): 1,000,000 swapcontext calls ping-pong
#           between main and one coroutine, untraced (glibc's swapcontext
#           alone), under --backend exact (memscope's wrappers forward
#           without tracking) and under --backend async; then 1,000,000
#           memscope_task_enter + memscope_task_leave pairs in a row, and
#           200,000 in bursts of 1,000 3 ms apart, with memscope absent
#           (the header's cost when it finds nothing), under exact and under
#           async.  Each figure is the median of SWITCH_RUNS runs (default
#           7), the three variants taking turns.  "waits" is how often the
#           async run's thread found its ring full and waited for the writer
#           thread (the capture's TRACKING line).
# scale     bench/tasks_scale.c: TASKS short-lived tasks (SCALE_TASKS,
#           default "10000 100000"), SCALE_LIVE (default 10,000) live at
#           once, each allocating 4 blocks and freeing them all over its
#           two runs; annotated with memscope/task.h, and as ucontext
#           coroutines (each with its own 64 KiB stack, a scheduler in main
#           switching among them).  Each is traced under --backend async,
#           and under --backend exact for reference (the same events, no
#           tasks); the traced run's stdout must equal the untraced run's.
#           Then `memscope report` (text, to /dev/null), `--format json -o
#           /dev/null` and `--format html -o /dev/null` run REPORT_RUNS
#           times each (default 3) under /usr/bin/time -v: the medians of
#           wall time and of maximum resident set size are shown, with the
#           output's size from one more run to a file.  Below the table:
#           what each report gains per task ended, from the smallest to the
#           largest TASKS, async against exact (the same program's events
#           without tasks), in bytes of RSS and microseconds (/usr/bin/time
#           gives wall time to 10 ms: use counts far apart).
#
# Needs cc, hyperfine, /usr/bin/python3 and /usr/bin/time (apt-get install
# gcc hyperfine python3 time), and the build's bench/switch and
# bench/tasks_scale (meson compile -C BUILD).  This machine's timings vary
# by about 10% from run to run.
set -euo pipefail

build=${1:-build}
runs=${RUNS:-10}
pairs=${PAIRS:-20}
switch_runs=${SWITCH_RUNS:-7}
report_runs=${REPORT_RUNS:-3}
scale_tasks=${SCALE_TASKS:-10000 100000}
scale_live=${SCALE_LIVE:-10000}
sections=${SECTIONS:-overhead switch scale}
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$build" 2>/dev/null && pwd) || { echo "async: no build directory $build" >&2; exit 2; }
memscope=$build/cli/memscope
switch_program=$build/bench/switch
scale_program=$build/bench/tasks_scale
python=/usr/bin/python3
[ -x "$python" ] || python=$(command -v python3 || echo python3)
gnu_time=/usr/bin/time

die() {
	echo "async: $*" >&2
	exit 2
}

for tool in cc hyperfine "$python" "$gnu_time"; do
	command -v "$tool" >/dev/null || die "$tool is not installed"
done
for program in "$memscope" "$switch_program" "$scale_program"; do
	[ -x "$program" ] || die "no $program (build with: meson compile -C $build)"
done

work=$(mktemp -d "${TMPDIR:-/tmp}/memscope-async.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
unset LD_PRELOAD MALLOC_CONF PYTHONMALLOC
export LC_ALL=C PYTHONHASHSEED=0

failed=0
notes=()
load_before=$(cut -d" " -f1-3 /proc/loadavg)

# middle: the median of the numbers on standard input, one per line.
middle() {
	sort -g | awk '{ value[NR] = $1 } END { print NR % 2 ? value[(NR + 1) / 2] : (value[NR / 2] + value[NR / 2 + 1]) / 2 }'
}

# waits FILE: how often the capture's threads waited for room in their ring.
waits() {
	"$memscope" report --top 1 "$1" 2>/dev/null | sed -n 's/^TRACKING.*(\([0-9,]*\) waits.*/\1/p' | tr -d ,
}

# ---- overhead ---------------------------------------------------------------

declare -A command

# workload NAME PROGRAM ENVIRONMENT: the commands of one workload.
workload() {
	local name=$1 program=$2 environment=$3
	command[untracked]="env $environment $program"
	command[exact]="env $environment $memscope -q --backend exact -o $work/$name.exact.memscope $program"
	command[async]="env $environment $memscope -q --backend async -o $work/$name.async.memscope $program"
}

# ratio_of ROUNDS FILES VARIANT BASE: the median, over rounds 1 to ROUNDS
# of the CSVs named FILES.ROUND.csv, of VARIANT's wall time divided by
# BASE's in the same round.
ratio_of() {
	local round
	for round in $(seq 1 "$1"); do
		awk -F, -v variant="$3" -v base="$4" '
			$1 == variant { value = $2 }
			$1 == base { reference = $2 }
			END { print value / reference }' "$work/$2.$round.csv"
	done | middle
}

# median_of ROUNDS FILES VARIANT: the median wall time of VARIANT's runs.
median_of() {
	local round
	for round in $(seq 1 "$1"); do
		awk -F, -v variant="$3" '$1 == variant { print $2 }' "$work/$2.$round.csv"
	done | middle
}

overhead_rows=()

measure_overhead() {
	local name=$1 variant status base_status same=yes
	local measured=(untracked exact async)

	echo "async: $name: checking outputs ..." >&2
	for variant in "${measured[@]}"; do
		status=0
		bash -c "${command[$variant]}" </dev/null >"$work/$name.$variant.out" 2>"$work/$name.$variant.err" || status=$?
		if [ "$variant" = untracked ]; then
			base_status=$status
			continue
		fi
		if ! cmp -s "$work/$name.untracked.out" "$work/$name.$variant.out" || [ "$status" != "$base_status" ]; then
			same=NO
			notes+=("$name: stdout or exit status ($status) under $variant differ from the untracked run's ($base_status)")
		fi
		if [ -s "$work/$name.$variant.err" ]; then
			notes+=("$name: stderr under $variant: $(head -c 300 "$work/$name.$variant.err")")
		fi
	done
	[ "$same" = yes ] || failed=1
	local exact_bytes async_bytes tracking
	exact_bytes=$(stat -c %s "$work/$name.exact.memscope")
	async_bytes=$(stat -c %s "$work/$name.async.memscope")
	tracking=$("$memscope" report --top 1 "$work/$name.async.memscope" 2>&1 | sed -n 's/^TRACKING *//p')
	notes+=("$name: async capture: ${tracking:-no TRACKING line in its report}")

	echo "async: $name: timing ($runs rounds) ..." >&2
	local arguments round turn count=${#measured[@]}
	for round in $(seq 0 "$runs"); do
		arguments=()
		for turn in $(seq 0 $((count - 1))); do
			variant=${measured[$(((round + turn) % count))]}
			arguments+=(-n "$variant" "${command[$variant]}")
		done
		hyperfine --style none --runs 1 --prepare sync --export-csv "$work/$name.$round.csv" \
			"${arguments[@]}" >/dev/null
	done

	echo "async: $name: timing the target's pairs ($pairs rounds) ..." >&2
	for round in $(seq 0 "$pairs"); do
		if [ $((round % 2)) = 0 ]; then
			arguments=(-n exact "${command[exact]}" -n async "${command[async]}")
		else
			arguments=(-n async "${command[async]}" -n exact "${command[exact]}")
		fi
		hyperfine --style none --runs 1 --prepare sync --export-csv "$work/$name.pair.$round.csv" \
			"${arguments[@]}" >/dev/null
	done

	local base exact async async_exact_rounds async_exact exact_s async_s
	base=$(median_of "$runs" "$name" untracked)
	exact=$(ratio_of "$runs" "$name" exact untracked)
	async=$(ratio_of "$runs" "$name" async untracked)
	async_exact_rounds=$(ratio_of "$runs" "$name" async exact)
	async_exact=$(ratio_of "$pairs" "$name.pair" async exact)
	exact_s=$(median_of "$pairs" "$name.pair" exact)
	async_s=$(median_of "$pairs" "$name.pair" async)
	overhead_rows+=("$(awk -v name="$name" -v base="$base" -v exact="$exact" -v async="$async" \
		-v rounds="$async_exact_rounds" -v pairs="$async_exact" -v exact_s="$exact_s" \
		-v async_s="$async_s" -v exact_bytes="$exact_bytes" -v async_bytes="$async_bytes" \
		-v same="$same" 'BEGIN {
		printf "%s|%.3f s|%.2fx|%.2fx|%.2fx|%.3f s, %.3f s: %.2fx|<= 1.10x: %s|%.2f MB, %.2f MB|%s\n",
			name, base, exact, async, rounds, exact_s, async_s, pairs,
			(pairs <= 1.10 ? "met" : "MISSED"), exact_bytes / 1e6, async_bytes / 1e6, same
	}')")
}

run_overhead() {
	cc -O2 -g -o "$work/alloc_loop" "$here/alloc_loop.c"
	workload alloc_loop "$work/alloc_loop" ""
	measure_overhead alloc_loop
	workload python3 "$python $here/python_workload.py" "PYTHONMALLOC=malloc"
	measure_overhead python3

	echo
	echo "overhead of tracing, ratio to the untracked run ($runs rounds, the commands taking turns;"
	echo " each ratio the median over the rounds of the two commands' times in one round);"
	echo " async/exact, the target's: $pairs rounds of the two commands alone, back to back, in"
	echo " alternate order (median seconds of each, and the median of the rounds' ratios):"
	{
		echo "workload|untracked|memscope exact|memscope async|async/exact (rounds)|pairs: exact, async: async/exact|target|capture: exact, async|stdout+status same"
		printf '%s\n' "${overhead_rows[@]}"
	} | awk -F'|' -f "$here/columns.awk"
}

# ---- switch -------------------------------------------------------------------

# ns_of FILE: the "NS ns per" figure of a bench/switch output.
ns_of() {
	sed -n 's/.*, \([0-9.]*\) ns per .*/\1/p' "$1"
}

switch_rows=()

# measure_switch LABEL ARGUMENTS...: bench/switch ARGUMENTS untraced, under
# exact and under async, SWITCH_RUNS times in turn.
measure_switch() {
	local label=$1 variant run turn status
	shift
	local variants=(untraced exact async)
	for variant in "${variants[@]}"; do
		: >"$work/switch.$variant.ns"
	done
	: >"$work/switch.waits"
	for run in $(seq 1 "$switch_runs"); do
		for turn in 0 1 2; do
			variant=${variants[$(((run + turn) % 3))]}
			status=0
			case $variant in
			untraced) "$switch_program" "$@" ;;
			exact) "$memscope" -q --backend exact -o "$work/switch.exact.memscope" "$switch_program" "$@" ;;
			async) "$memscope" -q --backend async -o "$work/switch.async.memscope" "$switch_program" "$@" ;;
			esac </dev/null >"$work/switch.out" 2>"$work/switch.err" || status=$?
			if [ "$status" != 0 ] || [ -s "$work/switch.err" ]; then
				notes+=("switch $*, $variant: status $status, $(head -c 300 "$work/switch.err")")
				failed=1
			fi
			ns_of "$work/switch.out" >>"$work/switch.$variant.ns"
			if [ "$variant" = async ]; then
				waits "$work/switch.async.memscope" >>"$work/switch.waits"
			fi
		done
	done
	local untraced exact async wait
	untraced=$(middle <"$work/switch.untraced.ns")
	exact=$(middle <"$work/switch.exact.ns")
	async=$(middle <"$work/switch.async.ns")
	wait=$(middle <"$work/switch.waits")
	switch_rows+=("$(awk -v label="$label" -v untraced="$untraced" -v exact="$exact" \
		-v async="$async" -v wait="$wait" 'BEGIN {
		printf "%s|%.1f ns|%.1f ns|%+.1f ns|%.1f ns|%+.1f ns|%d\n",
			label, untraced, exact, exact - untraced, async, async - untraced, wait
	}')")
}

run_switch() {
	echo "async: switch: $switch_runs runs of each ..." >&2
	measure_switch "swapcontext, 1,000,000 switches" switch 1000000
	measure_switch "enter+leave pair, 1,000,000 in a row" annotate 1000000
	measure_switch "enter+leave pair, 200,000 in bursts of 1,000" annotate 200000 1000

	echo
	echo "per switch (one swapcontext call) and per memscope_task_enter + memscope_task_leave pair"
	echo "(bench/switch.c times its loop itself; median of $switch_runs runs; untraced: glibc's"
	echo " swapcontext alone, and for the annotations memscope absent, the header's cost when it"
	echo " finds nothing; adds: the difference; waits: median times the async run's thread found"
	echo " its ring full and waited for memscope's writer thread):"
	{
		echo "what|untraced|memscope exact|exact adds|memscope async|async adds|async waits"
		printf '%s\n' "${switch_rows[@]}"
	} | awk -F'|' -f "$here/columns.awk"
}

# ---- scale -------------------------------------------------------------------

scale_rows=()
declare -A rss seconds

# timed KEY COMMAND...: runs COMMAND REPORT_RUNS times under /usr/bin/time
# -v; sets seconds[KEY] and rss[KEY] (KiB) to the medians.
timed() {
	local key=$1 run
	shift
	: >"$work/timed.seconds"
	: >"$work/timed.rss"
	for run in $(seq 1 "$report_runs"); do
		if ! "$gnu_time" -v -o "$work/timed.txt" "$@" >/dev/null 2>"$work/timed.err"; then
			notes+=("$key: $* failed: $(head -c 300 "$work/timed.err")")
			failed=1
		fi
		# "Elapsed (wall clock) time (h:mm:ss or m:ss): 0:01.23"
		sed -n 's/.*Elapsed (wall clock).*: //p' "$work/timed.txt" |
			awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s }' >>"$work/timed.seconds"
		sed -n 's/.*Maximum resident set size (kbytes): //p' "$work/timed.txt" >>"$work/timed.rss"
	done
	seconds[$key]=$(middle <"$work/timed.seconds")
	rss[$key]=$(middle <"$work/timed.rss")
}

# output_size ARGUMENTS...: bytes memscope report ARGUMENTS writes to -o.
output_size() {
	"$memscope" report "$@" -o "$work/output" >/dev/null 2>&1 || true
	stat -c %s "$work/output" 2>/dev/null || echo 0
	rm -f "$work/output"
}

# cell KEY: "SECONDS s, MB MB" of a timed report.
cell() {
	awk -v s="${seconds[$1]}" -v kb="${rss[$1]}" 'BEGIN { printf "%.2f s, %.1f MB", s, kb * 1024 / 1e6 }'
}

measure_scale() {
	local mode=$1 tasks=$2 backend status expected
	expected=$("$scale_program" "$mode" "$tasks" "$scale_live")
	for backend in exact async; do
		local capture=$work/scale.$mode.$tasks.$backend.memscope
		echo "async: scale: $mode, $tasks tasks, $backend ..." >&2
		timed "trace.$mode.$tasks.$backend" "$memscope" -q --backend "$backend" -o "$capture" \
			"$scale_program" "$mode" "$tasks" "$scale_live"
		status=0
		"$memscope" -q --backend "$backend" -o "$capture" "$scale_program" "$mode" "$tasks" \
			"$scale_live" >"$work/scale.out" 2>"$work/scale.err" </dev/null || status=$?
		if [ "$status" != 0 ] || [ "$(cat "$work/scale.out")" != "$expected" ] || [ -s "$work/scale.err" ]; then
			notes+=("scale $mode $tasks $backend: status $status, stdout $(cat "$work/scale.out"), stderr $(head -c 300 "$work/scale.err")")
			failed=1
		fi
		local key=$mode.$tasks.$backend
		timed "text.$key" "$memscope" report -o /dev/null "$capture"
		timed "json.$key" "$memscope" report --format json -o /dev/null "$capture"
		timed "html.$key" "$memscope" report --format html -o /dev/null "$capture"
		local size json_size html_size
		size=$(stat -c %s "$capture")
		json_size=$(output_size --format json "$capture")
		html_size=$(output_size --format html "$capture")
		if [ "$backend" = async ]; then
			notes+=("scale $mode $tasks: $("$memscope" report --top 1 "$capture" 2>&1 |
				sed -n 's/^TASKS *\([0-9,]* tasks\).*/\1 in the async report/p; s/^TRACKING.*(\(.*\))$/\1/p' |
				awk '{ printf "%s%s", (NR > 1 ? "; " : ""), $0 }')")
		fi
		scale_rows+=("$(awk -v mode="$mode" -v tasks="$tasks" -v backend="$backend" \
			-v size="$size" -v trace_s="${seconds[trace.$key]}" -v trace_kb="${rss[trace.$key]}" \
			-v text="$(cell "text.$key")" -v json="$(cell "json.$key")" -v html="$(cell "html.$key")" \
			-v json_size="$json_size" -v html_size="$html_size" 'BEGIN {
			printf "%s|%d|%s|%.2f s, %.1f MB|%.2f MB (%.0f B/task)|%s|%s (%.1f MB out)|%s (%.1f MB out)\n",
				mode, tasks, backend, trace_s, trace_kb * 1024 / 1e6, size / 1e6, size / tasks,
				text, json, json_size / 1e6, html, html_size / 1e6
		}')")
	done
}

# growth MODE FORMAT FIRST LAST: per task ended from FIRST to LAST, async's
# RSS and time growth, exact's, and the difference.
growth() {
	local mode=$1 format=$2 first=$3 last=$4
	awk -v mode="$mode" -v format="$format" -v n="$((last - first))" \
		-v a1="${rss[$format.$mode.$first.async]}" -v a2="${rss[$format.$mode.$last.async]}" \
		-v e1="${rss[$format.$mode.$first.exact]}" -v e2="${rss[$format.$mode.$last.exact]}" \
		-v as1="${seconds[$format.$mode.$first.async]}" -v as2="${seconds[$format.$mode.$last.async]}" \
		-v es1="${seconds[$format.$mode.$first.exact]}" -v es2="${seconds[$format.$mode.$last.exact]}" '
		# whole numbers, without the "-0" printf gives a small negative one
		function whole(x) { x = sprintf("%.0f", x); return x == "-0" ? "0" : x }
		function hundredths(x) { x = sprintf("%.2f", x); return x == "-0.00" ? "0.00" : x }
		BEGIN {
		async_b = (a2 - a1) * 1024 / n; exact_b = (e2 - e1) * 1024 / n
		async_us = (as2 - as1) * 1e6 / n; exact_us = (es2 - es1) * 1e6 / n
		printf "%s|%s|%s B|%s B|%s B|%s us|%s us|%s us\n", mode, format,
			whole(async_b), whole(exact_b), whole(async_b - exact_b),
			hundredths(async_us), hundredths(exact_us), hundredths(async_us - exact_us)
	}'
}

run_scale() {
	local mode tasks first last format
	read -r -a counts <<<"$scale_tasks"
	first=${counts[0]}
	last=${counts[${#counts[@]} - 1]}
	for mode in annotate ucontext; do
		for tasks in "${counts[@]}"; do
			measure_scale "$mode" "$tasks"
		done
	done

	echo
	echo "many short tasks ($scale_live live at once; 4 allocations each, all freed): the trace, its"
	echo "capture, and each report (median of $report_runs runs: wall time, maximum RSS; /usr/bin/time -v)"
	echo "(exact: the same program traced by the exact backend, which records no tasks):"
	{
		echo "tasks|made|backend|trace|capture|report (text)|report --format json|report --format html"
		printf '%s\n' "${scale_rows[@]}"
	} | awk -F'|' -f "$here/columns.awk"
	if [ "$first" != "$last" ]; then
		echo
		echo "what a report gains per task ended, from $first to $last tasks ($scale_live live at once in both):"
		{
			echo "tasks|report|async RSS|exact RSS|async - exact|async time|exact time|async - exact"
			for mode in annotate ucontext; do
				for format in text json html; do
					growth "$mode" "$format" "$first" "$last"
				done
			done
		} | awk -F'|' -f "$here/columns.awk"
	fi
}

for section in $sections; do
	case $section in
	overhead) run_overhead ;;
	switch) run_switch ;;
	scale) run_scale ;;
	*) die "unknown section $section (overhead, switch, scale)" ;;
	esac
done

echo
echo "($(nproc) cores; load average before: $load_before, after: $(cut -d" " -f1-3 /proc/loadavg);"
echo " other work on the machine skews the timings)"
for note in "${notes[@]+"${notes[@]}"}"; do
	echo "note: $note"
done
exit "$failed"
