# shellcheck shell=bash
# shellcheck disable=SC2016,SC2034 # ${VAR} in configs is for refresher to expand; variables are shared with the case files
# t_62_json.sh - the json profile end to end, with the example refresher.json.yaml on the table of
# sql/oauth2/, against the fake's JSON refresh API (POST /api/auth/refresh; /api/v2/refresh
# nests its answers): rotation or not, nested answers, expiry from expires_in, expires_at (unix
# seconds, RFC 3339) or the JWT, logout statuses, 429 with Retry-After, each bad answer failing
# its row alone, {access_token} templates (rows without one fail unsent), JSON escaping of what
# is sent and stored, the token guard on writes and deletes, where and keep_when, and the config
# errors of --check-config. Every token the table holds joins t_99's secret scan (record_secrets
# in every run_refresher), and so does the API key header.

psql -X -q -v ON_ERROR_STOP=1 -f "$REPO_ROOT/sql/oauth2/001_oauth_sessions.sql" >/dev/null
fake_start
JSON_URL_FLAT="http://127.0.0.1:$FAKE_PORT/api/auth/refresh"
JSON_URL_NESTED="http://127.0.0.1:$FAKE_PORT/api/v2/refresh"
export AUTH_REFRESH_URL=$JSON_URL_FLAT
JSON_API_KEY="apikey-$(rand_hex)"
JSON_CLIENT_TAG="web-$(rand_hex 4)"
export JSON_API_KEY JSON_CLIENT_TAG
printf '%s\n' "$JSON_API_KEY" >>"$TEST_TMP/secrets.txt"
JSON_UA="refresher-json-test/1.0"

# jseed N PREFIX [ACCESS_SQL] [EMAIL]: N due rows (no expiry; refreshed a minute ago, so not
# stale), refresh tokens PREFIX-<md5>; access token ACCESS_SQL, an SQL expression over t (the
# row's refresh token), NULL by default; emails jN@example.com, or EMAIL.
jseed() {
	q "INSERT INTO oauth_sessions (user_email, refresh_token, access_token, created_at,
	                               last_token_update_date)
	   SELECT coalesce(NULLIF('${4:-}', ''), 'j' || g || '@example.com'), t, ${3:-NULL},
	          now() - interval '1 hour', now() - interval '1 minute'
	   FROM (SELECT g, '$2-' || md5(random()::text || g) AS t FROM generate_series(1, $1) g) s"
}

# jcfg [KEY=YAML...] [+SECTION=LINE...]: writes $TEST_TMP/json.yaml: the example
# refresher.json.yaml with upstream.json's KEY set to YAML, LINE added at the top of SECTION
# (database, upstream, refresh), user_agent JSON_UA, fast retries and debug logs. A KEY or
# SECTION the example lacks is a failure (the example changed under the test).
jcfg() {
	local out=$TEST_TMP/json.yaml arg key val
	cp "$REPO_ROOT/refresher.json.yaml" "$out"
	for arg in "+upstream=  user_agent: \"$JSON_UA\"" "$@"; do
		key=${arg%%=*} val=${arg#*=}
		if [[ "$key" == +* ]]; then
			grep -q "^${key#+}:\$" "$out" || _fail "jcfg: no section ${key#+} in refresher.json.yaml"
			L="$val" awk -v s="${key#+}:" '{ print } $0 == s { print ENVIRON["L"] }' "$out" >"$out.new"
		else
			sed -n '/^  json:$/,/^  [a-z]/p' "$out" | grep -q "^    $key: " ||
				_fail "jcfg: no upstream.json.$key in refresher.json.yaml"
			L="    $key: $val" awk -v k="    $key: " '
				/^  json:$/ { j = 1; print; next }
				j && /^  [a-z]/ { j = 0 }
				j && index($0, k) == 1 { $0 = ENVIRON["L"] }
				{ print }' "$out" >"$out.new"
		fi
		mv "$out.new" "$out"
	done
	printf 'retry:\n  attempts: 3\n  base_delay: 10ms\n  max_delay: 1500ms\nlog:\n  level: debug\n' >>"$out"
	chmod 600 "$out"
}

# jsnap: j_before := the table as it is now (the rows' tokens before a run).
jsnap() {
	q "DROP TABLE IF EXISTS j_before; CREATE TABLE j_before AS SELECT * FROM oauth_sessions"
}

# jq_rows PREFIX SQL_SELECT: the SELECT list over o (the row now) and b (before), for the rows
# whose token before began with PREFIX-, one line per row in token order.
jq_rows() {
	q "SELECT $2 FROM oauth_sessions o JOIN j_before b USING (id)
	   WHERE starts_with(b.refresh_token, '$1-') ORDER BY b.refresh_token"
}

# jexp PREFIX SECONDS: prints one line per row of PREFIX: "t" when its access token expires
# SECONDS from now (within a minute), else the seconds it does.
jexp() {
	jq_rows "$1" "CASE WHEN abs(extract(epoch FROM o.access_token_expires_at - now()) - $2) < 60
	              THEN 't' ELSE coalesce(round(extract(epoch FROM o.access_token_expires_at - now()))::text, 'NULL') END"
}

# jflog JQ_FILTER: runs JQ_FILTER over the array of the fake's request log lines.
jflog() {
	jq -s "[.[] | select(.ev == \"req\")] | $1" "$FAKE_LOG"
}

# jcalls SQL_WHERE: prints how many requests the fake logged for the tokens that the rows of
# j_before matching SQL_WHERE held.
jcalls() {
	q "SELECT refresh_token FROM j_before WHERE $1" | jq -R . | jq -s . >"$TEST_TMP/j_tokens.json"
	jq -s --slurpfile t "$TEST_TMP/j_tokens.json" \
		'[.[] | select(.ev == "req") | .token as $x | select($t[0] | any(.[]; . == $x))] | length' \
		"$FAKE_LOG"
}

# jfailed PREFIX REGEX: checks that the rows of PREFIX are there and failed with a reason
# matching REGEX, otherwise as they were (tokens, expiry, count, date; claim released), each
# reason one line without the row's token or a hex string of the fake's answers.
jfailed() {
	local n state reasons
	n=$(jq_rows "$1" "1" | grep -c .)
	state=$(jq_rows "$1" "(o.refresh_token = b.refresh_token
	                       AND o.access_token IS NOT DISTINCT FROM b.access_token
	                       AND o.access_token_expires_at IS NOT DISTINCT FROM b.access_token_expires_at
	                       AND o.token_update_count = b.token_update_count
	                       AND o.last_token_update_date = b.last_token_update_date
	                       AND o.token_update_claimed_until IS NULL)::text" | sort -u)
	reasons=$(jq_rows "$1" "coalesce(o.last_token_update_error, 'NULL')")
	check_eq "$1 ($n rows): failed; tokens, expiry, count and date untouched; claim released" true "$state" ||
		return 1
	check_eq "$1: the reason says why ($2): $(head -n 1 <<<"$reasons")" "$n" "$(grep -cE -- "$2" <<<"$reasons")"
	check "$1: the reason is one line, without a token" bash -c '
		[[ $(grep -c . <<<"$1") == "$3" ]] || exit 1
		! grep -qE "[0-9a-f]{32}" <<<"$1" && ! grep -qF -f <(printf "%s\n" "$2") <<<"$1"' \
		_ "$reasons" "$(jq_rows "$1" "b.refresh_token")" "$n"
}

# --- the example config: rotation, no rotation, expiry forms, 429, logout, bad answers -------
jcfg
jseed 3 jr
for m in jkeep jjwt jstrin jrtnull jlimit jflaky jlogout jforbid jdown jarray jstring jnull jempty \
	jnonjson jexpobj jatnum jatempty jatctl jnoat jrtempty jrtnum jnoexp jhuge; do
	jseed 1 "$m"
done
jseed 1 'jesc-q"b\s'
jsnap
run_refresher -c "$TEST_TMP/json.yaml"
check_eq "json: exit 1 (rows failed); due refreshed logged_out failed superseded released retries" \
	"1 27 10 1 16 0 0 4" \
	"$RUN_RC $(summary_field due) $(summary_field refreshed) $(summary_field logged_out) $(summary_field failed) $(summary_field superseded) $(summary_field released) $(summary_field retries)"
check_eq "json rotation: new refresh token, the JWT access token, expiresIn 900, count 1, no error, claim released" \
	"$(printf 't|t|t|1|t|t\n%.0s' 1 2 3 4 5)" \
	"$(for m in jr jlimit jflaky; do jq_rows "$m" "(o.refresh_token ~ '^jr-[0-9a-f]{32}\$')::text || '|' ||
		(o.access_token LIKE 'eyJ%')::text || '|' ||
		(abs(extract(epoch FROM o.access_token_expires_at - now()) - 900) < 60)::text || '|' ||
		o.token_update_count || '|' || (o.last_token_update_error IS NULL)::text || '|' ||
		(o.token_update_claimed_until IS NULL AND o.last_token_update_date > now() - interval '1 minute')::text"; done | sed 's/true/t/g')"
check_eq "json rotation: the rows hold exactly the tokens the fake issued (7 rotated)" "7 " \
	"$(q "SELECT o.refresh_token FROM oauth_sessions o JOIN j_before b USING (id) WHERE o.refresh_token <> b.refresh_token" |
		sort >"$TEST_TMP/j_rotated"; wc -l <"$TEST_TMP/j_rotated") $(comm -23 "$TEST_TMP/j_rotated" <(fake_issued_tokens | sort) | head -n 3)"
check_eq "json no rotation (no refreshToken member): token kept; expiresIn 600 wins over the JWT's 3000" \
	"t|t|t" "$(jq_rows jkeep "(o.refresh_token = b.refresh_token)::text || '|' || (o.access_token LIKE 'eyJ%')::text" | sed 's/true/t/g')|$(jexp jkeep 600)"
check_eq "json: without expiresIn the expiry is the JWT's exp (~30 min); token kept" "t|t" \
	"$(jq_rows jjwt "(o.refresh_token = b.refresh_token)::text" | sed 's/true/t/')|$(jexp jjwt 1800)"
check_eq "json: expiresIn as a string of digits (\"1200\"); rotated" "t|t" \
	"$(jq_rows jstrin "(o.refresh_token ~ '^jstrin-')::text" | sed 's/true/t/')|$(jexp jstrin 1200)"
check_eq "json: refreshToken null keeps the token" "t|t" \
	"$(jq_rows jrtnull "(o.refresh_token = b.refresh_token AND o.access_token LIKE 'at-%')::text" | sed 's/true/t/')|$(jexp jrtnull 900)"
check_eq "json: a token with \" and \\ arrives intact (as the fake's own JSON reader decodes it)" \
	"$(jq_rows jesc b.refresh_token)" \
	"$(jflog '.[] | select(.token | startswith("jesc-")) | .token' | jq -r .)"
check_eq "json: a rotated token sent with escapes (\\\" \\\\ \\/ \\u0041) is stored decoded, as issued" \
	"t|$(fake_issued_tokens | grep '^jesc-')" \
	"$(jq_rows jesc "(o.refresh_token ~ '^jesc-q\"b\\\\s/A-[0-9a-f]{32}\$')::text || '|' || o.refresh_token" | sed 's/^true/t/')"
check_eq "json: every body is {\"refreshToken\": the row's token} as jq parses it; the fake found none wrong" \
	"31 true true" \
	"$(jflog 'length') $(jflog 'map((.form | fromjson) == {refreshToken: .token}) | all') $(jflog 'map(.json == "") | all')"
check_eq "json: POST /api/auth/refresh, Content-Type application/json, user_agent; no cookie, no Authorization" \
	"[\"/api/auth/refresh|application/json|$JSON_UA||\"]" \
	"$(jflog 'map("\(.path)|\(.ct)|\(.ua)|\(.cookie)|\(.auth)") | unique' | jq -c .)"
check_eq "json: each row called once, but 429 and 503 (once) and 500 (3 tries)" \
	'["jdown:3","jflaky:2","jlimit:2"]' \
	"$(jflog 'group_by(.token) | map(select(length > 1) | "\(.[0].token | split("-")[0]):\(length)")' | jq -c .)"
check "json 429: the retry waited for Retry-After: 1" \
	test "$(jflog 'map(select(.token | startswith("jlimit-")) | .t_us) | .[1] - .[0]')" -ge 900000
check_eq "json 401: the row is deleted" 0 "$(q "SELECT count(*) FROM oauth_sessions WHERE refresh_token LIKE 'jlogout-%'")"
jfailed jforbid 'HTTP 403'
jfailed jdown 'HTTP 500'
for m in jarray jstring jnull jempty jnonjson; do jfailed "$m" 'not a JSON object'; done
jfailed jexpobj '/expiresIn'
for m in jatnum jatempty jatctl; do jfailed "$m" 'access token.*/accessToken'; done
jfailed jnoat 'no access token.*/accessToken'
for m in jrtempty jrtnum; do jfailed "$m" '/refreshToken'; done
jfailed jnoexp 'no expiry'
jfailed jhuge 'over [0-9]+ bytes'

# --- absolute expiry: expires_at as unix seconds and as RFC 3339 -------------------------------
q "DELETE FROM oauth_sessions"
: >"$FAKE_LOG"
jcfg expires_at=/expiresAt
for m in jat jrfc jrfcneg jrfcz jboth jkeep jexpbad; do jseed 1 "$m"; done
jsnap
run_refresher -c "$TEST_TMP/json.yaml"
check_eq "json expires_at: exit 1, 6 refreshed, 1 failed" "1 6 1" \
	"$RUN_RC $(summary_field refreshed) $(summary_field failed)"
check_eq "json expires_at: unix seconds (now+2700, over the JWT's 1800)" t "$(jexp jat 2700)"
check_eq "json expires_at: RFC 3339 at +02:00 (now+3600)" t "$(jexp jrfc 3600)"
check_eq "json expires_at: RFC 3339 at -05:30 (now+5400)" t "$(jexp jrfcneg 5400)"
check_eq "json expires_at: RFC 3339 with milliseconds and Z (now+4500)" t "$(jexp jrfcz 4500)"
check_eq "json expires_at: expiresIn wins over expiresAt" t "$(jexp jboth 900)"
check_eq "json expires_at: absent, expiresIn still counts" t "$(jexp jkeep 600)"
jfailed jexpbad 'expires_at.*/expiresAt'

# --- nested answers: pointers into {"data":{"tokens":{...}}} -----------------------------------
q "DELETE FROM oauth_sessions"
: >"$FAKE_LOG"
AUTH_REFRESH_URL=$JSON_URL_NESTED
jcfg token=/data/tokens/refreshToken access_token=/data/tokens/accessToken expires_in=/data/tokens/expiresIn
jseed 2 jr
for m in jkeep jjwt jatempty; do jseed 1 "$m"; done
jsnap
run_refresher -c "$TEST_TMP/json.yaml"
check_eq "json nested: exit 1, 4 refreshed, 1 failed; all to /api/v2/refresh" "1 4 1 [\"/api/v2/refresh\"]" \
	"$RUN_RC $(summary_field refreshed) $(summary_field failed) $(jflog 'map(.path) | unique' | jq -c .)"
check_eq "json nested: rotation (jr-, expiry 900), no rotation (600), JWT expiry (1800)" \
	"$(printf 't|t\nt|t\nt|t\nt|t')" \
	"$(jq_rows jr "(o.refresh_token ~ '^jr-' AND o.access_token LIKE 'eyJ%')::text" | sed 's/true/t/' | paste -d'|' - <(jexp jr 900))
$(jq_rows jkeep "(o.refresh_token = b.refresh_token)::text" | sed 's/true/t/')|$(jexp jkeep 600)
$(jq_rows jjwt "(o.refresh_token = b.refresh_token)::text" | sed 's/true/t/')|$(jexp jjwt 1800)"
jfailed jatempty '/data/tokens/accessToken'
q "DELETE FROM oauth_sessions"
jcfg
jseed 2 jr
jsnap
run_refresher -c "$TEST_TMP/json.yaml"
check_eq "json nested answers, flat pointers: exit 1, both failed" "1 0 2" \
	"$RUN_RC $(summary_field refreshed) $(summary_field failed)"
jfailed jr 'no access token at /accessToken'
AUTH_REFRESH_URL=$JSON_URL_FLAT

# --- access_token: "": the rotated token is all there is, so it is required --------------------
q "DELETE FROM oauth_sessions"
jcfg access_token='""'
jseed 1 jr
jseed 1 jkeep
jsnap
run_refresher -c "$TEST_TMP/json.yaml"
check_eq "json access_token \"\": exit 1, the rotated row refreshed (expiry 900), the unrotated one failed" \
	"1 1 1 t|t" \
	"$RUN_RC $(summary_field refreshed) $(summary_field failed) $(jq_rows jr "(o.refresh_token ~ '^jr-[0-9a-f]{32}\$')::text" | sed 's/true/t/')|$(jexp jr 900)"
jfailed jkeep 'no token at /refreshToken'

# --- {access_token} and ${VAR} in body and headers; rows without an access token fail unsent ---
q "DELETE FROM oauth_sessions"
: >"$FAKE_LOG"
jcfg 'body={ refreshToken: "{token}", accessToken: "{access_token}", client: "${JSON_CLIENT_TAG}" }' \
	'headers={ Authorization: "Bearer {access_token}", X-Api-Key: "${JSON_API_KEY}" }'
jseed 2 jbearer "'at-' || t"
jseed 1 'jesc-q"b\s' "'at-' || t"
jseed 1 jbnull NULL
jseed 1 jbempty "''"
jsnap
run_refresher -c "$TEST_TMP/json.yaml"
check_eq "json templates: exit 1, 3 refreshed, 2 failed (no access token)" "1 3 2" \
	"$RUN_RC $(summary_field refreshed) $(summary_field failed)"
check_eq "json templates: no request for the rows without an access token (3 requests in all)" "3 0" \
	"$(fake_count_requests) $(jcalls "access_token IS NULL OR access_token = ''")"
jfailed jbnull 'access.token'
jfailed jbempty 'access.token'
check_eq "json templates: Authorization is exactly \"Bearer <the row's access token>\" (\" and \\ too), X-Api-Key from \${JSON_API_KEY}" \
	'["ok"] true' "$(jflog 'map(.bearer) | unique' | jq -c .) $(jflog "map(.xkey == \"$JSON_API_KEY\") | all")"
check_eq "json templates: each body, as jq parses it, is {refreshToken, accessToken, client} of the row" "true" \
	"$(jflog "map((.form | fromjson) == {refreshToken: .token, accessToken: (\"at-\" + .token), client: \"$JSON_CLIENT_TAG\"}) | all")"
check_eq "json templates: rows rotated, their new access token stored (the fake's at-<new token>)" \
	"true true true" "$(jq_rows jbearer "(o.refresh_token ~ '^jbearer-[0-9a-f]{32}\$' AND o.access_token = 'at-' || o.refresh_token)::text" | paste -sd' ') $(jq_rows jesc "(o.refresh_token ~ '^jesc-q\"b\\\\s/A-[0-9a-f]{32}\$' AND o.access_token = 'at-' || o.refresh_token)::text")"
q "SELECT refresh_token FROM oauth_sessions WHERE token_update_count = 1 ORDER BY 1" >"$TEST_TMP/j_tokens1"
: >"$FAKE_LOG"
run_refresher -c "$TEST_TMP/json.yaml" --stale-after 0
check_eq "json templates, next run: the 3 rows refreshed again, sending the tokens the last run stored" \
	"1 3 2 $(paste -sd' ' "$TEST_TMP/j_tokens1") true" \
	"$RUN_RC $(summary_field refreshed) $(summary_field failed) $(jflog 'map(.token) | sort | join(" ")' | jq -r .) $(jflog 'map(.bearer == "ok") | all')"

# --- logout_status: [401, 403] ----------------------------------------------------------------
q "DELETE FROM oauth_sessions"
jcfg 'logout_status=[401, 403]'
for m in jlogout jforbid jr; do jseed 1 "$m"; done
run_refresher -c "$TEST_TMP/json.yaml"
check_eq "json logout_status [401, 403]: exit 0, 401 and 403 rows deleted, the other refreshed" \
	"0 2 1 0 1" \
	"$RUN_RC $(summary_field logged_out) $(summary_field refreshed) $(q "SELECT count(*) FROM oauth_sessions WHERE refresh_token ~ '^(jlogout|jforbid)-'") $(q "SELECT count(*) FROM oauth_sessions")"

# --- database.where and refresh.keep_when under json -------------------------------------------
q "DELETE FROM oauth_sessions"
: >"$FAKE_LOG"
jcfg "+database=  where: \"user_email NOT LIKE 'skip%'\"" "+refresh=  keep_when: \"user_email LIKE 'keep%'\""
jseed 1 jr "" skip@example.com
jseed 1 jlogout "" skiplogout@example.com
jseed 1 jlogout "" keep@example.com
jseed 1 jlogout "" gone@example.com
jseed 1 jr "" in@example.com
jsnap
run_refresher -c "$TEST_TMP/json.yaml" --dry-run
check_eq "json where: --dry-run lists the 3 matching rows" 3 "$(wc -l <"$RUN_OUT")"
run_refresher -c "$TEST_TMP/json.yaml"
check_eq "json where/keep_when: exit 0, due 3, refreshed 1, logged out 2" "0 3 1 2" \
	"$RUN_RC $(summary_field due) $(summary_field refreshed) $(summary_field logged_out)"
check_eq "json where: the 2 skip rows never called, exactly as they were" "0 2" \
	"$(jcalls "user_email LIKE 'skip%'") $(q "SELECT count(*) FROM (SELECT * FROM oauth_sessions WHERE user_email LIKE 'skip%' INTERSECT SELECT * FROM j_before) d")"
check_eq "json keep_when: the 401 row is kept: error logout, date now, token untouched; the other deleted" \
	"logout|t|t 0" \
	"$(q "SELECT o.last_token_update_error || '|' || (o.last_token_update_date > now() - interval '1 minute')::text || '|' || (o.refresh_token = b.refresh_token)::text FROM oauth_sessions o JOIN j_before b USING (id) WHERE o.user_email = 'keep@example.com'" | sed 's/true/t/g') $(q "SELECT count(*) FROM oauth_sessions WHERE user_email = 'gone@example.com'")"
check_eq "json keep_when: one warning says the row was kept" 1 "$(grep -E '^[^ ]+ warn ' "$RUN_ERR" | grep -ci 'kept')"

# --- a body over max_response_bytes fails at once, whatever the status (SPEC: any status) ----
q "DELETE FROM oauth_sessions"
: >"$FAKE_LOG"
jcfg
for m in jhuge jhuge401 jhuge503; do jseed 1 "$m"; done
jsnap
run_refresher -c "$TEST_TMP/json.yaml"
check_eq "json oversized answers: exit 1, all 3 failed, no retry, one request each" "1 3 0 3" \
	"$RUN_RC $(summary_field failed) $(summary_field retries) $(fake_count_requests)"
for m in jhuge jhuge401 jhuge503; do jfailed "$m" 'over [0-9]+ bytes'; done

# --- the token guard: a user logs in again while we call; nothing written, nothing deleted ----
q "DELETE FROM oauth_sessions"
: >"$FAKE_LOG"
fake_hold
jcfg
jseed 1 jhold
jseed 1 jholdlogout
run_refresher_bg jsup -c "$TEST_TMP/json.yaml"
j_pid=$BG_PID
wait_for fake_requests_at_least jhold 1
wait_for fake_requests_at_least jholdlogout 1
q "UPDATE oauth_sessions SET refresh_token = 'relogin-' || md5(random()::text),
                             access_token = 'user-own-access-' || md5(random()::text)"
fake_release
bg_wait "$j_pid" jsup
check_eq "json superseded: exit 0, both counted superseded; rotation and 401 answered" "0 2 [200,401]" \
	"$RUN_RC $(summary_field superseded) $(jq -sc '[.[] | select(.ev == "resp") | .status] | sort' "$FAKE_LOG")"
check_eq "json superseded: both rows kept with the user's new tokens; claims released" "2|2|0|0" \
	"$(q "SELECT count(*) FILTER (WHERE refresh_token LIKE 'relogin-%') || '|' ||
	             count(*) FILTER (WHERE access_token LIKE 'user-own-access-%') || '|' ||
	             sum(token_update_count) || '|' || count(token_update_claimed_until) FROM oauth_sessions")"

# --- config errors at --check-config: exit 2, file:line:col, the key named -----------------------
# jbad NAME KEY_REGEX LINE_REGEX [jcfg ARGS...]: NAME.yaml from jcfg ARGS; --check-config exits 2
# naming NAME.yaml at a line that LINE_REGEX matches in it (grep -E) and a key that KEY_REGEX
# matches.
jbad() {
	local name=$1 key=$2 lre=$3 file=$TEST_TMP/$1.yaml lines
	shift 3
	jcfg "$@"
	mv "$TEST_TMP/json.yaml" "$file"
	lines=$(grep -nE -- "$lre" "$file" | cut -d: -f1 | paste -sd'|')
	run_refresher -c "$file" --check-config
	check_eq "json config $name: --check-config exits 2" 2 "$RUN_RC"
	check "json config $name: $name.yaml:(${lines:-?}):col: $key" \
		grep -qE "$name\\.yaml:(${lines:-x}):[0-9]+: $key" "$RUN_ERR"
}
jcfg
run_refresher -c "$TEST_TMP/json.yaml" --check-config
check_eq "json config: the example passes --check-config" "0 config OK" "$RUN_RC $(cat "$RUN_OUT")"
jbad bothempty 'upstream\.json\.(token|access_token)' '^    (token|access_token): ""' token='""' access_token='""'
jbad noslash 'upstream\.json\.token' '^    token: refreshToken' token=refreshToken
jbad noslashexp 'upstream\.json\.expires_at' '^    expires_at: expiresAt' expires_at=expiresAt
jbad bodymap 'upstream\.json\.body' '^    body: ' 'body={ refreshToken: "{token}", device: { id: "d1" } }'
jbad bodyseq 'upstream\.json\.body' '^    body: ' 'body={ refreshToken: "{token}", scopes: [a, b] }'
jbad bodybool 'upstream\.json\.body' '^    body: ' 'body={ refreshToken: "{token}", remember: true }'
jbad ctype 'upstream\.json\.headers' '^    headers: ' 'headers={ Content-Type: text/plain }'
jbad ctypelower 'upstream\.json\.headers' '^    headers: ' 'headers={ content-type: application/json }'
jbad clength 'upstream\.json\.headers' '^    headers: ' 'headers={ Content-Length: "10" }'
jbad form 'upstream\.form' '^  form: ' '+upstream=  form: { scope: "all" }'
jbad s429 'upstream\.json\.logout_status' '^    logout_status: ' 'logout_status=[401, 429]'
jbad s503 'upstream\.json\.logout_status' '^    logout_status: ' 'logout_status=[503]'
jseed 1 jr
jsnap
: >"$FAKE_LOG"
run_refresher -c "$TEST_TMP/s429.yaml"
check_eq "json config error on a real run: exit 2, nothing claimed, nothing called" "2 0 0" \
	"$RUN_RC $(q "SELECT count(*) FROM (SELECT * FROM oauth_sessions EXCEPT SELECT * FROM j_before) d") $(fake_count_requests)"
sed '/^upstream:$/a\  json: { token: /refreshToken }' "$REPO_ROOT/refresher.oauth2.yaml" >"$TEST_TMP/oauthjson.yaml"
OAUTH_TOKEN_URL=http://127.0.0.1:1/oauth/token OAUTH_CLIENT_ID=c OAUTH_CLIENT_SECRET=s \
	run_refresher -c "$TEST_TMP/oauthjson.yaml" --check-config
check_eq "json config: upstream.json under profile oauth2 is an error naming it" "2 1" \
	"$RUN_RC $(grep -cE 'oauthjson\.yaml:[0-9]+:[0-9]+: upstream\.json' "$RUN_ERR")"

fake_stop
q "DROP TABLE IF EXISTS j_before; DROP TABLE oauth_sessions"
unset -f jseed jcfg jsnap jq_rows jexp jflog jcalls jfailed jbad
unset m j_pid JSON_URL_FLAT JSON_URL_NESTED JSON_UA
