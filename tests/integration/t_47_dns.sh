# shellcheck shell=bash
# shellcheck disable=SC2016,SC2034 # ${VAR} in configs is for refresher to expand; variables are shared with the case files
# t_47_dns.sh - the upstream's host name is resolved once per run, not per request or per
# connection: 32 transfers start at once with libcurl's DNS cache empty. getaddrinfo() is
# counted by an LD_PRELOAD shim (tests/dnscount/dnscount.c, built here with the system cc),
# which also answers the test's host name with 127.0.0.1.

DNS_SO=$TEST_TMP/dnscount.so
check "dns: the getaddrinfo counter builds" \
	cc -shared -fPIC -O1 -o "$DNS_SO" "$REPO_ROOT/tests/dnscount/dnscount.c" -ldl
fake_start --latency-ms 20
seed 200 ok
dns_name=upstream-$(rand_hex 4).refresher.test
export DNS_URL="http://$dns_name:$FAKE_PORT/api/tokenUpdate"
write_config "$TEST_TMP/dns.yaml" "$(printf 'upstream:\n  url: ${DNS_URL}\n  fingerprint: fp-t47\nrefresh:\n  concurrency: 32\n  batch_size: 64\n')"
dns_log=$TEST_TMP/dns.names
: >"$dns_log"
# An AddressSanitizer build wants its runtime first in the library list; the shim goes before it.
DNSCOUNT_FILE=$dns_log DNSCOUNT_NAME=$dns_name LD_PRELOAD=$DNS_SO \
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
	run_refresher -c "$TEST_TMP/dns.yaml"
check_eq "dns: exit 0, all 200 refreshed through http://$dns_name" "0 200" \
	"$RUN_RC $(summary_field refreshed)"
check_eq "dns: $dns_name was looked up once for 200 requests at concurrency 32" 1 \
	"$(grep -c -x -F "$dns_name" "$dns_log")"
fake_stop
