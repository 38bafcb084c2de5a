// nodeup.js - a second, independent upstream for `make bench`: aimharder's tokenUpdate answered by
// a single-threaded Node.js server (the shape of many real API front ends), over HTTP/1.1 or,
// with --h2, HTTP/2 over TLS (streams multiplexed on a connection). Node's own modules only.
//
// Usage: node nodeup.js --port-file FILE [--latency-ms L] [--jitter-ms J] [--log FILE]
//                       [--h2 --key KEY.pem --cert CERT.pem]
// POST (any path): form body with token=...; after L ms (+ uniform 0..J) answers
// {"newToken":"ok-<32 hex>"} with fresh AWSALB / AWSALBCORS cookies, as the C fake does for "ok"
// tokens. GET /stats: {"requests":N,"peak_in_flight":N,"in_flight":N,"connections":N,
// "timer_lag_ms":M} (M: how late, on average, the latency timer fired: the server's own delay).
// --log appends {"ev":"req","token":"..."} per request (the bench's "once" check).
'use strict';

const fs = require('fs');
const crypto = require('crypto');

const args = {};
for (let i = 2; i < process.argv.length; i++) {
	const a = process.argv[i];
	if (a === '--h2') args.h2 = true;
	else args[a.replace(/^--/, '')] = process.argv[++i];
}
if (!args['port-file']) {
	process.stderr.write('usage: node nodeup.js --port-file FILE [--latency-ms L] [--jitter-ms J] [--log FILE] [--h2 --key K --cert C]\n');
	process.exit(2);
}
const latency = Number(args['latency-ms'] || 0);
const jitter = Number(args['jitter-ms'] || 0);
const log = args.log ? fs.openSync(args.log, 'a') : null;

let requests = 0, inFlight = 0, peak = 0, connections = 0, lagSum = 0;

function tokenOf(body) {
	for (const pair of body.split('&')) {
		const eq = pair.indexOf('=');
		if (eq > 0 && pair.slice(0, eq) === 'token')
			return decodeURIComponent(pair.slice(eq + 1).replace(/\+/g, ' '));
	}
	return '';
}

function handle(req, res) {
	if (req.method === 'GET' && req.url === '/stats') {
		res.writeHead(200, { 'content-type': 'application/json' });
		res.end(JSON.stringify({ requests, peak_in_flight: peak, in_flight: inFlight, connections,
			timer_lag_ms: requests > 0 ? Math.round(lagSum / requests * 10) / 10 : 0 }));
		return;
	}
	const chunks = [];
	req.on('data', (c) => chunks.push(c));
	req.on('end', () => {
		requests++;
		inFlight++;
		if (inFlight > peak) peak = inFlight;
		const token = tokenOf(Buffer.concat(chunks).toString('latin1'));
		if (log !== null) fs.writeSync(log, JSON.stringify({ ev: 'req', token }) + '\n');
		const wait = latency + (jitter > 0 ? Math.random() * jitter : 0);
		const due = Date.now() + wait;
		setTimeout(() => {
			lagSum += Math.max(0, Date.now() - due); // a busy event loop fires timers late
			inFlight--;
			const hex = crypto.randomBytes(16).toString('hex');
			res.writeHead(200, {
				'content-type': 'application/json',
				'set-cookie': [
					'AWSALB=' + crypto.randomBytes(24).toString('base64') + '; Path=/',
					'AWSALBCORS=' + crypto.randomBytes(24).toString('base64') + '; Path=/; SameSite=None; Secure',
				],
			});
			res.end('{"newToken":"ok-' + hex + '"}');
		}, wait);
	});
}

let server;
if (args.h2) {
	const http2 = require('http2');
	server = http2.createSecureServer({
		key: fs.readFileSync(args.key), cert: fs.readFileSync(args.cert), allowHTTP1: true,
		maxSessionMemory: 1024,
		settings: { maxConcurrentStreams: 4096 },
	}, handle);
} else {
	const http = require('http');
	server = http.createServer({ keepAliveTimeout: 120000 }, handle);
	server.headersTimeout = 130000;
}
server.on(args.h2 ? 'secureConnection' : 'connection', () => connections++);
server.listen(0, '127.0.0.1', () => {
	const tmp = args['port-file'] + '.tmp';
	fs.writeFileSync(tmp, String(server.address().port));
	fs.renameSync(tmp, args['port-file']);
});
process.on('SIGTERM', () => process.exit(0));
