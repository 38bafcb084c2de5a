# shellcheck shell=bash
# shellcheck disable=SC2016,SC2034 # ${VAR} in configs is for refresher to expand; variables are shared with the case files
# t_26_good_citizen.sh - refresh.max_rate paces request starts; 429/503 halve the in-flight
# limit, which recovers by one per success; the summary reports retries, throttle waits, breaker.

# --- max_rate: 60 rows at 20/s take ~3 s, at most 20 starts in any 1 s window ---
fake_start
seed 60 ok
write_config "$TEST_TMP/rate.yaml" "$(printf 'refresh:\n  concurrency: 16\n  batch_size: 64\n  max_rate: 20\n')"
run_refresher -c "$TEST_TMP/rate.yaml"
check_eq "max_rate: all refreshed" "0 60" "$RUN_RC $(summary_field refreshed)"
# The largest number of request arrivals at the fake inside any window of one second.
peak_1s=$(jq -rs '[.[] | select(.ev == "req") | .t_us] | sort as $t
	| [range(0; $t | length) as $i | [$t[$i:][] | select(. < $t[$i] + 1000000)] | length] | max' "$FAKE_LOG")
# Arrival times at the fake carry a few ms of jitter on top of the 50 ms spacing: allow one more.
check "max_rate: at most 20 (+1 for arrival jitter) starts in any 1 s window (saw $peak_1s)" \
	test "$peak_1s" -le 21
span_ms=$(jq -rs '[.[] | select(.ev == "req") | .t_us] | (max - min) / 1000 | floor' "$FAKE_LOG")
check "max_rate: 60 starts at 20/s are spread over at least 2.8 s (${span_ms} ms)" test "$span_ms" -ge 2800
# Smooth, not bursty: no two starts closer than half the 50 ms spacing.
min_gap=$(jq -rs '[.[] | select(.ev == "req") | .t_us] | sort | [range(1; length) as $i | .[$i] - .[$i - 1]] | min / 1000 | floor' "$FAKE_LOG")
check "max_rate: starts are spaced, not bunched (closest two ${min_gap} ms apart)" test "$min_gap" -ge 25
tw=$(summary_field throttle_waits)
check "max_rate: throttle waits counted ($tw)" test "$tw" -ge 50
check_eq "max_rate: no retries, breaker closed" "0 closed" "$(summary_field retries) $(summary_field breaker)"
fake_stop

# --- adaptive concurrency: a burst of 429s halves the limit to 1, successes raise it again ---
q "DELETE FROM auth_sessions"
fake_start --latency-ms 150
seed 8 ratelimit
seed 40 ok
q "UPDATE auth_sessions SET created_at = now() - interval '1 day' WHERE aimharder_token LIKE 'ratelimit-%'"
write_config "$TEST_TMP/adapt.yaml" "$(printf 'refresh:\n  concurrency: 8\n  batch_size: 8\nretry:\n  attempts: 3\n  base_delay: 10ms\n  max_delay: 1s\n')"
run_refresher -c "$TEST_TMP/adapt.yaml"
check_eq "adaptive: all refreshed, 8 retries" "0 48 8" \
	"$RUN_RC $(summary_field refreshed) $(summary_field retries)"
# The first 8 requests are the ratelimit rows (the oldest, so claimed first). After their 429s the limit is 1: the next request starts alone; later ones overlap again.
first_after=$(jq -rs '[.[] | select(.ev == "req")][8].in_flight' "$FAKE_LOG")
later_peak=$(jq -rs '[.[] | select(.ev == "req")][16:] | map(.in_flight) | max' "$FAKE_LOG")
check_eq "adaptive: after 8 x 429 the next request is alone on the wire" 1 "$first_after"
check "adaptive: the limit recovers with successes (later peak $later_peak)" test "$later_peak" -ge 4
fake_stop
