# shellcheck shell=bash
# shellcheck disable=SC2016,SC2034 # ${VAR} in configs is for refresher to expand; variables are shared with the case files
# f_30_upstream.sh - upstream chaos: 5xx at random, resets, cut bodies, hangs, bodies trickled
# slower than the timeout, garbage and invalid UTF-8, enormous bodies and headers, hostile
# Set-Cookie lines. One run per fault, then one run with all of them mixed.
#
# Every run must end in bounded wall time and bounded memory; a row that fails keeps its token,
# cookies and date and records a one-line reason; a row that is refreshed holds the token the
# fake issued for it and the cookies of that same answer, and never a hostile cookie.

U_TIMEOUT_S=2
U_ATTEMPTS=2
U_MAX_DELAY_MS=200
U_PEAK_MIB=64
U_ROWS=16
# capture EVIL too, so that the hostile lines of evilcookie have a captured name of their own
U_UPSTREAM=$(printf 'upstream:\n  url: ${FAKE_URL}\n  fingerprint: fp-f30\n  timeout: %ds\n  connect_timeout: 1s\n  capture_cookies: [AWSALB, AWSALBCORS, EVIL]\n' "$U_TIMEOUT_S")
# The breaker is tested in t_25; here it would stop a run of mostly bad answers before the
# faults are all tried. The budget likewise (t_25): every transient row gets its retries.
U_RETRY=$(printf 'retry:\n  attempts: %d\n  base_delay: 10ms\n  max_delay: %dms\n  budget: 10\nbreaker:\n  window: 0\n' "$U_ATTEMPTS" "$U_MAX_DELAY_MS")

# What each fault must come to: PREFIX CLASS REQUESTS REASON
#   CLASS ok: refreshed from an answer that carried the token; fail: failed; either: one or
#   the other (chaos). REQUESTS: per row, exact ("1", "2") or a range ("1-2"). REASON: a
#   regex the recorded reason of a failed row matches.
U_SPEC="chaos either 1-$U_ATTEMPTS ^HTTP 50[0234] \\(after $U_ATTEMPTS tries\\)\$
reset fail $U_ATTEMPTS (Empty reply|Server returned nothing|the connection closed before an answer).*\\(after $U_ATTEMPTS tries\\)\$
partial fail $U_ATTEMPTS bytes remaining.*\\(after $U_ATTEMPTS tries\\)\$
hang fail $U_ATTEMPTS ^Operation timed out after.*\\(after $U_ATTEMPTS tries\\)\$
trickle fail $U_ATTEMPTS ^Operation timed out after.*\\(after $U_ATTEMPTS tries\\)\$
garbage fail 1 ^answer is not JSON
nonjson fail 1 ^answer is not JSON
badutf8 fail 1 newToken
huge fail 1 ^response body over
bighdr fail 1 ^Out of memory\$
manyhdr ok 1 -
manycookie ok 1 -
evilcookie ok 1 -"
U_SLOW="hang trickle" # faults that hold a request until upstream.timeout
# bighdr: libcurl refuses a header line of 100 KiB (CURL_MAX_HTTP_HEADER) with
# CURLE_OUT_OF_MEMORY and puts nothing in the error buffer, so "Out of memory" is the reason the
# row records: true to libcurl, if not to the refresher's memory.

# Loads U_SPEC into table uspec.
u_load_spec() {
	q "DROP TABLE IF EXISTS uspec; CREATE TABLE uspec (p text PRIMARY KEY, cls text, lo int, hi int, why text)"
	printf '%s\n' "$U_SPEC" | while read -r p cls reqs why; do
		printf "INSERT INTO uspec VALUES ('%s', '%s', %d, %d, \$re\$%s\$re\$);\n" \
			"$p" "$cls" "${reqs%-*}" "${reqs#*-}" "$why"
	done | psql -X -q -v ON_ERROR_STOP=1
}

# Prints, per fault of the rows in orig, "PREFIX:n=N,bad=B" where B counts the rows that broke
# the fault's rule (deleted, or not as U_SPEC says), plus a line of hostile-cookie findings.
u_verdict() {
	q "WITH iss AS (SELECT token AS sent, issued FROM ulog WHERE ev = 'resp' AND issued IS NOT NULL),
	        nreq AS (SELECT token, count(*) AS n FROM ulog WHERE ev = 'req' GROUP BY token),
	        r AS (SELECT o.id, o.token AS old, o.cookies AS oldc, u.*, t.id AS still,
	                     t.aimharder_token AS tok, t.aimharder_cookies AS ck,
	                     t.token_update_count AS cnt, t.last_token_update_date AS dt,
	                     t.last_token_update_error AS err, t.token_update_claimed_until AS claim,
	                     coalesce(n.n, 0) AS n,
	                     t.id IS NOT NULL AND $TIED_SQL AS tied
	              FROM orig o JOIN uspec u ON u.p = split_part(o.token, '-', 1)
	              LEFT JOIN auth_sessions t ON t.id = o.id LEFT JOIN nreq n ON n.token = o.token),
	        v AS (SELECT r.*,
	                r.tok <> r.old AND EXISTS (SELECT 1 FROM iss WHERE iss.sent = r.old AND iss.issued = r.tok)
	                AND r.cnt = 1 AND r.err IS NULL AND r.claim IS NULL AND r.dt IS NOT NULL AND r.tied
	                AS refreshed_ok,
	                r.tok = r.old AND r.ck = r.oldc AND r.cnt = 0 AND r.dt IS NULL AND r.claim IS NULL
	                AND r.err ~ r.why AND r.err !~ '[[:cntrl:]]' AND length(r.err) <= 160
	                AS failed_ok
	              FROM r)
	   SELECT string_agg(p || ':n=' || n || ',bad=' || bad, ' ' ORDER BY p) FROM (
	     SELECT p, count(*) AS n, count(*) FILTER (WHERE still IS NULL OR NOT (
	         CASE cls WHEN 'ok' THEN refreshed_ok AND n = 1
	                  WHEN 'fail' THEN failed_ok AND n BETWEEN lo AND hi
	                  ELSE (refreshed_ok AND n BETWEEN lo AND hi) OR (failed_ok AND n = hi) END)) AS bad
	     FROM v GROUP BY p) x"
}

# Prints the hostile-cookie findings over the whole table: stored cookies that are not
# {name, value} objects, names outside the four expected, control bytes (CR, LF...) or ';' in
# a name or value, and evilcookie rows whose EVIL cookie is not the one good EVIL line's.
u_cookies() {
	q "SELECT concat_ws(' ',
	     'not_name_value=' || count(*) FILTER (WHERE jsonb_typeof(c) <> 'object'
	                                           OR (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(c) k)
	                                              <> ARRAY['name', 'value']),
	     'unexpected_name=' || count(*) FILTER (WHERE c->>'name' NOT IN ('AWSALB', 'AWSALBCORS', 'PHPSESSID', 'EVIL')),
	     'control_or_semicolon=' || count(*) FILTER (WHERE c->>'name' ~ '[[:cntrl:];]' OR c->>'value' ~ '[[:cntrl:];]'),
	     'evil_wrong=' || (SELECT count(*) FROM auth_sessions t
	                       WHERE t.aimharder_token LIKE 'ok-%' AND EXISTS (SELECT 1 FROM orig o
	                             WHERE o.id = t.id AND o.token LIKE 'evilcookie-%')
	                       AND (SELECT count(*) FROM jsonb_array_elements(t.aimharder_cookies) e
	                            WHERE e->>'name' = 'EVIL' AND e->>'value' = '\"}],\"name\":\"x') <> 1))
	   FROM auth_sessions, jsonb_array_elements(aimharder_cookies) c"
}
U_COOKIES_CLEAN="not_name_value=0 unexpected_name=0 control_or_semicolon=0 evil_wrong=0"

# u_run LABEL CONCURRENCY PREFIX...: seeds U_ROWS tied rows per PREFIX, runs once (measured),
# and checks time, memory, exit status and every row. Records a figure line.
u_run() {
	local label=$1 conc=$2 p slow=0 rows bound verdict expect="" rc_want=0 failed
	shift 2
	q "DELETE FROM auth_sessions"
	for p in "$@"; do
		seed_tied "$U_ROWS" "$p"
		[[ " $U_SLOW " == *" $p "* ]] && slow=$((slow + U_ROWS))
	done
	# u_verdict lists the faults in name order.
	for p in $(printf '%s\n' "$@" | sort); do
		expect+=" $p:n=$U_ROWS,bad=0"
	done
	rows=$((U_ROWS * $#))
	snapshot_orig
	fake_clear
	write_config "$TEST_TMP/u.yaml" "$U_UPSTREAM
$(printf 'refresh:\n  concurrency: %d\n  batch_size: 64\n' "$conc")
$U_RETRY"
	run_measured -c "$TEST_TMP/u.yaml"
	wait_for fake_quiet
	load_log "$FAKE_LOG" ulog
	# Rounds of timeouts the run needs at least: requests that hang, over the slots.
	bound=$((3 * ((slow + conc - 1) / conc) * U_ATTEMPTS * (U_TIMEOUT_S * 1000 + U_MAX_DELAY_MS)))
	((bound == 0)) && bound=$((3 * U_ATTEMPTS * (U_TIMEOUT_S * 1000 + U_MAX_DELAY_MS)))
	bound=$((bound + 5000))
	failed=$(q "SELECT count(*) FROM auth_sessions WHERE last_token_update_error IS NOT NULL")
	((failed > 0)) && rc_want=1
	check "$label: ended in ${WALL_MS} ms, under the bound of $bound ms" test "$WALL_MS" -le "$bound"
	check "$label: peak RSS $((PEAK_KB / 1024)) MiB, under $U_PEAK_MIB MiB" \
		test "$PEAK_KB" -gt 0 -a "$PEAK_KB" -le $((U_PEAK_MIB * 1024))
	check_eq "$label: exit $rc_want, all $rows rows claimed, as many failed as the table says" \
		"$rc_want $rows $failed" "$RUN_RC $(summary_field due) $(summary_field failed)"
	verdict=$(u_verdict)
	check_eq "$label: every row as its fault says (kept with a reason, or refreshed from its own answer)" \
		"${expect# }" "$verdict"
	check_eq "$label: no hostile cookie stored" "$U_COOKIES_CLEAN" "$(u_cookies)"
	figure "upstream: $label" "$(q "SELECT count(*) FROM ulog WHERE ev = 'req'") requests" \
		"$(q "SELECT count(*) FROM orig o WHERE NOT EXISTS (SELECT 1 FROM auth_sessions s WHERE s.id = o.id)")" \
		"$rows rows, $failed failed and kept; ${WALL_MS} ms (bound $bound); peak RSS $((PEAK_KB / 1024)) MiB"
}

fake_start --trickle-ms 200
u_load_spec
u_run "random 50% 5xx (chaos)" 16 chaos
check "chaos: the fake did answer 5xx" \
	test "$(q "SELECT count(*) FROM ulog WHERE ev = 'resp' AND status >= 500")" -gt 0
u_run "connection closed without an answer (reset)" 16 reset
u_run "body cut short of Content-Length (partial)" 16 partial
u_run "no answer at all (hang)" 16 hang
check "hang: every try waited out upstream.timeout (run took ${WALL_MS} ms)" \
	test "$WALL_MS" -ge $((U_ATTEMPTS * U_TIMEOUT_S * 1000))
u_run "body trickled a byte per 200 ms (trickle)" 16 trickle
check "trickle: every try waited out upstream.timeout (run took ${WALL_MS} ms)" \
	test "$WALL_MS" -ge $((U_ATTEMPTS * U_TIMEOUT_S * 1000))
u_run "random bytes as JSON (garbage)" 16 garbage
u_run "HTML instead of JSON (nonjson)" 16 nonjson
u_run "invalid UTF-8 in newToken (badutf8)" 16 badutf8
u_run "200 KiB body over max_response_bytes (huge)" 16 huge
u_run "100 KiB header line (bighdr)" 16 bighdr
u_run "5000 header lines (manyhdr)" 16 manyhdr
u_run "5000 Set-Cookie lines (manycookie)" 16 manycookie
u_run "hostile Set-Cookie lines (evilcookie)" 16 evilcookie
# What was stored goes back out as one clean Cookie header: due again, the rows (now ok-X)
# send AWSALB=X, PHPSESSID, AWSALBCORS=X and the odd but valid EVIL, nothing else.
q "UPDATE auth_sessions SET last_token_update_date = now() - interval '1 hour'"
fake_clear
run_refresher -c "$TEST_TMP/u.yaml"
check_eq "evilcookie: the next run refreshes the 16 rows, sending each its stored cookies as they are" \
	"0 16 16" "$RUN_RC $(summary_field refreshed) $(jq -Rn '[inputs | fromjson? | select(.ev == "req")
		| (.token | ltrimstr("ok-")) as $x
		| select(.cookie == "AWSALB=\($x); PHPSESSID=keep; AWSALBCORS=\($x); EVIL=\"}],\"name\":\"x")]
		| length' "$FAKE_LOG")"
# Mixed with faults that leave keep-alive connections in libcurl's pool, a reset row's try often
# goes out on a reused connection: libcurl would send it again by itself (bug 2, f_90), and
# still each reset row makes exactly retry.attempts requests.
u_run "all of them at once" 32 chaos reset partial hang trickle garbage nonjson badutf8 huge \
	bighdr manyhdr manycookie evilcookie
q "DROP TABLE IF EXISTS orig, ulog, uspec"
fake_stop
