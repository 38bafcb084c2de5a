// k8s-validate.mjs - validates Kubernetes manifests against the API's OpenAPI schemas (types,
// enums, required fields) with the npm package kubernetes-models, offline.
//
// Usage: node scripts/lint/k8s-validate.mjs TOOLS_DIR < DOCS.json
// stdin: a JSON array of {"file": ..., "doc": <one parsed YAML document>} (scripts/lint.sh
// converts the YAML with python3). Prints "file: Kind name: ok" or the schema errors; exits 1
// on any error, 2 when the validator itself does not work (a self-test on a broken CronJob).
// The schemas allow unknown keys: scripts/lint/check_deploy.py checks the keys that matter.
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const tools = process.argv[2];
if (!tools) {
	console.error("usage: k8s-validate.mjs TOOLS_DIR < DOCS.json");
	process.exit(2);
}

// The model class of apiVersion/kind, e.g. batch/v1 CronJob.
async function modelOf(doc) {
	if (typeof doc?.apiVersion !== "string" || typeof doc?.kind !== "string")
		throw new Error("not a Kubernetes object (no apiVersion or kind)");
	const [group, version] = doc.apiVersion.includes("/") ? doc.apiVersion.split("/")
		: ["", doc.apiVersion];
	const dir = path.resolve(tools, "node_modules", "kubernetes-models", group, version, "index.js");
	const mod = await import(pathToFileURL(dir).href);
	if (!mod[doc.kind]) throw new Error(`no model for ${doc.apiVersion} ${doc.kind}`);
	return mod[doc.kind];
}

// Returns the error message of validating doc, or "" when it is valid.
async function check(doc) {
	try {
		const Model = await modelOf(doc);
		new Model(doc).validate();
		return "";
	} catch (err) {
		return err.message;
	}
}

const broken = { apiVersion: "batch/v1", kind: "CronJob", metadata: { name: "x" },
	spec: { schedule: "* * * * *", concurrencyPolicy: "Sometimes", jobTemplate: {} } };
if (!(await check(broken))) {
	console.error("k8s-validate: self-test found nothing wrong in a broken CronJob");
	process.exit(2);
}

let bad = 0;
for (const { file, doc } of JSON.parse(fs.readFileSync(0, "utf8"))) {
	const name = `${file}: ${doc?.kind ?? "?"} ${doc?.metadata?.name ?? "?"}`;
	const msg = await check(doc);
	if (msg) {
		bad++;
		console.log(`${name}: ${msg}`);
	} else {
		console.log(`${name}: ok`);
	}
}
process.exit(bad ? 1 : 0);
