/*
 * ag_limits.h -- every bound authgate puts on untrusted bytes, in one place.
 *
 * Each read of data that came from a browser, the network, an OpenID
 * Provider or the configuration file is bounded by one of these.  Tests
 * exercise each limit at the bound and one past it.
 */
#ifndef AG_LIMITS_H
#define AG_LIMITS_H

/* Request side (browser). */
#define AG_MAX_REQUEST_BODY	(64 * 1024)	/* POST body of an /auth route */
#define AG_MAX_COOKIE_HEADER	(64 * 1024)	/* one Cookie: header */
#define AG_MAX_COOKIES		200		/* cookies parsed from it */
#define AG_MAX_COOKIE_VALUE	(8 * 1024)	/* one cookie's value */
#define AG_MAX_QUERY		(16 * 1024)	/* QUERY_STRING */
#define AG_MAX_PARAMS		64		/* query or form parameters */
#define AG_MAX_RETURN_TO	2048		/* a returnTo value */
#define AG_MAX_HEADER_VALUE	(8 * 1024)	/* any other request header */

/* Session cookie. */
#define AG_COOKIE_CHUNK_SIZE	3500		/* SDK MAX_CHUNK_SIZE */
#define AG_MAX_SESSION_CHUNKS	10		/* __session__0..9 */
#define AG_MAX_SESSION_JSON	(AG_COOKIE_CHUNK_SIZE * AG_MAX_SESSION_CHUNKS)
#define AG_TXN_TOTAL_MAX	3500		/* all __txn_* cookies together */
#define AG_TXN_MAX_AGE		3600		/* transaction lifetime, seconds */
#define AG_DEFAULT_EXPIRES_IN	3600		/* a token answer without expires_in */

/* Provider side (network). */
#define AG_MAX_IDP_RESPONSE	(1024 * 1024)	/* any HTTP body from the OP */
#define AG_MAX_JWKS_KEYS	64		/* keys considered in one JWKS */
#define AG_MAX_JWT		(64 * 1024)	/* a compact JWS/JWE */
#define AG_MAX_JSON_DEPTH	32		/* nesting of any parsed JSON */
#define AG_JWKS_REFETCH_MIN	60		/* seconds between forced JWKS refetches */
#define AG_DISCOVERY_TTL	600		/* seconds a discovery document is cached */
#define AG_JWKS_TTL		600		/* seconds a JWKS is cached */

/* authgate fetch: a script's call to an API with the session's token. */
#define AG_MAX_FETCH_RESPONSE	(8 * 1024 * 1024) /* the API's response body */
#define AG_MAX_FETCH_BODY	(8 * 1024 * 1024) /* --data / --data-file */
#define AG_MAX_FETCH_HEADERS	32		/* --header options */

/*
 * authgate ciba (lib/grant.c): the backchannel request's fields, and
 * how long and how often it polls.  Auth0 allows binding messages of
 * 64 characters; a provider's expires_in and interval are capped, so a
 * misbehaving one cannot park the command for days or hammer itself.
 */
#define AG_MAX_BINDING_MESSAGE	64		/* bytes of binding_message */
#define AG_MAX_LOGIN_HINT_SUB	256		/* bytes of the login hint's sub */
#define AG_MAX_AUTH_REQ_ID	1024		/* bytes of the provider's auth_req_id */
#define AG_CIBA_MAX_EXPIRY	3600		/* seconds waited at most */
#define AG_CIBA_DEFAULT_INTERVAL 5		/* seconds between polls, no interval */
#define AG_CIBA_MAX_INTERVAL	60		/* a provider's interval, capped */
#define AG_CIBA_SLOW_DOWN	5		/* seconds added per slow_down */
#define AG_CIBA_MAX_POLLS	1000		/* polls of one request */

/* authgate exchange (RFC 8693): the SDK's subject_token_type bounds. */
#define AG_TOKEN_TYPE_MIN	10		/* bytes of subject_token_type, at least */
#define AG_TOKEN_TYPE_MAX	100		/* and at most */
#define AG_URN_NID_MAX		32		/* bytes of a URN's namespace id */
#define AG_ACTOR_TOKEN_TYPE_MAX	1024		/* bytes of actor_token_type */

/* Back-channel logout tokens. */
#define AG_BCLOGOUT_MAX_AGE	600		/* seconds a logout token may be old */
#define AG_BCLOGOUT_MAX_JTI	256		/* bytes of its jti */

/* Configuration. */
#define AG_MAX_CONF_FILE	(256 * 1024)
#define AG_MAX_CONF_LINE	4096
#define AG_MAX_CONF_KEYS	256

/*
 * Authorization rules (lib/rule.c): authorize.require and the named
 * authorize.rule.NAME.  Each bounds one rule's text, its nesting of
 * parentheses and "not", its tests and operators, its regular
 * expressions, the segments of one dotted claim path, and the number
 * of named rules (and the bytes of a name).
 */
#define AG_MAX_RULE_LEN		2048
#define AG_MAX_RULE_DEPTH	8
#define AG_MAX_RULE_NODES	64
#define AG_MAX_RULE_REGEX	8
/*
 * One regular expression: its bytes, and the extra copies its
 * repetitions make, nested counts multiplied (glibc's regcomp copies the
 * tree per repetition: nested bounds or stacked quantifiers such as
 * "a++++" take gigabytes).
 */
#define AG_MAX_RULE_REGEX_LEN	256
#define AG_MAX_RULE_REGEX_REPEAT 64
/*
 * REDIRECT_AUTHGATE_RULE levels the wrapper reads under Apache's Action
 * (REDIRECT_, REDIRECT_REDIRECT_, ...: one per internal redirect).
 */
#define AG_MAX_REDIRECT_RULES	8
#define AG_MAX_RULE_PATH	8
#define AG_MAX_NAMED_RULES	32
#define AG_MAX_RULE_NAME	64

/* Claims into a CGI environment. */
#define AG_MAX_CLAIM_VALUE	(32 * 1024)
#define AG_MAX_CLAIMS		256
#define AG_MAX_ENV_TOTAL	(96 * 1024)
#define AG_MAX_CLAIM_NAME	128		/* bytes of one claim name */
#define AG_MAX_CLAIMS_JSON	(64 * 1024)	/* OIDC_CLAIMS_JSON value */

/*
 * The authorizer's per-process cache of verified sessions (lib/scache.c):
 * how many, and the bytes of one (sealed cookie + Variable- lines); a
 * larger session is simply not cached.  At most 32 x 64 KB per process.
 */
#define AG_SCACHE_ENTRIES	32
#define AG_SCACHE_MAX_BYTES	(64 * 1024)

/* Clock tolerances, seconds. */
#define AG_JWE_LEEWAY		15		/* SDK cookie exp leeway */
#define AG_JWT_LEEWAY		30		/* ID token time checks */

/*
 * Refresh coordination (lib/token.c, table refresh_results).  A refresh
 * in flight holds its row for at least AG_REFRESH_LOCK_SECS: longer when
 * http.timeout_ms is long (three timeouts plus one second: discovery,
 * the token call, a JWKS fetch).  Waiters poll every AG_REFRESH_POLL_MS
 * for the lock time plus AG_REFRESH_WAIT_EXTRA_SECS, then give up.  An
 * outcome, success or failure, serves every caller of the same refresh
 * token, audience and scope for AG_REFRESH_KEEP_SECS; a rotation is
 * remembered as long, and a request whose refresh token was spent by a
 * refresh for another audience follows at most AG_REFRESH_HOPS such
 * rotations.
 */
#define AG_REFRESH_LOCK_SECS	5
#define AG_REFRESH_KEEP_SECS	30
#define AG_REFRESH_POLL_MS	100
#define AG_REFRESH_WAIT_EXTRA_SECS 3
#define AG_REFRESH_HOPS		4
#define AG_IPSIE_LEEWAY		30		/* sessionExpiresAt margin, s */

/* MFA step-up (lib/mfa.c, fcgi/h-mfa.c) */
#define AG_MAX_MFA_AUTHENTICATORS 64	/* authenticators listed to the browser */
#define AG_MAX_MFA_FIELD	1024		/* otp, oob_code, ids, phone... */
#define AG_MAX_MFA_TYPES	8		/* authenticator_types, oob_channels */
/* DPoP (RFC 9449): nonces remembered, one per origin, least recently
 * used evicted; a nonce's bytes (longer ones are ignored). */
#define AG_MAX_DPOP_NONCES	32
#define AG_MAX_DPOP_NONCE	1024
/*
 * Token Vault and Connected Accounts (lib/connection.c, lib/myaccount.c).
 * Each connectionTokenSets entry is one __FC_<n> cookie (cookie store):
 * at most AG_MAX_CONNECTION_SETS of them (the oldest entry makes room),
 * each sealed value at most AG_FC_COOKIE_MAX bytes (the per-cookie size
 * browsers guarantee; the SDK warns above it, we refuse to write it).
 */
#define AG_MAX_CONNECTION_SETS	8		/* __FC_0..__FC_7 */
#define AG_FC_COOKIE_MAX	4000		/* one sealed __FC_<n> value */
#define AG_MAX_CONNECTION_NAME	128		/* a connection name */
#define AG_MAX_LOGIN_HINT	320		/* a login_hint */
#define AG_MAX_CONNECT_SCOPES	32		/* scopes= on /auth/connect */
#define AG_MAX_MYACCOUNT_PAGES	100		/* accounts list pages (SDK) */
#define AG_MAX_MYACCOUNT_FIELD	2048		/* connect_uri, ticket, ids */

#endif
