#!/bin/sh
# callgrind.sh - stands in for the refresher in a bench case (REFRESHER_BIN) and runs it under
# valgrind's callgrind, writing CALLGRIND_OUT (default build/bench/callgrind.out). Used by
# `make profile`; the instruction count (Ir) is independent of the machine's load.
: "${REFRESHER_REAL:?set REFRESHER_REAL to the refresher binary}"
exec valgrind --tool=callgrind --callgrind-out-file="${CALLGRIND_OUT:-build/bench/callgrind.out}" \
	--dump-instr=no --collect-jumps=no -q -- "$REFRESHER_REAL" "$@"
