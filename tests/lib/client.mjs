// client.mjs -- a scripted browser without a browser.
//
// fetch() with redirect: 'manual', a cookie jar per origin (scheme, host
// and port), redirects followed by hand, HTML forms parsed and submitted,
// and login(appUrl, user) that walks authgate's /auth/login through the
// provider's own login and consent pages back to /auth/callback.
//
// It only ever talks to loopback addresses: a redirect elsewhere (e.g. an
// open-redirect bug sending us to //evil.com) is never followed; the
// redirect response is returned with .blocked = true.

export function isLoopback(url) {
	const u = new URL(url);
	const h = u.hostname.replace(/^\[|\]$/g, '');
	return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}

/* ---------------------------------------------------------------- cookies */

// One Set-Cookie header value -> {name, value, attrs...} or null.
export function parseSetCookie(header) {
	const parts = header.split(';');
	const first = parts.shift();
	const eq = first.indexOf('=');
	if (eq < 0)
		return null;
	const c = {
		name: first.slice(0, eq).trim(),
		value: first.slice(eq + 1).trim(),
		path: null, domain: null, maxAge: null, expires: null,
		secure: false, httpOnly: false, sameSite: null, raw: header,
	};
	if (c.value.startsWith('"') && c.value.endsWith('"') && c.value.length >= 2)
		c.value = c.value.slice(1, -1);
	if (!c.name)
		return null;
	for (const p of parts) {
		const i = p.indexOf('=');
		const k = (i < 0 ? p : p.slice(0, i)).trim().toLowerCase();
		const v = i < 0 ? '' : p.slice(i + 1).trim();
		switch (k) {
		case 'path': c.path = v.startsWith('/') ? v : null; break;
		case 'domain': c.domain = v.replace(/^\./, '').toLowerCase(); break;
		case 'max-age':
			if (/^-?\d+$/.test(v))
				c.maxAge = Number(v);
			break;
		case 'expires': {
			const t = Date.parse(v);
			if (!Number.isNaN(t))
				c.expires = t;
			break;
		}
		case 'secure': c.secure = true; break;
		case 'httponly': c.httpOnly = true; break;
		case 'samesite': c.sameSite = v.toLowerCase(); break;
		}
	}
	return c;
}

function defaultPath(url) {
	const p = new URL(url).pathname;
	if (!p.startsWith('/') || p.lastIndexOf('/') === 0)
		return '/';
	return p.slice(0, p.lastIndexOf('/'));
}

function pathMatch(reqPath, cookiePath) {
	if (reqPath === cookiePath)
		return true;
	if (reqPath.startsWith(cookiePath))
		return cookiePath.endsWith('/') || reqPath[cookiePath.length] === '/';
	return false;
}

// Cookies kept per origin (not per host as browsers do: the provider and
// the app share 127.0.0.1 and the tests want to see each side's cookies
// apart; pass {byHost: true} for browser behaviour).
export class CookieJar {
	constructor({ byHost = false } = {}) {
		this.byHost = byHost;
		this.store = new Map();	// key -> Map(name|path -> cookie)
		this.now = () => Date.now();
	}

	key(url) {
		const u = new URL(url);
		return this.byHost ? u.hostname : u.origin;
	}

	bucket(url, create = false) {
		const k = this.key(url);
		let b = this.store.get(k);
		if (!b && create) {
			b = new Map();
			this.store.set(k, b);
		}
		return b;
	}

	// Apply one Set-Cookie header received from url.
	setCookie(url, header) {
		const c = parseSetCookie(header);
		if (!c)
			return null;
		c.path = c.path || defaultPath(url);
		const now = this.now();
		if (c.maxAge !== null)
			c.expiresAt = c.maxAge <= 0 ? 0 : now + c.maxAge * 1000;
		else if (c.expires !== null)
			c.expiresAt = c.expires;
		else
			c.expiresAt = null;	// session cookie
		const b = this.bucket(url, true);
		const id = `${c.name}|${c.path}`;
		if (c.expiresAt !== null && c.expiresAt <= now)
			b.delete(id);
		else
			b.set(id, c);
		return c;
	}

	// Apply every Set-Cookie of a fetch Response received from url.
	absorb(url, res) {
		const list = typeof res.headers.getSetCookie === 'function' ?
		    res.headers.getSetCookie() : [];
		return list.map((h) => this.setCookie(url, h)).filter(Boolean);
	}

	// The live cookies that would be sent to url, longest path first.
	matching(url) {
		const u = new URL(url);
		const b = this.bucket(url);
		if (!b)
			return [];
		const now = this.now();
		const out = [];
		for (const [id, c] of b) {
			if (c.expiresAt !== null && c.expiresAt <= now) {
				b.delete(id);
				continue;
			}
			if (c.secure && u.protocol !== 'https:')
				continue;
			if (pathMatch(u.pathname, c.path))
				out.push(c);
		}
		return out.sort((a, b2) => b2.path.length - a.path.length);
	}

	header(url) {
		return this.matching(url).map((c) => `${c.name}=${c.value}`).join('; ');
	}

	// The cookie called name that would be sent to url (or null).
	get(url, name) {
		return this.matching(url).find((c) => c.name === name) || null;
	}

	// Every live cookie of url's origin (any path).
	all(url) {
		const b = this.bucket(url);
		return b ? [...b.values()].filter((c) => c.expiresAt === null || c.expiresAt > this.now()) : [];
	}

	set(url, name, value, path = '/') {
		this.bucket(url, true).set(`${name}|${path}`, {
			name, value, path, expiresAt: null, secure: false,
		});
	}

	delete(url, name) {
		const b = this.bucket(url);
		if (!b)
			return;
		for (const [id, c] of b)
			if (c.name === name)
				b.delete(id);
	}

	clear() {
		this.store.clear();
	}
}

/* ------------------------------------------------------------------- html */

const ENTITIES = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

export function decodeEntities(s) {
	return s.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (m, e) => {
		if (e[0] === '#')
			return String.fromCodePoint(e[1] === 'x' || e[1] === 'X' ?
			    parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
		return ENTITIES[e.toLowerCase()] ?? m;
	});
}

function attrs(tag) {
	const a = {};
	const re = /([^\s"'<>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g;
	const inner = tag.replace(/^<\s*[a-z0-9]+/i, '').replace(/\/?>$/, '');
	let m;
	while ((m = re.exec(inner)))
		a[m[1].toLowerCase()] = decodeEntities(m[2] ?? m[3] ?? m[4] ?? '');
	return a;
}

/*
 * The forms of an HTML page: [{id, action (absolute), method, fields
 * (Map name -> value of inputs, selects' first option and textareas),
 * buttons [{name, value, text}]}].  Controls outside a form that name it
 * with form="ID" (oidc-provider's logout page does this) are included.
 */
export function parseForms(html, baseUrl) {
	const forms = [];
	const formRe = /<form\b[^>]*>([\s\S]*?)<\/form\s*>/gi;
	let m;
	while ((m = formRe.exec(html))) {
		const open = m[0].match(/^<form\b[^>]*>/i)[0];
		const a = attrs(open);
		forms.push({
			id: a.id || null,
			action: new URL(a.action || baseUrl, baseUrl).href,
			method: (a.method || 'get').toLowerCase(),
			fields: new Map(),
			buttons: [],
			body: m[1],
		});
	}
	const controlRe = /<(input|button|textarea|select)\b[^>]*>([\s\S]*?<\/\1\s*>)?/gi;
	// Controls inside each form.
	for (const f of forms)
		addControls(f, f.body, controlRe, null);
	// Controls anywhere with form="ID".
	const outside = html.replace(formRe, '');
	for (const f of forms)
		if (f.id)
			addControls(f, outside, controlRe, f.id);
	return forms;
}

function addControls(form, html, re, onlyFormId) {
	re.lastIndex = 0;
	let m;
	while ((m = re.exec(html))) {
		const tag = m[0].match(/^<[^>]*>/)[0];
		const a = attrs(tag);
		if (onlyFormId !== null && a.form !== onlyFormId)
			continue;
		const kind = m[1].toLowerCase();
		const type = (a.type || (kind === 'button' ? 'submit' : 'text')).toLowerCase();
		if (kind === 'button' || type === 'submit' || type === 'image') {
			const text = m[2] ? decodeEntities(m[2].replace(/<[^>]*>/g, '').replace(/<\/button\s*>$/i, '')).trim() : '';
			form.buttons.push({ name: a.name || null, value: a.value ?? '', text });
			continue;
		}
		if (!a.name || 'disabled' in a)
			continue;
		if ((type === 'checkbox' || type === 'radio') && !('checked' in a))
			continue;
		if (kind === 'textarea')
			form.fields.set(a.name, decodeEntities((m[2] || '').replace(/<\/textarea\s*>$/i, '')));
		else if (kind === 'select') {
			const opt = (m[2] || '').match(/<option\b[^>]*selected[^>]*>|<option\b[^>]*>/i);
			form.fields.set(a.name, opt ? (attrs(opt[0]).value ?? '') : '');
		} else
			form.fields.set(a.name, a.value ?? '');
	}
}

/* ---------------------------------------------------------------- browser */

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/*
 * A Browser: one cookie jar, navigation-like requests.
 *   new Browser({jar, headers, log})
 *   await b.request(url, {method, headers, body, form})  one hop
 *   await b.get(url)              follows redirects (loopback only)
 *   await b.submit(res, {fields, match, button})  a form of a page
 * Responses: {status, headers, url, location, text, json(), cookies (set
 * by this hop), history (hops before, for followed navigations),
 * blocked (a redirect to a non-loopback address was not followed)}.
 */
export class Browser {
	constructor(opts = {}) {
		this.jar = opts.jar || new CookieJar();
		this.headers = {
			'user-agent': 'authgate-tests/1 (scripted)',
			accept: 'text/html,application/xhtml+xml,*/*;q=0.8',
			'sec-fetch-mode': 'navigate',
			...(opts.headers || {}),
		};
		this.log = opts.log || (process.env.TEST_VERBOSE ? (s) => process.stderr.write(`[client] ${s}\n`) : () => {});
		this.maxRedirects = opts.maxRedirects ?? 20;
		this.timeoutMs = opts.timeoutMs ?? 15000;
	}

	async request(url, opts = {}) {
		const headers = { ...this.headers, ...(opts.headers || {}) };
		for (const k of Object.keys(headers))
			if (headers[k] === null || headers[k] === undefined)
				delete headers[k];
		const cookie = opts.cookies === false ? '' : this.jar.header(url);
		if (cookie)
			headers.cookie = cookie;
		let body = opts.body;
		if (opts.form) {
			body = new URLSearchParams([...(opts.form instanceof Map ? opts.form : Object.entries(opts.form))]).toString();
			headers['content-type'] = 'application/x-www-form-urlencoded';
		}
		if (!isLoopback(url))
			throw new Error(`refusing to fetch non-loopback ${url}`);
		const method = opts.method || (body !== undefined ? 'POST' : 'GET');
		const res = await fetch(url, {
			method, headers, body, redirect: 'manual',
			signal: AbortSignal.timeout(opts.timeoutMs ?? this.timeoutMs),
		});
		const text = await res.text();
		const cookies = this.jar.absorb(url, res);
		const loc = res.headers.get('location');
		const r = {
			status: res.status,
			headers: res.headers,
			url,
			method,
			location: loc ? new URL(loc, url).href : null,
			rawLocation: loc,
			text,
			cookies,
			setCookies: typeof res.headers.getSetCookie === 'function' ? res.headers.getSetCookie() : [],
			json() { return JSON.parse(text); },
		};
		this.log(`${method} ${url} -> ${res.status}${loc ? ` ${loc}` : ''}`);
		return r;
	}

	// Follow redirects from one request; the final response has .history.
	async follow(first, url, opts = {}) {
		const history = [];
		let res = first;
		let method = opts.method;
		let body = opts.body;
		let form = opts.form;
		while (REDIRECTS.has(res.status) && res.location) {
			history.push(res);
			if (history.length > this.maxRedirects)
				throw new Error(`too many redirects from ${url}`);
			if (!isLoopback(res.location)) {
				res.blocked = true;
				history.pop();
				break;
			}
			if (res.status === 303 || ((res.status === 301 || res.status === 302) && method && method !== 'GET')) {
				method = 'GET';
				body = undefined;
				form = undefined;
			}
			res = await this.request(res.location, { method, body, form, headers: opts.headers });
		}
		res.history = history;
		return res;
	}

	async get(url, opts = {}) {
		return this.follow(await this.request(url, opts), url, opts);
	}

	async post(url, form, opts = {}) {
		const o = { ...opts, method: 'POST', form };
		return this.follow(await this.request(url, o), url, o);
	}

	/*
	 * Submit a form of page res: opts.match(form) picks it (default the
	 * first), opts.fields override/add values, opts.button {name,value}
	 * adds the submit button's pair.  Follows redirects.
	 */
	async submit(res, opts = {}) {
		const forms = parseForms(res.text, res.url);
		const form = opts.match ? forms.find(opts.match) : forms[0];
		if (!form)
			throw new Error(`no matching form on ${res.url} (status ${res.status}):\n${res.text.slice(0, 2000)}`);
		const fields = new Map(form.fields);
		for (const [k, v] of Object.entries(opts.fields || {}))
			fields.set(k, v);
		if (opts.button && opts.button.name)
			fields.set(opts.button.name, opts.button.value ?? '');
		if (form.method === 'post')
			return this.post(form.action, fields, opts);
		const u = new URL(form.action);
		for (const [k, v] of fields)
			u.searchParams.set(k, v);
		return this.get(u.href, opts);
	}
}

/* ------------------------------------------------------ provider pages */

export function isLoginPage(res) {
	return res.status === 200 && parseForms(res.text, res.url)
	    .some((f) => f.fields.has('login') && f.fields.get('prompt') === 'login');
}

export function isConsentPage(res) {
	return res.status === 200 && parseForms(res.text, res.url)
	    .some((f) => f.fields.get('prompt') === 'consent');
}

export function isLogoutConfirmPage(res) {
	return res.status === 200 && parseForms(res.text, res.url)
	    .some((f) => f.fields.has('xsrf') && /logout|session\/end/.test(f.action));
}

/*
 * Walk the provider's pages from res: fill the login form as user, click
 * through consent; stop at the first response that is neither (normally
 * the app's page after /auth/callback's redirect).  Returns that
 * response; .steps lists every response on the way, .callback is the
 * hop that requested /auth/callback (if any).
 */
export async function completeProviderLogin(browser, res, user, opts = {}) {
	const steps = [...(res.history || []), res];
	for (let i = 0; i < 6; i++) {
		if (isLoginPage(res)) {
			res = await browser.submit(res, {
				match: (f) => f.fields.get('prompt') === 'login',
				fields: { login: user, password: opts.password ?? 'any-password' },
			});
		} else if (isConsentPage(res) && opts.consent !== false) {
			res = await browser.submit(res, {
				match: (f) => f.fields.get('prompt') === 'consent',
			});
		} else {
			break;
		}
		steps.push(...(res.history || []), res);
	}
	res.steps = steps;
	res.callback = steps.find((s) => new URL(s.url).pathname.endsWith('/auth/callback')) || null;
	return res;
}

/*
 * login(appUrl, user, opts) -> {response, browser, jar, callback, steps}
 * GET appUrl/auth/login?returnTo=opts.returnTo (default "/"), the
 * provider's login (any password) and consent, back to /auth/callback,
 * then wherever authgate sends us.  opts.browser reuses a browser
 * (and its jar); opts.loginPath overrides "/auth/login".
 */
export async function login(appUrl, user = 'alice', opts = {}) {
	const browser = opts.browser || new Browser({ jar: opts.jar });
	const u = new URL(opts.loginPath || '/auth/login', appUrl);
	if (opts.returnTo !== undefined && opts.returnTo !== null)
		u.searchParams.set('returnTo', opts.returnTo);
	for (const [k, v] of Object.entries(opts.params || {}))
		u.searchParams.set(k, v);
	const first = await browser.get(u.href);
	const res = await completeProviderLogin(browser, first, user, opts);
	return { response: res, browser, jar: browser.jar, callback: res.callback, steps: res.steps };
}
