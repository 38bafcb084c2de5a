#!/usr/bin/env bash
# deps.sh - install the Debian packages refresher needs to build and test, only those missing.
set -euo pipefail

PACKAGES=(
	build-essential pkg-config
	libcurl4-openssl-dev libjson-c-dev libpq-dev libyaml-dev
	check libmicrohttpd-dev
	postgresql postgresql-client
	jq curl valgrind
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
