#!/usr/bin/env bash
# fuzz.sh - runs the libFuzzer harnesses of tests/fuzz/ (make fuzz builds them first).
#
# Usage: scripts/fuzz.sh BUILD_DIR SECONDS HARNESS...
# Each harness fuzzes for SECONDS (0: runs its seed corpus and saved crashes once, no fuzzing)
# starting from tests/fuzz/corpus/<harness>/ (read only: new inputs go to
# BUILD_DIR/corpus/<harness>/) with tests/fuzz/dict/<harness>.dict (else json.dict). A crash,
# leak, timeout or broken invariant is saved to tests/fuzz/crashes/<harness>/ and fails the run;
# keep the file and add it to the seed corpus once fixed. Prints executions per harness from
# libFuzzer's final stats.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2

if (($# < 3)); then
	echo "usage: scripts/fuzz.sh BUILD_DIR SECONDS HARNESS..." >&2
	exit 2
fi
build=$1 secs=$2
shift 2
[[ "$secs" =~ ^[0-9]+$ ]] || {
	echo "fuzz: SECONDS must be a whole number, got '$secs'" >&2
	exit 2
}

status=0
summary=()
for h in "$@"; do
	bin=$build/fuzz_$h seeds=tests/fuzz/corpus/$h crashes=tests/fuzz/crashes/$h
	work=$build/corpus/$h log=$build/fuzz_$h.log dict=tests/fuzz/dict/$h.dict
	[[ -f "$dict" ]] || dict=tests/fuzz/dict/json.dict
	mkdir -p "$work" "$crashes"
	args=(-print_final_stats=1 -timeout=10 -rss_limit_mb=2048 -max_len=65536
		-artifact_prefix="$crashes/" -dict="$dict")
	if ((secs == 0)); then
		# Regression: every seed and every saved crash once.
		inputs=("$seeds")
		[[ -n "$(ls -A "$crashes" 2>/dev/null)" ]] && inputs+=("$crashes")
		args+=(-runs=0)
		echo "# fuzz: $h: the corpus and saved crashes once"
		"$bin" "${args[@]}" "${inputs[@]}" >"$log" 2>&1
	else
		echo "# fuzz: $h for ${secs}s"
		"$bin" "${args[@]}" -max_total_time="$secs" "$work" "$seeds" >"$log" 2>&1
	fi
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)
	corpus=$(find "$work" -type f | wc -l)
	if ((rc == 0)); then
		echo "ok - fuzz: $h: ${execs:-?} executions, ${cov:-cov: ?}, $corpus inputs in $work"
		summary+=("$(printf '%-14s %12s executions  %s' "$h" "${execs:-?}" "${cov:-}")")
	else
		status=1
		echo "FAIL - fuzz: $h exited $rc; the input is saved under $crashes/:"
		grep -E '^(==[0-9]+==ERROR|SUMMARY|.*invariant broken|artifact_prefix|Test unit written)' \
			"$log" | head -n 20 | sed 's/^/#   /'
		tail -n 40 "$log" | sed 's/^/#   | /'
		summary+=("$(printf '%-14s %12s executions  CRASH (see %s)' "$h" "${execs:-?}" "$log")")
	fi
done
echo "# fuzz summary (${secs}s each):"
printf '#   %s\n' "${summary[@]}"
exit "$status"
