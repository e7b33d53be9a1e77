// `authgate exchange` (RFC 8693; the SDK's customTokenExchange) against
// oidc-provider with a token-exchange grant (IDP_TOKEN_EXCHANGE=1) that
// accepts its own access tokens as subject and actor:
//  - an access token from a login exchanged for a new one (argument and
//    stdin), audience and merged scope reaching the provider, the new
//    token itself exchangeable (so it is real), an actor token;
//  - each of the SDK's validation errors: exit 2, its code, nothing sent;
//    reserved namespaces refused unless --allow-reserved-type;
//  - the provider's refusals: exit 1, "exchange_failed: <its error>".

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { providerLogin } from '../lib/api.mjs';
import { startGrantIdp } from '../lib/grant.mjs';
import { CLIENT_ID, CLIENT_SECRET } from '../lib/stack.mjs';

const TYPE = 'urn:authgate-test:access-token';
const AUDIENCE = 'urn:authgate-test:api';

describe('authgate exchange', () => {
	let s, alice, bob;
	before(async () => {
		s = await startGrantIdp({ name: 'exchange' });
		const client = {
			clientId: CLIENT_ID, clientSecret: CLIENT_SECRET,
			redirectUri: 'http://127.0.0.1:8080/auth/callback',
		};
		alice = (await providerLogin(s.idp.issuer, { ...client, user: 'alice' })).body.access_token;
		bob = (await providerLogin(s.idp.issuer, { ...client, user: 'bob' })).body.access_token;
		assert.ok(alice && bob, 'logins gave access tokens');
	});
	after(async () => {
		await s?.stop();
	});

	test('an access token from a login, for another audience', async () => {
		const r = await s.cli(['exchange', '--subject-token', alice,
		    '--subject-token-type', TYPE, '--audience', AUDIENCE, '--scope', 'email']);
		assert.equal(r.rc, 0, r.stderr);
		const out = JSON.parse(r.stdout);
		assert.ok(out.accessToken && out.accessToken !== alice);
		assert.equal(out.tokenType, 'bearer');
		assert.equal(out.issuedTokenType, 'urn:ietf:params:oauth:token-type:access_token');
		assert.ok(out.expiresIn > 0 && out.expiresAt > Date.now() / 1000);
		const st = await s.idp.stats();
		assert.equal(st.exchange.sub, 'alice');
		assert.equal(st.exchange.audience, AUDIENCE);
		assert.equal(st.exchange.scope, 'openid profile email',
		    'the SDK default scope merged with --scope (offline_access dropped by the provider)');
		assert.equal(st.exchange.actor, null);
		// The new token is a live token of alice's.
		const again = await s.cli(['exchange', '--subject-token', out.accessToken,
		    '--subject-token-type', TYPE]);
		assert.equal(again.rc, 0, again.stderr);
		assert.equal((await s.idp.stats()).exchange.sub, 'alice');
	});

	test('the subject token from stdin, an actor token', async () => {
		const r = await s.cli(['exchange', '--subject-token', '-', '--subject-token-type',
		    TYPE, '--actor-token', bob, '--actor-token-type', TYPE], { stdin: `${alice}\n` });
		assert.equal(r.rc, 0, r.stderr);
		const st = await s.idp.stats();
		assert.equal(st.exchange.sub, 'alice');
		assert.equal(st.exchange.actor, 'bob');
		const both = await s.cli(['exchange', '--subject-token', '-', '--subject-token-type',
		    TYPE, '--actor-token', '-', '--actor-token-type', TYPE], { stdin: alice });
		assert.equal(both.rc, 2);
		assert.match(both.stderr, /only one token can be read from stdin/);
	});

	test('reserved token types only with --allow-reserved-type', async () => {
		const ietf = 'urn:ietf:params:oauth:token-type:access_token';
		let r = await s.cli(['exchange', '--subject-token', alice, '--subject-token-type', ietf]);
		assert.equal(r.rc, 2);
		assert.match(r.stderr, /^authgate: exchange: invalid_subject_token_type: .*reserved/);
		r = await s.cli(['exchange', '--subject-token', alice, '--subject-token-type', ietf,
		    '--allow-reserved-type']);
		assert.equal(r.rc, 0, r.stderr);
	});

	test('the SDK validations: exit 2 with its code, nothing sent', async () => {
		await s.idp.resetStats();
		const cases = [
			[['--subject-token', '', '--subject-token-type', TYPE], 'missing_subject_token'],
			[['--subject-token', '   ', '--subject-token-type', TYPE], 'missing_subject_token'],
			[['--subject-token-type', TYPE], 'missing_subject_token'],
			[['--subject-token', alice, '--subject-token-type', 'urn:a:bcd'], 'invalid_subject_token_type'],
			[['--subject-token', alice, '--subject-token-type', `urn:acme:${'x'.repeat(92)}`], 'invalid_subject_token_type'],
			[['--subject-token', alice, '--subject-token-type', 'not-a-valid-uri'], 'invalid_subject_token_type'],
			[['--subject-token', alice], 'invalid_subject_token_type'],
			[['--subject-token', alice, '--subject-token-type', 'https://auth0.com/x/y'], 'invalid_subject_token_type'],
			[['--subject-token', alice, '--subject-token-type', TYPE, '--actor-token', bob], 'missing_actor_token_type'],
			[['--subject-token', alice, '--subject-token-type', TYPE, '--actor-token', bob,
			    '--actor-token-type', 'not-a-valid-uri-1234'], 'invalid_actor_token_type'],
		];
		for (const [args, code] of cases) {
			const r = await s.cli(['exchange', ...args]);
			assert.equal(r.rc, 2, `${args.join(' ')}: ${r.stderr}`);
			assert.ok(r.stderr.startsWith(`authgate: exchange: ${code}: `), r.stderr);
			assert.ok(!r.stderr.includes(alice), 'the token is never printed');
		}
		const extra = await s.cli(['exchange', '--subject-token', alice,
		    '--subject-token-type', TYPE, 'stray']);
		assert.equal(extra.rc, 2);
		assert.equal((await s.idp.stats()).token.total, 0, 'no token request');
	});

	test('the provider refuses: exit 1, exchange_failed with its error', async () => {
		let r = await s.cli(['exchange', '--subject-token', 'not-a-token-of-ours',
		    '--subject-token-type', TYPE]);
		assert.equal(r.rc, 1);
		assert.match(r.stderr, /^authgate: exchange: exchange_failed: invalid_grant: /);
		r = await s.cli(['exchange', '--subject-token', alice, '--subject-token-type', TYPE,
		    '--audience', 'https://elsewhere.example/']);
		assert.equal(r.rc, 1);
		assert.match(r.stderr, /exchange_failed: invalid_target: /);
		r = await s.cli(['exchange', '--subject-token', alice,
		    '--subject-token-type', 'urn:acme:legacy-token']);
		assert.equal(r.rc, 1);
		assert.match(r.stderr, /exchange_failed: invalid_request: unsupported subject_token_type/);
		assert.equal(r.stdout, '');
	});
});
