#!/usr/bin/env bash
# run.sh - the paths a newcomer takes, tried as they would: `make demo` in a fresh checkout in a
# private (0700) directory under a long path, as whoever runs this (root in CI), with and without
# TMPDIR; afterwards nothing it started is left (processes, directories, system clusters).
#
# Usage: tests/newcomer/run.sh   (make test runs it; about a minute: one build and three demos)
# Prints "ok - ..." / "FAIL - ..." per check, then "N passed, N failed"; exits 1 if any failed.
set -u -o pipefail
export LC_ALL=C

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/integration/lib.sh
. "$HERE/../integration/lib.sh"
_lib_tmp

# The checkout as it is (tracked and new files, not ignored ones) into a 0700 directory whose
# path is longer than a unix socket's: the demo must not put its socket under the checkout.
NC_PRIVATE=$TEST_TMP/private
mkdir -m 700 "$NC_PRIVATE"
NC_CLONE=$NC_PRIVATE/a-rather-long-directory-name-for-a-checkout/of-the-refresher-repository/that-goes-on/refresher
mkdir -p "$NC_CLONE"
(cd "$REPO_ROOT" && git ls-files -z --cached --others --exclude-standard |
	tar --null -T - -cf -) | tar -xf - -C "$NC_CLONE" || die "cannot copy the checkout"
check "the checkout's path is longer than a unix socket may be (${#NC_CLONE} bytes)" \
	test "${#NC_CLONE}" -gt "$SOCKET_PATH_MAX"

# A newcomer's shell has none of the test harness's variables (lib.sh exports them).
NC_CLEAN_ENV=(-u BUILD_DIR -u REPO_ROOT -u REFRESHER_BIN -u FAKEUP_BIN -u POOLER -u KEEP_TMP
	-u DATABASE_URL -u PGHOST -u PGPORT -u PGUSER -u PGDATABASE -u PGPASSWORD)

# Runs `make demo` in the checkout with extra environment ARGS (env syntax); sets NC_RC and
# NC_OUT (stdout and stderr together, as a newcomer's terminal shows them).
nc_demo() {
	NC_OUT=$TEST_TMP/demo.out
	(cd "$NC_CLONE" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL "${NC_CLEAN_ENV[@]}" "$@" make -j2 demo) \
		>"$NC_OUT" 2>&1 </dev/null
	NC_RC=$?
}

# Prints what the demos may leave: its temp dirs, and processes whose command line names them
# or the checkout.
nc_leftovers() {
	find "${1:-/tmp}" -maxdepth 1 -name 'refresher-demo.*' 2>/dev/null
	pgrep -af "refresher-demo\.|$NC_CLONE" 2>/dev/null | grep -v pgrep
}

# Prints the system's PostgreSQL clusters that are online (Debian's pg_lsclusters), if any.
nc_online_clusters() {
	command -v pg_lsclusters >/dev/null 2>&1 || return 0
	pg_lsclusters -h 2>/dev/null | awk '$4 == "online" { print $1 "/" $2 }'
}

clusters_before=$(nc_online_clusters)

# --- make demo from the private, long checkout, TMPDIR unset ---
nc_demo -u TMPDIR
check_eq "make demo (0700 checkout, long path, as $(id -un)): exit 0" 0 "$NC_RC"
if ((NC_RC != 0)); then
	tail -n 20 "$NC_OUT" | sed 's/^/#   | /'
fi
check "make demo: a summary line" grep -q '^summary: due=' "$NC_OUT"
check "make demo: the cluster lived under /tmp, not in the checkout" grep -q 'PostgreSQL in /tmp/refresher-demo\.' "$NC_OUT"
# The build's lines vary with the number of source files; the narration after them must stay short.
check "make demo: a short narration, not a line per row (at most 60 lines after the build)" \
	test "$(sed -n '/scripts\/demo\.sh/,$p' "$NC_OUT" | wc -l)" -le 60
check "make demo: names the file with the sweep's own log" grep -q "the sweep's log is $NC_CLONE/.demo/sweep.log" "$NC_OUT"
check "make demo: the sweep's log holds the per-row lines" \
	test "$(grep -c 'logged out upstream: row deleted' "$NC_CLONE/.demo/sweep.log")" -gt 20
check "make demo: no ANSI escape codes when not on a terminal" bash -c "! grep -q $'\\033' '$NC_OUT'"
check_eq "make demo: nothing left behind (temp dir, processes)" "" "$(nc_leftovers)"
check_eq "make demo: no system PostgreSQL cluster left online that was not before" \
	"$clusters_before" "$(nc_online_clusters)"

# --- TMPDIR is honoured ---
NC_TMPDIR=$TEST_TMP/t
mkdir -m 755 "$NC_TMPDIR"
nc_demo TMPDIR="$NC_TMPDIR" DEMO_ROWS=300
check_eq "make demo with TMPDIR: exit 0" 0 "$NC_RC"
check "make demo with TMPDIR: the cluster lived there" grep -q "PostgreSQL in $NC_TMPDIR/refresher-demo\." "$NC_OUT"
check_eq "make demo with TMPDIR: nothing left there" "" "$(nc_leftovers "$NC_TMPDIR")"

# --- a TMPDIR the server's user cannot reach: said, with the directory and what to do ---
if ((EUID == 0)); then
	nc_demo TMPDIR="$NC_PRIVATE" DEMO_ROWS=300
	check "make demo with a TMPDIR postgres cannot reach: fails" test "$NC_RC" -ne 0
	check "make demo with a TMPDIR postgres cannot reach: names the directory and the way out" grep -q \
		"postgres cannot reach .*: $NC_PRIVATE is closed to it (mode 700); set TMPDIR to a directory it can reach" \
		"$NC_OUT"
	check "make demo that failed: no test wording" bash -c "! grep -q 'passed,' '$NC_OUT'"
	check_eq "make demo that failed: nothing left behind" "" "$(nc_leftovers "$NC_PRIVATE")"
fi

# --- as a normal user (the packages are there, so no sudo is needed): the server runs as them ---
if ((EUID == 0)) && command -v useradd >/dev/null 2>&1; then
	NC_USER=nc$(od -An -tx1 -N3 /dev/urandom | tr -d " \n")
	if useradd -m -d "$TEST_TMP/home-$NC_USER" -s /bin/bash "$NC_USER" 2>/dev/null; then
		chmod 700 "$TEST_TMP/home-$NC_USER"
		cp -a "$NC_CLONE" "$TEST_TMP/home-$NC_USER/refresher" # the build comes along, up to date
		chown -R "$NC_USER:" "$TEST_TMP/home-$NC_USER"
		NC_OUT=$TEST_TMP/demo-user.out
		(cd "$TEST_TMP/home-$NC_USER/refresher" &&
			runuser -u "$NC_USER" -- env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u TMPDIR "${NC_CLEAN_ENV[@]}" \
				DEMO_ROWS=300 make demo) >"$NC_OUT" 2>&1 </dev/null
		check_eq "make demo as a normal user: exit 0" 0 "$?"
		check "make demo as a normal user: a summary line" grep -q '^summary: due=300 ' "$NC_OUT"
		check_eq "make demo as a normal user: nothing left behind" "" \
			"$(nc_leftovers; ps -u "$NC_USER" -o pid=,stat=,args= 2>/dev/null | awk '$2 !~ /Z/')"
		userdel "$NC_USER" 2>/dev/null
	else
		_fail "useradd $NC_USER failed; cannot try make demo as a normal user"
	fi
fi

# --- installing the server package: the system cluster it creates is stopped again ---
# What the package's postinst does (pg_createcluster --start), then what scripts/deps.sh does
# after an install.
if ((EUID == 0)) && command -v pg_createcluster >/dev/null 2>&1; then
	nc_ver=$(pg_lsclusters -h 2>/dev/null | awk 'NR == 1 { print $1 }')
	nc_ver=${nc_ver:-$(basename "$(dirname "$(_pg_find_bindir)")")}
	nc_before=$(pg_lsclusters -h | awk '{ print $1, $2 }')
	nc_port=$((20000 + RANDOM % 40000))
	if pg_createcluster "$nc_ver" nc_probe -p "$nc_port" --start >/dev/null 2>&1; then
		check_eq "a cluster the package made is online before deps.sh sees it" "online" \
			"$(pg_lsclusters -h | awk '$2 == "nc_probe" { print $4 }')"
		"$REPO_ROOT/scripts/deps.sh" stop-new-clusters "$nc_before" >/dev/null 2>&1
		check_eq "deps.sh: the cluster the install created is stopped and set to start manually" \
			"down manual" \
			"$(pg_lsclusters -h | awk '$2 == "nc_probe" { print $4 }') $(grep -v '^#' "/etc/postgresql/$nc_ver/nc_probe/start.conf" | tr -d ' \n')"
		check_eq "deps.sh: the clusters that were there before are as they were" \
			"$clusters_before" "$(nc_online_clusters)"
		pg_dropcluster --stop "$nc_ver" nc_probe >/dev/null 2>&1
	else
		_fail "pg_createcluster $nc_ver nc_probe failed; cannot try deps.sh's cluster handling"
	fi
fi

finish
