// `authgate session get|update` from inside a wrapped legacy program
// (the SDK's getSession/updateSession for CGI), with cookie sessions
// (update prints Set-Cookie lines the program emits) and with SQLite
// sessions (update writes the row).

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startWrapStack } from '../lib/stack.mjs';
import { REPO } from '../lib/procs.mjs';
import { login } from '../lib/client.mjs';
import { httpRequest, NAVIGATION } from '../lib/wrap.mjs';

const BUILD = process.env.BUILD || 'build';
const CLI = path.join(REPO, BUILD, 'authgate');
const stacks = [];

after(async () => {
	for (const s of stacks)
		await s.stop();
});

// A legacy program that updates the session, then prints it.
function sessionScript(confPath) {
	return `#!/bin/sh
# Updates the session (theme=dark), emits what authgate prints (the
# Set-Cookie lines of a cookie session) among its headers, then prints
# the session as the request brought it.
cookies=$(${CLI} -c ${confPath} session update --set 'theme="dark"' --set 'prefs={"lang":"fr"}')
status=$?
[ -n "$cookies" ] && printf '%s\\n' "$cookies"
printf 'X-Update-Status: %s\\n' "$status"
printf 'Content-Type: application/json\\n\\n'
${CLI} -c ${confPath} session get
`;
}

function refusedScript(confPath) {
	return `#!/bin/sh
printf 'Content-Type: text/plain\\n\\n'
${CLI} -c ${confPath} session update --set 'tokenSet={"accessToken":"x"}' 2>&1
echo "status=$?"
${CLI} -c ${confPath} session update --set 'user={"sub":"mallory"}' 2>&1
echo "status=$?"
`;
}

async function stackFor(store) {
	const dir = fs.mkdtempSync(path.join(REPO, 'tests', '.run', `session-cli-${store}-`));
	const conf = store === 'sqlite' ?
	    { 'session.store': 'sqlite', 'session.db': path.join(dir, 'sessions.db') } : {};
	const s = await startWrapStack({ name: `session-cli-${store}`, conf });
	stacks.push(s);
	const confPath = s.app.confPath;
	if (store === 'sqlite')
		execFileSync(CLI, ['-c', confPath, 'migrate'], { stdio: 'ignore' });
	fs.writeFileSync(path.join(s.site.cgiDir, 'session.sh'), sessionScript(confPath), { mode: 0o755 });
	fs.writeFileSync(path.join(s.site.cgiDir, 'refused.sh'), refusedScript(confPath), { mode: 0o755 });
	return s;
}

for (const store of ['cookie', 'sqlite']) {
	test(`${store}: a wrapped program reads and updates its session`, async () => {
		const s = await stackFor(store);
		const r = await login(s.appUrl, 'alice');
		assert.equal(r.callback?.status, 307);
		const url = `${s.appUrl}/cgi-bin/session.sh`;
		const first = await httpRequest(url, {
			headers: { ...NAVIGATION, cookie: r.jar.header(url) },
		});
		assert.equal(first.status, 200, first.text);
		assert.equal(first.headers.get('x-update-status'), '0');
		const got = JSON.parse(first.text);
		assert.equal(got.user.sub, 'alice');
		assert.equal(got.tokenSet, undefined, 'no tokens printed');
		assert.equal(got.internal, undefined, 'no internal printed');
		const set = first.setCookies;
		let cookie = r.jar.header(url);
		if (store === 'cookie') {
			const c = set.find((x) => x.startsWith('__session='));
			assert.ok(c, `a Set-Cookie from the program: ${JSON.stringify(set)}`);
			cookie = c.split(';')[0];
		} else
			assert.ok(!set.some((x) => x.startsWith('__session=')),
			    'sqlite: the row is written, the cookie stays');
		const second = await httpRequest(url, { headers: { ...NAVIGATION, cookie } });
		assert.equal(second.status, 200, second.text);
		const now = JSON.parse(second.text);
		assert.equal(now.theme, 'dark');
		assert.deepEqual(now.prefs, { lang: 'fr' });
		assert.equal(now.user.sub, 'alice');
	});

	test(`${store}: tokens, internal data and the user's sub cannot be changed`, async () => {
		const s = stacks.find((x) => x.conf['session.store'] === store) || await stackFor(store);
		const r = await login(s.appUrl, 'bob');
		const url = `${s.appUrl}/cgi-bin/refused.sh`;
		const res = await httpRequest(url, { headers: { ...NAVIGATION, cookie: r.jar.header(url) } });
		assert.equal(res.status, 200, res.text);
		assert.match(res.text, /tokenSet is written by authgate only\nstatus=2/);
		assert.match(res.text, /same sub\nstatus=2/);
	});
}
