#!/bin/sh
# tasks_check.sh - the per-task figures of one async capture agree in the
# text report, the json report and the html page, and are the ones the
# traced program's allocations make (tests/programs/coroutines.c: three
# ucontext coroutines under a scheduler, unannotated).
#
# The page then passes its own self-test in chromium (if installed), which
# clicks a task and checks its leaks and chart.
#
# usage: tests/tasks_check.sh BUILD_DIR [CHROMIUM]
# Exit 0 when all agree, 1 otherwise, 77 when /usr/bin/python3 is missing.
set -eu
build=${1:-build}
chromium=${2:-/usr/bin/chromium}
python=/usr/bin/python3
[ -x "$python" ] || { echo "tasks_check: no $python" >&2; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$build/cli/memscope" --backend async -q -o "$work/co.memscope" \
	"$build/tests/programs/coroutines" >"$work/stdout"
test "$(cat "$work/stdout")" = "coroutines: done"
"$build/cli/memscope" report --top 0 "$work/co.memscope" >"$work/co.txt"
"$build/cli/memscope" report "$work/co.memscope" --format json -o "$work/co.json"
"$build/cli/memscope" report "$work/co.memscope" --format html -o "$work/co.html"

"$python" -I - "$work/co.txt" "$work/co.json" "$work/co.html" <<'PY'
import json, re, sys

# The text table: id, name (origin), then nine grouped numbers.
row = re.compile(r"^\s+(\d+)\s+(.+?) \((thread|annotation|ucontext)\)" + r"\s+([\d,]+)" * 9)
text = {}
in_table = False
for line in open(sys.argv[1]):
    if line.startswith("TASKS "):
        in_table = True
        continue
    if in_table and not line.startswith(" "):
        break
    match = row.match(line) if in_table else None
    if match:
        numbers = [int(field.replace(",", "")) for field in match.groups()[3:]]
        text[int(match.group(1))] = dict(
            name=match.group(2), origin=match.group(3),
            allocations=numbers[0], allocated_bytes=numbers[1], frees=numbers[2],
            freed_bytes=numbers[3], peak_bytes=numbers[4], leaked_blocks=numbers[5],
            leaked_bytes=numbers[6], freed_by_others_bytes=numbers[7],
            freed_of_others_bytes=numbers[8])

tasks = {task["id"]: task for task in json.load(open(sys.argv[2]))["tasks"]}
assert sorted(text) == sorted(tasks), (sorted(text), sorted(tasks))
for id, shown in text.items():
    for key, value in shown.items():
        assert tasks[id][key] == value, (id, key, tasks[id][key], value)

# What the program is known to allocate, task by task.
expected = {
    "coroutines": ("thread", 4, 3 * 65536 + 128, 4, 3 * 65536 + 128, 0, 0),
    "worker_frees_all": ("ucontext", 40, 4000, 40, 4000, 0, 0),
    "worker_leaks": ("ucontext", 20, 4000, 12, 2400, 8, 1600),
    "worker_large": ("ucontext", 1, 1048576, 1, 1048576, 0, 0),
}
by_name = {task["name"]: task for task in tasks.values()}
assert sorted(by_name) == sorted(expected), sorted(by_name)
keys = ("origin", "allocations", "allocated_bytes", "frees", "freed_bytes", "leaked_blocks",
        "leaked_bytes")
for name, values in expected.items():
    got = tuple(by_name[name][key] for key in keys)
    assert got == values, (name, got, values)
leaks = by_name["worker_leaks"]["leaks"]
assert len(leaks) == 1 and leaks[0]["blocks"] == 8 and leaks[0]["bytes"] == 1600, leaks

# The page's data island holds the same tasks.
page = open(sys.argv[3], encoding="utf-8").read()
island = re.search(r'<script type="application/json" id="memscope-data">(.*?)</script>', page, re.S)
data = json.loads(island.group(1))
assert "tasks" in data, "the html page has no tasks"
columns = data["tasks"]["columns"]
for values in data["tasks"]["rows"]:
    task = dict(zip(columns, values))
    reference = tasks[task["id"]]
    for key, value in task.items():
        if key in reference and not isinstance(reference[key], (list, dict)):
            assert reference[key] == value, (task["id"], key, reference[key], value)
assert len(data["tasks"]["rows"]) == len(tasks)
print("tasks_check: %d tasks agree in the text report, the json report and the html page"
      % len(tasks))
PY

if [ -x "$chromium" ]; then
	sh "$(dirname "$0")/page_selftest.sh" "$chromium" "$work/co.html" "$work" tasks_check
	echo "tasks_check: the page with its task panel passes its self-test in chromium"
else
	echo "tasks_check: $chromium not found, browser check skipped"
fi
