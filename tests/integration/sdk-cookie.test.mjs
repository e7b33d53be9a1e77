// Session cookies interoperate with @auth0/nextjs-auth0 v4: the SDK's
// own code (generateSessionCookie, its cookie encrypt/decrypt and its
// stateless session store, loaded without Next.js) mints cookies that
// authgate accepts, and reads the cookies authgate writes.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateSessionCookie } from '@auth0/nextjs-auth0/testing';
// Not exported by the package; the SDK's own modules, loaded by path
// (they need neither next nor react).
import { decrypt, RequestCookies, ResponseCookies } from '../node_modules/@auth0/nextjs-auth0/dist/server/cookies.js';
import { StatelessSessionStore } from '../node_modules/@auth0/nextjs-auth0/dist/server/session/stateless-session-store.js';
import { startStack } from '../lib/stack.mjs';
import { Browser, login } from '../lib/client.mjs';

let s;

before(async () => {
	s = await startStack({ name: 'sdk-cookie' });
});

after(async () => {
	await s?.stop();
});

const API = { accept: 'application/json', 'sec-fetch-mode': 'cors' };

function now() {
	return Math.floor(Date.now() / 1000);
}

async function profileWith(cookieHeader) {
	const res = await fetch(`${s.appUrl}/auth/profile`, {
		headers: { ...API, cookie: cookieHeader }, redirect: 'manual',
	});
	return { status: res.status, text: await res.text() };
}

// The request cookies the SDK would see for this browser at the app.
function sdkRequestCookies(browser) {
	const h = new Headers({ cookie: browser.jar.header(`${s.appUrl}/`) });
	return new RequestCookies(h);
}

test('a cookie from the SDK\'s generateSessionCookie is an authgate session', async () => {
	const value = await generateSessionCookie({
		user: { sub: 'sdk|123', name: 'Sdk User', email: 'sdk@example.com' },
		tokenSet: { accessToken: 'at-from-sdk', refreshToken: 'rt-from-sdk', expiresAt: now() + 3600 },
	}, { secret: s.secret });
	const p = await profileWith(`__session=${value}`);
	assert.equal(p.status, 200, p.text);
	const user = JSON.parse(p.text);
	assert.equal(user.sub, 'sdk|123');
	assert.equal(user.name, 'Sdk User');
	assert.equal(user.email, 'sdk@example.com');
});

test('an SDK cookie sealed with another secret is refused', async () => {
	const value = await generateSessionCookie({
		user: { sub: 'mallory' }, tokenSet: { accessToken: 'x', expiresAt: now() + 3600 },
	}, { secret: 'another-secret-another-secret-another-secret-0000' });
	assert.equal((await profileWith(`__session=${value}`)).status, 401);
});

test('a tampered SDK cookie is refused', async () => {
	const value = await generateSessionCookie({
		user: { sub: 'sdk|123' }, tokenSet: { accessToken: 'x', expiresAt: now() + 3600 },
	}, { secret: s.secret });
	const parts = value.split('.');
	const ct = Buffer.from(parts[3], 'base64url');
	ct[0] ^= 1;
	parts[3] = ct.toString('base64url');
	assert.equal((await profileWith(`__session=${parts.join('.')}`)).status, 401);
});

test('a large session chunked by the SDK\'s store (__session__N) is accepted', async () => {
	const store = new StatelessSessionStore({ secret: s.secret });
	const session = {
		user: { sub: 'chunky', name: 'Chunky', bio: 'x'.repeat(3000) },
		tokenSet: { accessToken: 'a'.repeat(500), expiresAt: now() + 3600 },
		internal: { sid: 'sid-chunky', createdAt: now() },
	};
	const resHeaders = new Headers();
	await store.set(new RequestCookies(new Headers()), new ResponseCookies(resHeaders), session);
	const b = new Browser();
	for (const h of resHeaders.getSetCookie())
		b.jar.setCookie(`${s.appUrl}/`, h);
	const names = b.jar.all(s.appUrl).map((c) => c.name).sort();
	assert.ok(names.includes('__session__0') && names.includes('__session__1'), `chunks: ${names}`);
	const p = await b.request(`${s.appUrl}/auth/profile`, { headers: API });
	assert.equal(p.status, 200, p.text);
	assert.equal(p.json().sub, 'chunky');
});

test('authgate\'s cookie after a real login decrypts with the SDK\'s code', async () => {
	const r = await login(s.appUrl, 'alice');
	assert.equal(r.callback?.status, 307);
	const jarCookies = r.jar.all(s.appUrl);
	const single = jarCookies.find((c) => c.name === '__session');

	// The SDK's session store, as a Next.js app on the same domain reads it.
	const store = new StatelessSessionStore({ secret: s.secret });
	const session = await store.get(sdkRequestCookies(r.browser));
	assert.ok(session, `the SDK reads the session (cookies: ${jarCookies.map((c) => c.name)})`);
	assert.equal(session.user.sub, 'alice');
	assert.equal(session.user.name, 'Alice Example');
	assert.equal(typeof session.tokenSet.accessToken, 'string');
	assert.ok(session.tokenSet.accessToken.length > 0);
	assert.equal(typeof session.tokenSet.expiresAt, 'number');
	assert.equal(typeof session.tokenSet.idToken, 'string');
	assert.equal(typeof session.internal.sid, 'string');
	assert.ok(session.internal.sid.length > 0);
	assert.equal(typeof session.internal.createdAt, 'number');
	assert.ok(Math.abs(session.internal.createdAt - now()) < 300, 'createdAt is now');

	// And the raw cookie with the SDK's decrypt: header and exp.
	if (single) {
		const { payload, protectedHeader } = await decrypt(single.value, s.secret);
		assert.deepEqual(protectedHeader, { enc: 'A256GCM', alg: 'dir' });
		assert.equal(payload.user.sub, 'alice');
		assert.ok(payload.exp > now(), 'exp in the future');
		assert.ok(payload.exp <= now() + 3 * 86400 + 60, 'exp within the absolute duration');
	}
});

test('the SDK refuses authgate\'s cookie under another secret', async () => {
	const r = await login(s.appUrl, 'alice');
	const store = new StatelessSessionStore({ secret: 'not-the-secret-not-the-secret-not-the-secret' });
	assert.equal(await store.get(sdkRequestCookies(r.browser)), null);
});
