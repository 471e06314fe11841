#!/bin/sh
# peak_check.sh - one peak, one figure: tests/programs/peak_in_a_tick
# makes a peak of 2,080,000 bytes in 64 blocks that comes and goes inside
# one tick of the clock and between two timeline samples.  Every output
# of `memscope report` must give that figure to the byte: the text
# report's PEAK line and its stacks, the JSON's summary, its hotspots'
# "live at the peak" summed over the sites and its timeline's point at the
# peak, each split file, and the HTML page's summary, flame graph, thread
# table and chart data (which then passes its self-test in chromium), and
# the SVG chart's line; and on a program of 8 threads, their shares of the
# peak add up to it.
# Under the exact backend, and under hybrid with every block exact.
#
# usage: tests/peak_check.sh BUILD_DIR [CHROMIUM]
# Exit 0 when all agree, 1 otherwise, 77 when /usr/bin/python3 is missing.
set -eu
build=${1:-build}
chromium=${2:-/usr/bin/chromium}
python=/usr/bin/python3
[ -x "$python" ] || { echo "peak_check: no $python" >&2; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
memscope="$build/cli/memscope"
program="$build/tests/programs/peak_in_a_tick"

check() {
	name=$1
	shift
	"$memscope" "$@" -o "$work/$name.memscope" "$program" >/dev/null 2>"$work/$name.run"
	"$memscope" report "$work/$name.memscope" >"$work/$name.txt"
	"$memscope" report "$work/$name.memscope" --format json -o "$work/$name.json" 2>/dev/null
	"$memscope" report "$work/$name.memscope" --format json --split "$work/$name-split" 2>/dev/null
	"$memscope" report "$work/$name.memscope" --format html -o "$work/$name.html" 2>/dev/null
	"$memscope" report "$work/$name.memscope" --format svg -o "$work/$name.svg" 2>/dev/null
	"$python" -I - "$name" "$work" <<'PY'
import glob, json, re, sys
name, work = sys.argv[1], sys.argv[2]
PEAK, BLOCKS = 2080000, 64

text = open("%s/%s.txt" % (work, name)).read()
line = re.search(r"^PEAK +([0-9,]+) bytes .* live in ([0-9,]+) blocks", text, re.M)
assert line, "no PEAK line in the text report"
assert int(line.group(1).replace(",", "")) == PEAK, line.group(0)
assert int(line.group(2).replace(",", "")) == BLOCKS, line.group(0)
# The stacks under PEAK, up to the next heading.
stacks = text[line.end():].split("\nLEAKS", 1)[0]
held = [int(m.replace(",", "")) for m in re.findall(r"^ +([0-9,]+) bytes .* blocks +from ", stacks, re.M)]
assert sum(held) == PEAK, ("text: the peak's stacks", held)

def site_sum(document):
    total = 0
    for result in document["results"]:
        for table in result["tables"]:
            columns = [c["name"] for c in table["columns"]]
            if result["analyzer"] == "hotspots" and table["name"] == "sites":
                total += sum(row[columns.index("peak_bytes")] for row in table["rows"])
    return total

def timeline_peak(timeline):
    at = [p for p in timeline if p.get("at_peak")]
    assert len(at) == 1, ("one point at the peak", at)
    return at[0]

def capture_agrees(document, where):
    capture = document["capture"]
    assert capture["peak_bytes"] == PEAK, (where, capture)
    assert capture["peak_blocks"] == BLOCKS, (where, capture)
    assert capture["accuracy"]["peak"] == "exact", (where, capture)
    return capture

document = json.load(open("%s/%s.json" % (work, name)))
capture = capture_agrees(document, "json")
assert site_sum(document) == PEAK, ("json: hotspots' live at the peak", site_sum(document))
point = timeline_peak(document["timeline"])
assert point["time_ns"] == capture["peak_time_ns"], point
assert point["heap_live_bytes"] == PEAK and point["heap_live_blocks"] == BLOCKS, point
assert max(p["heap_live_bytes"] for p in document["timeline"]) == PEAK

split = glob.glob("%s/%s-split/MemoryAnalysis/*/" % (work, name))
assert len(split) == 1, split
for path in glob.glob(split[0] + "*.json"):
    part = json.load(open(path))
    # threads.json and lifetime.json name the capture; the others carry its summary.
    if isinstance(part["capture"], dict):
        capture_agrees(part, path)
    if any(r["analyzer"] == "hotspots" for r in part.get("results", [])):
        assert site_sum(part) == PEAK, (path, site_sum(part))
    if part.get("timeline"):
        assert timeline_peak(part["timeline"])["heap_live_bytes"] == PEAK, path
    if part["schema"] == "memscope-threads":
        assert sum(t["live_at_capture_peak_bytes"] for t in part["threads"]) == PEAK, (path, part["threads"])
        # One thread: its own peak is the capture's.
        assert sum(t["peak_bytes"] for t in part["threads"]) == PEAK, (path, part["threads"])

page = open("%s/%s.html" % (work, name), encoding="utf-8").read()
island = re.search(r'<script type="application/json" id="memscope-data">(.*?)</script>', page, re.S)
data = json.loads(island.group(1))
summary = data["summary"]
assert summary["peak_bytes"] == PEAK and summary["peak_blocks"] == BLOCKS, summary
assert data["flame"][0][7] == PEAK, ("flame: live at peak", data["flame"][0])
# threads: [index, name, blocks, bytes, peak_bytes (live at the capture's peak), ...]
assert sum(t[4] for t in data["threads"]) == PEAK, ("html threads", data["threads"])
at = [p for p in data["timeline"] if p[0] == summary["peak_time_ns"]]
assert len(at) == 1 and at[0][1] == PEAK, ("html timeline", at)
# The SVG chart: the live heap's line (drawn in the heap's colour, last)
# passes through the circle that marks the peak.
chart = open("%s/%s.svg" % (work, name)).read()
circle = re.search(r'<g class="peak"><circle cx="([0-9.]+)" cy="([0-9.]+)"', chart)
assert circle, "svg: no peak marked"
heap = re.findall(r'<polyline class="series" fill="none" stroke="#1f4e9c"[^>]* points="([^"]*)"', chart)
assert len(heap) == 1, heap
assert "%s,%s" % circle.groups() in heap[0].split(), ("svg: the line misses the peak", circle.groups(), heap)
print("peak_check: %s: %d bytes in %d blocks in the text report, json, split files, html and svg"
      % (name, PEAK, BLOCKS))
PY
	if [ -x "$chromium" ]; then
		sh "$(dirname "$0")/page_selftest.sh" "$chromium" "$work/$name.html" "$work" peak_check
		echo "peak_check: $name: the page passes its self-test in chromium"
	fi
}

check exact --backend exact
check hybrid --backend hybrid --exact-above 1

# Many threads (tests/programs/threads.c: 4 producers hand blocks to 4
# consumers): each thread's share of the peak, in the split threads file
# and in the page's thread table, adds up to the capture's peak, which the
# text report gives.
"$memscope" -o "$work/threads.memscope" "$build/tests/programs/threads" >/dev/null 2>&1
"$memscope" report "$work/threads.memscope" >"$work/threads.txt"
"$memscope" report "$work/threads.memscope" --format json --split "$work/threads-split" 2>/dev/null
"$memscope" report "$work/threads.memscope" --format html -o "$work/threads.html" 2>/dev/null
"$python" -I - "$work" <<'PY'
import glob, json, re, sys
work = sys.argv[1]
text = open(work + "/threads.txt").read()
peak = int(re.search(r"^PEAK +([0-9,]+) bytes", text, re.M).group(1).replace(",", ""))
threads = json.load(open(glob.glob(work + "/threads-split/MemoryAnalysis/*/threads.json")[0]))["threads"]
assert len(threads) >= 4, threads
assert sum(t["live_at_capture_peak_bytes"] for t in threads) == peak, (peak, threads)
page = open(work + "/threads.html", encoding="utf-8").read()
data = json.loads(re.search(r'<script type="application/json" id="memscope-data">(.*?)</script>', page, re.S).group(1))
assert data["summary"]["peak_bytes"] == peak, data["summary"]
assert sum(t[4] for t in data["threads"]) == peak, ("html threads", peak, data["threads"])
print("peak_check: threads: %d threads' shares of the peak add up to %d bytes in the split file and html"
      % (len(threads), peak))
PY
