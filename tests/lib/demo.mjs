// demo.mjs -- `make demo`: the test provider on 127.0.0.1:3000 and
// lighttpd + authgate-fcgi on 127.0.0.1:8080 (free ports when those are
// taken; DEMO_IDP_PORT / DEMO_APP_PORT choose others), until Ctrl-C.

import fs from 'node:fs';
import path from 'node:path';
import { REPO, portFree, freePort, runDir } from './procs.mjs';
import { startIdp, baseConf } from './stack.mjs';
import { OTP_CODE } from '../idp/auth0-mfa.mjs';
import { startApp, authgateWrapPath } from './lighttpd.mjs';
import { startTestApi } from './test-api.mjs';

// The site: www/index.html and www/authgate.js, and www/cgi-bin's
// programs (plus the C one, which make builds) in a cgi-bin that
// authgate-wrap protects; index.html's data-api-url names the test API
// (tests/lib/test-api.mjs).
function makeDemoSite(dir, apiUrl) {
	const docroot = path.join(dir, 'site');
	const cgi = path.join(docroot, 'cgi-bin');
	fs.mkdirSync(cgi, { recursive: true, mode: 0o755 });
	fs.copyFileSync(path.join(REPO, 'www', 'authgate.js'), path.join(docroot, 'authgate.js'));
	fs.writeFileSync(path.join(docroot, 'index.html'),
	    fs.readFileSync(path.join(REPO, 'www', 'index.html'), 'utf8')
	    .replace('data-api-url=""', `data-api-url="${apiUrl}"`));
	for (const f of ['env.sh', 'env.pl', 'crlf.sh', 'redirect.sh', 'hello.cgi']) {
		fs.copyFileSync(path.join(REPO, 'www', 'cgi-bin', f), path.join(cgi, f));
		fs.chmodSync(path.join(cgi, f), 0o755);
	}
	const envc = path.join(REPO, process.env.BUILD || 'build', 'www', 'env-c.cgi');
	if (fs.existsSync(envc)) {
		fs.copyFileSync(envc, path.join(cgi, 'env-c.cgi'));
		fs.chmodSync(path.join(cgi, 'env-c.cgi'), 0o755);
	}
	return { docroot, cgi };
}

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
	// The page's MFA step-up runs against the fake of Auth0's MFA API.
	env: { IDP_AUTH0_MFA: '1' },
});
let app, api;
try {
	api = await startTestApi({ issuer: idp.issuer, allowOrigin: appUrl });
	const dir = runDir('demo');
	const site = makeDemoSite(dir, api.url);
	app = await startApp({
		name: 'demo', port: appPort, mode: 'cgi', dir, docroot: site.docroot,
		wrap: authgateWrapPath(), wrapEnv: {},
		conf: { ...baseConf(appUrl, idp.issuer), 'log.level': 'info',
		    'wrap.roots': site.cgi },
		env: {},
	});
} catch (e) {
	await api?.stop();
	await idp.stop();
	process.stderr.write(`demo: ${e.message}\n`);
	process.exit(1);
}

const rel = (p) => path.relative(process.cwd(), p) || p;
process.stdout.write(`
authgate demo is running.

  Open        ${appUrl}/
  Log in as   alice (any password) -- or bob, or any other name
  Legacy CGI  ${appUrl}/cgi-bin/env.sh  (also env.pl, env-c.cgi)
  Test API    ${api.url}  (takes the access token; "Call the test API")
  MFA step-up "Get a token that needs MFA": one-time code ${OTP_CODE} (a fake of
              Auth0's MFA API, tests/idp/auth0-mfa.mjs)
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
	await api.stop();
	await idp.stop();
	process.exit(0);
}
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));
// Keep running; if a server dies, say so and stop the rest.
app.lighttpd.exited.then(() => !stopping && (process.stderr.write('demo: lighttpd exited\n'), stop('exit')));
idp.proc.exited.then(() => !stopping && (process.stderr.write('demo: the provider exited\n'), stop('exit')));

