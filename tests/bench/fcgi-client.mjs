// tests/bench/fcgi-client.mjs SOCKET N ROLE WANT -- a tiny FastCGI
// client for tests/bench/cost-authorize: sends N requests to the
// FastCGI server listening on the Unix socket SOCKET, one after the
// other, one connection each (as lighttpd and mod_authnz_fcgi do),
// with ROLE "authorizer" or "responder".  The parameters come from
// the environment variable FCGI_PARAMS, a JSON object of strings.
// Every answer must carry the status WANT ("Status: WANT" or, for
// 200, no Status line at all); otherwise it stops and exits 1 with
// the answer on stderr.  Prints nothing on success.
import net from 'node:net';

const [sock, nArg, role, want] = process.argv.slice(2);
const n = Number(nArg);
if (!sock || !Number.isInteger(n) || n < 1 ||
    !['authorizer', 'responder'].includes(role) || !/^\d{3}$/.test(want || '')) {
	process.stderr.write('usage: fcgi-client.mjs SOCKET N authorizer|responder STATUS\n');
	process.exit(2);
}
const params = JSON.parse(process.env.FCGI_PARAMS || '{}');
params.FCGI_ROLE = role.toUpperCase();

const BEGIN = 1, END = 3, PARAMS = 4, STDIN = 5, STDOUT = 6;

function record(type, content) {
	const pad = (8 - (content.length % 8)) % 8;
	const h = Buffer.alloc(8);
	h[0] = 1;
	h[1] = type;
	h.writeUInt16BE(1, 2);
	h.writeUInt16BE(content.length, 4);
	h[6] = pad;
	return Buffer.concat([h, content, Buffer.alloc(pad)]);
}

function lenBytes(len) {
	if (len < 128)
		return Buffer.from([len]);
	const b = Buffer.alloc(4);
	b.writeUInt32BE((len | 0x80000000) >>> 0);
	return b;
}

function encodeParams(p) {
	const parts = [];
	for (const [k, v] of Object.entries(p)) {
		const kb = Buffer.from(k), vb = Buffer.from(String(v));
		parts.push(lenBytes(kb.length), lenBytes(vb.length), kb, vb);
	}
	const all = Buffer.concat(parts);
	const recs = [];
	for (let i = 0; i < all.length; i += 65535)
		recs.push(record(PARAMS, all.subarray(i, i + 65535)));
	return Buffer.concat(recs);
}

const begin = Buffer.alloc(8);
begin.writeUInt16BE(role === 'authorizer' ? 2 : 1, 0);
const request = Buffer.concat([record(BEGIN, begin), encodeParams(params),
    record(PARAMS, Buffer.alloc(0)), record(STDIN, Buffer.alloc(0))]);

function once() {
	return new Promise((resolve, reject) => {
		const c = net.createConnection(sock);
		let buf = Buffer.alloc(0), out = Buffer.alloc(0), done = false;
		c.on('connect', () => c.write(request));
		c.on('data', (d) => {
			buf = Buffer.concat([buf, d]);
			while (buf.length >= 8) {
				const len = buf.readUInt16BE(4), pad = buf[6];
				if (buf.length < 8 + len + pad)
					break;
				const type = buf[1];
				if (type === STDOUT)
					out = Buffer.concat([out, buf.subarray(8, 8 + len)]);
				if (type === END)
					done = true;
				buf = buf.subarray(8 + len + pad);
			}
			if (done)
				c.end();
		});
		c.on('error', reject);
		c.on('close', () => done ? resolve(out.toString('latin1')) :
		    reject(new Error('connection closed before FCGI_END_REQUEST')));
	});
}

for (let i = 0; i < n; i++) {
	const out = await once();
	const head = out.split('\r\n\r\n')[0];
	const m = /^Status: (\d{3})/mi.exec(head);
	const status = m ? m[1] : '200';
	if (status !== want) {
		process.stderr.write(`fcgi-client: request ${i + 1}: status ${status}, ` +
		    `not ${want}:\n${out.slice(0, 2000)}\n`);
		process.exit(1);
	}
}
