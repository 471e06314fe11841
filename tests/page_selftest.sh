#!/bin/sh
# page_selftest.sh - loads an html report in headless chromium with
# #selftest: the page checks itself (tables, panels, charts) and marks its
# root data-selftest="pass" or the reason it failed.  Anything the browser
# logs as a console message or a refused resource fails it too.
#
# usage: tests/page_selftest.sh CHROMIUM PAGE WORK_DIR NAME
# Exit 0 when the page passes, 1 otherwise.  NAME prefixes the messages.
set -eu
chromium=$1 page=$2 work=$3 name=$4
"$chromium" --headless --no-sandbox --disable-gpu --disable-background-networking \
	--disable-component-update --disable-sync --no-first-run \
	--user-data-dir="$work/profile" --enable-logging=stderr --v=0 \
	--virtual-time-budget=5000 --dump-dom "file://$page#selftest" \
	>"$work/dom.html" 2>"$work/chromium.log"
grep -q 'data-selftest="pass"' "$work/dom.html" || {
	echo "$name: self-test: $(grep -o 'data-selftest="[^"]*"' "$work/dom.html")" >&2
	exit 1
}
if grep -E 'CONSOLE|Refused to|Content Security Policy' "$work/chromium.log" >&2; then
	echo "$name: the browser reported the lines above" >&2
	exit 1
fi
