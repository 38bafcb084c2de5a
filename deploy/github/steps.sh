#!/usr/bin/env bash
# steps.sh - what deploy/github/action.yml runs, as one script that can be timed anywhere.
#
# Usage: steps.sh key              prints the cache key of this source tree and this system
#        steps.sh build DIR        installs the missing build packages (apt), builds DIR/refresher
#        steps.sh run DIR ARGS...  makes sure DIR/refresher's libraries are there, runs it with ARGS
# The action caches DIR between runs under the key: a tick whose source did not change skips
# the install and the build.
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD_PACKAGES=(build-essential pkg-config libcurl4-openssl-dev libjson-c-dev libpq-dev libyaml-dev)

# Installs the packages of BUILD_PACKAGES that are missing (sudo when not root).
install_missing() {
	local -a missing=() sudo_cmd=()
	local p
	for p in "${BUILD_PACKAGES[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q ' installed$' || missing+=("$p")
	done
	((${#missing[@]} == 0)) && return 0
	((EUID == 0)) || sudo_cmd=(sudo)
	echo "refresher: installing ${missing[*]}"
	"${sudo_cmd[@]}" apt-get update -qq
	"${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

case ${1:-} in
key)
	# The source that makes the binary, and the system it is built for.
	# shellcheck source=/dev/null
	. /etc/os-release
	sum=$(cd "$SRC" && find Makefile src include scripts/pkgcheck.sh -type f -print0 | sort -z |
		xargs -0 sha256sum | sha256sum | cut -c1-16)
	echo "${ID}${VERSION_ID}-$(uname -m)-$sum"
	;;
build)
	dir=${2:?usage: steps.sh build DIR}
	install_missing
	mkdir -p "$dir"
	make -s -C "$SRC" -j"$(nproc)" BUILD="$dir/build" "$dir/build/refresher"
	install -m 0755 "$dir/build/refresher" "$dir/refresher"
	strip "$dir/refresher"
	rm -rf "$dir/build"
	;;
run)
	dir=${2:?usage: steps.sh run DIR ARGS...}
	shift 2
	# A cached binary on a runner image whose libraries changed: install them again.
	if ldd "$dir/refresher" | grep -q 'not found'; then
		install_missing
	fi
	exec "$dir/refresher" "$@"
	;;
*)
	echo "usage: steps.sh key | build DIR | run DIR ARGS..." >&2
	exit 2
	;;
esac
