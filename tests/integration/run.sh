#!/usr/bin/env bash
# run.sh - runs the integration tests: one private PostgreSQL, every t_*.sh sourced in name order.
#
# Usage: tests/integration/run.sh [FILTER...]
# With FILTERs, only the files whose name contains one of them run. Each file is sourced after
# reset_db (auth_sessions dropped, migrations applied), so it starts from a fresh schema.
# Prints "ok - ..." / "FAIL - ..." per check, then "N passed, N failed"; exits 1 if any failed.
set -u -o pipefail
export LC_ALL=C

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/integration/lib.sh
. "$HERE/lib.sh"

# shellcheck source=tests/integration/sweep_lib.sh
. "$HERE/sweep_lib.sh"

pg_start
for file in "$HERE"/t_*.sh; do
	[[ -e "$file" ]] || continue
	name=$(basename "$file")
	selected "$name" "$@" || continue
	echo "# $name"
	if ! reset_db >/dev/null; then
		_fail "$name: reset_db (drop auth_sessions, migrate)"
		continue
	fi
	# shellcheck source=/dev/null
	. "$file"
	fake_stop
done
finish
