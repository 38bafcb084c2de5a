// h2_require11.js - t_46's HTTP/2 upstream that requires HTTP/1.1: over TLS it offers h2 and
// http/1.1 (ALPN), refuses every HTTP/2 stream with RST_STREAM HTTP_1_1_REQUIRED (RFC 9113
// section 7: the server did not act on it), and answers an HTTP/1.1 POST like the fake's ok:
// 200 {"newToken":"ok-HEX"}. Logs {"ev":"req","v":"2.0"|"1.1","token":"..."} per request.
//
// Usage: node h2_require11.js PORT_FILE KEY_PEM CERT_PEM LOG_FILE
'use strict';
const fs = require('fs');
const http2 = require('http2');
const crypto = require('crypto');

const [portFile, key, cert, logFile] = process.argv.slice(2);
const log = fs.openSync(logFile, 'a');

function handle(req, res) {
	const chunks = [];
	req.on('data', (c) => chunks.push(c));
	req.on('end', () => {
		const m = /(?:^|&)token=([^&]*)/.exec(Buffer.concat(chunks).toString('latin1'));
		const token = m ? decodeURIComponent(m[1].replace(/\+/g, ' ')) : '';
		fs.writeSync(log, JSON.stringify({ ev: 'req', v: req.httpVersion, token }) + '\n');
		if (req.httpVersionMajor === 2) {
			req.stream.close(http2.constants.NGHTTP2_HTTP_1_1_REQUIRED);
			return;
		}
		res.writeHead(200, { 'content-type': 'application/json' });
		res.end('{"newToken":"ok-' + crypto.randomBytes(16).toString('hex') + '"}');
	});
}

const server = http2.createSecureServer({
	key: fs.readFileSync(key), cert: fs.readFileSync(cert), allowHTTP1: true,
}, handle);
server.listen(0, '127.0.0.1', () => {
	fs.writeFileSync(portFile + '.tmp', String(server.address().port));
	fs.renameSync(portFile + '.tmp', portFile);
});
process.on('SIGTERM', () => process.exit(0));
