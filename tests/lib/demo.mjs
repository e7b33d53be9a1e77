// demo.mjs -- `make demo`: the test provider on 127.0.0.1:3000 and
// lighttpd + authgate-fcgi on 127.0.0.1:8080 (free ports when those are
// taken; DEMO_IDP_PORT / DEMO_APP_PORT choose others), until Ctrl-C.

import path from 'node:path';
import { portFree, freePort } from './procs.mjs';
import { startIdp, baseConf } from './stack.mjs';
import { startApp } from './lighttpd.mjs';

async function pick(want, what) {
	if (await portFree(want))
		return want;
	const p = await freePort();
	process.stderr.write(`demo: port ${want} is busy, the ${what} uses ${p}\n`);
	return p;
}

const appPort = await pick(Number(process.env.DEMO_APP_PORT || 8080), 'app');
const appUrl = `http://127.0.0.1:${appPort}`;
const idpPort = await pick(Number(process.env.DEMO_IDP_PORT || 3000), 'provider');

const idp = await startIdp({
	port: idpPort,
	redirectUris: [`${appUrl}/auth/callback`],
	postLogoutRedirectUris: [appUrl, `${appUrl}/`],
});
let app;
try {
	app = await startApp({
		name: 'demo', port: appPort,
		conf: { ...baseConf(appUrl, idp.issuer), 'log.level': 'info' },
		env: {},
	});
} catch (e) {
	await idp.stop();
	process.stderr.write(`demo: ${e.message}\n`);
	process.exit(1);
}

const rel = (p) => path.relative(process.cwd(), p) || p;
process.stdout.write(`
authgate demo is running.

  Open        ${appUrl}/
  Log in as   alice (any password) -- or bob, or any other name
  Provider    ${idp.issuer}  (oidc-provider, its development login pages)
  Config      ${rel(app.confPath)}
  Logs        ${rel(app.errorLog)}

Press Ctrl-C to stop.
`);

let stopping = false;
async function stop(sig) {
	if (stopping)
		return;
	stopping = true;
	process.stdout.write(`\n${sig}: stopping lighttpd, authgate-fcgi and the provider\n`);
	await app.stop();
	await idp.stop();
	process.exit(0);
}
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));
// Keep running; if a server dies, say so and stop the rest.
app.lighttpd.exited.then(() => !stopping && (process.stderr.write('demo: lighttpd exited\n'), stop('exit')));
idp.proc.exited.then(() => !stopping && (process.stderr.write('demo: the provider exited\n'), stop('exit')));

