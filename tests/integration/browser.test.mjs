// A real browser (Debian's Chromium, driven by playwright-core): the
// demo page, Log in, the provider's login and consent pages, back on
// the demo page signed in; then Log out through the provider's
// confirmation page, signed out again.  A screenshot of the page is
// written to tests/.run/ when a step fails.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { startStack } from '../lib/stack.mjs';
import { RUN_ROOT } from '../lib/procs.mjs';
import { isLoopback } from '../lib/client.mjs';

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const ARGS = ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic',
	'--no-first-run', '--disable-background-networking', '--disable-component-update',
	'--disable-sync'];

let s, browser, skipReason = null;

before(async () => {
	if (!fs.existsSync(CHROMIUM)) {
		skipReason = `${CHROMIUM} not installed`;
		return;
	}
	s = await startStack({ name: 'browser' });
	browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, timeout: 60000 });
});

after(async () => {
	await browser?.close();
	await s?.stop();
});

// A page whose requests never leave loopback (the provider's pages
// would fetch a web font) and that leaves a screenshot when fn throws.
async function withPage(name, fn) {
	const context = await browser.newContext();
	await context.route('**/*', (route) => {
		if (isLoopback(route.request().url()))
			return route.continue();
		return route.abort('blockedbyclient');
	});
	const page = await context.newPage();
	page.setDefaultTimeout(15000);
	const log = [];
	page.on('console', (m) => log.push(`console.${m.type()}: ${m.text()}`));
	page.on('pageerror', (e) => log.push(`pageerror: ${e.message}`));
	page.on('framenavigated', (f) => {
		if (f === page.mainFrame())
			log.push(`navigated: ${f.url()}`);
	});
	try {
		await fn(page);
	} catch (e) {
		fs.mkdirSync(RUN_ROOT, { recursive: true });
		const shot = path.join(RUN_ROOT, `browser-${name}-${Date.now()}.png`);
		await page.screenshot({ path: shot, fullPage: true }).catch(() => {});
		e.message += `\nscreenshot: ${shot}\nurl: ${page.url()}\n${log.join('\n')}`;
		throw e;
	} finally {
		await context.close();
	}
}

test('demo page: log in as alice, see her name, log out', async (t) => {
	if (skipReason)
		return t.skip(skipReason);
	await withPage('login-logout', async (page) => {
		await page.goto(`${s.appUrl}/`);
		const loginLink = page.getByRole('link', { name: 'Log in' });
		await loginLink.waitFor();
		assert.equal(await page.locator('#signed-in').isHidden(), true);

		await loginLink.click();
		// The provider's own login page.
		await page.waitForURL((u) => u.href.startsWith(s.issuer));
		await page.locator('input[name="login"]').fill('alice');
		await page.locator('input[name="password"]').fill('whatever');
		await page.getByRole('button', { name: /sign-?in/i }).click();
		// Its consent page.
		await page.getByRole('button', { name: 'Continue' }).click();

		// Back on the demo page, signed in.
		await page.waitForURL(`${s.appUrl}/`);
		await page.locator('#name').filter({ hasText: 'Alice Example' }).waitFor();
		assert.equal(await page.locator('#name').textContent(), 'Alice Example');
		const user = JSON.parse(await page.locator('#user').textContent());
		assert.equal(user.sub, 'alice');
		const cookies = await page.context().cookies(s.appUrl);
		const sess = cookies.find((c) => c.name === '__session' || c.name === '__session__0');
		assert.ok(sess, 'session cookie in the browser');
		assert.equal(sess.httpOnly, true);
		assert.equal(await page.evaluate(() => document.cookie.includes('__session')), false,
		    'not readable by page script');

		await page.getByRole('link', { name: 'Log out' }).click();
		// The provider asks for confirmation, then returns to the app.
		await page.waitForURL((u) => u.href.startsWith(s.issuer));
		await page.getByRole('button', { name: 'Yes, sign me out' }).click();
		await page.waitForURL((u) => u.href.startsWith(s.appUrl));
		await page.getByRole('link', { name: 'Log in' }).waitFor();
		assert.equal(await page.locator('#signed-in').isHidden(), true);
		const after = await page.context().cookies(s.appUrl);
		assert.ok(!after.some((c) => c.name.startsWith('__session')), 'session cookie gone');
	});
});

test('a page script sees 401 from /auth/profile without a session', async (t) => {
	if (skipReason)
		return t.skip(skipReason);
	await withPage('profile-401', async (page) => {
		await page.goto(`${s.appUrl}/`);
		const status = await page.evaluate(async () =>
		    (await fetch('/auth/profile', { headers: { Accept: 'application/json' } })).status);
		assert.equal(status, 401);
	});
});
