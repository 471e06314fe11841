#!/bin/sh
# html_check.sh - the html report of a real capture says what the json
# report says: same summary numbers, and the flame graph's totals (summed
# by the html exporter from the blocks) equal the capture's allocations,
# allocated bytes, peak and leaked bytes.  The page then passes its own
# self-test in chromium, if installed.
#
# usage: tests/html_check.sh BUILD_DIR [CHROMIUM]
#   e.g. tests/html_check.sh build /usr/bin/chromium
# Exit 0 when all agree, 1 otherwise, 77 when /usr/bin/python3 is missing
# (the system's interpreter, not a wrapper script found first on PATH).
set -eu
build=${1:-build}
chromium=${2:-/usr/bin/chromium}
python=/usr/bin/python3
[ -x "$python" ] || { echo "html_check: no $python" >&2; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# leaky exits non-zero on purpose; the capture is what matters.
"$build/cli/memscope" -o "$work/leaky.memscope" "$build/examples/leaky" >/dev/null 2>&1 || true
test -s "$work/leaky.memscope"
"$build/cli/memscope" report "$work/leaky.memscope" --format json -o "$work/leaky.json"
"$build/cli/memscope" report "$work/leaky.memscope" --format html -o "$work/leaky.html"
"$build/cli/memscope" report "$work/leaky.memscope" > "$work/leaky.txt"

"$python" -I - "$work/leaky.json" "$work/leaky.html" "$work/leaky.txt" <<'PY'
import json, re, sys
report = json.load(open(sys.argv[1]))["capture"]
page = open(sys.argv[2], encoding="utf-8").read()
island = re.search(r'<script type="application/json" id="memscope-data">(.*?)</script>', page, re.S)
data = json.loads(island.group(1))
summary = data["summary"]
for key, value in report.items():
    assert summary[key] == value, (key, summary[key], value)
root = data["flame"][0]
assert root[5] == summary["allocated_bytes"], ("bytes", root, summary)
assert root[6] == summary["allocations"], ("count", root, summary)
assert root[7] == summary["peak_bytes"], ("peak", root, summary)
assert root[8] == summary["live_bytes"], ("leaked", root, summary)
threads = data["threads"]
assert sum(t[2] for t in threads) == summary["allocations"], threads
assert sum(t[6] for t in threads) == summary["live_bytes"], threads
text = open(sys.argv[3]).read()
assert "%s allocations" % format(summary["allocations"], ",") in text
assert "%s bytes" % format(summary["peak_bytes"], ",") in text
print("html_check: summary, flame totals and threads agree with memscope report")
PY

if [ -x "$chromium" ]; then
	sh "$(dirname "$0")/page_selftest.sh" "$chromium" "$work/leaky.html" "$work" html_check
	echo "html_check: the page passes its self-test in chromium"

	# The SVG chart of the same capture renders in the browser too: an
	# image with the chart's title in its DOM, and no complaint.
	"$build/cli/memscope" report "$work/leaky.memscope" --format svg -o "$work/leaky.svg"
	"$chromium" --headless --no-sandbox --disable-gpu --disable-background-networking \
		--disable-component-update --disable-sync --no-first-run \
		--user-data-dir="$work/profile-svg" --enable-logging=stderr --v=0 \
		--screenshot="$work/leaky-svg.png" --window-size=960,540 "file://$work/leaky.svg" \
		>/dev/null 2>"$work/chromium-svg.log"
	test -s "$work/leaky-svg.png" || { echo "html_check: the SVG did not render" >&2; exit 1; }
	if grep -E 'CONSOLE|error on line' "$work/chromium-svg.log" >&2; then
		echo "html_check: the browser reported the lines above about the SVG" >&2
		exit 1
	fi
	echo "html_check: the SVG renders in chromium"
else
	echo "html_check: $chromium not found, browser check skipped"
fi
