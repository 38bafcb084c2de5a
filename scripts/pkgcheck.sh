#!/usr/bin/env bash
# pkgcheck.sh - says which pkg-config modules a build needs and lacks, and the Debian package of each.
#
# Usage: scripts/pkgcheck.sh MODULE...   (the Makefile runs it before compiling)
# Exits 0 when every module is there, else 1 after naming each missing one.
set -u

# The Debian package that ships each module's .pc file.
package_of() {
	case $1 in
	libcurl) echo libcurl4-openssl-dev ;;
	json-c) echo libjson-c-dev ;;
	libpq) echo libpq-dev ;;
	yaml-0.1) echo libyaml-dev ;;
	check) echo check ;;
	libmicrohttpd) echo libmicrohttpd-dev ;;
	*) echo "(the package that provides $1.pc)" ;;
	esac
}

if ! command -v pkg-config >/dev/null 2>&1; then
	echo "build: pkg-config is not installed: apt-get install pkg-config (or run make deps)" >&2
	exit 1
fi
missing=()
for m in "$@"; do
	pkg-config --exists "$m" 2>/dev/null || missing+=("$m")
done
((${#missing[@]} == 0)) && exit 0
pkgs=()
for m in "${missing[@]}"; do
	echo "build: the library $m is not installed (pkg-config finds no $m.pc): Debian package $(package_of "$m")" >&2
	pkgs+=("$(package_of "$m")")
done
echo "build: install with: apt-get install ${pkgs[*]}   (or run: make deps)" >&2
exit 1
