// Secrets never in logs (peers.md section 3.4 item 25).  Runs after every
// other integration test: tests/run runs tests/integration/*.test.mjs in
// name order, hence "zz-".
//
// What counts as a secret: every authorization code, access, refresh and
// ID token the test provider handed out (tests/idp/provider.mjs appends
// them to tests/.run/idp-issued.txt), the client secret and the cookie
// secret of tests/lib/stack.mjs, and anything shaped like a sealed cookie
// or a JWT (a session or transaction cookie value, a token the provider
// did not record, e.g. one a hostile provider minted).
//
// What counts as a log: every *.log and *.out file under tests/.run/
// (lighttpd's error log and stdout, which carry authgate-fcgi's and
// authgate-wrap's stderr; spawn-fcgi's and Apache's logs), except the
// web servers' access logs: they record the request line, and the
// callback's request line carries the authorization code by design of
// the code flow (single-use, PKCE-bound, spent by then); authgate does
// not write them.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { RUN_ROOT } from '../lib/procs.mjs';
import { CLIENT_SECRET, SECRET } from '../lib/stack.mjs';

const ISSUED = path.join(RUN_ROOT, 'idp-issued.txt');

// Sealed cookies (compact JWE, "dir": empty second segment, the optional
// "<ms>:" prefix of transaction cookies) and JWS/JWT.
const SHAPES = [
	[/eyJ[A-Za-z0-9_-]{10,}\.\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/, 'a sealed cookie (JWE)'],
	[/eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{20,}/, 'a JWT'],
];

function logFiles(dir, out = []) {
	for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
		const p = path.join(dir, e.name);
		if (e.isDirectory())
			logFiles(p, out);
		else if (e.isFile() && /\.(log|out)$/.test(e.name) && !/access/.test(e.name))
			out.push(p);
	}
	return out;
}

function secrets() {
	const set = new Set([CLIENT_SECRET, SECRET]);
	if (fs.existsSync(ISSUED)) {
		for (const v of fs.readFileSync(ISSUED, 'utf8').split('\n')) {
			if (v.length < 8)
				continue;
			set.add(v);
			// A JWT logged in part: its signature alone is enough.
			const parts = v.split('.');
			if (parts.length === 3 && parts[2].length >= 20)
				set.add(parts[2]);
		}
	}
	return set;
}

/*
 * scan(files, secrets) -> [{file, what}]: every file holding a secret
 * (as a whole token between non-token bytes, or a dot-separated part of
 * one) or a sealed-cookie/JWT shape.
 */
export function scan(files, set) {
	const found = [];
	for (const f of files) {
		let text;
		try {
			text = fs.readFileSync(f, 'latin1');
		} catch {
			continue;	// removed while we looked
		}
		let hit = null;
		for (const tok of text.split(/[^A-Za-z0-9_.~+/=-]+/)) {
			if (tok.length < 8)
				continue;
			for (const t of [tok, ...tok.split(/[.=/+~]/)]) {
				if (set.has(t)) {
					hit = `secret ${t.slice(0, 6)}... (${t.length} bytes)`;
					break;
				}
			}
			if (hit)
				break;
		}
		for (const [re, what] of SHAPES)
			if (!hit && re.test(text))
				hit = `${what}: ${text.match(re)[0].slice(0, 12)}...`;
		if (hit)
			found.push({ file: path.relative(RUN_ROOT, f), what: hit });
	}
	return found;
}

test('the scanner finds a planted secret, JWT and sealed cookie', () => {
	fs.mkdirSync(RUN_ROOT, { recursive: true });
	const dir = fs.mkdtempSync(path.join(RUN_ROOT, 'planted-'));
	try {
		const code = crypto.randomBytes(32).toString('base64url');
		const set = new Set([...secrets(), code]);
		const f = path.join(dir, 'lighttpd-error.log');
		fs.writeFileSync(f, `2026-01-01 12:00:00: (mod_fastcgi) authgate: callback: code=${code} refused\n`);
		assert.equal(scan([f], set).length, 1, 'a recorded secret');
		fs.writeFileSync(f, `x ${CLIENT_SECRET}\n`);
		assert.equal(scan([f], set).length, 1, 'the client secret');
		fs.writeFileSync(f, 'cookie __session=eyJlbmMiOiJBMjU2R0NNIiwiYWxnIjoiZGlyIn0..1cWjxnpfFBqE0Tda.5EBIwbzmaqwS1234567.AbCdEfGhIjKlMnOp\n');
		assert.equal(scan([f], set).length, 1, 'a sealed cookie');
		fs.writeFileSync(f, 'token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWc\n');
		assert.equal(scan([f], set).length, 1, 'a JWT');
		fs.writeFileSync(f, 'login: returnTo refused (not same-origin), using /\n');
		assert.equal(scan([f], set).length, 0, 'an ordinary log line');
		assert.deepEqual(logFiles(dir), [f], 'the planted file is one the real scan reads');
	} finally {
		fs.rmSync(dir, { recursive: true, force: true });
	}
});

test('no token, code, client secret or cookie value in any log under tests/.run/', (t) => {
	if (!fs.existsSync(ISSUED)) {
		t.skip(`${ISSUED} does not exist: no test provider has run yet, nothing to look for`);
		return;
	}
	const set = secrets();
	const files = logFiles(RUN_ROOT);
	assert.ok(files.length > 0, 'log files to scan');
	const found = scan(files, set);
	assert.deepEqual(found, [], `${set.size} secrets, ${files.length} log files`);
});
