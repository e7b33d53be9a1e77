// tests/bench/login.mjs URL [USER] -- log in once through the test
// provider (tests/idp/provider.mjs) the way a browser does, starting
// at URL (a protected page, or /auth/login?returnTo=...), and print
// the Cookie header the browser then sends to URL's origin.  Fails
// unless the login ends on a 200 of that origin.  For the benchmarks
// (tests/bench/run-servers): wrk replays the cookie.
import { login } from '../lib/client.mjs';

const [start, user = 'alice'] = process.argv.slice(2);
if (!start) {
	process.stderr.write('usage: login.mjs URL [USER]\n');
	process.exit(2);
}
const u = new URL(start);
const r = await login(u.origin, user, { loginPath: u.pathname + u.search });
const res = r.response;
if (res.status !== 200 || new URL(res.url).origin !== u.origin) {
	process.stderr.write(`login.mjs: the login ended on ${res.status} ${res.url}\n` +
	    `${String(res.text).slice(0, 500)}\n`);
	process.exit(1);
}
process.stdout.write(`${r.jar.header(u.href)}\n`);
