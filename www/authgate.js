/*
 * authgate.js -- the browser side of authgate: who is signed in, access
 * tokens for APIs, and pages that need a login.  The client helpers of
 * @auth0/nextjs-auth0 v4 (useUser, getAccessToken, withPageAuthRequired)
 * without React, without a build step and without dependencies.  One
 * classic script (ES5 syntax; needs fetch and Promise), it defines
 * window.authgate:
 *
 *   <script src="/authgate.js"></script>
 *
 * authgate.getUser() -> Promise<user | null>
 *	GET /auth/profile (same-origin cookies).  The user object (the
 *	claims kept in the session), or null when nobody is signed in
 *	(401 or 204).  Any other failure rejects with an Error.  The
 *	answer is cached: later calls, and calls made while the request is
 *	on its way, share one request.  A failure is not cached.
 *
 *	authgate.getUser().then(function (user) {
 *		if (user)
 *			hello.textContent = 'Hello, ' + user.name;
 *	});
 *
 * authgate.invalidate()
 *	Forget the cached user; the next getUser() asks the server again
 *	(after something that may have changed the session).
 *
 * authgate.getAccessToken([options]) -> Promise<string | object>
 *	GET /auth/access-token: an access token for calling an API, taken
 *	from the session and refreshed by the server when it has expired.
 *	options (all optional):
 *	  audience             the API's identifier (a token per audience)
 *	  scope                scopes wanted, space-separated
 *	  mergeScopes          false: do not merge scope with the configured ones
 *	  refresh              true: refresh even when the token is still valid
 *	  includeFullResponse  true: resolve with {token, scope, expires_at,
 *	                       expires_in, token_type} instead of the token
 *	  connection           a Token Vault connection ('google-oauth2'...):
 *	                       the user's token at that connection instead
 *	                       (the SDK's getAccessTokenForConnection; GET
 *	                       /auth/access-token?connection=NAME), cached in
 *	                       the session until it expires; audience,
 *	                       scope, mergeScopes and refresh are then
 *	                       ignored.  With it:
 *	  loginHint            which of the user's accounts at the
 *	                       connection (login_hint; alias login_hint)
 *	  subjectTokenType     the URN of the token exchanged for it (the
 *	                       default: the refresh token)
 *	Failures reject with:
 *	  authgate.AccessTokenError   .code ('missing_session',
 *	      'missing_refresh_token', 'failed_to_refresh_token',
 *	      'session_expired', 'failed_to_exchange_refresh_token' (a
 *	      connection), ...) and .message, from the server's
 *	      {"error":{"code","message"}}
 *	  authgate.MfaRequiredError   .code 'mfa_required',
 *	      .error_description, .mfa_token (encrypted, for the MFA
 *	      routes), .mfa_requirements ({challenge:[{type}], enroll:[...]})
 *	  Error  when the answer is not JSON ("An unexpected error occurred
 *	      while trying to fetch the access token."), or fetch's own
 *	      TypeError when the network fails.
 *	After missing_session or session_expired the cached user is
 *	forgotten (the session is gone).
 *
 * authgate.mfa.getAuthenticators({mfaToken}), .challenge({mfaToken,
 *	challengeType, authenticatorId?}), .verify({mfaToken, otp} |
 *	{mfaToken, oobCode, bindingCode?} | {mfaToken, recoveryCode}),
 *	.enroll({mfaToken, factorType, phoneNumber?, email?}) (alias
 *	.associate): the step-up after a MfaRequiredError; see the block
 *	above `mfa` below and authgate-fcgi(8).
 *
 *	authgate.getAccessToken({ audience: 'https://api.example.com/' })
 *	.then(function (token) {
 *		return fetch('https://api.example.com/orders',
 *		    { headers: { Authorization: 'Bearer ' + token } });
 *	}).catch(function (e) {
 *		if (e instanceof authgate.MfaRequiredError)
 *			startStepUp(e.mfa_token);
 *		else if (e instanceof authgate.AccessTokenError)
 *			show(e.code + ': ' + e.message);
 *		else
 *			throw e;
 *	});
 *
 * authgate.requireLogin([{ returnTo }]) -> Promise<user>
 *	For pages that need a signed-in user (withPageAuthRequired): the
 *	user when there is one; otherwise (or when the profile cannot be
 *	read) the browser goes to /auth/login?returnTo=<returnTo, default
 *	this page's path, query and fragment> and the promise never
 *	settles.
 *
 *	authgate.requireLogin().then(function (user) { render(user); });
 *
 * authgate.configure({ prefix })
 *	Routes are prefix + '/auth/...'; prefix defaults to '' (or to the
 *	script element's data-prefix attribute), e.g. '/app' when the site
 *	lives under /app/.  Changing it forgets the cached user.
 *
 * authgate.loginUrl([returnTo]), authgate.logoutUrl()
 *	The login and logout routes, for links.
 */
(function (root) {
	'use strict';

	var UNEXPECTED = 'An unexpected error occurred while trying to fetch ' +
	    'the access token.';
	var prefix = '';
	var cached = null;	/* the promise of the user, or null */
	var generation = 0;	/* bumped by invalidate() */

	/* Error "subclasses" that work without ES2015 classes. */
	function subclass(ctor, name) {
		ctor.prototype = Object.create(Error.prototype, {
			constructor: { value: ctor, writable: true, configurable: true },
			name: { value: name, writable: true, configurable: true }
		});
		return ctor;
	}

	function stackOf(e, message) {
		var s;

		try {
			s = new Error(message).stack;
		} catch (x) {
			s = undefined;
		}
		if (s !== undefined)
			e.stack = s;
	}

	var AccessTokenError = subclass(function AccessTokenError(code, message) {
		if (!(this instanceof AccessTokenError))
			return new AccessTokenError(code, message);
		this.code = code;
		this.message = message;
		stackOf(this, message);
	}, 'AccessTokenError');

	var MfaRequiredError = subclass(function MfaRequiredError(description,
	    mfaToken, requirements) {
		if (!(this instanceof MfaRequiredError))
			return new MfaRequiredError(description, mfaToken, requirements);
		this.code = 'mfa_required';
		this.error = 'mfa_required';
		this.error_description = description || '';
		this.message = this.error_description ||
		    'Multi-factor authentication is required.';
		this.mfa_token = mfaToken || '';
		this.mfa_requirements = requirements;
		stackOf(this, this.message);
	}, 'MfaRequiredError');

	function route(name) {
		return prefix + '/auth/' + name;
	}

	function getJSON(url) {
		return root.fetch(url, {
			method: 'GET',
			credentials: 'same-origin',
			cache: 'no-store',
			headers: { 'Accept': 'application/json' }
		});
	}

	function getUser() {
		var gen;

		if (cached !== null)
			return cached;
		gen = generation;
		cached = getJSON(route('profile')).then(function (res) {
			if (res.status === 401 || res.status === 204)
				return null;
			if (!res.ok)
				throw new Error(route('profile') + ' answered ' +
				    res.status);
			return res.json();
		}).then(null, function (e) {
			/* Failures are not cached: the next call retries. */
			if (gen === generation)
				cached = null;
			throw e;
		});
		return cached;
	}

	function invalidate() {
		generation++;
		cached = null;
	}

	function given(v) {
		return v !== undefined && v !== null;
	}

	function query(options) {
		var q = [], hint;

		function add(k, v) {
			q.push(encodeURIComponent(k) + '=' + encodeURIComponent(v));
		}
		/* Token Vault: the connection's own parameters, nothing else. */
		if (given(options.connection)) {
			add('connection', options.connection);
			hint = given(options.loginHint) ? options.loginHint :
			    options.login_hint;
			if (given(hint))
				add('login_hint', hint);
			if (given(options.subjectTokenType))
				add('subject_token_type', options.subjectTokenType);
			return '?' + q.join('&');
		}
		if (options.audience !== undefined && options.audience !== null)
			add('audience', options.audience);
		if (options.scope !== undefined && options.scope !== null)
			add('scope', options.scope);
		if (options.mergeScopes === false)
			add('mergeScopes', 'false');
		if (options.refresh === true)
			add('refresh', 'true');
		return q.length > 0 ? '?' + q.join('&') : '';
	}

	function fullResponse(body) {
		var out = { token: body.token }, k, keys = ['scope', 'expires_at',
		    'expires_in', 'token_type'], i;

		for (i = 0; i < keys.length; i++) {
			k = keys[i];
			if (body[k] !== undefined)
				out[k] = body[k];
		}
		return out;
	}

	function tokenError(status, body) {
		var err, code, message;

		if (body === null || typeof body !== 'object')
			return new Error(UNEXPECTED);
		if (status === 403 && body.error === 'mfa_required')
			return new MfaRequiredError(body.error_description,
			    body.mfa_token, body.mfa_requirements);
		err = body.error;
		if (err !== null && typeof err === 'object') {
			code = err.code;
			message = err.message;
		} else {
			code = err;
			message = body.error_description;
		}
		if (typeof code !== 'string' || code === '')
			code = 'unknown_error';
		if (typeof message !== 'string' || message === '')
			message = UNEXPECTED;
		return new AccessTokenError(code, message);
	}

	function getAccessToken(options) {
		options = options || {};
		return getJSON(route('access-token') + query(options))
		    .then(function (res) {
			return res.text().then(function (text) {
				var body;

				try {
					body = JSON.parse(text);
				} catch (x) {
					throw new Error(UNEXPECTED);
				}
				if (!res.ok) {
					var e = tokenError(res.status, body);

					if (e instanceof AccessTokenError &&
					    (e.code === 'missing_session' ||
					    e.code === 'session_expired'))
						invalidate();
					throw e;
				}
				if (body === null || typeof body !== 'object' ||
				    typeof body.token !== 'string')
					throw new Error(UNEXPECTED);
				return options.includeFullResponse ?
				    fullResponse(body) : body.token;
			});
		});
	}

	/*
	 * MFA step-up (the SDK's client `mfa`): the /auth/mfa/* routes with
	 * the encrypted mfa_token of a MfaRequiredError.  Unlike the SDK
	 * the session cookie is always sent: the server binds the token to
	 * the session.  Failures reject with authgate.MfaError (.code =
	 * the server's error: mfa_token_invalid, mfa_token_expired,
	 * mfa_no_available_factors, invalid_grant...; client_error when the
	 * network fails), or MfaRequiredError when verify needs another
	 * factor.
	 */
	var MfaError = subclass(function MfaError(code, description, status) {
		if (!(this instanceof MfaError))
			return new MfaError(code, description, status);
		this.code = this.error = code;
		this.error_description = description || '';
		this.message = this.error_description || code;
		this.status = status;
		stackOf(this, this.message);
	}, 'MfaError');

	function mfaCall(name, method, token, body) {
		var headers = { 'Accept': 'application/json' };

		if (token !== undefined)
			headers.Authorization = 'Bearer ' + token;
		if (body !== undefined)
			headers['Content-Type'] = 'application/json';
		return root.fetch(route('mfa/' + name), {
			method: method, credentials: 'same-origin', cache: 'no-store',
			headers: headers,
			body: body !== undefined ? JSON.stringify(body) : undefined
		}).then(function (res) {
			return res.text().then(function (text) {
				var b;

				try {
					b = JSON.parse(text);
				} catch (x) {
					throw new MfaError('unexpected_error',
					    'The MFA request failed.', res.status);
				}
				if (res.ok)
					return b;
				if (res.status === 403 && b && b.error === 'mfa_required')
					throw new MfaRequiredError(b.error_description,
					    b.mfa_token, b.mfa_requirements);
				throw new MfaError(b && typeof b.error === 'string' ?
				    b.error : 'unknown_error',
				    b && b.error_description, res.status);
			});
		}, function (e) {
			throw new MfaError('client_error', e && e.message, 0);
		});
	}

	/* {factorType: otp|sms|voice|email|push, phoneNumber?, email?} */
	function enrollBody(o) {
		var t = o.factorType, b = {};

		if (o.authenticatorTypes) {
			b.authenticator_types = o.authenticatorTypes;
			if (o.oobChannels)
				b.oob_channels = o.oobChannels;
		} else if (t === 'otp')
			b.authenticator_types = ['otp'];
		else {
			b.authenticator_types = ['oob'];
			b.oob_channels = [t === 'push' ? 'auth0' : t];
		}
		if (o.phoneNumber)
			b.phone_number = o.phoneNumber;
		if (o.email)
			b.email = o.email;
		return b;
	}

	/*
	 * Each takes one options object; a missing one is {} (the server
	 * then answers invalid_request, a rejected promise, not a throw).
	 */
	var mfa = {
		getAuthenticators: function (o) {
			return mfaCall('authenticators', 'GET', (o || {}).mfaToken);
		},
		challenge: function (o) {
			var b;

			o = o || {};
			b = { mfa_token: o.mfaToken, challenge_type: o.challengeType };

			if (o.authenticatorId)
				b.authenticator_id = o.authenticatorId;
			return mfaCall('challenge', 'POST', undefined, b);
		},
		verify: function (o) {
			var b = {};

			o = o || {};
			if (o.otp !== undefined)
				b.otp = o.otp;
			else if (o.oobCode !== undefined) {
				b.oob_code = o.oobCode;
				if (o.bindingCode !== undefined)
					b.binding_code = o.bindingCode;
			} else
				b.recovery_code = o.recoveryCode;
			return mfaCall('verify', 'POST', o.mfaToken, b);
		},
		enroll: function (o) {
			o = o || {};
			return mfaCall('associate', 'POST', o.mfaToken, enrollBody(o));
		}
	};
	mfa.associate = mfa.enroll;

	function loginUrl(returnTo) {
		var loc = root.location;

		if (returnTo === undefined || returnTo === null || returnTo === '')
			returnTo = loc.pathname + loc.search + loc.hash;
		return route('login') + '?returnTo=' + encodeURIComponent(returnTo);
	}

	function logoutUrl() {
		return route('logout');
	}

	function requireLogin(options) {
		var returnTo = options && options.returnTo;

		function login() {
			root.location.assign(loginUrl(returnTo));
			return new Promise(function () {});
		}
		return getUser().then(function (user) {
			return user ? user : login();
		}, login);
	}

	function configure(options) {
		var p;

		if (options && options.prefix !== undefined) {
			p = String(options.prefix === null ? '' : options.prefix);
			while (p.length > 0 && p.charAt(p.length - 1) === '/')
				p = p.slice(0, -1);
			if (p !== '' && p.charAt(0) !== '/')
				p = '/' + p;
			if (p !== prefix) {
				prefix = p;
				invalidate();
			}
		}
		return { prefix: prefix };
	}

	/* <script src="authgate.js" data-prefix="/app"> */
	try {
		var me = root.document && root.document.currentScript;

		if (me && me.getAttribute('data-prefix') !== null)
			configure({ prefix: me.getAttribute('data-prefix') });
	} catch (x) {
		/* no DOM */
	}

	root.authgate = {
		getUser: getUser,
		invalidate: invalidate,
		getAccessToken: getAccessToken,
		requireLogin: requireLogin,
		configure: configure,
		loginUrl: loginUrl,
		logoutUrl: logoutUrl,
		AccessTokenError: AccessTokenError,
		MfaRequiredError: MfaRequiredError,
		MfaError: MfaError,
		mfa: mfa
	};
})(typeof window !== 'undefined' ? window : this);
