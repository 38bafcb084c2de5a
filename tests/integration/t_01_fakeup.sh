# shellcheck shell=bash
# shellcheck disable=SC2016,SC2034 # ${VAR} in configs is for refresher to expand; variables are shared with the case files
# t_01_fakeup.sh - self-test of the fake upstream (build/fakeup), so later tests can trust it.
# Sourced by run.sh (lib.sh loaded). Talks to the fake with curl only.
# shellcheck disable=SC2317 # the f_* helpers are called through check and wait_for

F_DIR=$TEST_TMP/t01
mkdir -p "$F_DIR"

# POSTs a tokenUpdate for token $1 like the refresher would. Writes the body to $F_DIR/body and
# the headers to $F_DIR/headers, the seconds it took to $F_DIR/time; prints the HTTP status (000
# when there was none) and returns curl's exit status. Extra curl arguments follow the token.
f_post() {
	local token=$1
	shift
	curl -s -o "$F_DIR/body" -D "$F_DIR/headers" -w '%{http_code}%{stderr}%{time_total}' \
		--max-time 10 2>"$F_DIR/time" \
		-A 'refresher-test/1.0' -H 'Cookie: AWSALB=old; PHPSESSID=p1' \
		--data-urlencode "token=$token" --data-urlencode 'fingerprint=fp 1+x' \
		--data 'ciclo=1' "$@" "$FAKE_URL"
}

# Prints the value of header $1 (first one, CR stripped) from the last f_post.
f_header() {
	grep -i "^$1:" "$F_DIR/headers" | head -n 1 | cut -d' ' -f2- | tr -d '\r'
}

# Prints the newToken of the last body when it is ok-<32 hex>, else fails.
f_new_token_ok() {
	jq -er '.newToken | select(test("^ok-[0-9a-f]{32}$"))' "$F_DIR/body"
}

# Prints the value of the fake's /stats field $1.
f_stat() {
	fake_stats | jq -r ".$1"
}

# Succeeds when the fake's in_flight equals $1.
f_in_flight_is() {
	[[ "$(f_stat in_flight)" == "$1" ]]
}

# Succeeds when the log holds a resp line for token $1 with status $2.
f_logged_resp() {
	jq -Rne --arg t "$1" --argjson s "$2" \
		'[inputs | fromjson? | select(.ev == "resp" and .token == $t and .status == $s)] | length > 0' \
		"$FAKE_LOG" >/dev/null
}

# Prints field $2 of the req log line for token $1.
f_logged_req() {
	jq -Rnr --arg t "$1" --arg f "$2" \
		'[inputs | fromjson? | select(.ev == "req" and .token == $t)][0][$f]' "$FAKE_LOG"
}

# Sends a tokenUpdate for token $1 over a bare TCP connection and writes the raw answer, byte
# for byte, to $F_DIR/raw (curl would refuse or rewrite some of the hostile ones).
f_raw() {
	local body="token=$1"
	exec 3<>"/dev/tcp/127.0.0.1/$FAKE_PORT" || return 1
	printf 'POST /api/tokenUpdate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s' \
		"${#body}" "$body" >&3
	timeout 10 cat <&3 >"$F_DIR/raw"
	exec 3<&-
}

# Prints the hex part of the ok- token in the last raw answer's body.
f_raw_token_hex() {
	grep -ao '"newToken":"ok-[0-9a-f]\{32\}"}$' "$F_DIR/raw" | sed 's/.*ok-\([0-9a-f]*\).*/\1/'
}

# Prints how many lines of the last raw answer match the grep regex $1.
f_raw_count() {
	grep -ac -- "$1" "$F_DIR/raw"
}

# Succeeds when the fake's stats field connections equals $1.
f_connections_is() {
	[[ "$(f_stat connections)" == "$1" ]]
}

fake_start --slow-ms 300 --trickle-ms 20

# ok
check_eq "ok: status 200" 200 "$(f_post ok-1)"
check "ok: newToken is ok-<32 hex>" f_new_token_ok
check_eq "ok: JSON content type" "application/json" "$(f_header Content-Type)"
check_match "ok: Set-Cookie AWSALB with Expires and Path" \
	'^AWSALB=[0-9a-f]+; Expires=Tue, 01 Dec 2099 00:00:00 GMT; Path=/$' \
	"$(grep -i '^Set-Cookie: AWSALB=' "$F_DIR/headers" | cut -d' ' -f2- | tr -d '\r')"
check_match "ok: Set-Cookie AWSALBCORS with SameSite=None; Secure" \
	'^AWSALBCORS=[0-9a-f]+; Expires=Tue, 01 Dec 2099 00:00:00 GMT; Path=/; SameSite=None; Secure$' \
	"$(grep -i '^Set-Cookie: AWSALBCORS=' "$F_DIR/headers" | cut -d' ' -f2- | tr -d '\r')"
check_eq "ok: Set-Cookie PHPSESSID (not to be captured)" "PHPSESSID=fake-not-captured; Path=/" \
	"$(grep -i '^Set-Cookie: PHPSESSID=' "$F_DIR/headers" | cut -d' ' -f2- | tr -d '\r')"
check_eq "ok: three Set-Cookie headers" 3 "$(grep -ci '^Set-Cookie:' "$F_DIR/headers")"
check_eq "ok: AWSALB and AWSALBCORS carry the token's own hex (one answer ties them)" \
	"$(jq -r '.newToken | ltrimstr("ok-")' "$F_DIR/body") $(jq -r '.newToken | ltrimstr("ok-")' "$F_DIR/body")" \
	"$(grep -i '^Set-Cookie: AWSALB=' "$F_DIR/headers" | sed 's/^[^=]*=\([^;]*\);.*/\1/') $(grep -i '^Set-Cookie: AWSALBCORS=' "$F_DIR/headers" | sed 's/^[^=]*=\([^;]*\);.*/\1/')"
tok1=$(jq -r .newToken "$F_DIR/body")
f_post ok-1 >/dev/null
check "ok: every answer has a new token" test "$tok1" != "$(jq -r .newToken "$F_DIR/body")"
check_eq "ok: token without a dash" 200 "$(f_post ok)"
check "ok: token without a dash gets ok-<hex>" f_new_token_ok

# the request as logged
check_eq "log: token decoded" "ok-1" "$(f_logged_req ok-1 token)"
check_eq "log: fingerprint decoded" "fp 1+x" "$(f_logged_req ok-1 fingerprint)"
check_eq "log: raw form" "token=ok-1&fingerprint=fp+1%2Bx&ciclo=1" "$(f_logged_req ok-1 form)"
check_eq "log: Cookie header" "AWSALB=old; PHPSESSID=p1" "$(f_logged_req ok-1 cookie)"
check_eq "log: User-Agent" "refresher-test/1.0" "$(f_logged_req ok-1 ua)"
check_eq "log: Content-Type" "application/x-www-form-urlencoded" "$(f_logged_req ok-1 ct)"
check_eq "log: in_flight counted the request" 1 "$(f_logged_req ok-1 in_flight)"
check_match "log: monotonic t_us" '^[0-9]+$' "$(f_logged_req ok-1 t_us)"
check "log: resp line with status 200" f_logged_resp ok-1 200
check_eq "log: the resp line records the token issued (the last answer, to token ok)" \
	"$(jq -r .newToken "$F_DIR/body")" \
	"$(jq -Rr 'fromjson? | select(.ev == "resp" and .token == "ok") | .issued' "$FAKE_LOG")"
check_eq "fake_issued_tokens: lists the issued tokens" "$(jq -r .newToken "$F_DIR/body")" \
	"$(fake_issued_tokens | tail -n 1)"
check_eq "log: no Cookie header logs empty" "" \
	"$(curl -s -o /dev/null --data 'token=nocookie-1' "$FAKE_URL"; f_logged_req nocookie-1 cookie)"
check "log: every line is JSON" jq -e . "$FAKE_LOG"

# logout answers
check_eq "logout: status 200" 200 "$(f_post logout-1)"
check_eq "logout: body" '{"logout":1}' "$(cat "$F_DIR/body")"
check_eq "logout: logged with no issued token" "200 null" \
	"$(jq -Rr 'fromjson? | select(.ev == "resp" and .token == "logout-1") | "\(.status) \(.issued)"' "$FAKE_LOG")"
check_eq "logoutnull: status 200" 200 "$(f_post logoutnull-1)"
check_eq "logoutnull: logout is null" "null" "$(jq -c '.logout' "$F_DIR/body")"
check "logoutnull: has a newToken" f_new_token_ok

# transient answers
check_eq "flaky: first 503" 503 "$(f_post flaky-1)"
check_eq "flaky: then 200" 200 "$(f_post flaky-1)"
check "flaky: then an ok token" f_new_token_ok
check_eq "flaky: another token starts at 503 again" 503 "$(f_post flaky-2)"
check_eq "flaky2: first 503" 503 "$(f_post flaky2-1)"
check_eq "flaky2: second 503" 503 "$(f_post flaky2-1)"
check_eq "flaky2: third 200" 200 "$(f_post flaky2-1)"
check_eq "down: 500" 500 "$(f_post down-1)"
check_eq "down: still 500" 500 "$(f_post down-1)"
check_eq "ratelimit: first 429" 429 "$(f_post ratelimit-1)"
check_eq "ratelimit: Retry-After: 1" 1 "$(f_header Retry-After)"
check_eq "ratelimit: then 200" 200 "$(f_post ratelimit-1)"
f_post reset-1 >/dev/null
check_eq "reset: connection closed without an answer (curl 52)" 52 "$?"
f_post reset-1 >/dev/null
check_eq "reset: every time" 52 "$?"
check "reset: logged with status 0" f_logged_resp reset-1 0

# failures
check_eq "bad: 400" 400 "$(f_post bad-1)"
check_eq "bad: body" '{"error":"bad"}' "$(cat "$F_DIR/body")"
check_eq "redirect: 302, not followed" 302 "$(f_post redirect-1)"
check_eq "redirect: Location" "/elsewhere" "$(f_header Location)"
check_eq "nonjson: 200" 200 "$(f_post nonjson-1)"
check_eq "nonjson: body" "<html>oops</html>" "$(cat "$F_DIR/body")"
check_eq "empty: 200" 200 "$(f_post empty-1)"
check_eq "empty: body" "{}" "$(cat "$F_DIR/body")"
check_eq "badtoken: 200" 200 "$(f_post badtoken-1)"
check_eq "badtoken: newToken with a DEL byte" "has\u007fDEL" "$(jq -r .newToken "$F_DIR/body" | jq -Rr @json | tr -d '"')"
check_eq "spacetoken: 200" 200 "$(f_post spacetoken-1)"
check_match "spacetoken: newToken 'ok HEX' (with a space)" '^ok [0-9a-f]{32}$' "$(jq -r .newToken "$F_DIR/body")"
check_eq "huge: 200" 200 "$(f_post huge-1)"
check_eq "huge: 200 KiB body" 204800 "$(wc -c <"$F_DIR/body" | tr -d ' ')"
check "huge: valid JSON with an ok token" f_new_token_ok
check_eq "other prefix: answered like ok" 200 "$(f_post whatever-1)"
check "other prefix: ok token" f_new_token_ok

# slow, hang, hold
check_eq "slow: 200" 200 "$(f_post slow-1)"
check "slow: waits --slow-ms (300 ms)" awk -v t="$(cat "$F_DIR/time")" 'BEGIN { exit !(t >= 0.29) }'
f_post hang-1 --max-time 0.5 >/dev/null
check_eq "hang: no answer before the client gives up (curl 28)" 28 "$?"
check "hang: the handler ends when its client leaves" wait_for f_in_flight_is 0
check "hang: logged with status 0" f_logged_resp hang-1 0

f_post hold-1 --max-time 20 >"$F_DIR/hold.status" &
hold_pid=$!
wait_for f_in_flight_is 1
check "hold: still waiting while not released" kill -0 "$hold_pid"
check_eq "hold: logged as arrived" "hold-1" "$(f_logged_req hold-1 token)"
fake_release
wait "$hold_pid"
check_eq "hold: answers once released" 200 "$(cat "$F_DIR/hold.status")"
check_eq "hold: in_flight back to 0" 0 "$(f_stat in_flight)"
check_eq "holdlogout: released, answers logout" '200 {"logout":1}' \
	"$(f_post holdlogout-1) $(cat "$F_DIR/body")"

# stats
check_eq "stats: requests counts every POST" "$(fake_count_requests)" "$(f_stat requests)"
check_eq "fake_count_requests: by prefix" 3 "$(fake_count_requests flaky)"
check_eq "fake_count_requests: prefix is exact (flaky2 apart)" 3 "$(fake_count_requests flaky2)"
check_eq "fake_count_requests: full token" 2 "$(fake_count_requests ok-1)"
check "stats: reset-stats answers" fake_reset_stats
check_eq "stats: reset zeroes requests" 0 "$(f_stat requests)"
check_eq "stats: reset zeroes peak" 0 "$(f_stat peak_in_flight)"
check_eq "stats: reset forgets tokens seen (flaky 503 again)" 503 "$(f_post flaky-1)"
check_eq "stats: unknown GET is 404" 404 \
	"$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$FAKE_PORT/nope")"
head -c 1100000 /dev/zero | tr '\0' 'a' >"$F_DIR/big"
check_eq "body over 1 MiB: 413" 413 \
	"$(curl -s -o /dev/null -w '%{http_code}' --data-binary "@$F_DIR/big" "$FAKE_URL")"

# concurrency: many requests held at once, then released together
fake_reset_stats
fake_hold
f_pids=()
for i in $(seq 1 50); do
	curl -s -o /dev/null --max-time 20 --data "token=hold-c$i" "$FAKE_URL" &
	f_pids+=($!)
done
# 50 curl processes starting on a loaded 2-core machine (CI runs the suite beside others) may
# need longer than the usual wait to all be connected.
WAIT_TIMEOUT=60 wait_for f_in_flight_is 50
check_eq "concurrency: 50 held at once" 50 "$(f_stat in_flight)"
fake_release
wait "${f_pids[@]}"
check_eq "concurrency: peak_in_flight 50" 50 "$(f_stat peak_in_flight)"
check_eq "concurrency: all answered 200" 50 \
	"$(jq -Rn '[inputs | fromjson? | select(.ev == "resp" and (.token | startswith("hold-c"))
		and .status == 200)] | length' "$FAKE_LOG")"

# chaos, partial, trickle, garbage, badutf8
f_statuses=""
for i in $(seq 1 24); do
	f_statuses+=" $(f_post "chaos-$i")"
done
check_match "chaos: answers 200 or 500/502/503/504 ($f_statuses)" '^( (200|500|502|503|504))+$' "$f_statuses"
check_match "chaos: both ok and 5xx in 24 requests" ' 200.* 50[0234]| 50[0234].* 200' "$f_statuses"
check_eq "chaos: its 200 answers carry an issued ok token" \
	"$(grep -o ' 200' <<<"$f_statuses" | wc -l | tr -d ' ')" \
	"$(jq -Rn '[inputs | fromjson? | select(.ev == "resp" and (.token | startswith("chaos-"))
		and .status == 200 and (.issued | test("^ok-[0-9a-f]{32}$")))] | length' "$FAKE_LOG")"
f_post partial-1 >/dev/null
check_eq "partial: the body stops short of its Content-Length (curl 18)" 18 "$?"
check_eq "partial: what came of the body" '{"newToken":"ok-' "$(cat "$F_DIR/body")"
check "partial: logged with status 200" f_logged_resp partial-1 200
check_eq "trickle: 200" 200 "$(f_post trickle-1)"
check "trickle: a whole ok token in the end" f_new_token_ok
check "trickle: a byte per --trickle-ms (20 ms): 50 bytes take 1 s or more" \
	awk -v t="$(cat "$F_DIR/time")" 'BEGIN { exit !(t >= 0.95) }'
f_post trickle-2 --max-time 0.3 >/dev/null
check_eq "trickle: a client with a shorter timeout gives up mid-body (curl 28)" 28 "$?"
check_match "trickle: ... having got a few bytes" '^\{"newTo' "$(cat "$F_DIR/body")"
check "trickle: the answer ends when its client leaves" wait_for f_in_flight_is 0
check_eq "garbage: 200" 200 "$(f_post garbage-1)"
check_eq "garbage: 512 bytes" 512 "$(wc -c <"$F_DIR/body" | tr -d ' ')"
check "garbage: not JSON" bash -c '! jq -e . "$1" >/dev/null 2>&1' _ "$F_DIR/body"
check_eq "badutf8: 200" 200 "$(f_post badutf8-1)"
check_match "badutf8: a JSON object with a newToken" '^\{"newToken":"ok-' "$(head -c 16 "$F_DIR/body")"
check "badutf8: the body is not valid UTF-8" bash -c '! iconv -f UTF-8 -t UTF-8 "$1" >/dev/null 2>&1' _ "$F_DIR/body"

# raw answers: bighdr, manyhdr, manycookie, evilcookie (read over a bare socket)
f_raw bighdr-1
check_eq "bighdr: 200, closed after the answer" "HTTP/1.1 200 OK" "$(head -n 1 "$F_DIR/raw" | tr -d '\r')"
check_eq "bighdr: one header line of 100 KiB" "102400" \
	"$(grep -a '^X-Pad: ' "$F_DIR/raw" | tr -d '\r' | awk '{ print length($0) - 7 }')"
f_hex=$(f_raw_token_hex)
check_match "bighdr: an ok token in the body" '^[0-9a-f]{32}$' "$f_hex"
check_eq "bighdr: the ok cookies, tied to it" "1 1" \
	"$(f_raw_count "^Set-Cookie: AWSALB=$f_hex; Path=/"$'\r'"\$") $(f_raw_count "^Set-Cookie: AWSALBCORS=$f_hex; Path=/"$'\r'"\$")"
check_eq "bighdr: logged as issued" "ok-$f_hex" \
	"$(jq -Rr 'fromjson? | select(.ev == "resp" and .token == "bighdr-1") | "\(.issued)"' "$FAKE_LOG")"
f_raw manyhdr-1
check_eq "manyhdr: 5000 junk header lines" 5000 "$(f_raw_count '^X-Junk-[0-9]*: value-[0-9]*')"
f_hex=$(f_raw_token_hex)
check_eq "manyhdr: then the ok cookies, tied to the token" "1 1" \
	"$(f_raw_count "^Set-Cookie: AWSALB=$f_hex;") $(f_raw_count "^Set-Cookie: AWSALBCORS=$f_hex;")"
f_raw manycookie-1
f_hex=$(f_raw_token_hex)
check_eq "manycookie: 5002 Set-Cookie lines" 5002 "$(f_raw_count '^Set-Cookie: ')"
check_eq "manycookie: the first two are the ok cookies, tied to the token" \
	"Set-Cookie: AWSALB=$f_hex; Path=/|Set-Cookie: AWSALBCORS=$f_hex; Path=/" \
	"$(grep -a '^Set-Cookie: ' "$F_DIR/raw" | head -n 2 | tr -d '\r' | paste -sd '|')"
f_raw manycookielast-1
f_hex=$(f_raw_token_hex)
check_eq "manycookielast: 5002 Set-Cookie lines, the last two the ok cookies, tied to the token" \
	"5002|Set-Cookie: AWSALB=$f_hex; Path=/|Set-Cookie: AWSALBCORS=$f_hex; Path=/" \
	"$(f_raw_count '^Set-Cookie: ')|$(grep -a '^Set-Cookie: ' "$F_DIR/raw" | tail -n 2 | tr -d '\r' | paste -sd '|')"
f_raw evilcookie-1
f_hex=$(f_raw_token_hex)
check_eq "evilcookie: 200 with an ok token" "HTTP/1.1 200 OK 32" \
	"$(head -n 1 "$F_DIR/raw" | tr -d '\r') ${#f_hex}"
check_eq "evilcookie: a bare CR inside a Set-Cookie line" 1 \
	"$(f_raw_count $'^Set-Cookie: AWSALBCORS=cr\rX-Injected: 1; Path=/\r$')"
check_eq "evilcookie: a bare LF that makes a header line of its own" 1 "$(f_raw_count '^X-Injected: 3')"
check_eq "evilcookie: invalid UTF-8, control bytes and an empty name" "1 1 1" \
	"$(f_raw_count $'^Set-Cookie: AWSALB=\xff\xfe') $(f_raw_count $'^Set-Cookie: AWSALB=ctl\x01\x7f;') $(f_raw_count '^Set-Cookie: =emptyname')"
check_eq "evilcookie: an overlong value (10000 bytes)" 10000 \
	"$(grep -a '^Set-Cookie: EVIL=xxx' "$F_DIR/raw" | sed 's/^Set-Cookie: EVIL=//; s/; Path=.*//' | tr -d '\r\n' | wc -c | tr -d ' ')"
check_eq "evilcookie: the one good EVIL line, with ';' injection" 1 \
	"$(f_raw_count '^Set-Cookie: EVIL="}],"name":"x; AWSALBCORS=injected; Path=/')"
check_eq "evilcookie: the last two Set-Cookie lines are the ok cookies, tied to the token" \
	"Set-Cookie: AWSALB=$f_hex; Path=/|Set-Cookie: AWSALBCORS=$f_hex; Path=/" \
	"$(grep -a '^Set-Cookie: ' "$F_DIR/raw" | tail -n 2 | tr -d '\r' | paste -sd '|')"

# stats: connections
fake_hold
curl -s -o /dev/null --max-time 20 --data "token=hold-conn" "$FAKE_URL" &
f_conn_pid=$!
wait_for f_in_flight_is 1
check_eq "stats: connections counts the held client and the asker" 2 "$(f_stat connections)"
fake_release
wait "$f_conn_pid"
check "stats: connections back to the asker alone (fake_quiet)" wait_for fake_quiet
check_eq "stats: connections 1" 1 "$(f_stat connections)"

# the JSON refresh API: what it accepts (415/400), its modes, its log
# f_jpost PATH BODY [CURL ARGS...]: POSTs BODY to PATH with Content-Type $F_CT (default
# application/json; "" sends none); prints the status.
f_jpost() {
	local path=$1 body=$2
	shift 2
	curl -s -o "$F_DIR/body" -D "$F_DIR/headers" -w '%{http_code}' --max-time 10 \
		-H "Content-Type:${F_CT-application/json}" --data-binary "$body" "$@" \
		"http://127.0.0.1:$FAKE_PORT$path"
}
f_jlast() {
	jq -Rnr --arg f "$1" '[inputs | fromjson? | select(.ev == "req")] | last | .[$f]' "$FAKE_LOG"
}
check_eq "json: rotation answer" "200 jr- 900 true" \
	"$(f_jpost /api/auth/refresh '{"refreshToken":"jr-1"}') $(jq -r '"\(.refreshToken[0:3]) \(.expiresIn) \(.accessToken | startswith("eyJ"))"' "$F_DIR/body")"
check_eq "json: the issued token is logged" "$(jq -r .refreshToken "$F_DIR/body")" "$(fake_issued_tokens | tail -n 1)"
check_eq "json: the nested path wraps the same answer under data.tokens" "200 jr- 900" \
	"$(f_jpost /api/v2/refresh '{"refreshToken":"jr-1"}') $(jq -r '.data.tokens | "\(.refreshToken[0:3]) \(.expiresIn)"' "$F_DIR/body")"
check_eq "json: Content-Type with parameters, any case" 200 \
	"$(F_CT='Application/JSON; charset=utf-8' f_jpost /api/auth/refresh '{"refreshToken":"jr-1"}')"
check_eq "json: a form content type is 415, logged" "415 content type is not application/json" \
	"$(F_CT=application/x-www-form-urlencoded f_jpost /api/auth/refresh '{"refreshToken":"jr-1"}') $(f_jlast json)"
check_eq "json: no content type is 415" "415 " \
	"$(F_CT='' f_jpost /api/auth/refresh '{"refreshToken":"jr-1"}') $(f_jlast ct)"
f_bad=""
for f_body in '' '[1]' '"jr-1"' '{"x":1}' '{"refreshToken":5}' '{"refreshToken":null}' \
	'{"refreshToken":"a"' '{"refreshToken":"a"} x' '{"refreshToken":"a\u0000b"}' \
	'{"refreshToken":"\ud83d"}' '{"refreshToken":"a\qb"}' "{\"refreshToken\":\"a$(printf '\t')b\"}" \
	'{"refreshToken":"a",}' '{"a":01,"refreshToken":"b"}' '{"a":[1,],"refreshToken":"b"}'; do
	f_bad+="$(f_jpost /api/auth/refresh "$f_body") "
done
check_eq "json: bodies that are not a JSON object with a string refreshToken are 400" \
	"$(printf '400 %.0s' {1..15})" "$f_bad"
check_eq "json: escapes decoded (\\\" \\\\ \\/ \\u00e9, a surrogate pair), the token logged intact" \
	"200 $(jq -rn '"jr-a\"b\\c/\u00e9\ud83d\ude00"')" \
	"$(f_jpost /api/auth/refresh '{ "other" : {"refreshToken":[1,{}]}, "refreshToken" : "jr-a\"b\\c\/\u00e9\ud83d\ude00" }') $(f_jlast token)"
check_eq "json: the raw body is logged as form" '{"refreshToken":"jr-2"}' \
	"$(f_jpost /api/auth/refresh '{"refreshToken":"jr-2"}' >/dev/null; f_jlast form)"
check_eq "json jesc: the rotated token is written with escapes and means jesc-q\"b\\s/A-HEX" \
	'200 "refreshToken":"jesc-q\"b\\s\/\u0041-' \
	"$(f_jpost /api/auth/refresh '{"refreshToken":"jesc-1"}') $(grep -o '"refreshToken":"jesc-[^-]*-' "$F_DIR/body")"
check_eq "json jesc: the log's issued token is the decoded one" "$(jq -r .refreshToken "$F_DIR/body")" \
	"$(fake_issued_tokens | tail -n 1)"
check_eq "json jesc: the access token is at-<the new token>" true "$(jq '.accessToken == "at-" + .refreshToken' "$F_DIR/body")"
check_eq "json jbearer: the row's access token (at-TOKEN) is accepted, rotates keeping the convention" \
	"200 ok true" \
	"$(f_jpost /api/auth/refresh '{"refreshToken":"jbearer-1"}' -H 'Authorization: Bearer at-jbearer-1') $(f_jlast bearer) $(jq '.accessToken == "at-" + .refreshToken' "$F_DIR/body")"
check_eq "json jbearer: a wrong or missing bearer is 401" "401 wrong 401 " \
	"$(f_jpost /api/auth/refresh '{"refreshToken":"jbearer-1"}' -H 'Authorization: Bearer at-jbearer-2') $(f_jlast bearer) $(f_jpost /api/auth/refresh '{"refreshToken":"jbearer-1"}') $(f_jlast bearer)"
check_eq "json: X-Api-Key is logged" "k-1" \
	"$(f_jpost /api/auth/refresh '{"refreshToken":"jr-1"}' -H 'X-Api-Key: k-1' >/dev/null; f_jlast xkey)"
check_eq "json jlimit: 429 with Retry-After: 1, then 200" "429 1 200" \
	"$(f_jpost /api/auth/refresh '{"refreshToken":"jlimit-1"}') $(f_header Retry-After) $(f_jpost /api/auth/refresh '{"refreshToken":"jlimit-1"}')"
check_eq "json jflaky: 503, then 200" "503 200" \
	"$(f_jpost /api/auth/refresh '{"refreshToken":"jflaky-1"}') $(f_jpost /api/auth/refresh '{"refreshToken":"jflaky-1"}')"
fake_hold
f_jpost /api/auth/refresh '{"refreshToken":"jholdlogout-1"}' >"$F_DIR/held" &
f_conn_pid=$!
wait_for f_in_flight_is 1
check_eq "json jholdlogout: held until released" "" "$(cat "$F_DIR/held")"
fake_release
wait "$f_conn_pid"
check_eq "json jholdlogout: then 401" 401 "$(cat "$F_DIR/held")"
f_statuses=""
for f_mode in jlogout jforbid jdown jarray jstring jnull jempty jnonjson; do
	f_statuses+="$(f_jpost /api/v2/refresh "{\"refreshToken\":\"$f_mode-1\"}") "
done
check_eq "json: jlogout jforbid jdown, then 2xx bodies that are not objects (never nested)" \
	"401 403 500 200 200 200 200 200 " "$f_statuses"
check_eq "json jhuge, jhuge401, jhuge503: 200 KiB bodies (JSON objects)" "200 401 503 " \
	"$(for f_mode in jhuge jhuge401 jhuge503; do echo -n "$(f_jpost /api/auth/refresh "{\"refreshToken\":\"$f_mode-1\"}") "
		[[ $(jq -r .pad "$F_DIR/body" | wc -c) -gt 200000 ]] || echo -n "small "; done)"
check_eq "json: the non-object bodies" '[{"accessToken":"at-in-an-array","expiresIn":900}]|"ok"|null||<html>Signed in</html>' \
	"$(for f_mode in jarray jstring jnull jempty jnonjson; do f_jpost /api/v2/refresh "{\"refreshToken\":\"$f_mode-1\"}" >/dev/null; cat "$F_DIR/body"; echo -n '|'; done | sed 's/|$//')"
f_now=$(date +%s)
f_exp() { # prints the body's expiry (expiresIn, or expiresAt minus now, or the JWT's exp minus now)
	jq -r --argjson now "$f_now" 'if .expiresIn != null then .expiresIn
		elif (.expiresAt | type) == "number" then .expiresAt - $now
		elif .expiresAt != null then (.expiresAt | sub("\\.[0-9]+"; "") | sub("(?<s>[+-])(?<h>[0-9]{2}):(?<m>[0-9]{2})$"; "\(.s)\(.h)\(.m)")
		      | strptime("%Y-%m-%dT%H:%M:%S%z") | mktime) - $now
		else (.accessToken | split(".")[1] | @base64d | fromjson | .exp) - $now end' "$F_DIR/body"
}
f_exps=""
for f_mode in jkeep jjwt jstrin jat jrfcz jboth; do
	f_jpost /api/auth/refresh "{\"refreshToken\":\"$f_mode-1\"}" >/dev/null
	f_exps+="$f_mode:$(( ($(f_exp) + 5) / 10 * 10 )) "
done
check_eq "json: expiry forms (seconds from now, to 10 s)" \
	"jkeep:600 jjwt:1800 jstrin:1200 jat:2700 jrfcz:4500 jboth:900 " "$f_exps"
check_match "json jrfc: RFC 3339 at +02:00" '^"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\+02:00"$' \
	"$(f_jpost /api/auth/refresh '{"refreshToken":"jrfc-1"}' >/dev/null; jq .expiresAt "$F_DIR/body")"
check_eq "json jrfc, jrfcneg: the offset is applied (now+3600, now+5400)" "3600 5400" \
	"$(for f_mode in jrfc jrfcneg; do f_jpost /api/auth/refresh "{\"refreshToken\":\"$f_mode-1\"}" >/dev/null
		echo $(( ($(date -d "$(jq -r .expiresAt "$F_DIR/body")" +%s) - $(date +%s) + 5) / 10 * 10 )); done | paste -sd' ')"
check_eq "json: wrong values" \
	'"tomorrow" {"seconds":900} 12345 "" "at\u0001 ... null "" 42 null' \
	"$(for f_mode in jexpbad jexpobj jatnum jatempty jatctl jnoat jrtempty jrtnum jrtnull; do f_jpost /api/auth/refresh "{\"refreshToken\":\"$f_mode-1\"}" >/dev/null
		case $f_mode in jexp*) jq -c '.expiresAt // .expiresIn' "$F_DIR/body" ;; jat*|jnoat) jq -c '.accessToken' "$F_DIR/body" | sed 's/\(at\\u0001\).*/\1 .../' ;; *) jq -c .refreshToken "$F_DIR/body" ;; esac
	done | paste -sd' ')"
check_eq "json jnoexp: no expiry anywhere" "null null at-" \
	"$(f_jpost /api/auth/refresh '{"refreshToken":"jnoexp-1"}' >/dev/null; jq -r '"\(.expiresIn) \(.expiresAt) \(.accessToken[0:3])"' "$F_DIR/body")"

# oauth: the refusals that must stop a run
f_statuses=""
for f_mode in eunauth egrant escope ereq eclient e401; do
	f_statuses+="$(curl -s -o "$F_DIR/body" -w '%{http_code}' --max-time 10 \
		--data "grant_type=refresh_token&refresh_token=$f_mode-1" "http://127.0.0.1:$FAKE_PORT/oauth/token"):$(jq -r .error "$F_DIR/body" 2>/dev/null || echo text) "
done
check_eq "oauth refusals" "400:unauthorized_client 400:unsupported_grant_type 400:invalid_scope 400:invalid_request 401:invalid_client 401:text " "$f_statuses"

# usage
check_eq "usage: no option value is a usage error (exit 2)" 2 "$("$FAKEUP_BIN" --help >/dev/null 2>&1; echo $?)"
f_usage=$("$FAKEUP_BIN" --help 2>&1)
for f_mode in ok logout logoutnull flaky ratelimit down chaos reset partial hang slow hold holdlogout trickle \
	bad redirect nonjson empty badtoken spacetoken badutf8 garbage huge bighdr manyhdr manycookie manycookielast \
	evilcookie jr jkeep jjwt jstrin jat jrfc jrfcneg jrfcz jboth jnoexp jrtnull jesc jlogout jforbid jdown \
	jflaky jlimit jbearer jhold jholdlogout jhuge jhuge401 jhuge503 jarray jstring jnull jempty jnonjson jexpbad jexpobj jatnum jatempty jatctl \
	jnoat jrtempty jrtnum; do
	check_match "usage: names the $f_mode answer" " ${f_mode}[ ,]" "$f_usage"
done

# latency
fake_start --latency-ms 200
check_eq "latency: 200" 200 "$(f_post ok-lat)"
check "latency: --latency-ms 200 delays the answer" awk -v t="$(cat "$F_DIR/time")" 'BEGIN { exit !(t >= 0.19) }'
check_eq "latency: a restarted fake starts a fresh log" 1 "$(fake_count_requests)"

# shutdown with requests in flight
f_post hang-2 --max-time 20 >/dev/null &
hang_pid=$!
wait_for f_in_flight_is 1
stop_start=$SECONDS
old_pid=$FAKE_PID
fake_stop
check "shutdown: SIGTERM stops the fake with a request hanging (< 3 s)" test $((SECONDS - stop_start)) -lt 3
wait "$hang_pid"
check_match "shutdown: the hanging client sees the connection close (curl 52/56)" '^5[26]$' "$?"
check "shutdown: the fakeup process is gone" bash -c "! kill -0 $old_pid"

unset -f f_post f_header f_new_token_ok f_stat f_in_flight_is f_logged_resp f_logged_req f_raw \
	f_raw_token_hex f_raw_count f_connections_is f_jpost f_jlast f_exp
unset F_DIR tok1 hold_pid f_pids hang_pid stop_start old_pid i f_statuses f_hex f_conn_pid f_usage \
	f_mode f_bad f_body f_exps f_now
