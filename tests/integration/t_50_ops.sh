# shellcheck shell=bash
# shellcheck disable=SC2016,SC2034 # ${VAR} in configs is for refresher to expand; variables are shared with the case files
# t_50_ops.sh - operations: make install / uninstall into a DESTDIR, and the shipped crontab
# line's flock: two overlapping ticks, the second exits at once without touching anything.

# --- make install / make uninstall ---
# Runs make in the repository with the test's build dir, away from the caller's make flags.
ops_make() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$REPO_ROOT" BUILD="$BUILD_DIR" "$@"
}

# Prints "MODE PATH" for every file under DIR, paths relative to it, sorted.
ops_tree() {
	(cd "$1" && find . -type f -printf '%m %P\n' | sort)
}

# --- a missing -dev package is named, with its Debian package, before any compiler error ---
# pkg-config sees every .pc file of this machine but libpq's: a machine without libpq-dev.
ops_pc=$TEST_TMP/pc-without-libpq
mkdir -p "$ops_pc"
for ops_dir in $(pkg-config --variable pc_path pkg-config | tr ':' ' '); do
	for ops_f in "$ops_dir"/*.pc; do
		[[ -e "$ops_f" && "$(basename "$ops_f")" != libpq.pc ]] && ln -sf "$ops_f" "$ops_pc/"
	done
done
ops_out=$(PKG_CONFIG_PATH='' PKG_CONFIG_LIBDIR=$ops_pc ops_make BUILD="$TEST_TMP/build-nopq" all 2>&1)
check_eq "build without libpq-dev: make fails" 2 "$?"
check_match "build without libpq-dev: names the library and its Debian package" \
	"the library libpq is not installed .*Debian package libpq-dev" "$ops_out"
check_match "build without libpq-dev: says how to install it" "apt-get install libpq-dev .*make deps" "$ops_out"
check "build without libpq-dev: no compiler error about a header" \
	bash -c "! grep -q 'libpq-fe.h' <<<'$ops_out' && ! test -e '$TEST_TMP/build-nopq/obj/db.o'"

dest=$TEST_TMP/dest
check "make install DESTDIR=... PREFIX=/usr" ops_make install DESTDIR="$dest" PREFIX=/usr
check_eq "install: binary, man page, example configs and the migrations where they belong" \
	"$(printf '%s\n' '644 usr/share/man/man1/refresher.1' '644 usr/share/refresher/refresher.json.yaml' '644 usr/share/refresher/refresher.oauth2.yaml' \
		'644 usr/share/refresher/refresher.yaml' '644 usr/share/refresher/sql/001_auth_sessions.sql' \
		'644 usr/share/refresher/sql/002_refresher_columns.sql' '644 usr/share/refresher/sql/003_refresher_indexes.sql' \
		'644 usr/share/refresher/sql/oauth2/001_oauth_sessions.sql' '644 usr/share/refresher/sql/roles/refresher_role.sql' \
		'755 usr/bin/refresher')" \
	"$(ops_tree "$dest")"
check "install: the example config is refresher.yaml" \
	cmp "$REPO_ROOT/refresher.yaml" "$dest/usr/share/refresher/refresher.yaml"
check "install: the installed migrations apply, as the docs say, without the repository" \
	bash -c 'for f in "$1"/usr/share/refresher/sql/*.sql; do psql -X -q -v ON_ERROR_STOP=1 -f "$f" || exit 1; done' _ "$dest"
ops_nocfg=$(cd "$TEST_TMP" && env -u REFRESHER_CONFIG "$dest/usr/bin/refresher" 2>&1)
check_match "installed, no config: says where it looked and what to pass" \
	"no config file refresher.yaml \(the default: refresher.yaml in the current directory\); name one with -c FILE or REFRESHER_CONFIG=FILE" \
	"$ops_nocfg"
check_match "installed, no config: points at the installed example" \
	"a commented example with every key: $dest/usr/share/refresher/refresher.yaml" "$ops_nocfg"
check "install: the man page is deploy/man/refresher.1" \
	cmp "$REPO_ROOT/deploy/man/refresher.1" "$dest/usr/share/man/man1/refresher.1"
check_match "install: the installed binary runs --version" '^refresher [0-9]+\.[0-9]+' \
	"$("$dest/usr/bin/refresher" --version 2>&1)"
check_eq "install: the installed example config is valid" "config OK" \
	"$("$dest/usr/bin/refresher" -c "$dest/usr/share/refresher/refresher.yaml" --check-config 2>/dev/null)"
check_match "install: --check-config warns that upstream.fingerprint is empty" \
	"upstream.fingerprint is empty" \
	"$(env -u AIMHARDER_FINGERPRINT "$dest/usr/bin/refresher" -c "$dest/usr/share/refresher/refresher.yaml" --check-config 2>&1 >/dev/null)"
check "make uninstall DESTDIR=... PREFIX=/usr" ops_make uninstall DESTDIR="$dest" PREFIX=/usr
check_eq "uninstall: no file left" "" "$(ops_tree "$dest")"
check "uninstall: the data directory is gone" test ! -e "$dest/usr/share/refresher"
check "make install with the default PREFIX" ops_make install DESTDIR="$dest"
check "default PREFIX is /usr/local" test -x "$dest/usr/local/bin/refresher" \
	-a -f "$dest/usr/local/share/man/man1/refresher.1" \
	-a -f "$dest/usr/local/share/refresher/refresher.yaml"
check "make uninstall with the default PREFIX" ops_make uninstall DESTDIR="$dest"
check_eq "uninstall (default PREFIX): no file left" "" "$(ops_tree "$dest")"

# --- the GitHub Action's steps (deploy/github/steps.sh): key, build on a miss, run ---
ops_key=$("$REPO_ROOT/deploy/github/steps.sh" key)
check_match "action: a cache key names the system and the source" '^[a-z]+[0-9.]*-[a-z0-9_]+-[0-9a-f]{16}$' "$ops_key"
check_eq "action: the key is stable for the same source" "$ops_key" "$("$REPO_ROOT/deploy/github/steps.sh" key)"
check "action: a cache miss builds the binary into the cached directory" \
	"$REPO_ROOT/deploy/github/steps.sh" build "$TEST_TMP/gh-cache"
check_eq "action: only the binary is kept (what the cache stores)" "refresher" "$(ls "$TEST_TMP/gh-cache")"
check_match "action: a cache hit runs it with the given arguments" '^refresher [0-9]+\.[0-9]+' \
	"$("$REPO_ROOT/deploy/github/steps.sh" run "$TEST_TMP/gh-cache" --version 2>&1)"
write_config "$TEST_TMP/gh.yaml" "$(printf 'upstream:\n  url: http://127.0.0.1:9/unused\n  fingerprint: fp\n')"
"$REPO_ROOT/deploy/github/steps.sh" run "$TEST_TMP/gh-cache" -c "$TEST_TMP/gh.yaml" --dry-run >/dev/null 2>&1
check_eq "action: a dry run through the cached binary works against the database" 0 "$?"

# --- the Kubernetes ConfigMap holds a valid config ---
python3 -c 'import sys, yaml; sys.stdout.write(yaml.safe_load(open(sys.argv[1]))["data"]["refresher.yaml"])' \
	"$REPO_ROOT/deploy/k8s/configmap.yaml" >"$TEST_TMP/cm.yaml"
check_eq "deploy/k8s/configmap.yaml: its refresher.yaml passes --check-config" "config OK" \
	"$(AIMHARDER_FINGERPRINT=x "$REFRESHER_BIN" -c "$TEST_TMP/cm.yaml" --check-config 2>/dev/null)"

# --- the crontab line: flock -n keeps two ticks from overlapping ---
# The job line of deploy/crontab as cron would run it (with /bin/sh), the cron.d schedule and
# user fields dropped, its paths pointed into TEST_TMP; `logger` on PATH is a stand-in that
# appends to $CRON_LOG.
cron_line=$(grep -E '^[0-9*]' "$REPO_ROOT/deploy/crontab" | sed -E 's/^([^ ]+ +){6}//')
check "crontab: one job line, it takes flock -n and logs through logger" \
	bash -c '[[ $(grep -cE "^[0-9*]" "$1") == 1 && "$2" == *"flock -n"* && "$2" == *"| logger -t refresher"* ]]' \
	_ "$REPO_ROOT/deploy/crontab" "$cron_line"
cron_cmd=$cron_line
cron_cmd=${cron_cmd//\/run\/lock\/refresher.lock/$TEST_TMP\/cron.lock}
cron_cmd=${cron_cmd//\/etc\/refresher\/refresher.env/$TEST_TMP\/cron.env}
cron_cmd=${cron_cmd//\/etc\/refresher\/refresher.yaml/$TEST_TMP\/cron.yaml}
cron_cmd=${cron_cmd//\/usr\/local\/bin\/refresher/$REFRESHER_BIN}
check "crontab: every path of the line was replaced" \
	bash -c '[[ "$1" != *"/etc/refresher"* && "$1" != *"/run/lock"* && "$1" != *"/usr/local/bin"* ]]' \
	_ "$cron_cmd"
mkdir -p "$TEST_TMP/cronbin"
cat >"$TEST_TMP/cronbin/logger" <<'EOF'
#!/bin/sh
# logger stand-in: "logger -t TAG" appends "TAG: line" per input line to $CRON_LOG.
tag=logger
while getopts t: opt; do [ "$opt" = t ] && tag=$OPTARG; done
while IFS= read -r line; do printf '%s: %s\n' "$tag" "$line"; done >>"$CRON_LOG"
EOF
chmod 755 "$TEST_TMP/cronbin/logger"
write_config "$TEST_TMP/cron.yaml" "$(printf 'refresh:\n  concurrency: 2\n  batch_size: 16\n')"

# The shell cron runs the line with: the crontab's SHELL=.
cron_shell=$(sed -n 's/^SHELL=//p' "$REPO_ROOT/deploy/crontab")
# cron_tick TAG: runs the crontab command as cron would (its SHELL, an empty environment, the
# crontab's PATH with the logger stand-in first), logging to $TEST_TMP/cron-TAG.log; sets
# CRON_RC to the status cron sees.
cron_tick() {
	env -i PATH="$TEST_TMP/cronbin:/usr/local/bin:/usr/bin:/bin" HOME=/ \
		CRON_LOG="$TEST_TMP/cron-$1.log" "${cron_shell:-/bin/sh}" -c "$cron_cmd"
	CRON_RC=$?
}

fake_start --slow-ms 2500
# What /etc/refresher/refresher.env holds: cron gives the job no other environment.
printf "DATABASE_URL='%s'\nFAKE_URL='%s'\n" "$DATABASE_URL" "$FAKE_URL" >"$TEST_TMP/cron.env"
chmod 600 "$TEST_TMP/cron.env"
seed 4 slow cron@example.com
record_secrets
: >"$TEST_TMP/cron-first.log"
: >"$TEST_TMP/cron-second.log"
(cron_tick first; exit "$CRON_RC") &
first_pid=$!
# The first tick holds the lock and has its rows in flight (4 slow rows, 2 at a time: ~5 s).
wait_for fake_requests_at_least slow 1
t0=$(date +%s%N)
cron_tick second
t1=$(date +%s%N)
second_ms=$(((t1 - t0) / 1000000))
check "crontab: the second, overlapping tick exits at once (${second_ms} ms)" \
	test "$second_ms" -lt 2000
check_eq "crontab: the second tick only logs that it skipped" \
	"refresher: tick skipped: the previous run still holds $TEST_TMP/cron.lock" \
	"$(cat "$TEST_TMP/cron-second.log")"
check "crontab: the first tick was still running when the second gave up" kill -0 "$first_pid"
check_eq "crontab: a skipped tick is no failure for cron (status 0)" 0 "$CRON_RC"
wait "$first_pid"
check_eq "crontab: cron sees refresher's exit code (0), not logger's" 0 "$?"
cat "$TEST_TMP/cron-first.log" >>"$TEST_TMP/all-output.log"
check "crontab: the first tick completes and logs its summary through logger" \
	grep -q '^refresher: summary: due=4 refreshed=4 logged_out=0 failed=0 ' "$TEST_TMP/cron-first.log"
check_eq "crontab: the last line logged is the exit code" "refresher: exit code 0" \
	"$(tail -n 1 "$TEST_TMP/cron-first.log")"
check_eq "crontab: each row was called once, all by the first tick" "4 0 4" \
	"$(fake_count_requests slow) $(fake_duplicate_tokens) $(q "SELECT count(*) FROM auth_sessions WHERE token_update_count = 1 AND token_update_claimed_until IS NULL")"
# The lock is free again: the next tick runs (nothing is due now).
cron_tick third
cat "$TEST_TMP/cron-third.log" >>"$TEST_TMP/all-output.log"
check "crontab: the next tick runs once the lock is free" \
	grep -q '^refresher: summary: due=0 ' "$TEST_TMP/cron-third.log"
# A run with a failed row: exit code 1, in the log and for cron.
q "DELETE FROM auth_sessions"
seed 1 bad cron@example.com
cron_tick fourth
cat "$TEST_TMP/cron-fourth.log" >>"$TEST_TMP/all-output.log"
check_eq "crontab: a run that exits 1 is logged as such, and cron sees 1" "refresher: exit code 1 1" \
	"$(tail -n 1 "$TEST_TMP/cron-fourth.log") $CRON_RC"
record_secrets
fake_stop
