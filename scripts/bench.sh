#!/usr/bin/env bash
# bench.sh - issue 5's benchmark: seeded due rows, a fake upstream with latency, real sweeps, one line per case.
#
# Usage: scripts/bench.sh [CASE...]        (run through `make bench`; builds are make's job)
#   BENCH_CASES=default|full|"CASE ..."    which cases (arguments win over the variable)
#   BENCH_OUT=DIR                          where results.md / results.tsv / per-case logs go
#   BENCH_MAX_RATE=R, BENCH_BREAKER_WINDOW=W  refresh.max_rate / breaker.window of every case
#                                          (default 0 and 50, the refresher's defaults)
#                                          (default build/bench)
#   BENCH_PG_DURABLE=1                     fsync and synchronous_commit on (default: off, as in
#                                          the integration tests: the database is disposable)
#
# A CASE is N/L/C[/OPTION...]:
#   N        due rows seeded: 10000, 10k, 1M ...
#   L        upstream latency in ms, fixed ("50") or uniform in a range ("25-75": the fake's
#            --latency-ms 25 --jitter-ms 50); efficiency uses the mean
#   C        refresh.concurrency
#   dbD      D ms added to every database round trip (scripts/bench/delayproxy.py between the
#            refresher's TCP connection and PostgreSQL's unix socket, on the way in; asyncio
#            rounds its timers up, so the measured round trip, shown as db_rtt, is about D+1 ms;
#            needs python3)
#   xP       P refresher processes at once on the one database (scale-out)
#   shard    with xP: process I runs with --shard I/P
#   bB       refresh.batch_size B (default: the refresher's own, 256)
#   once     log every upstream call and prove each seeded token was called exactly once
#            (implied by xP)
#   startup  time the first steps: from exec to the due count (the first claim is sent right
#            after it), to the first request the upstream receives, and the run's CPU; with N=0
#            a run with nothing due (implies once)
#   node     the upstream is scripts/bench/nodeup.js (a single-threaded Node.js http server)
#            instead of the C fake: an independent second upstream
#   h2       the upstream is nodeup.js speaking HTTP/2 over TLS (a self-signed certificate
#            for 127.0.0.1, trusted through upstream.ca_file): the run's requests are streams
#            multiplexed on one connection
# and wpath/N[/dbD] measures the write path alone (build/bench-wpath: src/db.c's claim and
# write-back statements without HTTP, one connection), the ceiling of an L=0 sweep.
#
# Each case: a fresh table of N due rows (TRUNCATE, INSERT ... generate_series, VACUUM ANALYZE,
# CHECKPOINT), a fresh fake upstream on 127.0.0.1, the sweep(s) with the default config except
# upstream.url, refresh.concurrency and refresh.max_runtime: 0, then checks that every row was
# refreshed exactly once (each row's token replaced, token_update_count = 1, no error, no claim
# left, and the fake counted N requests, plus at most the retries the summary counts). Columns:
#   wall s       the refresher process's wall time, start to exit (xP: first start to last exit)
#   rows/s       N / wall
#   efficiency   (N x mean L / C) / wall: 1.0 means every slot was busy with a request all the
#                time; "-" at L=0
#   RSS MiB      peak RSS of the refresher process (getrusage of the child, build/bench-rusage);
#                xP: the largest
#   RT/row       statements the database executed for the run (pg_stat_statements, which the
#                bench's own PostgreSQL preloads) / N; each is one round trip (unnamed
#                statements, one PQexecParams each); connection set-up is not counted
#   cpu us/row   CPU time per row of the refresher, of PostgreSQL (all its processes) and of the
#                fake upstream, from getrusage and /proc
#   conns        TCP connections to the fake seen right after the run (TIME_WAIT + ESTABLISHED on
#                its port): about C when connections are reused, about N when they are not
#   busy %       the whole machine's CPU busy share during the case (/proc/stat); load1 = the
#                1-minute load average at the start of the case (the machine may be shared)
set -u -o pipefail
export LC_ALL=C

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=tests/integration/lib.sh
. "$ROOT/tests/integration/lib.sh"

RUSAGE_BIN=${RUSAGE_BIN:-$BUILD_DIR/bench-rusage}
WPATH_BIN=${WPATH_BIN:-$BUILD_DIR/bench-wpath}
PROXY_PY=$ROOT/scripts/bench/delayproxy.py
BENCH_OUT=${BENCH_OUT:-$ROOT/build/bench}
CLK_TCK=$(getconf CLK_TCK)

# About 10-15 minutes on a 2-core machine: the targets' cases (efficiency at N=100k L=50 C=256,
# with 5 ms to the database; RSS at C=256 for N=10k and N=1M, and at C=1024; L=0 against the
# write path alone; four processes, with and without --shard) and one case per C and L besides.
# The 1M case runs at L=0, the quickest way through a million rows; BENCH_CASES=full has the rest.
DEFAULT_CASES=(
	10k/50/256
	100k/50/256
	100k/25-75/256
	100k/50/256/db5
	10k/50/32
	100k/50/1024
	100k/20/256
	wpath/100k
	wpath/100k/db5
	10k/0/256
	100k/0/32
	100k/0/256
	100k/0/1024
	1M/0/256
	100k/0/256/x4
	100k/0/256/x4/shard
)

PROXY_PID=""
FAILED_CASES=0

# Prints a message to stderr and exits 1 (the EXIT trap of lib.sh stops what was started).
fatal() {
	echo "bench: $*" >&2
	exit 1
}

# Prints the full case list: N x L x C, the database latency, the scale-out and write path.
full_cases() {
	local n l c
	for n in 10k 100k 1M; do
		for l in 0 20 50; do
			for c in 32 256 1024; do
				echo "$n/$l/$c"
			done
		done
	done
	printf '%s\n' 100k/25-75/256 100k/50/256/db5 1M/50/256/db5 100k/0/256/db5 \
		wpath/100k wpath/1M wpath/100k/db5 \
		100k/0/256/x4 100k/0/256/x4/shard 100k/50/256/x4 100k/50/256/x4/shard
}

# Prints the number for 10k, 1M, 250000 ...; fails on anything else.
parse_count() {
	case $1 in
	*[kK]) [[ ${1%[kK]} =~ ^[0-9]+$ ]] && echo $((${1%[kK]} * 1000)) ;;
	*M) [[ ${1%M} =~ ^[0-9]+$ ]] && echo $((${1%M} * 1000000)) ;;
	*) [[ $1 =~ ^[0-9]+$ ]] && echo "$1" ;;
	esac
}

# Checks the commands and binaries the bench needs; says which Debian package gives each.
check_tools() {
	local missing=() need
	for need in psql:postgresql-client jq:jq curl:curl awk:mawk; do
		command -v "${need%%:*}" >/dev/null 2>&1 || missing+=("${need#*:}")
	done
	if ((${#missing[@]} > 0)); then
		fatal "missing: ${missing[*]} (apt-get install ${missing[*]}, or make deps)"
	fi
	local bin
	for bin in "$REFRESHER_BIN" "$FAKEUP_BIN" "$RUSAGE_BIN" "$WPATH_BIN"; do
		[[ -x "$bin" ]] || fatal "$bin missing: run make bench (it builds everything first)"
	done
}

# Starts the bench's PostgreSQL: lib.sh's pg_start (private, unix socket) plus
# pg_stat_statements and settings for a table of a million rows, then restarts it.
bench_pg_start() {
	pg_start
	local durable="fsync = off"
	if [[ -n "${BENCH_PG_DURABLE:-}" ]]; then
		durable=$'fsync = on\nsynchronous_commit = on\nfull_page_writes = on'
	fi
	cat >>"$PG_DATA/postgresql.conf" <<-EOF
		# bench.sh
		shared_preload_libraries = 'pg_stat_statements'
		pg_stat_statements.track = top
		pg_stat_statements.max = 1000
		shared_buffers = 256MB
		max_wal_size = 8GB
		checkpoint_timeout = 30min
		$durable
	EOF
	pg_restart || fatal "PostgreSQL did not restart with pg_stat_statements"
	q "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null ||
		fatal "CREATE EXTENSION pg_stat_statements failed (Debian's postgresql package ships it)"
	migrate >/dev/null || fatal "migrations failed"
	# The seed application's trigger (SPEC: it stays, and fires on the refresher's writes too).
	psql -X -q -v ON_ERROR_STOP=1 >/dev/null <<-'EOF' || fatal "cannot create the updated_at trigger"
		SET client_min_messages = warning;
		CREATE OR REPLACE FUNCTION bench_set_updated_at() RETURNS trigger LANGUAGE plpgsql AS
		$$ BEGIN NEW.updated_at = now(); RETURN NEW; END $$;
		DROP TRIGGER IF EXISTS bench_updated_at ON auth_sessions;
		CREATE TRIGGER bench_updated_at BEFORE UPDATE ON auth_sessions
			FOR EACH ROW EXECUTE FUNCTION bench_set_updated_at();
	EOF
	PG_MAIN_PID=$(head -n 1 "$PG_DATA/postmaster.pid")
}

# seed_rows N [TOKENS_FILE]: a table of exactly N due rows (an hour old, two stored cookies, a
# fingerprint on two rows in three), vacuumed, analysed and checkpointed; with TOKENS_FILE,
# their tokens, sorted, are written there.
seed_rows() {
	psql -X -q -v ON_ERROR_STOP=1 -v n="$1" >/dev/null <<-'EOF' || fatal "seeding $1 rows failed"
		SET client_min_messages = warning;
		TRUNCATE auth_sessions;
		INSERT INTO auth_sessions (user_email, aimharder_token, aimharder_cookies, fingerprint,
		                           created_at, updated_at)
		SELECT 'user' || g || '@example.com', 'ok-seed-' || md5(g::text || random()::text),
		       jsonb_build_array(jsonb_build_object('name', 'AWSALB', 'value', md5(random()::text)),
		                         jsonb_build_object('name', 'PHPSESSID', 'value', md5(g::text))),
		       CASE WHEN g % 3 = 0 THEN NULL ELSE 'fp-' || md5(g::text) END,
		       now() - interval '1 hour' - g * interval '1 millisecond', now() - interval '1 hour'
		FROM generate_series(1, :n) g;
		VACUUM ANALYZE auth_sessions;
		CHECKPOINT;
	EOF
	if [[ -n "${2:-}" ]]; then
		q "SELECT aimharder_token FROM auth_sessions" | sort >"$2" || fatal "cannot list the tokens"
	fi
}

# Starts the delay proxy in front of PostgreSQL's socket; sets PROXY_PORT, PROXY_PID.
proxy_start() {
	local port_file=$TEST_TMP/proxy.port i
	command -v python3 >/dev/null 2>&1 ||
		fatal "the database-latency cases need python3 (apt-get install python3)"
	rm -f "$port_file"
	python3 "$PROXY_PY" --unix "$PGHOST/.s.PGSQL.$PGPORT" --delay-ms "$1" \
		--port-file "$port_file" </dev/null >/dev/null 2>>"$TEST_TMP/proxy.stderr" &
	PROXY_PID=$!
	for ((i = 0; i < 200; i++)); do
		[[ -s "$port_file" ]] && break
		kill -0 "$PROXY_PID" 2>/dev/null || fatal "delay proxy exited: $(cat "$TEST_TMP/proxy.stderr")"
		sleep 0.05
	done
	[[ -s "$port_file" ]] || fatal "delay proxy wrote no port file"
	PROXY_PORT=$(<"$port_file")
}

proxy_stop() {
	[[ -n "$PROXY_PID" ]] || return 0
	kill -TERM "$PROXY_PID" 2>/dev/null
	wait "$PROXY_PID" 2>/dev/null
	PROXY_PID=""
}

# Stops the proxy too on every exit path (lib.sh's traps stop the fake and PostgreSQL).
bench_cleanup() {
	proxy_stop
	_lib_cleanup
}

# The database URL of a case: straight to the socket, or through the proxy on 127.0.0.1.
case_db_url() {
	if [[ -n "$PROXY_PID" ]]; then
		echo "postgresql://$PGUSER:$PGPASSWORD@127.0.0.1:$PROXY_PORT/refresher_test?sslmode=disable"
	else
		echo "$DATABASE_URL"
	fi
}

# Median ms of 20 trivial round trips on the case's database URL (shows what the proxy adds).
db_rtt_ms() {
	local url=$1
	psql -X -At -d "$url" 2>/dev/null <<-'EOF' | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' |
		\timing on
		SELECT 1 \g /dev/null
		SELECT 1 \g /dev/null
		SELECT 1 \g /dev/null
		SELECT 1 \g /dev/null
		SELECT 1 \g /dev/null
		SELECT 1 \g /dev/null
		SELECT 1 \g /dev/null
		SELECT 1 \g /dev/null
		SELECT 1 \g /dev/null
		SELECT 1 \g /dev/null
		SELECT 1 \g /dev/null
	EOF
		sort -n | awk '{ v[NR] = $1 } END { if (NR) printf "%.2f", v[int((NR + 1) / 2)]; else print "-" }'
}

# write_case_config FILE C URL [CA]: the default config but for the upstream (its CA bundle, and
# the fingerprint of the rows that have none), concurrency, deadline
# (the refresh section comes last, so a case may append keys to it).
# shellcheck disable=SC2016 # ${BENCH_DB_URL} is for the refresher to expand
write_case_config() {
	cat >"$1" <<-EOF
		database:
		  url: \${BENCH_DB_URL}
		upstream:
		  url: $3
		  fingerprint: bench-default-fp
		  ca_file: "${4:-}"
		refresh:
		  concurrency: $2
		  max_runtime: 0
		  max_rate: ${BENCH_MAX_RATE:-0}
		breaker:
		  window: ${BENCH_BREAKER_WINDOW:-50}
	EOF
}

# Prints "user+sys" clock ticks of PostgreSQL: the postmaster, its reaped children (backends
# that have exited) and its live children.
pg_cpu_ticks() {
	local stat
	{
		cat "/proc/$PG_MAIN_PID/stat" 2>/dev/null
		for stat in /proc/[0-9]*/stat; do
			cat "$stat" 2>/dev/null
		done
	} | awk -v main="$PG_MAIN_PID" '
		# Field 2 (comm) may hold spaces: work on what follows the last ")".
		{ s = substr($0, index($0, ")") + 2); n = split(s, f, " ")
		  pid = $1; ppid = f[2]
		  if (pid == main && !seen[pid]++) t += f[12] + f[13] + f[14] + f[15]
		  else if (ppid == main) t += f[12] + f[13] }
		END { print t + 0 }'
}

# Waits (at most ~3 s) until no backend serves the bench database any more, so that the CPU of
# the refresher's backends has moved into the postmaster's reaped-children times.
wait_backends_gone() {
	local i
	for ((i = 0; i < 60; i++)); do
		# A child not reaped yet (state Z) counts as a backend still there.
		awk -v main="$PG_MAIN_PID" '{ s = substr($0, index($0, ")") + 2); split(s, f, " ")
			if (f[2] == main) print $1, f[1] }' /proc/[0-9]*/stat 2>/dev/null |
			while read -r pid state; do
				if [[ "$state" == Z ]]; then echo refresher_test; fi
				tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null
				echo
			done | grep -q 'refresher_test' || return 0
		sleep 0.05
	done
}

# Prints utime+stime ticks of one process (0 when gone).
proc_cpu_ticks() {
	awk '{ s = substr($0, index($0, ")") + 2); split(s, f, " "); print f[12] + f[13] }' \
		"/proc/$1/stat" 2>/dev/null || echo 0
}

# Prints "busy total" jiffies of the whole machine.
machine_ticks() {
	awk '/^cpu / { t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6, t }' /proc/stat
}

# Prints the number of TCP sockets on PORT of 127.0.0.1 in TIME_WAIT or ESTABLISHED.
tcp_conns_on_port() {
	local hex
	hex=$(printf ':%04X' "$1")
	awk -v p="$hex" 'NR > 1 && ($4 == "06" || $4 == "01") &&
		(substr($2, length($2) - 4) == p || substr($3, length($3) - 4) == p) { n++ }
		END { print n + 0 }' /proc/net/tcp
}

# pgss_value SQL: runs one query against pg_stat_statements, prints the value.
pgss_value() {
	q "SELECT $1 FROM pg_stat_statements
	   WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
	     AND query NOT LIKE '%pg_stat_statements%'" 2>/dev/null
}

# Appends a result row (tab-separated) to the TSV and prints the line.
record() {
	local IFS=$'\t'
	echo "$*" >>"$BENCH_OUT/results.tsv"
	printf '%s\n' "$*" | awk -F'\t' '{
		printf "%-22s N=%-8s L=%-6s C=%-5s wall=%-8s rows/s=%-7s eff=%-5s rss=%-6sMiB rt/row=%-7s cpu(us/row) ref=%s pg=%s fake=%s conns=%s busy=%s%% load1=%s %s\n",
		$1, $2, $3, $4, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17 }'
}

# run_wpath SPEC: the write path alone on N fresh rows.
run_wpath() {
	local spec=$1 n opt db_ms="" dir out rtt load1 cfg
	IFS=/ read -r _ n opt <<<"$spec"
	n=$(parse_count "$n") || fatal "$spec: bad row count"
	case ${opt:-} in
	"") ;;
	db[0-9]*) db_ms=${opt#db} ;;
	*) fatal "$spec: unknown option '$opt'" ;;
	esac
	dir=$BENCH_OUT/cases/${spec//\//_}
	mkdir -p "$dir"
	seed_rows "$n"
	[[ -n "$db_ms" ]] && proxy_start "$db_ms"
	BENCH_DB_URL=$(case_db_url)
	export BENCH_DB_URL
	rtt=$(db_rtt_ms "$BENCH_DB_URL")
	cfg=$dir/refresher.yaml
	write_case_config "$cfg" 256 "http://127.0.0.1:9/unused"
	load1=$(cut -d' ' -f1 /proc/loadavg)
	q "SELECT pg_stat_statements_reset()" >/dev/null
	out=$("$WPATH_BIN" "$cfg" 2>"$dir/stderr")
	local rc=$? stmts
	proxy_stop
	echo "$out" >"$dir/wpath.out"
	stmts=$(pgss_value "coalesce(sum(calls), 0)")
	if ((rc != 0)) || [[ "$out" != rows=$n\ * ]]; then
		FAILED_CASES=$((FAILED_CASES + 1))
		echo "FAIL $spec: bench-wpath status $rc: $out $(tail -n 3 "$dir/stderr")"
		return 0
	fi
	local wall rps
	wall=$(sed -n 's/.*wall_s=\([0-9.]*\).*/\1/p' <<<"$out")
	rps=$(sed -n 's/.*rows_per_s=\([0-9]*\).*/\1/p' <<<"$out")
	record "$spec" "$n" 0 - 1 "$wall" "$rps" - - \
		"$(awk -v s="$stmts" -v n="$n" 'BEGIN { printf "%.4f", s / n }')" - - - - - "$load1" \
		"db_rtt=${rtt}ms ${out#*rows_per_s=[0-9]* }"
}

# node_start node|h2 [nodeup.js options]: starts scripts/bench/nodeup.js as the case's upstream
# in the fake's place (FAKE_PID, FAKE_PORT, FAKE_URL; fake_stats and fake_stop work on it). h2
# makes a self-signed certificate for 127.0.0.1 and sets NODE_CA to it.
NODE_CA=""
node_start() {
	local mode=$1 port_file=$TEST_TMP/node.port i h2=()
	shift
	command -v node >/dev/null 2>&1 || fatal "node missing: run make deps (package nodejs)"
	fake_stop
	rm -f "$port_file"
	NODE_CA=""
	if [[ "$mode" == h2 ]]; then
		openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=127.0.0.1" \
			-addext "subjectAltName=IP:127.0.0.1" -keyout "$TEST_TMP/node.key" \
			-out "$TEST_TMP/node.pem" >"$TEST_TMP/openssl.log" 2>&1 || fatal "openssl req failed"
		NODE_CA=$TEST_TMP/node.pem
		h2=(--h2 --key "$TEST_TMP/node.key" --cert "$NODE_CA")
	fi
	node "${NODEUP_JS:-$ROOT/scripts/bench/nodeup.js}" --port-file "$port_file" "${h2[@]}" "$@" \
		</dev/null >/dev/null 2>>"$TEST_TMP/node.stderr" &
	FAKE_PID=$!
	for ((i = 0; i < 200; i++)); do
		[[ -s "$port_file" ]] && break
		kill -0 "$FAKE_PID" 2>/dev/null || fatal "nodeup.js exited at start: $(cat "$TEST_TMP/node.stderr")"
		sleep 0.05
	done
	[[ -s "$port_file" ]] || fatal "nodeup.js wrote no port file within 10 s"
	FAKE_PORT=$(<"$port_file")
	if [[ "$mode" == h2 ]]; then
		FAKE_URL="https://127.0.0.1:$FAKE_PORT/api/tokenUpdate"
	else
		FAKE_URL="http://127.0.0.1:$FAKE_PORT/api/tokenUpdate"
	fi
	export FAKE_PORT FAKE_URL
}

# startup_note DIR FAKE_LOG: "to_due_ms=A to_first_request_ms=B cpu_ms=C" of the case's one
# process, from bench-rusage's start times, the refresher's "rows due" log line (UTC, ms) and
# the fake's first request (CLOCK_MONOTONIC us).
startup_note() {
	local ru real mono due_line due_ms first req_ms cpu
	ru=$(<"$1/rusage.0")
	real=$(sed -n 's/.*start_real_us=\([0-9]*\).*/\1/p' <<<"$ru")
	mono=$(sed -n 's/.*start_mono_us=\([0-9]*\).*/\1/p' <<<"$ru")
	due_line=$(grep -m1 -E ' rows? due' "$1/stderr.0" | cut -d' ' -f1)
	due_ms=-
	[[ -n "$due_line" ]] && due_ms=$(( ($(date -d "$due_line" +%s%6N) - real) / 1000 ))
	first=$(grep -m1 '^{"ev":"req"' "$2" | sed -n 's/.*"t_us":\([0-9]*\).*/\1/p')
	req_ms=-
	[[ -n "$first" ]] && req_ms=$(awk -v a="$first" -v b="$mono" 'BEGIN { printf "%.1f", (a - b) / 1000 }')
	cpu=$(awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); if (kv[1] == "user_s" || kv[1] == "sys_s") t += kv[2] } }
		END { printf "%.1f", t * 1000 }' <<<"$ru")
	echo "to_due_ms=$due_ms to_first_request_ms=$req_ms cpu_ms=$cpu"
}

# run_case SPEC: one sweep case (see the header).
run_case() {
	local spec=$1 n lat c opts opt lat_ms jit_ms=0 mean_l db_ms="" procs=1 shard="" once="" batch=""
	local upstream=fake startup=""
	IFS=/ read -r n lat c opts <<<"$spec"
	n=$(parse_count "$n") || fatal "$spec: bad row count"
	[[ "$c" =~ ^[0-9]+$ ]] || fatal "$spec: bad concurrency"
	if [[ "$lat" =~ ^([0-9]+)-([0-9]+)$ ]]; then
		lat_ms=${BASH_REMATCH[1]}
		jit_ms=$((BASH_REMATCH[2] - BASH_REMATCH[1]))
	elif [[ "$lat" =~ ^[0-9]+$ ]]; then
		lat_ms=$lat
	else
		fatal "$spec: bad latency"
	fi
	mean_l=$(awk -v a="$lat_ms" -v j="$jit_ms" 'BEGIN { print a + j / 2 }')
	local IFS_SAVE=$IFS
	IFS=/
	for opt in ${opts:-}; do
		case $opt in
		db[0-9]*) db_ms=${opt#db} ;;
		x[0-9]*) procs=${opt#x} once=1 ;;
		shard) shard=1 ;;
		b[0-9]*) batch=${opt#b} ;;
		once) once=1 ;;
		startup) startup=1 once=1 ;;
		node) upstream=node ;;
		h2) upstream=h2 ;;
		*) fatal "$spec: unknown option '$opt'" ;;
		esac
	done
	IFS=$IFS_SAVE

	local dir=$BENCH_OUT/cases/${spec//\//_} tokens="" fake_log=/dev/null cfg
	rm -rf "$dir"
	mkdir -p "$dir"
	if [[ -n "$once" ]]; then
		tokens=$TEST_TMP/tokens.seeded
		fake_log=$TEST_TMP/fake.calls
		: >"$fake_log"
	fi
	seed_rows "$n" "$tokens"
	[[ -n "$db_ms" ]] && proxy_start "$db_ms"
	BENCH_DB_URL=$(case_db_url)
	export BENCH_DB_URL
	local rtt=""
	[[ -n "$db_ms" ]] && rtt="db_rtt=$(db_rtt_ms "$BENCH_DB_URL")ms"
	if [[ "$upstream" == fake ]]; then
		NODE_CA=""
		fake_start --latency-ms "$lat_ms" --jitter-ms "$jit_ms" --log "$fake_log"
	else
		node_start "$upstream" --latency-ms "$lat_ms" --jitter-ms "$jit_ms" --log "$fake_log"
	fi
	cfg=$dir/refresher.yaml
	write_case_config "$cfg" "$c" "$FAKE_URL" "$NODE_CA"
	[[ -n "$batch" ]] && printf '  batch_size: %s\n' "$batch" >>"$cfg"

	local load1 m0 m1 pg0 pg1 fk0 fk1 t0 t1 i rcs="" pids=()
	load1=$(cut -d' ' -f1 /proc/loadavg)
	q "SELECT pg_stat_statements_reset()" >/dev/null
	local lsn0 lsn1
	lsn0=$(q "SELECT pg_current_wal_lsn()")
	m0=$(machine_ticks)
	pg0=$(pg_cpu_ticks)
	fk0=$(proc_cpu_ticks "$FAKE_PID")
	t0=$(date +%s%N)
	for ((i = 0; i < procs; i++)); do
		local args=(-c "$cfg")
		[[ -n "$shard" ]] && args+=(--shard "$i/$procs")
		"$RUSAGE_BIN" "$dir/rusage.$i" "$REFRESHER_BIN" "${args[@]}" \
			</dev/null >"$dir/stdout.$i" 2>"$dir/stderr.$i" &
		pids+=($!)
	done
	for i in "${!pids[@]}"; do
		wait "${pids[$i]}"
		rcs+="$? "
	done
	t1=$(date +%s%N)
	m1=$(machine_ticks)
	wait_backends_gone
	pg1=$(pg_cpu_ticks)
	fk1=$(proc_cpu_ticks "$FAKE_PID")

	local stats conns
	# Before fake_stats, whose own connection would count.
	conns=$(tcp_conns_on_port "$FAKE_PORT")
	if [[ -n "$NODE_CA" ]]; then
		stats=$(curl -s --max-time 5 --cacert "$NODE_CA" "https://127.0.0.1:$FAKE_PORT/stats")
	else
		stats=$(fake_stats)
	fi
	# nodeup.js counts the connections it accepted (its /stats connection is counted after).
	[[ "$upstream" != fake ]] && conns=$(jq -r '.connections // 0' <<<"$stats")
	fake_stop
	proxy_stop

	# What the run did, from the processes' own accounts.
	local wall rss ref_cpu refreshed retries requests peak stmts claims writes claim_ms write_ms
	if ((procs == 1)); then
		wall=$(sed -n 's/.*wall_s=\([0-9.]*\).*/\1/p' "$dir/rusage.0")
	else
		wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
	fi
	rss=$(cat "$dir"/rusage.* | sed -n 's/.*maxrss_kib=\([0-9]*\).*/\1/p' | sort -n | tail -n 1)
	ref_cpu=$(cat "$dir"/rusage.* | awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "=");
		if (kv[1] == "user_s" || kv[1] == "sys_s") t += kv[2] } } END { print t }')
	refreshed=$(cat "$dir"/stderr.* | sed -n 's/^summary: .* refreshed=\([0-9]*\).*/\1/p' |
		awk '{ t += $1 } END { print t + 0 }')
	retries=$(cat "$dir"/stderr.* | sed -n 's/^summary: .* retries=\([0-9]*\).*/\1/p' |
		awk '{ t += $1 } END { print t + 0 }')
	requests=$(jq -r '.requests // 0' <<<"$stats")
	peak=$(jq -r '.peak_in_flight // 0' <<<"$stats")
	stmts=$(pgss_value "coalesce(sum(calls), 0)")
	claims=$(pgss_value "coalesce(sum(calls) FILTER (WHERE query LIKE 'WITH due AS%'), 0)")
	writes=$(pgss_value "coalesce(sum(calls) FILTER (WHERE query LIKE 'WITH res AS%'), 0)")
	claim_ms=$(pgss_value "round((sum(total_exec_time) FILTER (WHERE query LIKE 'WITH due AS%')
		/ nullif(sum(calls) FILTER (WHERE query LIKE 'WITH due AS%'), 0))::numeric, 2)")
	write_ms=$(pgss_value "round((sum(total_exec_time) FILTER (WHERE query LIKE 'WITH res AS%')
		/ nullif(sum(calls) FILTER (WHERE query LIKE 'WITH res AS%'), 0))::numeric, 2)")

	# Every row refreshed exactly once?
	local verdict="" check
	check=$(q "SELECT count(*) FILTER (WHERE aimharder_token LIKE 'ok-%'
	                                   AND aimharder_token NOT LIKE 'ok-seed-%'
	                                   AND token_update_count = 1
	                                   AND last_token_update_error IS NULL
	                                   AND token_update_claimed_until IS NULL)
	           || ' ' || count(*) FROM auth_sessions")
	[[ "$check" == "$n $n" ]] || verdict+=" rows-refreshed/total=${check/ //}"
	((refreshed == n)) || verdict+=" summary-refreshed=$refreshed"
	# Every request the upstream answered beyond one per row is a retry the summary counts (a
	# retry after a lost connection may follow a request the upstream never received).
	((requests >= n && requests <= n + retries)) ||
		verdict+=" upstream-requests=$requests(rows=$n,retries=$retries)"
	[[ "$rcs" =~ ^(0 )+$ ]] || verdict+=" exit-codes=${rcs% }"
	local once_note=""
	if [[ -n "$once" ]]; then
		local called dups missing unknown
		called=$TEST_TMP/tokens.called
		grep '^{"ev":"req"' "$fake_log" | sed 's/.*"token":"\([^"]*\)".*/\1/' | sort >"$called"
		# Calls beyond a token's first must all be retries the summary counted.
		dups=$(($(wc -l <"$called") - $(uniq "$called" | wc -l)))
		missing=$(comm -23 "$tokens" <(uniq "$called") | wc -l)
		# A request cut short by a connection's end can reach the server with half a body.
		unknown=$(comm -13 "$tokens" <(uniq "$called") | wc -l)
		if ((dups <= retries && missing == 0)); then
			once_note="each-of-${n}-tokens-called-once"
			((dups == 0)) || once_note+="-plus-${dups}-of-${retries}-counted-retries"
			((unknown == 0)) || once_note+=" cut-short-bodies=$unknown"
		else
			verdict+=" token-calls-beyond-the-first=$dups(counted-retries=$retries) tokens-not-called=$missing cut-short-bodies=$unknown"
		fi
		if ((procs > 1)); then
			once_note+=" per-process=$(cat "$dir"/stderr.* |
				sed -n 's/^summary: .* refreshed=\([0-9]*\).*/\1/p' | paste -sd+)"
		fi
	fi

	local eff rps busy cpu_row
	rps=$(awk -v n="$n" -v w="$wall" 'BEGIN { printf "%.0f", n / w }')
	eff=$(awk -v n="$n" -v l="$mean_l" -v c="$c" -v p="$procs" -v w="$wall" \
		'BEGIN { if (l == 0) print "-"; else printf "%.3f", (n * l / 1000 / (c * p)) / w }')
	busy=$(awk -v a="$m0" -v b="$m1" 'BEGIN { split(a, x, " "); split(b, y, " ");
		d = y[2] - x[2]; printf "%.0f", (d > 0 ? 100 * (y[1] - x[1]) / d : 0) }')
	cpu_row=$(awk -v n="$n" -v r="$ref_cpu" -v p0="$pg0" -v p1="$pg1" -v f0="$fk0" -v f1="$fk1" \
		-v hz="$CLK_TCK" 'BEGIN { if (n == 0) n = 1; printf "%.0f\t%.0f\t%.0f", r * 1e6 / n,
			(p1 - p0) / hz * 1e6 / n, (f1 - f0) / hz * 1e6 / n }')
	lsn1=$(q "SELECT pg_current_wal_lsn()")
	local wal
	wal=$(q "SELECT round(pg_wal_lsn_diff('$lsn1', '$lsn0') / greatest($n, 1))")
	local note="peak_in_flight=$peak claims=$claims@${claim_ms:-?}ms writes=$writes@${write_ms:-?}ms wal_bytes/row=$wal"
	[[ "$upstream" != fake ]] && note+=" upstream_timer_lag_ms=$(jq -r '.timer_lag_ms // "?"' <<<"$stats")"
	[[ -n "$rtt" ]] && note+=" $rtt"
	[[ -n "$once_note" ]] && note+=" $once_note"
	[[ -n "$startup" ]] && note+=" $(startup_note "$dir" "$fake_log")"
	if [[ -n "$verdict" ]]; then
		FAILED_CASES=$((FAILED_CASES + 1))
		note="FAIL:$verdict $note"
	fi
	record "$spec" "$n" "$mean_l" "$c" "$procs" "$wall" "$rps" "$eff" \
		"$(awk -v k="$rss" 'BEGIN { printf "%.1f", k / 1024 }')" \
		"$(awk -v s="$stmts" -v n="$n" 'BEGIN { if (n == 0) print "-"; else printf "%.4f", s / n }')" \
		"$cpu_row" "$conns" "$busy" "$load1" "$note"
}

# Writes results.md from results.tsv: the issue's columns, then the details.
write_markdown() {
	{
		echo "# refresher bench, $(date -u '+%Y-%m-%d %H:%M UTC')"
		echo
		echo "refresher $(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo '(no git)');" \
			"$(nproc) CPUs ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1));" \
			"load average at the end: $(cut -d' ' -f1-3 /proc/loadavg);" \
			"PostgreSQL $(psql -X -At -c 'SHOW server_version' 2>/dev/null)" \
			"$( [[ -n "${BENCH_PG_DURABLE:-}" ]] && echo "(fsync on)" || echo "(fsync off)")"
		echo
		echo "| case | N | L ms | C | procs | wall s | rows/s | efficiency | peak RSS MiB | round trips/row |"
		echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
		awk -F'\t' '{ printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
			$1, $2, $3, $4, $5, $6, $7, $8, $9, $10 }' "$BENCH_OUT/results.tsv"
		echo
		echo "| case | CPU us/row: refresher | PostgreSQL | fake | conns | machine busy % | load1 | notes |"
		echo "|---|---:|---:|---:|---:|---:|---:|---|"
		awk -F'\t' '{ printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n",
			$1, $11, $12, $13, $14, $15, $16, $17 }' "$BENCH_OUT/results.tsv"
	} >"$BENCH_OUT/results.md"
}

main() {
	local cases=() spec started
	if (($# > 0)); then
		cases=("$@")
	else
		case ${BENCH_CASES:-default} in
		default) cases=("${DEFAULT_CASES[@]}") ;;
		full) mapfile -t cases < <(full_cases) ;;
		*) read -r -a cases <<<"$BENCH_CASES" ;;
		esac
	fi
	check_tools
	mkdir -p "$BENCH_OUT"
	: >"$BENCH_OUT/results.tsv"
	_lib_tmp
	trap bench_cleanup EXIT
	trap 'bench_cleanup; exit 130' INT
	trap 'bench_cleanup; exit 143' TERM
	# Thousands of connections and sockets at C=1024 and beyond.
	ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
	echo "bench: ${#cases[@]} cases; $(nproc) CPUs; load average $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "bench: starting PostgreSQL with pg_stat_statements"
	bench_pg_start
	started=$SECONDS
	for spec in "${cases[@]}"; do
		case $spec in
		wpath/*) run_wpath "$spec" ;;
		*) run_case "$spec" ;;
		esac
	done
	write_markdown
	echo
	cat "$BENCH_OUT/results.md"
	echo
	echo "bench: $((SECONDS - started)) s; results in $BENCH_OUT/results.md and results.tsv;" \
		"$FAILED_CASES case(s) failed"
	((FAILED_CASES == 0))
}

main "$@"
