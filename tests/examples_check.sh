#!/bin/sh
# examples_check.sh - the examples under the async backend: each exits and
# prints as it does without memscope, and its tasks have exactly the
# figures examples/README.md states (examples/scheduler.c, ucontext
# coroutines found unannotated; examples/echo_server.c, libuv connections
# named with memscope/task.h, when libuv was found at configure time).
#
# usage: tests/examples_check.sh BUILD_DIR
# Exit 0 when every figure matches, 1 otherwise, 77 when /usr/bin/python3
# is missing.
set -eu
build=${1:-build}
python=/usr/bin/python3
[ -x "$python" ] || { echo "examples_check: no $python" >&2; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# trace NAME: runs build/examples/NAME alone and under memscope, checks
# that both exit 0 with the same output, and leaves the capture's json
# report in $work/NAME.json.
trace() {
	program=$build/examples/$1
	status=0
	"$program" </dev/null >"$work/$1.alone" || status=$?
	[ "$status" -eq 0 ] || { echo "examples_check: $program exits $status" >&2; exit 1; }
	"$build/cli/memscope" --backend async -q -o "$work/$1.memscope" "$program" \
		</dev/null >"$work/$1.traced" || status=$?
	[ "$status" -eq 0 ] || { echo "examples_check: $program exits $status under memscope" >&2; exit 1; }
	cmp -s "$work/$1.alone" "$work/$1.traced" || {
		echo "examples_check: $program prints otherwise under memscope:" >&2
		diff "$work/$1.alone" "$work/$1.traced" >&2 || true
		exit 1
	}
	"$build/cli/memscope" report "$work/$1.memscope" --format json -o "$work/$1.json" >/dev/null
}

# The figures each task must have, as examples/README.md's tables give them.
cat >"$work/check.py" <<'PY'
import json, sys

KEYS = ("allocations", "allocated_bytes", "frees", "freed_bytes", "peak_bytes",
        "live_at_end_blocks", "live_at_end_bytes", "leaked_blocks", "leaked_bytes",
        "freed_by_others", "freed_by_others_bytes", "freed_of_others", "freed_of_others_bytes")

def check(task, origin, parent, expected):
    """expected: KEYS' values in order; leaks as [(blocks, bytes)] per stack."""
    label = "%s %d" % (task["name"], task["id"])
    assert task["origin"] == origin, (label, task["origin"], origin)
    assert task["parent"] == parent, (label, "parent", task["parent"], parent)
    for key, value in zip(KEYS, expected[:len(KEYS)]):
        assert task[key] == value, (label, key, task[key], value)
    leaks = sorted((leak["blocks"], leak["bytes"]) for leak in task["leaks"])
    assert leaks == sorted(expected[len(KEYS)]), (label, "leaks", leaks)

example = sys.argv[1]
tasks = sorted(json.load(open(sys.argv[2]))["tasks"], key=lambda task: task["id"])
root = tasks[0]
assert (root["name"], root["origin"]) == (example, "thread"), (root["name"], root["origin"])

if example == "scheduler":
    # 4 coroutines of 992 bytes (x86-64 glibc) with their 65,536-byte
    # stacks, and the channel's 96 bytes: all freed.
    check(root, "thread", 0, (9, 266208, 9, 266208, 266208, 0, 0, 0, 0, 0, 0, 0, 0, []))
    by_name = {task["name"]: task for task in tasks[1:]}
    assert sorted(by_name) == ["big_buffer", "cache", "consumer", "producer"], sorted(by_name)
    check(by_name["producer"], "ucontext", root["id"],
          (32, 2048, 32, 2048, 576, 8, 512, 0, 0, 32, 2048, 0, 0, []))
    check(by_name["consumer"], "ucontext", root["id"],
          (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 2048, []))
    check(by_name["cache"], "ucontext", root["id"],
          (10, 1280, 6, 768, 640, 4, 512, 4, 512, 0, 0, 0, 0, [(4, 512)]))
    check(by_name["big_buffer"], "ucontext", root["id"],
          (1, 1048576, 1, 1048576, 1048576, 0, 0, 0, 0, 0, 0, 0, 0, []))
    assert root["children"] == 4, root["children"]
else:
    # Per connection of R messages: its record (264 bytes), its session
    # (16), R + 1 read buffers of 4,096 and R write requests of 192.
    # The main thread's own figures are libuv's and the C library's, and
    # depend on how many descriptors the program inherits: not checked.
    connections = [task for task in tasks[1:] if task["name"] == "conn"]
    assert len(connections) == len(tasks) - 1 == 3, [task["name"] for task in tasks]
    expected = [
        (9, 17240, 9, 17240, 4568, 0, 0, 0, 0, 0, 0, 0, 0, []),
        (13, 25816, 13, 25816, 4568, 0, 0, 0, 0, 0, 0, 0, 0, []),
        (15, 30104, 14, 30088, 4568, 1, 16, 1, 16, 0, 0, 0, 0, [(1, 16)]),
    ]
    for task, figures in zip(connections, expected):
        check(task, "annotation", root["id"], figures)
        assert task["ended"], (task["id"], "not ended")
    assert root["children"] == 3, root["children"]
print("examples_check: %s: %d tasks as examples/README.md states" % (example, len(tasks)))
PY

trace scheduler
"$python" -I "$work/check.py" scheduler "$work/scheduler.json"

if [ -x "$build/examples/echo_server" ]; then
	trace echo_server
	"$python" -I "$work/check.py" echo_server "$work/echo_server.json"
else
	echo "examples_check: no $build/examples/echo_server (libuv was not found): echo server skipped"
fi
