# shellcheck shell=bash
# shellcheck disable=SC2016,SC2034 # ${VAR} in configs is for refresher to expand; variables are shared with the case files
# t_45_tls.sh - HTTPS upstream: certificates are verified, always. A self-signed CA and server
# certificates for 127.0.0.1 are made with openssl at test time; the fake serves them
# (fakeup --tls-cert/--tls-key), and logs each accepted connection as {"ev":"conn"}, so a
# handshake the refresher gave up on still shows up in its log.

TLS_DIR=$TEST_TMP/t45
mkdir -p "$TLS_DIR"

# tls_cert NAME SAN: a key and a certificate NAME.pem / NAME.key for subjectAltName SAN (e.g.
# IP:127.0.0.1), signed by the test CA (made on first use: ca.pem, ca.key). Valid for 2 days.
tls_cert() {
	local name=$1 san=$2
	if [[ ! -s "$TLS_DIR/ca.pem" ]]; then
		openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=refresher test CA" \
			-addext "basicConstraints=critical,CA:TRUE" \
			-addext "keyUsage=critical,keyCertSign,cRLSign" \
			-keyout "$TLS_DIR/ca.key" -out "$TLS_DIR/ca.pem" >"$TLS_DIR/openssl.log" 2>&1 ||
			return 1
	fi
	printf '%s\n' "subjectAltName=$san" "basicConstraints=critical,CA:FALSE" \
		"keyUsage=critical,digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth" \
		>"$TLS_DIR/$name.ext"
	openssl req -newkey rsa:2048 -nodes -subj "/CN=$name" \
		-keyout "$TLS_DIR/$name.key" -out "$TLS_DIR/$name.csr" >>"$TLS_DIR/openssl.log" 2>&1 &&
		openssl x509 -req -days 2 -in "$TLS_DIR/$name.csr" -CA "$TLS_DIR/ca.pem" \
			-CAkey "$TLS_DIR/ca.key" -CAcreateserial -extfile "$TLS_DIR/$name.ext" \
			-out "$TLS_DIR/$name.pem" >>"$TLS_DIR/openssl.log" 2>&1
}

# Prints how many connections the fake accepted (TLS handshakes begun).
tls_conns() {
	jq -Rn '[inputs | fromjson? | select(.ev == "conn")] | length' "$FAKE_LOG"
}

# tls_config FILE [CA_FILE]: a config for the HTTPS fake, with 4 tries per row so that a retry
# of a verification failure would show. connect_timeout covers the TLS handshake: roomy, so
# that a slow one (under valgrind) is not a transient timeout.
tls_config() {
	local ca=""
	[[ -n "${2:-}" ]] && ca=$(printf '\n  ca_file: %s' "$2")
	write_config "$1" "$(printf 'upstream:\n  url: ${TLS_URL}\n  fingerprint: fp-t45\n  timeout: 60s\n  connect_timeout: 30s%s\nretry:\n  attempts: 4\n  base_delay: 10ms\n  max_delay: 50ms\n' "$ca")"
}

command -v openssl >/dev/null 2>&1 || die "openssl missing; run make deps"
check "tls: test CA and a server certificate for IP 127.0.0.1 made with openssl" \
	tls_cert server IP:127.0.0.1
check "tls: a certificate for another name, signed by the same CA" \
	tls_cert other DNS:not-this-host.example

fake_start --tls-cert "$TLS_DIR/server.pem" --tls-key "$TLS_DIR/server.key"
export TLS_URL="https://127.0.0.1:$FAKE_PORT/api/tokenUpdate"
check "tls: the fake serves HTTPS with the test CA (curl --cacert)" \
	curl -sf --max-time 5 --cacert "$TLS_DIR/ca.pem" "https://127.0.0.1:$FAKE_PORT/stats"

# --- an unknown CA: every row fails at once (no retry), reason recorded, row untouched ---
seed 3 ok
q "CREATE TABLE before_run AS SELECT id, aimharder_token, aimharder_cookies FROM auth_sessions"
tls_config "$TLS_DIR/noca.yaml"
: >"$FAKE_LOG"
run_refresher -c "$TLS_DIR/noca.yaml"
check_eq "unknown CA: exit 1, 3 failed, none refreshed" "1 3 0" \
	"$RUN_RC $(summary_field failed) $(summary_field refreshed)"
check_eq "unknown CA: no request got through, one handshake per row (no retry)" "0 3" \
	"$(fake_count_requests) $(tls_conns)"
check_eq "unknown CA: summary counts no retry" 0 "$(summary_field retries)"
check_eq "unknown CA: the reason names the certificate, not 'after N tries'; row untouched" 3 \
	"$(q "SELECT count(*) FROM auth_sessions s JOIN before_run b USING (id)
	      WHERE s.last_token_update_error ILIKE '%certificate%'
	        AND s.last_token_update_error NOT LIKE '%tries%'
	        AND s.aimharder_token = b.aimharder_token AND s.aimharder_cookies = b.aimharder_cookies
	        AND s.last_token_update_date IS NULL AND s.token_update_count = 0
	        AND s.token_update_claimed_until IS NULL")"

# --- the same with the test CA in upstream.ca_file: refreshed ---
tls_config "$TLS_DIR/ca.yaml" "$TLS_DIR/ca.pem"
: >"$FAKE_LOG"
run_refresher -c "$TLS_DIR/ca.yaml"
check_eq "ca_file: exit 0, the 3 rows refreshed" "0 3 0" \
	"$RUN_RC $(summary_field refreshed) $(summary_field failed)"
check_eq "ca_file: new tokens stored, error cleared" 3 \
	"$(q "SELECT count(*) FROM auth_sessions s JOIN before_run b USING (id)
	      WHERE s.aimharder_token <> b.aimharder_token AND s.aimharder_token LIKE 'ok-%'
	        AND s.last_token_update_error IS NULL AND s.token_update_count = 1")"
check_eq "ca_file: one request per row over HTTPS" 3 "$(fake_count_requests)"
q "DROP TABLE before_run"

# --- a trusted CA but a certificate for another host name: the host name is verified too ---
fake_start --tls-cert "$TLS_DIR/other.pem" --tls-key "$TLS_DIR/other.key"
export TLS_URL="https://127.0.0.1:$FAKE_PORT/api/tokenUpdate"
q "DELETE FROM auth_sessions"
seed 2 ok
tls_config "$TLS_DIR/ca.yaml" "$TLS_DIR/ca.pem"
: >"$FAKE_LOG"
run_refresher -c "$TLS_DIR/ca.yaml"
check_eq "wrong host name: exit 1, 2 failed, no request, no retry" "1 2 0 2" \
	"$RUN_RC $(summary_field failed) $(fake_count_requests) $(tls_conns)"
check_eq "wrong host name: the reason says so" 2 \
	"$(q "SELECT count(*) FROM auth_sessions
	      WHERE last_token_update_error ~* '(subject name|host ?name|certificate)'")"

# --- an unreadable ca_file is a configuration problem: nothing is called, nothing claimed ---
tls_config "$TLS_DIR/missing.yaml" "$TLS_DIR/no-such-ca.pem"
: >"$FAKE_LOG"
run_refresher -c "$TLS_DIR/missing.yaml"
check "missing ca_file: the run refuses (exit $RUN_RC)" test "$RUN_RC" -ne 0 -a "$RUN_RC" -ne 1
check "missing ca_file: named in the error" grep -q "ca_file" "$RUN_ERR"
check_eq "missing ca_file: no connection, no claim left" "0 0" \
	"$(tls_conns) $(q "SELECT count(*) FROM auth_sessions WHERE token_update_claimed_until IS NOT NULL")"
fake_stop

# --- an https:// URL on a plain-HTTP port: fails at once, like a certificate problem ---
fake_start
q "DELETE FROM auth_sessions"
seed 2 ok
TLS_URL="https://127.0.0.1:$FAKE_PORT/api/tokenUpdate" tls_config "$TLS_DIR/plain.yaml"
TLS_URL="https://127.0.0.1:$FAKE_PORT/api/tokenUpdate" run_refresher -c "$TLS_DIR/plain.yaml"
check_eq "https to a plain-HTTP port: exit 1, 2 failed" "1 2" "$RUN_RC $(summary_field failed)"
# The server may also just close on the TLS hello (a reset, which is retried) before one try reads
# its plain-HTTP answer; the rows must not take the 2 x 3 retries of a transient failure.
check "https to a plain-HTTP port: failed at the first 'wrong version number', not retried to the end ($(summary_field retries) retries)" \
	test "$(summary_field retries)" -lt 6
check_eq "https to a plain-HTTP port: the reason says the port does not speak TLS, no 'after N tries'" 2 \
	"$(q "SELECT count(*) FROM auth_sessions WHERE last_token_update_error LIKE
	      'TLS handshake failed: the server does not speak TLS on this port%' AND last_token_update_error NOT LIKE '%tries%'")"
fake_stop

# --- verification cannot be turned off: no key for it exists, each spelling is an unknown key ---
for key in "upstream.insecure: true" "upstream.verify: false" "upstream.ssl_verify: false" \
	"upstream.verify_peer: false" "upstream.tls_verify: false" "upstream.ssl_verifypeer: 0" \
	"upstream.insecure_skip_verify: true" "insecure: true"; do
	name=${key%%:*}
	section=${name%%.*}
	leaf=${name#*.}
	if [[ "$name" == *.* ]]; then
		printf 'database:\n  url: ${DATABASE_URL}\n%s:\n  url: ${TLS_URL}\n  %s:%s\n' \
			"$section" "$leaf" "${key#*:}" >"$TLS_DIR/insecure.yaml"
	else
		printf 'database:\n  url: ${DATABASE_URL}\n%s\n' "$key" >"$TLS_DIR/insecure.yaml"
	fi
	run_refresher -c "$TLS_DIR/insecure.yaml" --check-config
	check_eq "no way to skip verification: '$name' is rejected (exit 2)" 2 "$RUN_RC"
	check "no way to skip verification: '$name' named as an unknown key" \
		grep -q "insecure.yaml:[0-9]*:[0-9]*: $name: unknown key" "$RUN_ERR"
done
