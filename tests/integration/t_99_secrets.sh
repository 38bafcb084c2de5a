# shellcheck shell=bash
# shellcheck disable=SC2016,SC2034 # ${VAR} in configs is for refresher to expand; variables are shared with the case files
# t_99_secrets.sh - runs last: nothing any run printed holds a secret the table or the config held.

# One more run at debug level with a failing, a logging-out and a refreshed row, so every kind
# of line is in the output.
fake_start
write_config "$TEST_TMP/t99.yaml"
seed 2 ok s@example.com "[{\"name\":\"AWSALB\",\"value\":\"cookie-secret-$(rand_hex)\"}]" "fp-secret-$(rand_hex)"
seed 1 bad s@example.com "[{\"name\":\"AWSALBCORS\",\"value\":\"cookie-secret-$(rand_hex)\"}]"
seed 1 logout
run_refresher -c "$TEST_TMP/t99.yaml" -v
run_refresher -c "$TEST_TMP/t99.yaml" -v --log-format json --stale-after 0
run_refresher -c "$TEST_TMP/t99.yaml" -n --stale-after 0
fake_stop
{
	printf '%s\n' "$TEST_DB_PASSWORD" "fp-default-$DEFAULT_FP_SUFFIX"
	cat "$TEST_TMP/secrets.txt"
} | awk 'length($0) >= 8' | sort -u >"$TEST_TMP/secrets.scan"
check "secrets: the scan has material ($(wc -l <"$TEST_TMP/secrets.scan") secrets, $(wc -l <"$TEST_TMP/all-output.log") output lines)" \
	test "$(wc -l <"$TEST_TMP/secrets.scan")" -gt 100 -a "$(wc -l <"$TEST_TMP/all-output.log")" -gt 200
leaks=$(grep -F -o -f "$TEST_TMP/secrets.scan" "$TEST_TMP/all-output.log" | sort -u | head -n 5)
check_eq "secrets: no token, fingerprint, cookie value or password in any output" "" "$leaks"
