#!/usr/bin/env bash
# compare_heaptrack.sh - runs real programs plainly, under `memscope --backend
# exact` and under heaptrack, and compares what the two profilers saw.
#
#   bash bench/compare_heaptrack.sh [WORKLOAD...]     (default: all of them)
#
# Workloads: sqlite3 (a generated SQL script: a table, 50,000 INSERTs in one
# transaction, two indexes, queries, an update and a delete), python3
# (bench/python_workload.py with PYTHONMALLOC=malloc), git (`git log --stat -p`
# on a repository built here with fixed dates, so it is the same every time)
# and jq (group_by/map over 20,000 generated objects).
#
# For each it prints: allocation calls and peak (requested bytes live at
# once) as memscope and heaptrack saw them, the difference of each, and
# whether stdout and the exit status are the same in all three runs.  Then
# it checks that memscope passes on a program's failing exit status (and a
# death by signal).  It exits 1 if any output or status differs, 2 if it
# cannot run at all.  Thresholds are reported, not enforced: calls within
# 1%, peak within 5%.
#
# What is compared.  heaptrack's "calls to allocation functions" counts every
# successful malloc, calloc, realloc, posix_memalign, aligned_alloc and valloc
# call (operator new and reallocarray reach it through malloc and realloc; it
# does not intercept memalign or pvalloc): a realloc counts whether or not it
# moved, and realloc(p, 0) is neither a call nor a free to it.
# memscope's report prints the same quantity as CALLS: blocks handed out (a
# moving realloc included) plus blocks resized in place.  Under heaptrack the program runs on glibc's
# malloc, under memscope on jemalloc, so which reallocs move differs: only the
# sum is comparable.  Peaks are requested bytes for both.
#
# heaptrack is run the way its wrapper script runs it (its preload library
# writing into a FIFO, heaptrack_interpret compressing the data), but without
# the wrapper, whose banner lines would be mixed into the program's stdout.
# Its numbers are read from the interpreted file exactly (heaptrack_print
# rounds the peak) and cross-checked against heaptrack_print's own count.
#
# Environment: MEMSCOPE (the memscope binary, default build/cli/memscope),
# KEEP=1 keeps the work directory (captures, heaptrack files, outputs).

set -u

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
memscope=${MEMSCOPE:-$root/build/cli/memscope}
python=/usr/bin/python3
heaptrack_lib=/usr/lib/heaptrack/libheaptrack_preload.so
heaptrack_interpret=/usr/lib/heaptrack/libexec/heaptrack_interpret

die() {
	echo "compare_heaptrack: $*" >&2
	exit 2
}

[ -x "$memscope" ] || die "no memscope at $memscope (build with: ninja -C build)"
[ -f "$heaptrack_lib" ] && [ -x "$heaptrack_interpret" ] || die "heaptrack is not installed (apt-get install heaptrack)"
for tool in sqlite3 jq git zstd heaptrack_print "$python"; do
	command -v "$tool" >/dev/null || die "$tool is not installed"
done

work=$(mktemp -d "${TMPDIR:-/tmp}/memscope-compare.XXXXXX") || die "cannot make a work directory"
if [ "${KEEP:-0}" = 1 ]; then
	echo "compare_heaptrack: keeping $work" >&2
else
	trap 'rm -rf "$work"' EXIT
fi

# The same environment for every run, none of it from the caller's settings.
mkdir -p "$work/home"
export HOME=$work/home LC_ALL=C TZ=UTC PYTHONHASHSEED=0 GIT_CONFIG_NOSYSTEM=1
unset LD_PRELOAD PYTHONMALLOC

# ---- inputs ----------------------------------------------------------------

make_sql() {
	awk 'BEGIN {
		print "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT, category INTEGER, value REAL, note TEXT);"
		print "BEGIN;"
		for (i = 1; i <= 50000; i++)
			printf "INSERT INTO items VALUES(%d, %citem-%d%c, %d, %d.%02d, %cnote %d of category %d%c);\n", \
			       i, 39, i, 39, i % 97, (i * 7919) % 10007, i % 100, 39, (i * 31) % 100003, i % 97, 39
		print "COMMIT;"
		print "CREATE INDEX items_category ON items(category, value);"
		print "CREATE INDEX items_name ON items(name);"
		print "SELECT category, count(*), round(sum(value), 2), min(name), max(name) FROM items GROUP BY category ORDER BY category LIMIT 12;"
		print "SELECT count(*) FROM items WHERE category = 42 AND value > 5000;"
		print "SELECT name, value FROM items WHERE name LIKE '\''item-4999%'\'' ORDER BY name;"
		print "SELECT a.category, count(*) FROM items a JOIN items b ON a.id = b.id + 1 WHERE a.category = b.category + 1 GROUP BY a.category ORDER BY 2 DESC, 1 LIMIT 5;"
		print "SELECT group_concat(name, '\'','\'') FROM (SELECT name FROM items ORDER BY value DESC, id LIMIT 20);"
		print "UPDATE items SET note = upper(note) WHERE category < 10;"
		print "DELETE FROM items WHERE id % 3 = 0;"
		print "SELECT count(*), sum(length(note)), total(value) FROM items;"
		print "SELECT category, group_concat(id) FROM (SELECT category, id FROM items WHERE id < 300 ORDER BY id) GROUP BY category ORDER BY category LIMIT 3;"
	}' >"$work/workload.sql"
}

make_json() {
	awk 'BEGIN {
		printf "["
		for (i = 0; i < 20000; i++)
			printf "%s{\"id\":%d,\"name\":\"item-%d\",\"category\":\"cat-%d\",\"value\":%d,\"tags\":[\"t%d\",\"u%d\"],\"nested\":{\"a\":%d,\"b\":\"%x\"}}\n", \
			       (i ? "," : ""), i, i, i % 17, (i * 7919) % 1000, i % 5, i % 3, i % 11, i * 2654435761 % 4294967296
		print "]"
	}' >"$work/data.json"
}

# A repository whose commits are the same on every run: fixed names and dates.
make_repo() {
	local repo=$work/repo
	export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.com
	export GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.com
	git init -q -b main "$repo" || return 1
	git -C "$repo" config gc.auto 0
	mkdir -p "$repo/src"
	local commit
	for commit in $(seq 1 40); do
		awk -v commit="$commit" -v dir="$repo" 'BEGIN {
			for (f = 0; f < 60; f++) {
				if ((f + commit) % 4 != 0 && commit > 1)
					continue
				path = sprintf("%s/src/file%02d.c", dir, f)
				for (line = 0; line < 150; line++)
					printf "int f%d_%d(void) { return %d; } /* revision %d */\n", \
					       f, line, (f * line + commit * (line % 7 == 0)) % 1000, \
					       (line % 10 == 0) ? commit : 0 > path
				close(path)
			}
		}' || return 1
		git -C "$repo" add -A &&
			GIT_AUTHOR_DATE="$((1700000000 + commit * 3600)) +0000" \
			GIT_COMMITTER_DATE="$((1700000000 + commit * 3600)) +0000" \
			git -C "$repo" commit -q -m "commit $commit: update a quarter of the files" || return 1
	done
}

# ---- workloads: each runs its program through the runner given as "$@" -----

workload_sqlite3() {
	rm -f "$work/sqlite.db" "$work/sqlite.db-journal"
	"$@" sqlite3 "$work/sqlite.db" ".read $work/workload.sql"
}

workload_python3() {
	PYTHONMALLOC=malloc "$@" "$python" "$root/bench/python_workload.py"
}

workload_git() {
	"$@" git -C "$work/repo" --no-pager log --stat -p
}

workload_jq() {
	"$@" jq -c 'group_by(.category) | map({category: .[0].category, count: length,
	            total: (map(.value) | add), tags: (map(.tags[]) | unique),
	            top: (sort_by(-.value, .id) | .[0:3] | map(.name))})' "$work/data.json"
}

# ---- runners -----------------------------------------------------------------

# The capture file of the next memscope run, the data file of the next heaptrack run.
capture=
heaptrack_file=

run_memscope() {
	"$memscope" -q --backend exact -o "$capture" -- "$@"
}

run_heaptrack() {
	local fifo=$work/heaptrack.fifo status
	rm -f "$fifo"
	mkfifo "$fifo" || return 125
	"$heaptrack_interpret" <"$fifo" | zstd -q -c >"$heaptrack_file" &
	local interpreter=$!
	LD_PRELOAD=$heaptrack_lib DUMP_HEAPTRACK_OUTPUT=$fifo "$@"
	status=$?
	wait "$interpreter"
	rm -f "$fifo"
	return "$status"
}

# ---- reading the numbers ------------------------------------------------------

# "calls peak" from memscope's report: its CALLS line (new blocks + blocks
# resized in place) and the peak's exact bytes.
memscope_numbers() {
	"$memscope" report --top 1 "$1" | awk '
		/^CALLS / { gsub(/,/, "", $2); calls = $2 }
		/^PEAK +[0-9,]+ bytes? / { gsub(/,/, "", $2); peak = $2 }
		/^PEAK +none/ { peak = 0 }
		END {
			if (calls == "" || peak == "") { print "? ?"; exit 1 }
			print calls, peak
		}'
}

# "calls peak" from heaptrack's interpreted file: "a SIZE TRACE" defines
# allocation info number n (hex, in order), "+ n" allocates, "- n" frees;
# the peak is the highest running sum, as heaptrack_print computes it.
heaptrack_numbers() {
	zstd -dcq "$1" | "$python" -c '
import sys
sizes, calls, live, peak = [], 0, 0, 0
for line in sys.stdin.buffer:
    kind = line[:1]
    if kind == b"+":
        live += sizes[int(line[2:], 16)]
        calls += 1
        if live > peak:
            peak = live
    elif kind == b"-":
        live -= sizes[int(line[2:], 16)]
    elif kind == b"a":
        sizes.append(int(line.split()[1], 16))
print(calls, peak)'
}

# heaptrack_print's own count of calls, to check the reading above.
heaptrack_print_calls() {
	heaptrack_print -p 0 -a 0 -T 0 -f "$1" 2>/dev/null |
		awk -F'[: (]+' '/^calls to allocation functions/ { print $5 }'
}

# "DIFFERENCE PERCENT": a - b, and that relative to b.
difference() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		printf "%+.0f ", a - b
		if (b == 0)
			print (a == 0 ? "+0.00" : "inf")
		else
			printf "%+.2f\n", (a - b) * 100.0 / b
	}'
}

over() { # percent threshold -> true if |percent| > threshold
	awk -v v="$1" -v t="$2" 'BEGIN { if (v == "inf") exit 0; v = v < 0 ? -v : v; exit !(v > t) }'
}

# ---- the comparison -------------------------------------------------------------

if [ $# -gt 0 ]; then
	workloads=("$@")
else
	workloads=(sqlite3 python3 git jq)
fi
for name in "${workloads[@]}"; do
	declare -F "workload_$name" >/dev/null || die "unknown workload '$name' (sqlite3 python3 git jq)"
done

make_sql && make_json && make_repo >/dev/null || die "cannot prepare the inputs"

failed=0
notes=()
rows=()
for name in "${workloads[@]}"; do
	echo "compare_heaptrack: $name ..." >&2
	"workload_$name" </dev/null >"$work/$name.plain.out" 2>"$work/$name.plain.err"
	plain_status=$?
	capture=$work/$name.memscope
	"workload_$name" run_memscope </dev/null >"$work/$name.memscope.out" 2>"$work/$name.memscope.err"
	memscope_status=$?
	heaptrack_file=$work/$name.heaptrack.zst
	"workload_$name" run_heaptrack </dev/null >"$work/$name.heaptrack.out" 2>"$work/$name.heaptrack.err"
	heaptrack_status=$?

	read -r ms_calls ms_peak < <(memscope_numbers "$capture")
	read -r ht_calls ht_peak < <(heaptrack_numbers "$heaptrack_file")
	print_calls=$(heaptrack_print_calls "$heaptrack_file")
	case "$ms_calls$ms_peak$ht_calls$ht_peak" in
	*[!0-9]* | "")
		notes+=("$name: could not read the numbers (memscope: '$ms_calls $ms_peak', heaptrack: '$ht_calls $ht_peak')")
		failed=1 ;;
	esac
	if [ "$print_calls" != "$ht_calls" ]; then
		notes+=("$name: heaptrack_print counts $print_calls calls, this script read $ht_calls")
	fi

	if cmp -s "$work/$name.plain.out" "$work/$name.memscope.out" &&
		cmp -s "$work/$name.plain.out" "$work/$name.heaptrack.out"; then
		same=yes
	else
		same=NO
		failed=1
	fi
	if [ "$plain_status" = "$memscope_status" ] && [ "$plain_status" = "$heaptrack_status" ]; then
		status="$plain_status"
	else
		status="NO:$plain_status/$memscope_status/$heaptrack_status"
		failed=1
	fi
	if [ -s "$work/$name.memscope.err" ] && ! cmp -s "$work/$name.plain.err" "$work/$name.memscope.err"; then
		notes+=("$name: stderr under memscope differs from the plain run's: $(head -c 300 "$work/$name.memscope.err")")
	fi

	read -r calls_delta calls_percent < <(difference "$ms_calls" "$ht_calls")
	read -r peak_delta peak_percent < <(difference "$ms_peak" "$ht_peak")
	flag_calls="" flag_peak=""
	over "$calls_percent" 1 && flag_calls=" !"
	over "$peak_percent" 5 && flag_peak=" !"
	rows+=("$name|$ms_calls|$ht_calls|$calls_delta ($calls_percent%)$flag_calls|$ms_peak|$ht_peak|$peak_delta ($peak_percent%)$flag_peak|$same|$status")
done

echo
{
	echo "program|memscope calls|heaptrack calls|calls diff|memscope peak B|heaptrack peak B|peak diff|stdout same|exit status"
	printf '%s\n' "${rows[@]}"
} | awk -F'|' -f "$root/bench/columns.awk"
echo "(diff = memscope - heaptrack (relative to heaptrack); ! = over the threshold: calls 1%, peak 5%)"
for note in "${notes[@]+"${notes[@]}"}"; do
	echo "note: $note"
done

# ---- exit statuses ----------------------------------------------------------------

# Each check: a command that fails (or dies of a signal); memscope and heaptrack
# must end the same way as the plain run.
status_jq() { "$@" jq -n '"x" | error'; }
status_jq_e() { "$@" jq -e '.[0].missing' "$work/data.json"; }
status_sqlite3() { "$@" sqlite3 :memory: "SELECT * FROM no_such_table;"; }
status_git() { "$@" git -C "$work/repo" rev-parse --verify no-such-ref; }
status_python3() { PYTHONMALLOC=malloc "$@" "$python" -c 'import sys; print("bye"); sys.exit(7)'; }
status_python3_kill() { "$@" "$python" -c 'import os, signal; os.kill(os.getpid(), signal.SIGTERM)'; }

echo
echo "exit status: plain / memscope / heaptrack"
for check in jq jq_e sqlite3 git python3 python3_kill; do
	"status_$check" </dev/null >"$work/status.plain.out" 2>/dev/null
	plain_status=$?
	capture=$work/status.$check.memscope
	"status_$check" run_memscope </dev/null >"$work/status.memscope.out" 2>/dev/null
	memscope_status=$?
	heaptrack_file=$work/status.$check.heaptrack.zst
	"status_$check" run_heaptrack </dev/null >"$work/status.heaptrack.out" 2>/dev/null
	heaptrack_status=$?
	verdict=same
	if [ "$plain_status" != "$memscope_status" ] || [ "$plain_status" != "$heaptrack_status" ] ||
		! cmp -s "$work/status.plain.out" "$work/status.memscope.out"; then
		verdict=DIFFERENT
		failed=1
	fi
	printf '  %-13s %3d / %3d / %3d  %s\n' "$check" "$plain_status" "$memscope_status" \
		"$heaptrack_status" "$verdict"
done

exit "$failed"
