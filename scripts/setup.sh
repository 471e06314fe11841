#!/usr/bin/env bash
# setup.sh - installs what memscope needs (Debian 12), builds it, and then:
#   scripts/setup.sh demo   traces the bundled example and prints its report
#   scripts/setup.sh test   runs the test suite, then again under
#                           AddressSanitizer + UndefinedBehaviorSanitizer
# Run as root, or as a user who may sudo (for apt-get).
set -euo pipefail

mode=${1:-demo}
case "$mode" in
demo | test) ;;
*)
	echo "usage: $0 demo|test" >&2
	exit 2
	;;
esac

cd "$(dirname "$0")/.."

packages=(meson ninja-build pkg-config gcc libc6-dev libjemalloc-dev libunwind-dev
          libdw-dev libelf-dev libzstd-dev check libuv1-dev)
if [ "$mode" = test ]; then
	# valgrind and g++ for end-to-end cases, python3 and xmllint to check the
	# JSON and SVG exporters' output, chromium to load the HTML report, clang
	# and its libFuzzer to fuzz the capture reader.
	packages+=(valgrind g++ python3 libxml2-utils chromium clang libclang-rt-14-dev)
fi

missing=()
for package in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
		missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	echo "setup: installing ${missing[*]}"
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

configure() {
	local directory=$1
	shift
	if [ -d "$directory" ]; then
		meson setup --reconfigure "$directory" "$@" >/dev/null
	else
		meson setup "$directory" "$@" >/dev/null
	fi
	meson compile -C "$directory"
}

configure build

if [ "$mode" = demo ]; then
	capture=build/leaky.memscope
	set +e
	build/cli/memscope --backend exact -o "$capture" build/examples/leaky
	status=$?
	set -e
	echo "setup: the example exited with status $status (it exits 3 on purpose)"
	build/cli/memscope report "$capture"
	exit 0
fi

# Both runs go to the end; the closing line counts them together.
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
meson test -C build --print-errorlogs 2>&1 | tee -a "$log" || status=1
configure build-sanitize -Dsanitize=true
meson test -C build-sanitize --print-errorlogs 2>&1 | tee -a "$log" || status=1
passed=$(awk '/^Ok:/ {sum += $2} END {print sum + 0}' "$log")
failed=$(awk '/^(Fail|Timeout|Unexpected Pass):/ {sum += $NF} END {print sum + 0}' "$log")
echo "tests: $passed passed, $failed failed"
exit $status
