# shellcheck shell=bash
# lib.sh - integration test helpers: a private PostgreSQL, the fake upstream, and checks.
#
# Source it from bash (tests/integration/run.sh does). Everything it starts lives under one
# temp dir and is stopped, and the dir removed, on every exit path (EXIT, INT, TERM).
# Set KEEP_TMP=1 to keep the temp dir (logs) for debugging; processes are stopped regardless.
# Set POOLER=pgbouncer to put pgbouncer (pool_mode = transaction) between the refresher and
# PostgreSQL: pg_start then points DATABASE_URL at it, while psql (q, migrate) goes direct.

LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$LIB_DIR/../.." && pwd)
BUILD_DIR=${BUILD_DIR:-$REPO_ROOT/build}
REFRESHER_BIN=${REFRESHER_BIN:-$BUILD_DIR/refresher}
FAKEUP_BIN=${FAKEUP_BIN:-$BUILD_DIR/fakeup}
# Default bound of wait_for, in seconds.
WAIT_TIMEOUT=${WAIT_TIMEOUT:-10}
# "" (the refresher talks to PostgreSQL directly) or "pgbouncer".
POOLER=${POOLER:-}
export REPO_ROOT BUILD_DIR REFRESHER_BIN FAKEUP_BIN POOLER

TEST_TMP=""     # the temp dir holding everything below
PG_BINDIR=""    # initdb, pg_ctl, pg_dump of one PostgreSQL version
PG_DATA=""      # data directory
PG_RUN_AS=""    # unprivileged user running PostgreSQL when we are root, else empty
FAKE_PID=""     # pid of build/fakeup while it runs
FAKE_PORT=""
PGB_DIR=""      # pgbouncer's ini, auth file, socket, log and pid file, while POOLER is in use
PGB_PORT=""
TESTS_PASSED=0
TESTS_FAILED=0
_LIB_TRAPPED=""

# --- plumbing -------------------------------------------------------------------------------

# Records a failure with the message, prints the final count line and exits 1 (cleanup runs
# through the EXIT trap). For set-up errors that make further checks pointless.
die() {
	_fail "lib.sh: $*"
	finish
	exit 1
}

# Stops the fake and PostgreSQL, removes the temp dir; safe to call any number of times.
_lib_cleanup() {
	fake_stop
	pooler_stop
	if [[ -n "$PG_DATA" && -f "$PG_DATA/postmaster.pid" ]]; then
		_pg_as "$PG_BINDIR/pg_ctl" -D "$PG_DATA" -m immediate -w -s stop >/dev/null 2>&1
	fi
	if [[ -n "$TEST_TMP" && -d "$TEST_TMP" ]]; then
		if [[ -n "${KEEP_TMP:-}" ]]; then
			echo "lib.sh: kept $TEST_TMP" >&2
		else
			rm -rf -- "$TEST_TMP"
		fi
	fi
	TEST_TMP=""
	PG_DATA=""
}

# Installs the cleanup traps once.
_lib_trap() {
	[[ -n "$_LIB_TRAPPED" ]] && return 0
	_LIB_TRAPPED=1
	trap _lib_cleanup EXIT
	trap '_lib_cleanup; exit 130' INT
	trap '_lib_cleanup; exit 143' TERM
}

# Longest path of a unix socket (sun_path is 108 bytes with its NUL).
SOCKET_PATH_MAX=107

# Creates the temp dir (once, in TMPDIR, else /tmp; LIB_TMP_PREFIX names it) and installs the
# traps. Sets TEST_TMP. PostgreSQL's socket lives there: a TMPDIR too long for one is an error
# that says so.
_lib_tmp() {
	local base=${TMPDIR:-/tmp}
	_lib_trap
	[[ -n "$TEST_TMP" ]] && return 0
	[[ -d "$base" && -w "$base" ]] ||
		die "TMPDIR $base is not a directory this user can write; set TMPDIR to one (e.g. /tmp) or unset it"
	TEST_TMP=$(mktemp -d "$base/${LIB_TMP_PREFIX:-refresher-it}.XXXXXX") ||
		die "cannot create a directory in $base (mktemp failed); set TMPDIR to a writable dir, e.g. /tmp"
	chmod 755 "$TEST_TMP"
	# ".s.PGSQL.NNNNN" and the pooler's own subdirectory go under it.
	if ((${#TEST_TMP} + 30 > SOCKET_PATH_MAX)); then
		die "the temp dir $TEST_TMP (${#TEST_TMP} bytes) is too long for PostgreSQL's unix socket" \
			"(at most $SOCKET_PATH_MAX bytes in all); set TMPDIR to a shorter dir, e.g. TMPDIR=/tmp"
	fi
}

# Prints the first directory on the way from / to $1 that user $2 cannot enter (search
# permission), or nothing when every one can be entered.
_lib_blocking_dir() {
	local path=$1 dir="" part
	local -a parts
	IFS=/ read -r -a parts <<<"${path#/}"
	for part in "${parts[@]}"; do
		dir=$dir/$part
		if ! runuser -u "$2" -- test -x "$dir" 2>/dev/null; then
			echo "$dir"
			return 0
		fi
	done
}

# Runs a command as the PostgreSQL user (root: an unprivileged one), from TEST_TMP.
_pg_as() {
	if [[ -z "$PG_RUN_AS" ]]; then
		(cd "$TEST_TMP" && "$@")
	elif command -v runuser >/dev/null 2>&1; then
		(cd "$TEST_TMP" && runuser -u "$PG_RUN_AS" -- "$@")
	else
		# shellcheck disable=SC2016 # $0 and $@ are for the inner sh
		(cd "$TEST_TMP" && su -s /bin/sh "$PG_RUN_AS" -c 'exec "$0" "$@"' -- "$@")
	fi
}

# Prints the directory holding initdb: pg_config's bindir, else the newest installed version.
_pg_find_bindir() {
	local dir
	if command -v pg_config >/dev/null 2>&1; then
		dir=$(pg_config --bindir 2>/dev/null)
		if [[ -x "$dir/initdb" ]]; then
			echo "$dir"
			return 0
		fi
	fi
	dir=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null |
		sort -V | tail -n 1)
	if [[ -n "$dir" && -x "$dir/initdb" ]]; then
		echo "$dir"
		return 0
	fi
	return 1
}

# --- PostgreSQL -----------------------------------------------------------------------------

# Starts a private PostgreSQL (unix socket in the temp dir, no TCP, scram-sha-256 with a random
# password), creates refresher_test, and exports PGHOST PGPORT PGUSER PGDATABASE PGPASSWORD
# TEST_DB_PASSWORD DATABASE_URL. Dies on failure.
pg_start() {
	local pwfile sockenc
	_lib_tmp
	PG_BINDIR=$(_pg_find_bindir) || die "no PostgreSQL server binaries (initdb) found; run make deps"
	if ((EUID == 0)); then
		if id postgres >/dev/null 2>&1; then PG_RUN_AS=postgres; else PG_RUN_AS=nobody; fi
		chown -R "$PG_RUN_AS:" "$TEST_TMP" || die "cannot chown $TEST_TMP to $PG_RUN_AS"
		if ! _pg_as test -w "$TEST_TMP"; then
			local blocking
			blocking=$(_lib_blocking_dir "$TEST_TMP" "$PG_RUN_AS")
			die "PostgreSQL runs as $PG_RUN_AS (not as root), and $PG_RUN_AS cannot reach" \
				"$TEST_TMP${blocking:+: $blocking is closed to it (mode $(stat -c %a "$blocking"))};" \
				"set TMPDIR to a directory it can reach, e.g. TMPDIR=/tmp, or unset TMPDIR"
		fi
	fi
	PG_DATA=$TEST_TMP/pgdata
	unset PGHOSTADDR PGSERVICE PGSERVICEFILE PGOPTIONS PGSSLMODE PGPASSFILE PGCONNECT_TIMEOUT
	export PGHOST=$TEST_TMP
	export PGPORT=$((20000 + RANDOM % 40000))
	export PGUSER=refresher
	export PGDATABASE=refresher_test
	PGPASSWORD=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
	export PGPASSWORD TEST_DB_PASSWORD=$PGPASSWORD

	pwfile=$TEST_TMP/pwfile
	(umask 077 && printf '%s\n' "$PGPASSWORD" >"$pwfile")
	[[ -n "$PG_RUN_AS" ]] && chown "$PG_RUN_AS:" "$pwfile"
	if ! _pg_as "$PG_BINDIR/initdb" -D "$PG_DATA" -U "$PGUSER" --pwfile="$pwfile" \
		--auth=scram-sha-256 --encoding=UTF8 --locale=C --no-sync >"$TEST_TMP/initdb.log" 2>&1; then
		cat "$TEST_TMP/initdb.log" >&2
		die "initdb failed"
	fi
	rm -f "$pwfile"
	cat >>"$PG_DATA/postgresql.conf" <<-EOF
		# refresher integration tests: private, fast, disposable
		listen_addresses = ''
		unix_socket_directories = '$TEST_TMP'
		port = $PGPORT
		fsync = off
		synchronous_commit = off
		full_page_writes = off
		max_connections = 200
	EOF
	_pg_ctl_start || die "PostgreSQL did not start"
	psql -X -q -d postgres -v ON_ERROR_STOP=1 -c "CREATE DATABASE refresher_test" ||
		die "cannot create database refresher_test"
	sockenc=$(jq -rn --arg s "$TEST_TMP" '$s|@uri')
	export DATABASE_URL="postgresql://$PGUSER:$PGPASSWORD@/refresher_test?host=$sockenc&port=$PGPORT"
	if [[ -n "$POOLER" ]]; then
		pooler_start
	fi
}

# Starts the server of PG_DATA and waits until it accepts connections; prints its log on failure.
_pg_ctl_start() {
	if ! _pg_as "$PG_BINDIR/pg_ctl" -D "$PG_DATA" -l "$TEST_TMP/postgres.log" -w -t 60 -s \
		start >/dev/null; then
		tail -n 30 "$TEST_TMP/postgres.log" >&2
		return 1
	fi
}

# Stops PostgreSQL with MODE (fast by default; smart, fast, immediate). Returns pg_ctl's status.
pg_stop() {
	_pg_as "$PG_BINDIR/pg_ctl" -D "$PG_DATA" -m "${1:-fast}" -w -s stop
}

# Fast shutdown, then start again on the same socket and port. Returns non-zero on failure.
pg_restart() {
	pg_stop fast && _pg_ctl_start
}

# --- pooler (POOLER=pgbouncer) ---------------------------------------------------------------

# Prints the pgbouncer binary (Debian puts it in /usr/sbin, which a user's PATH may lack).
_pgb_find_bin() {
	local bin
	bin=$(command -v pgbouncer 2>/dev/null) || bin=/usr/sbin/pgbouncer
	[[ -x "$bin" ]] && echo "$bin"
}

# Starts pgbouncer in front of the running PostgreSQL: pool_mode = transaction, a unix socket
# in its own dir under TEST_TMP on a random port (no TCP), scram-sha-256 for the test user, run
# as the PostgreSQL user; then points DATABASE_URL at it (PGHOST/PGPORT stay direct). Dies on
# failure. Called by pg_start when POOLER is set.
pooler_start() {
	local bin sockenc
	[[ "$POOLER" == pgbouncer ]] || die "POOLER=$POOLER: only POOLER=pgbouncer is supported"
	bin=$(_pgb_find_bin) || die "pgbouncer not found; run make deps"
	PGB_DIR=$TEST_TMP/pgbouncer
	mkdir -p "$PGB_DIR" || die "cannot create $PGB_DIR"
	PGB_PORT=$((20000 + RANDOM % 40000))
	while ((PGB_PORT == PGPORT)); do PGB_PORT=$((20000 + RANDOM % 40000)); done
	(umask 077 && printf '"%s" "%s"\n' "$PGUSER" "$PGPASSWORD" >"$PGB_DIR/userlist.txt")
	cat >"$PGB_DIR/pgbouncer.ini" <<-EOF
		; refresher integration tests: the transaction-mode pooler SPEC promises to work through
		[databases]
		$PGDATABASE = host=$TEST_TMP port=$PGPORT dbname=$PGDATABASE
		[pgbouncer]
		unix_socket_dir = $PGB_DIR
		listen_port = $PGB_PORT
		auth_type = scram-sha-256
		auth_file = $PGB_DIR/userlist.txt
		pool_mode = transaction
		max_client_conn = 500
		default_pool_size = 20
		ignore_startup_parameters = extra_float_digits,application_name,options
		logfile = $PGB_DIR/pgbouncer.log
		pidfile = $PGB_DIR/pgbouncer.pid
		; after PostgreSQL restarts (t_40), reconnect to it within a second, and fail a query
		; that waits for a server longer than PGB_QUERY_WAIT_TIMEOUT instead of queueing it for
		; pgbouncer's default 120 s, which would stall the refresher's loop in libpq
		server_login_retry = 1
		query_wait_timeout = ${PGB_QUERY_WAIT_TIMEOUT:-2}
	EOF
	if [[ -n "$PG_RUN_AS" ]]; then
		chown -R "$PG_RUN_AS:" "$PGB_DIR" || die "cannot chown $PGB_DIR to $PG_RUN_AS"
	fi
	_pgb_run "$bin" || die "pgbouncer did not start"
	sockenc=$(jq -rn --arg s "$PGB_DIR" '$s|@uri')
	export DATABASE_URL="postgresql://$PGUSER:$PGPASSWORD@/$PGDATABASE?host=$sockenc&port=$PGB_PORT"
	echo "# pooler: pgbouncer, pool_mode = transaction, in front of PostgreSQL (refresher only)"
}

# Starts pgbouncer (binary $1) as a daemon on PGB_DIR's ini and waits (~10 s) until a query
# through it works; prints its log on failure.
_pgb_run() {
	local i
	rm -f "$PGB_DIR/pgbouncer.pid"
	if ! _pg_as "$1" -d -q "$PGB_DIR/pgbouncer.ini" >>"$PGB_DIR/start.log" 2>&1; then
		cat "$PGB_DIR/start.log" "$PGB_DIR/pgbouncer.log" >&2 2>/dev/null
		return 1
	fi
	for ((i = 0; i < 200; i++)); do
		if env -u PGHOST -u PGPORT psql -X -q -At -h "$PGB_DIR" -p "$PGB_PORT" \
			-d "$PGDATABASE" -c "SELECT 1" >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.05
	done
	tail -n 30 "$PGB_DIR/pgbouncer.log" >&2
	return 1
}

# Sends SIGTERM to process $1, waits up to ~5 s for it to go, then sends SIGKILL.
_stop_pid() {
	local i
	kill -TERM "$1" 2>/dev/null
	for ((i = 0; i < 100; i++)); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.05
	done
	kill -KILL "$1" 2>/dev/null
}

# Stops pgbouncer (SIGTERM, then SIGKILL after ~5 s). Returns 0 when none runs.
pooler_stop() {
	local pid
	[[ -n "$PGB_DIR" && -s "$PGB_DIR/pgbouncer.pid" ]] || return 0
	pid=$(<"$PGB_DIR/pgbouncer.pid")
	[[ "$pid" =~ ^[0-9]+$ ]] || return 0
	_stop_pid "$pid"
	rm -f "$PGB_DIR/pgbouncer.pid"
	return 0
}

# Succeeds when file name $1 matches one of the filters $2... (or no filter was given): the
# runners' FILTER arguments (tests/integration/run.sh, tests/faults/run.sh).
selected() {
	local f
	(($# == 1)) && return 0
	for f in "${@:2}"; do
		[[ "$1" == *"$f"* ]] && return 0
	done
	return 1
}

# db_url_as ROLE PASSWORD: prints a DATABASE_URL that logs in as ROLE (created beforehand, e.g.
# by sql/roles/refresher_role.sql): through pgbouncer when POOLER is set (the role is added to its
# auth file, which it re-reads on SIGHUP), else direct. The password joins the secret scan.
db_url_as() {
	local user=$1 pass=$2 sockenc i
	printf '%s\n' "$pass" >>"$TEST_TMP/secrets.txt"
	if [[ -z "$POOLER" ]]; then
		sockenc=$(jq -rn --arg s "$TEST_TMP" '$s|@uri')
		echo "postgresql://$user:$pass@/$PGDATABASE?host=$sockenc&port=$PGPORT"
		return 0
	fi
	if ! grep -q "^\"$user\" \"$pass\"\$" "$PGB_DIR/userlist.txt"; then
		printf '"%s" "%s"\n' "$user" "$pass" >>"$PGB_DIR/userlist.txt"
		kill -HUP "$(<"$PGB_DIR/pgbouncer.pid")" 2>/dev/null
	fi
	sockenc=$(jq -rn --arg s "$PGB_DIR" '$s|@uri')
	for ((i = 0; i < 100; i++)); do
		PGPASSWORD=$pass psql -X -q -At -h "$PGB_DIR" -p "$PGB_PORT" -U "$user" -d "$PGDATABASE" \
			-c "SELECT 1" >/dev/null 2>&1 && break
		sleep 0.05
	done
	echo "postgresql://$user:$pass@/$PGDATABASE?host=$sockenc&port=$PGB_PORT"
}

# Runs SQL through psql (unaligned, tuples only, stops at the first error) and prints the result.
q() {
	PGOPTIONS="-c client_min_messages=warning" psql -X -q -At -v ON_ERROR_STOP=1 -c "$*"
}

# Applies sql/*.sql in file-name order. Returns non-zero at the first file that fails.
migrate() {
	local f
	for f in "$REPO_ROOT"/sql/*.sql; do
		psql -X -q -v ON_ERROR_STOP=1 -f "$f" || {
			echo "migrate: $f failed" >&2
			return 1
		}
	done
}

# Drops auth_sessions and applies the migrations again: a fresh schema for the next test file.
reset_db() {
	q "DROP TABLE IF EXISTS auth_sessions CASCADE" && migrate
}

# Inserts one due row (created_at an hour ago) and prints its id. FINGERPRINT omitted: NULL.
# Usage: seed_row TOKEN [EMAIL] [COOKIES_JSON] [FINGERPRINT]
seed_row() {
	local fp_sql="NULL"
	[[ -n "${4+set}" ]] && fp_sql=":'fp'"
	PGOPTIONS="-c client_min_messages=warning" \
		psql -X -q -At -v ON_ERROR_STOP=1 -v token="$1" -v email="${2:-user@example.com}" \
		-v cookies="${3:-[]}" -v fp="${4:-}" <<-EOF
		INSERT INTO auth_sessions (user_email, aimharder_token, aimharder_cookies, fingerprint,
		                           created_at, updated_at)
		VALUES (:'email', :'token', (:'cookies')::jsonb, $fp_sql,
		        now() - interval '1 hour', now() - interval '1 hour')
		RETURNING id;
	EOF
}

# --- fake upstream --------------------------------------------------------------------------

# Starts build/fakeup with extra ARGS (e.g. --latency-ms 50), a fresh log and control dir; waits
# (at most ~10 s) for its port file. Exports FAKE_URL FAKE_LOG FAKE_CONTROL FAKE_PORT.
fake_start() {
	local port_file i
	_lib_tmp
	fake_stop
	[[ -x "$FAKEUP_BIN" ]] || die "$FAKEUP_BIN missing; run make build/fakeup"
	port_file=$TEST_TMP/fake.port
	export FAKE_LOG=$TEST_TMP/fake.log
	export FAKE_CONTROL=$TEST_TMP/fake-control
	rm -f "$port_file"
	: >"$FAKE_LOG"
	mkdir -p "$FAKE_CONTROL"
	rm -f "$FAKE_CONTROL/release"
	"$FAKEUP_BIN" --port-file "$port_file" --log "$FAKE_LOG" --control "$FAKE_CONTROL" "$@" \
		</dev/null >/dev/null 2>>"$TEST_TMP/fake.stderr" &
	FAKE_PID=$!
	for ((i = 0; i < 200; i++)); do
		[[ -s "$port_file" ]] && break
		if ! kill -0 "$FAKE_PID" 2>/dev/null; then
			wait "$FAKE_PID" 2>/dev/null
			FAKE_PID=""
			cat "$TEST_TMP/fake.stderr" >&2
			die "fakeup exited at start"
		fi
		sleep 0.05
	done
	[[ -s "$port_file" ]] || die "fakeup wrote no port file within 10 s"
	FAKE_PORT=$(<"$port_file")
	export FAKE_PORT FAKE_URL="http://127.0.0.1:$FAKE_PORT/api/tokenUpdate"
}

# Stops the fake (SIGTERM, then SIGKILL after ~5 s) and reaps it. Returns 0 when none runs.
fake_stop() {
	[[ -n "$FAKE_PID" ]] || return 0
	_stop_pid "$FAKE_PID"
	wait "$FAKE_PID" 2>/dev/null
	FAKE_PID=""
	return 0
}

# Prints the fake's counters: {"requests":N,"peak_in_flight":N,"in_flight":N}.
fake_stats() {
	curl -s --max-time 5 "http://127.0.0.1:$FAKE_PORT/stats"
}

# Zeroes the fake's counters and forgets the tokens it has seen (flaky, ratelimit...).
fake_reset_stats() {
	curl -s --max-time 5 -X POST "http://127.0.0.1:$FAKE_PORT/reset-stats" >/dev/null
}

# Lets every `hold` request of the fake answer.
fake_release() {
	touch "$FAKE_CONTROL/release"
}

# Makes the fake hold `hold` requests again: removes CONTROL/release and waits out the fake's
# look for it (every 10 ms, RELEASE_POLL_MS), so a request sent next is surely held.
fake_hold() {
	rm -f "$FAKE_CONTROL/release"
	sleep 0.1
}

# Prints how many requests the fake logged, all or those whose token is PREFIX or PREFIX-...
fake_count_requests() {
	jq -Rn --arg p "${1:-}" '[inputs | fromjson? | select(.ev == "req")
		| select($p == "" or .token == $p or (.token | startswith($p + "-")))] | length' \
		"$FAKE_LOG"
}

# --- checks ---------------------------------------------------------------------------------

# Records a pass and prints "ok - DESC".
_pass() {
	TESTS_PASSED=$((TESTS_PASSED + 1))
	echo "ok - $1"
}

# Records a failure and prints "FAIL - DESC" and the context lines given after it.
_fail() {
	local line
	TESTS_FAILED=$((TESTS_FAILED + 1))
	echo "FAIL - $1"
	shift
	for line in "$@"; do
		printf '#   %s\n' "$line"
	done
}

# check DESC CMD...: passes when CMD exits 0; on failure shows the command, status and output.
check() {
	local desc=$1 out rc
	shift
	out=$(mktemp "${TMPDIR:-/tmp}/refresher-check.XXXXXX")
	"$@" >"$out" 2>&1
	rc=$?
	if ((rc == 0)); then
		_pass "$desc"
	else
		_fail "$desc" "command: $*" "exit status: $rc"
		tail -n 20 "$out" | sed 's/^/#   | /'
	fi
	rm -f "$out"
	return "$rc"
}

# check_eq DESC EXPECTED ACTUAL: passes when the two strings are equal; multi-line values that
# differ are shown as a diff.
check_eq() {
	if [[ "$2" == "$3" ]]; then
		_pass "$1"
	elif [[ "$2$3" == *$'\n'* ]]; then
		_fail "$1" "expected (-) and actual (+) differ:"
		diff -u <(printf '%s\n' "$2") <(printf '%s\n' "$3") | tail -n +3 | head -n 40 |
			sed 's/^/#   | /'
		return 1
	else
		_fail "$1" "expected: $2" "actual:   $3"
		return 1
	fi
}

# check_match DESC REGEX ACTUAL: passes when ACTUAL matches the extended REGEX.
check_match() {
	if [[ "$3" =~ $2 ]]; then
		_pass "$1"
	else
		_fail "$1" "expected to match: $2" "actual: $3"
		return 1
	fi
}

# wait_for CMD...: runs CMD every 50 ms until it succeeds; after WAIT_TIMEOUT seconds (default
# 10) records a failure and returns 1.
wait_for() {
	local deadline=$((SECONDS + WAIT_TIMEOUT))
	while ! "$@" >/dev/null 2>&1; do
		if ((SECONDS > deadline)); then
			_fail "timed out after ${WAIT_TIMEOUT}s waiting for: $*"
			return 1
		fi
		sleep 0.05
	done
}

# Prints "N passed, N failed"; returns 1 when any check failed.
finish() {
	echo "$TESTS_PASSED passed, $TESTS_FAILED failed"
	((TESTS_FAILED == 0))
}
