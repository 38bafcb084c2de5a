#!/usr/bin/env bash
# asan.sh - runs the unit tests and the whole integration suite on the AddressSanitizer +
# UndefinedBehaviorSanitizer + LeakSanitizer build (make asan builds it first).
#
# Usage: scripts/asan.sh [BUILD_DIR] [FILTER...]   (BUILD_DIR default build-asan; FILTERs as
# tests/integration/run.sh takes them). Every sanitizer report of any process (the refresher,
# the unit tests, the fake) is written under BUILD_DIR/sanitizer-reports/; the run fails when
# one exists, even from a run whose exit status a test did not look at.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2

build=${1:-build-asan}
shift || true
build=$(cd "$build" && pwd) || exit 2
reports=$build/sanitizer-reports
rm -rf "$reports"
mkdir -p "$reports"
chmod 1777 "$reports" # the fake or a helper may run as another user

# halt_on_error + exitcode: a report also changes the exit status the tests check.
export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:exitcode=86:abort_on_error=0:strict_string_checks=1:check_initialization_order=1:detect_stack_use_after_return=1:log_path=$reports/asan"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:exitcode=86:log_path=$reports/ubsan"
export LSAN_OPTIONS="exitcode=86"

status=0
echo "# asan: unit tests ($build/unit)"
"$build/unit" || status=1
echo "# asan: integration suite (REFRESHER_BIN=$build/refresher, FAKEUP_BIN=$build/fakeup)"
BUILD_DIR=$build tests/integration/run.sh "$@" || status=1

shopt -s nullglob
found=("$reports"/*)
if ((${#found[@]} > 0)); then
	echo "FAIL - asan: ${#found[@]} sanitizer report(s) under $reports:"
	for f in "${found[@]}"; do
		echo "## $f"
		head -n 60 "$f"
	done
	status=1
else
	echo "ok - asan: no sanitizer report from any process (leak detection on)"
fi
exit "$status"
