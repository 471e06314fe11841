#!/usr/bin/env bash
# test_plugin_install.sh - plugins as a user meets them: memscope installed
# (meson install --destdir), the example analyzer built out of tree against
# the installed header with pkg-config, found through MEMSCOPE_PLUGIN_PATH,
# and one plugin deleted making exactly that one unavailable.
#
#   test_plugin_install.sh BUILD_DIR SOURCE_DIR CAPTURE_PROGRAM
set -euo pipefail
build=$1 source=$2 program=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
checks=0
check() { # description, then a command that must succeed
	local what=$1
	shift
	checks=$((checks + 1))
	if "$@"; then
		echo "ok: $what"
	else
		echo "FAILED: $what"
		failures=$((failures + 1))
	fi
}

meson install -C "$build" --no-rebuild --quiet --destdir "$work/root" >/dev/null
prefix=$(meson introspect "$build" --buildoptions |
	python3 -c 'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"]=="prefix"][0])' 2>/dev/null ||
	echo /usr/local)
memscope=$work/root$prefix/bin/memscope
pcdir=$(dirname "$(find "$work/root" -name memscope-plugin.pc | head -n 1)")
plugins=$(dirname "$(find "$work/root" -name leaks.so | head -n 1)")
check "memscope is installed" test -x "$memscope"
check "the plugins are installed" test -f "$plugins/hotspots.so"

# Out of tree: the example analyzer, from the installed header alone.
cflags=$(PKG_CONFIG_PATH=$pcdir PKG_CONFIG_SYSROOT_DIR=$work/root pkg-config --cflags memscope-plugin)
mkdir -p "$work/mine"
check "the example analyzer builds against the installed header" \
	cc -std=c11 -Wall -Werror -shared -fPIC "$source/examples/custom-analyzer/big_blocks.c" \
	$cflags -o "$work/mine/big_blocks.so"

"$build/cli/memscope" -q -o "$work/app.memscope" "$program" >/dev/null || true
mkdir -p "$work/plugins"
cp "$plugins"/*.so "$work/plugins/"
export MEMSCOPE_PLUGIN_PATH=$work/plugins:$work/mine

"$memscope" analyze "$work/app.memscope" --analyzer big_blocks --option min=1000 \
	>"$work/big.txt" 2>"$work/big.err" || true
check "the example analyzer runs: its table lists the main thread" \
	grep -q "Big blocks by thread" "$work/big.txt"
check "... with the blocks of at least 1000 bytes" grep -Eq "leaky +[0-9]+" "$work/big.txt"

"$memscope" plugins >"$work/all.txt" 2>&1
check "plugins lists hotspots while its file is there" grep -q "^  hotspots " "$work/all.txt"

rm "$work/plugins/hotspots.so"
"$memscope" plugins >"$work/some.txt" 2>&1
check "without hotspots.so, hotspots is not listed" bash -c "! grep -q '^  hotspots ' '$work/some.txt'"
check "... and the others still are" grep -q "^  leaks " "$work/some.txt"
status=0
"$memscope" analyze "$work/app.memscope" --analyzer hotspots >/dev/null 2>"$work/missing.err" || status=$?
check "analyze --analyzer hotspots then fails with status 2" test "$status" -eq 2
check "... saying which analyzer is missing" grep -q "no analyzer 'hotspots'" "$work/missing.err"
"$memscope" analyze "$work/app.memscope" --analyzer leaks >"$work/leaks.txt" 2>&1
check "analyze --analyzer leaks still works, and finds the leaks" grep -q "leaked in" "$work/leaks.txt"

"$memscope" report "$work/app.memscope" --analyzer big_blocks --option min=1000 \
	>"$work/report.txt" 2>&1 || true
check "report --analyzer prints the report, then the analyzer's results" \
	bash -c "grep -q '^TOTALS' '$work/report.txt' && grep -q 'Big blocks by thread' '$work/report.txt'"

echo "$((checks - failures)) passed, $failures failed"
[ "$failures" -eq 0 ]
