# shellcheck shell=bash
# shellcheck disable=SC2016,SC2034 # ${VAR} in configs is for refresher to expand; variables are shared with the case files
# t_48_proxy.sh - the proxy of the environment is honoured although refresher reads it once per
# run rather than letting libcurl read it per transfer: http_proxy carries every request (the
# fake upstream serves as the proxy: it sees absolute-form targets), no_proxy exempts the host,
# and HTTP_PROXY in upper case is ignored for http:// as libcurl ignores it (a CGI request can
# set it).

fake_start
seed 20 ok
proxied=proxied-$(rand_hex 4).invalid
export PROXY_URL="http://$proxied:9/api/tokenUpdate"
write_config "$TEST_TMP/proxy.yaml" "$(printf 'upstream:\n  url: ${PROXY_URL}\n  fingerprint: fp-t48\nretry:\n  attempts: 1\nrefresh:\n  concurrency: 4\n')"

: >"$FAKE_LOG"
http_proxy="http://127.0.0.1:$FAKE_PORT" run_refresher -c "$TEST_TMP/proxy.yaml"
check_eq "proxy: exit 0, all 20 refreshed through http_proxy" "0 20" "$RUN_RC $(summary_field refreshed)"
check_eq "proxy: the proxy saw 20 absolute-form requests for $proxied" 20 \
	"$(jq -s --arg h "http://$proxied:9/api/tokenUpdate" '[.[] | select(.ev == "req" and .path == $h)] | length' "$FAKE_LOG")"
check "proxy: no lookup of the upstream's name by the refresher" bash -c "! grep -q 'cannot resolve' '$RUN_ERR'"

q "UPDATE auth_sessions SET last_token_update_date = now() - interval '1 hour'"
: >"$FAKE_LOG"
http_proxy="http://127.0.0.1:$FAKE_PORT" no_proxy="$proxied" run_refresher -c "$TEST_TMP/proxy.yaml"
check_eq "proxy: no_proxy exempts the host: no request reaches the proxy, rows fail uncalled by it" "1 0 20" \
	"$RUN_RC $(fake_count_requests) $(summary_field failed)"

q "UPDATE auth_sessions SET last_token_update_date = now() - interval '1 hour', last_token_update_error = NULL"
: >"$FAKE_LOG"
HTTP_PROXY="http://127.0.0.1:$FAKE_PORT" run_refresher -c "$TEST_TMP/proxy.yaml"
check_eq "proxy: HTTP_PROXY (upper case) is not used for http://, as in libcurl" "1 0" \
	"$RUN_RC $(fake_count_requests)"
fake_stop
