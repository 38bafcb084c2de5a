# shellcheck shell=bash
# shellcheck disable=SC2016,SC2034 # ${VAR} in configs is for refresher to expand; variables are shared with the case files
# t_46_http2.sh - an HTTP/2 upstream (nghttpd from nghttp2-server, TLS with ALPN h2): a run's
# requests are streams multiplexed on one connection, not one connection per slot. nghttpd
# answers a POST to a file with the file, so every row gets the same new token here.

H2_DIR=$TEST_TMP/t46
mkdir -p "$H2_DIR/htdocs/api"
H2_BIN=$(command -v nghttpd 2>/dev/null || echo /usr/sbin/nghttpd)
[[ -x "$H2_BIN" ]] || die "nghttpd missing; run make deps (package nghttp2-server)"
h2_token="h2-$(rand_hex 16)"
printf '{"newToken":"%s"}' "$h2_token" >"$H2_DIR/htdocs/api/tokenUpdate"
check "http2: a self-signed certificate for 127.0.0.1" bash -c 'openssl req -x509 -newkey rsa:2048 \
	-nodes -days 2 -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" \
	-keyout "$1/h2.key" -out "$1/h2.pem" >"$1/openssl.log" 2>&1' _ "$H2_DIR"
h2_port=$((20000 + RANDOM % 40000))
# -v logs every frame with its session ("[id=N]"): one id per connection.
"$H2_BIN" -v -d "$H2_DIR/htdocs" "$h2_port" "$H2_DIR/h2.key" "$H2_DIR/h2.pem" \
	>"$H2_DIR/nghttpd.log" 2>&1 &
h2_pid=$!
# shellcheck disable=SC2317 # called through wait_for
h2_up() {
	curl -s -o /dev/null --cacert "$H2_DIR/h2.pem" "https://127.0.0.1:$h2_port/api/tokenUpdate"
}
wait_for h2_up
: >"$H2_DIR/nghttpd.log"

seed 120 ok
export H2_URL="https://127.0.0.1:$h2_port/api/tokenUpdate"
write_config "$TEST_TMP/h2.yaml" "$(printf 'upstream:\n  url: ${H2_URL}\n  fingerprint: fp-t46\n  ca_file: %s\n  timeout: 30s\n  connect_timeout: 20s\nrefresh:\n  concurrency: 24\n  batch_size: 40\n' "$H2_DIR/h2.pem")"
run_refresher -c "$TEST_TMP/h2.yaml"
check_eq "http2: exit 0, all 120 refreshed" "0 120" "$RUN_RC $(summary_field refreshed)"
check_eq "http2: every row holds the upstream's new token" 120 \
	"$(q "SELECT count(*) FROM auth_sessions WHERE aimharder_token = '$h2_token' AND token_update_count = 1")"
h2_conns=$(grep -a -o '\[id=[0-9]*\]' "$H2_DIR/nghttpd.log" | sort -u | wc -l)
h2_streams=$(grep -a -c 'recv HEADERS frame' "$H2_DIR/nghttpd.log")
check_eq "http2: 120 requests arrived as HTTP/2 streams" 120 "$h2_streams"
check "http2: multiplexed over $h2_conns connection(s), not one per slot (24)" \
	test "$h2_conns" -ge 1 -a "$h2_conns" -le 2
kill "$h2_pid" 2>/dev/null
wait "$h2_pid" 2>/dev/null

# --- An HTTP/2 server that requires HTTP/1.1 refuses each stream with HTTP_1_1_REQUIRED; it did
# not act on it. libcurl's own retry over HTTP/1.1 is the one re-send the refresher lets through
# (src/upstream.c, on_prereq): our retry would offer HTTP/2 again and be refused again.
command -v node >/dev/null 2>&1 || die "node missing; run make deps (package nodejs)"
h11_log=$H2_DIR/h11.log
rm -f "$H2_DIR/h11.port"
node "$HERE/h2_require11.js" "$H2_DIR/h11.port" "$H2_DIR/h2.key" "$H2_DIR/h2.pem" "$h11_log" \
	>"$H2_DIR/h11.stderr" 2>&1 &
h11_pid=$!
# shellcheck disable=SC2317 # called through wait_for
h11_up() { [[ -s "$H2_DIR/h11.port" ]]; }
wait_for h11_up
H11_URL="https://127.0.0.1:$(<"$H2_DIR/h11.port")/api/tokenUpdate"
export H11_URL
q "DELETE FROM auth_sessions"
seed 12 ok
write_config "$TEST_TMP/h11.yaml" "$(printf 'upstream:\n  url: ${H11_URL}\n  fingerprint: fp-t46\n  ca_file: %s\n  timeout: 30s\n  connect_timeout: 20s\nrefresh:\n  concurrency: 4\nretry:\n  base_delay: 10ms\n' "$H2_DIR/h2.pem")"
run_refresher -c "$TEST_TMP/h11.yaml"
check_eq "http/1.1 required: exit 0, all 12 refreshed, no retry of ours" "0 12 0" \
	"$RUN_RC $(summary_field refreshed) $(summary_field retries)"
check_eq "http/1.1 required: each row answered once, over HTTP/1.1" "12 12" \
	"$(jq -r 'select(.v == "1.1") | .token' "$h11_log" | wc -l) $(jq -r 'select(.v == "1.1") | .token' "$h11_log" | sort -u | wc -l)"
h11_refused=$(jq -r 'select(.v == "2.0") | .token' "$h11_log" | wc -l)
check "http/1.1 required: the HTTP/2 streams were refused first ($h11_refused)" test "$h11_refused" -ge 1
kill "$h11_pid" 2>/dev/null
wait "$h11_pid" 2>/dev/null
