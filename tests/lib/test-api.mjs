// test-api.mjs -- a tiny API that takes authgate's access tokens: the
// "Call the test API" button of the demo page (www/index.html,
// data-api-url) and the browser-client tests call it.
//
//   const api = await startTestApi({ issuer, allowOrigin: appUrl });
//   GET api.url  with "Authorization: Bearer <access token>"
//     -> 200 {"ok":true,"sub":...,"claims":{...}}   the provider's userinfo
//        answered 200 for the token (that is how the token is checked)
//     -> 401 {"error":"invalid_token",...}          no token or refused
//   CORS for allowOrigin (preflight included: the request carries an
//   Authorization header).
//   api.calls: [{ method, authorization: bool, status }]
//   await api.stop();

import http from 'node:http';

export async function startTestApi({ issuer, allowOrigin, host = '127.0.0.1', port = 0 }) {
	const disc = await (await fetch(`${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`)).json();
	const userinfo = disc.userinfo_endpoint;
	const calls = [];

	const server = http.createServer(async (req, res) => {
		const cors = {
			'Access-Control-Allow-Origin': allowOrigin,
			'Access-Control-Allow-Headers': 'Authorization, Accept',
			'Access-Control-Allow-Methods': 'GET',
			'Vary': 'Origin',
		};
		const reply = (status, body) => {
			calls.push({ method: req.method, authorization: !!req.headers.authorization, status });
			res.writeHead(status, { ...cors, 'Content-Type': 'application/json',
			    'Cache-Control': 'no-store' });
			res.end(body === undefined ? '' : JSON.stringify(body));
		};
		if (req.method === 'OPTIONS')
			return reply(204);
		if (req.method !== 'GET')
			return reply(405, { error: 'method_not_allowed' });
		const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization || '');
		if (!m)
			return reply(401, { error: 'invalid_token', error_description: 'no Bearer token' });
		try {
			const r = await fetch(userinfo, { headers: { Authorization: `Bearer ${m[1]}` } });
			if (r.status !== 200)
				return reply(401, { error: 'invalid_token',
				    error_description: `userinfo answered ${r.status}` });
			const claims = await r.json();
			return reply(200, { ok: true, sub: claims.sub, claims });
		} catch (e) {
			return reply(502, { error: 'upstream', error_description: e.message });
		}
	});
	await new Promise((resolve, reject) => {
		server.once('error', reject);
		server.listen(port, host, resolve);
	});
	const addr = server.address();
	return {
		url: `http://${host}:${addr.port}/api/hello`,
		port: addr.port,
		calls,
		stop: () => new Promise((resolve) => {
			server.closeAllConnections?.();
			server.close(() => resolve());
		}),
	};
}
