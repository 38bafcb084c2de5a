#!/usr/bin/env bash
# run.sh - the fault-injection suite (make test-faults): the real binary, a private PostgreSQL
# and the fake upstream, with faults injected; every f_*.sh sourced in name order.
#
# Usage: tests/faults/run.sh [FILTER...]
# With FILTERs, only the files whose name contains one of them run. Each file is sourced after
# reset_db (auth_sessions dropped, migrations applied). Prints "ok - ..." / "FAIL - ..." per
# check, then the figures of each fault (times tried, rows lost, ...), the suite's wall time and
# "N passed, N failed"; exits 1 if any check failed. FAULTS_SEED=N makes the random choices
# (kill moments, relogin rows) repeat a run's; the seed used is printed first.
set -u -o pipefail
export LC_ALL=C

FAULTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/integration/lib.sh
. "$FAULTS_DIR/../integration/lib.sh"
# shellcheck source=tests/integration/sweep_lib.sh
. "$FAULTS_DIR/../integration/sweep_lib.sh"
# shellcheck source=tests/faults/faults_lib.sh
. "$FAULTS_DIR/faults_lib.sh"

SUITE_START=$(now_ms)
FAULTS_SEED=${FAULTS_SEED:-$((RANDOM * 32768 + RANDOM))}
RANDOM=$FAULTS_SEED
echo "# faults: FAULTS_SEED=$FAULTS_SEED"
pg_start
# psql itself, not Debian's pg_wrapper (a Perl script that costs ~100 ms per call): the cases
# make hundreds of calls.
export PATH="$PG_BINDIR:$PATH"
: >"$TEST_TMP/figures.txt"
for file in "$FAULTS_DIR"/f_*.sh; do
	[[ -e "$file" ]] || continue
	name=$(basename "$file")
	selected "$name" "$@" || continue
	echo "# $name"
	file_start=$(now_ms)
	if ! reset_db >/dev/null; then
		_fail "$name: reset_db (drop auth_sessions, migrate)"
		continue
	fi
	# shellcheck source=/dev/null
	. "$file"
	fake_stop
	echo "# $name: $(((($(now_ms) - file_start) + 500) / 1000)) s"
done
print_figures "$(($(now_ms) - SUITE_START))"
finish
