#!/usr/bin/env python3
"""Write the seed corpora tests/fuzz/corpus/NAME/ and the dictionaries
tests/fuzz/dict/NAME.dict from tests/data/ and the cases below.

    python3 tests/fuzz/gen-corpus.py        (from anywhere)

Existing seed files of the same name are overwritten; other files in
the corpus directories (inputs added by hand) are left alone.
"""

import base64
import json
import os
import re
import shutil

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))
DATA = os.path.join(ROOT, "tests", "data")
FUZZ = os.path.join(ROOT, "tests", "fuzz")


def seed(target, name, data):
    d = os.path.join(FUZZ, "corpus", target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def b64u(b):
    if isinstance(b, str):
        b = b.encode()
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def unescape(line):
    """The \\\\ and \\xHH escapes of open-redirect.txt and return-to-good.txt."""
    out = bytearray()
    raw = line.encode()
    i = 0
    while i < len(raw):
        c = raw[i]
        if c == 0x5C and raw[i + 1:i + 2] == b"\\":
            out.append(0x5C)
            i += 2
        elif c == 0x5C and raw[i + 1:i + 2] == b"x":
            out.append(int(raw[i + 2:i + 4], 16))
            i += 4
        elif c == 0x5C:
            raise ValueError("bad escape in %r" % line)
        else:
            out.append(c)
            i += 1
    return bytes(out)


def data_lines(path):
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line and not line.startswith("#"):
                yield line


def dictionary(target, words):
    d = os.path.join(FUZZ, "dict")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, target + ".dict"), "w") as f:
        f.write("# %s.dict -- libFuzzer dictionary for fuzz-%s; "
                "written by gen-corpus.py\n" % (target, target))
        for w in words:
            if isinstance(w, str):
                w = w.encode()
            esc = "".join(chr(b) if 0x20 <= b < 0x7F and b not in b'"\\'
                          else "\\x%02x" % b for b in w)
            f.write('"%s"\n' % esc)


# --- cookie ---------------------------------------------------------

COOKIE = {
    "a": "a",
    "eq": "=",
    "semis": ";;",
    "space-semi": " ; ",
    "nul": b"a=b\x00c; d=e",
    "nuls": b"\x00\x00\x00",
    "nul-name": b"a\x00=1; b=2",
    "pair": "a=b",
    "pairs": "a=1; b=2; c=3",
    "tabs": "\ta\t=\t1\t;\tb = 2 ",
    "quoted": 'a="quoted value"; b=""',
    "eq-in-value": "a=b=c; d==",
    "empty-name": "=x; a=1",
    "bad-name": "a b=1; a,b=2; (x)=3; a=1",
    "comma": "a=1, b=2",
    "dup": "__session=first; __session=second",
    "pct": "a=%E2%9C%93; b=%C3%28; c=%00; d=%; e=%zz; f=%2",
    "ctl": "a=b\x01c; d=\x7f; e=ok",
    "utf8": "a=Zo\u00eb; \u00e9=1",
    "chunks": "; ".join("__session__%d=%s" % (i, "A" * 3500)
                        for i in range(10)),
    "txn": "__txn_abc=eyJhbGciOiJkaXIi..x.y.z; appSession=1",
    # 10,000 cookies under the header limit: 200 kept, the rest dropped.
    "many-10000": "a=1;" * 10000,
    # 10,000 distinct cookies over the 64 KiB header limit.
    "many-10000-distinct": "; ".join("c%d=%d" % (i, i) for i in range(10000)),
    "value-8192": "a=" + "v" * 8192 + "; b=1",
    "value-8193": "a=" + "v" * 8193 + "; b=1",
    "value-8192-pct": "a=" + "%41" * 2731,
    "header-65536": "a=" + "x" * (65536 - 2),
    "header-65537": "a=" + "x" * (65537 - 2),
}
for k, v in COOKIE.items():
    seed("cookie", k, v)
dictionary("cookie", [";", "; ", "=", '"', "%", "%00", "%E2%9C%93",
                      "__session", "__session__0", "__txn_", "appSession",
                      "\t", ","])

# --- params ---------------------------------------------------------

PARAMS = {
    "pct": "%",
    "pct-g1": "%G1",
    "pct-00": "%00",
    "amps": "&&&",
    "pct-2": "a=%2",
    "pct-1g": "a=%1g",
    "plus": "a+b=c+d",
    "pair": "a=1&b=2",
    "eq": "=",
    "eqeq": "a==b&=&==",
    "noeq": "a&b&c",
    "dup": "a=1&a=2&a=3",
    "utf8": "name=%E2%9C%93&x=%C3%28",
    "login": "returnTo=%2Fdashboard%3Fx%3D1&screen_hint=signup",
    "callback": "code=abc123&state=xyz&iss=https%3A%2F%2Ftenant.eu.auth0.com%2F",
    "error": "error=access_denied&error_description=User%20did%20not%20consent&state=s",
    "params-64": "&".join("p%d=%d" % (i, i) for i in range(64)),
    "params-65": "&".join("p%d=%d" % (i, i) for i in range(65)),
    "query-16384": "a=" + "x" * (16384 - 2),
    "query-16385": "a=" + "x" * (16385 - 2),
    "nul-raw": b"a=b\x00c",
}
for k, v in PARAMS.items():
    seed("params", k, v)
dictionary("params", ["&", "=", "%", "+", "%00", "%25", "%2B", "%26",
                      "%3D", "returnTo", "code", "state", "iss", "error"])

# --- returnto -------------------------------------------------------

bad = list(data_lines(os.path.join(DATA, "open-redirect.txt")))
# Every 6th payload (about 170), and the last one.
for i, line in enumerate(bad[::6] + bad[-1:]):
    seed("returnto", "bad-%03d" % i, unescape(line))
n = 0
for line in data_lines(os.path.join(DATA, "return-to-good.txt")):
    if line.startswith("@base "):
        continue
    cand = line.split("\t", 1)[0]
    seed("returnto", "good-%03d" % n, unescape(cand))
    n += 1
seed("returnto", "long-2048", "/" + "a" * 2047)
seed("returnto", "long-2049", "/" + "a" * 2048)
dictionary("returnto", ["/", "//", "/\\", "\\", "\\\\", "%2f", "%2F",
                        "%5c", "%5C", "%2e", "%2e%2e", "..", "./", "%09",
                        "%0a", "%0d", "\t", "\r", "\n", "@", ":", "?", "#",
                        "http:", "https:", "https://", "javascript:",
                        "data:", "app.example.com", "evil.com", ":443",
                        ":80", ":3000", "localhost", "/sub/", "%00",
                        "\u3002", "\uff0f"])

# --- jwt ------------------------------------------------------------

with open(os.path.join(DATA, "jwt", "node-tokens.json")) as f:
    tokens = json.load(f)
for alg, tok in tokens.items():
    seed("jwt", "node-" + alg, tok)
rs = tokens["RS256"]
h, p, s = rs.split(".")
claims = json.loads(base64.urlsafe_b64decode(p + "=="))


def jws(header, payload=None, sig=s):
    pl = b64u(json.dumps(payload if payload is not None else claims,
                         separators=(",", ":")))
    return b64u(json.dumps(header, separators=(",", ":"))) + "." + pl + \
        "." + sig


JWT = {
    "alg-none": jws({"alg": "none", "typ": "JWT"}, sig=""),
    "alg-none-kid": jws({"alg": "none", "kid": "rsa"}, sig=""),
    "alg-None": jws({"alg": "None"}, sig=""),
    "crit": jws({"alg": "RS256", "kid": "rsa", "crit": ["exp"]}),
    "crit-empty": jws({"alg": "RS256", "kid": "rsa", "crit": []}),
    "hs256": jws({"alg": "HS256", "kid": "rsa"}, sig=b64u(b"\x00" * 32)),
    "no-kid": jws({"alg": "RS256"}),
    "kid-number": jws({"alg": "RS256", "kid": 7}),
    "kid-unknown": jws({"alg": "RS256", "kid": "nope"}),
    "kid-wrong-type": jws({"alg": "ES256", "kid": "rsa"}),
    "jwk-header": jws({"alg": "RS256", "jwk": {"kty": "RSA", "n": "AQAB",
                                                "e": "AQAB"}}),
    "alg-number": jws({"alg": 256, "kid": "rsa"}),
    "payload-array": jws({"alg": "RS256", "kid": "rsa"}, payload=[1, 2]),
    "header-array": b64u("[1]") + "." + p + "." + s,
    "empty-sig": h + "." + p + ".",
    "sig-1byte": h + "." + p + ".AA",
    "es256-short-sig": tokens["ES256"].rsplit(".", 1)[0] + "." + b64u(b"\x01" * 63),
    "es256-zero-sig": tokens["ES256"].rsplit(".", 1)[0] + "." + b64u(b"\x00" * 64),
    "two-parts": h + "." + p,
    "four-parts": rs + ".x",
    "jwe-five": "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..AAAAAAAAAAAAAAAA.AAAA.AAAAAAAAAAAAAAAAAAAAAA",
    "dots": "..",
    "padded": rs + "==",
    "std-b64": rs.replace("-", "+").replace("_", "/"),
    "empty": "",
}
for k, v in JWT.items():
    seed("jwt", k, v)
dictionary("jwt", [".", "eyJ", "eyJhbGciOi", "eyJraWQiOi", "eyJjcml0Ijpb",
                   "Ijoi", "IiwiYWxnIjoi", "UlMyNTYi", "RVMyNTYi",
                   "RWREU0Ei", "bm9uZSI", "SFMyNTYi", "fQ", "In0", "=",
                   "+", "/", "-", "_"])

# --- jwks -----------------------------------------------------------

jwks_all = []
for name in ["rsa", "rsa2", "rsa1024", "ec256", "ec384", "ec521", "ed25519"]:
    with open(os.path.join(DATA, "jwt", name + ".jwk.json")) as f:
        k = json.load(f)
    seed("jwks", name, json.dumps({"keys": [k]}))
    k2 = dict(k, kid=name, use="sig")
    jwks_all.append(k2)
seed("jwks", "all", json.dumps({"keys": jwks_all}))
ec = jwks_all[3]
JWKS = {
    "empty": '{"keys":[]}',
    "not-array": '{"keys":{}}',
    "array": "[]",
    "no-keys": "{}",
    "oct": '{"keys":[{"kty":"oct","k":"c2VjcmV0","kid":"hs"}]}',
    "use-enc": json.dumps({"keys": [dict(jwks_all[0], use="enc")]}),
    "alg-mismatch": json.dumps({"keys": [dict(jwks_all[0], alg="ES256")]}),
    "ec-wrong-crv": json.dumps({"keys": [dict(ec, crv="P-384")]}),
    "ec-bad-point": json.dumps({"keys": [dict(ec, y=ec["x"])]}),
    "ec-short-x": json.dumps({"keys": [dict(ec, x="AAAA")]}),
    "rsa-e-zero": json.dumps({"keys": [dict(jwks_all[0], e="AA")]}),
    "rsa-n-tiny": json.dumps({"keys": [dict(jwks_all[0], n="AQ")]}),
    "okp-x448": '{"keys":[{"kty":"OKP","crv":"X25519","x":"AAAA"}]}',
    "kid-number": json.dumps({"keys": [dict(ec, kid=5)]}),
    "missing-n": '{"keys":[{"kty":"RSA","e":"AQAB"}]}',
    "garbage": '{"keys":[1,"x",null,[],{}]}',
    "keys-65": json.dumps({"keys": [dict(ec, kid="k%d" % i)
                                    for i in range(65)]}),
}
for k, v in JWKS.items():
    seed("jwks", k, v)
dictionary("jwks", ['"keys"', '"kty"', '"RSA"', '"EC"', '"OKP"', '"oct"',
                    '"crv"', '"P-256"', '"P-384"', '"P-521"', '"Ed25519"',
                    '"Ed448"', '"n"', '"e"', '"x"', '"y"', '"d"', '"k"',
                    '"use"', '"sig"', '"enc"', '"alg"', '"kid"', '"AQAB"',
                    '"key_ops"', '"x5c"', "{", "}", "[", "]", ":", ","])

# --- jwe ------------------------------------------------------------

with open(os.path.join(DATA, "jwe", "vectors.json")) as f:
    vectors = json.load(f)["vectors"]
for v in vectors:
    seed("jwe", "jwe-" + v["name"], v["jwe"])
    # The plaintext too: the target also seals its input and unseals it.
    seed("jwe", "pt-" + v["name"], v["plaintext"])
sdk = vectors[0]["jwe"]
parts = sdk.split(".")
JWE = {
    "four-parts": ".".join(parts[:4]),
    "six-parts": sdk + ".",
    "enc-key": ".".join([parts[0], "AAAA"] + parts[2:]),
    "iv-short": ".".join(parts[:2] + ["AAAA"] + parts[3:]),
    "tag-short": ".".join(parts[:4] + ["AAAA"]),
    "empty-ct": ".".join(parts[:3] + ["", parts[4]]),
    "pt-exp-string": '{"exp":"4102444800"}',
    "pt-exp-float": '{"exp":4102444800.5}',
    "pt-exp-huge": '{"exp":1e400}',
    "pt-nbf-future": '{"exp":4102444800,"nbf":4102444000}',
    "pt-iat-future": '{"exp":4102444800,"iat":4102444000}',
    "pt-no-exp": '{"user":{"sub":"x"}}',
    "pt-array": "[1]",
}
for k, v in JWE.items():
    seed("jwe", k, v)
dictionary("jwe", [".", "..", "eyJlbmMiOiJBMjU2R0NNIiwiYWxnIjoiZGlyIn0",
                   '"exp"', '"nbf"', '"iat"', '"user"', '"tokenSet"',
                   '"internal"', "4102444800", "1700000000", "{", "}"])

# --- discovery ------------------------------------------------------

ddir = os.path.join(DATA, "discovery")
for name in sorted(os.listdir(ddir)):
    with open(os.path.join(ddir, name), "rb") as f:
        seed("discovery", name, f.read())
dictionary("discovery", ['"issuer"', '"authorization_endpoint"',
                         '"token_endpoint"', '"userinfo_endpoint"',
                         '"jwks_uri"', '"end_session_endpoint"',
                         '"revocation_endpoint"',
                         '"pushed_authorization_request_endpoint"',
                         '"backchannel_authentication_endpoint"',
                         '"id_token_signing_alg_values_supported"',
                         '"authorization_response_iss_parameter_supported"',
                         '"backchannel_logout_supported"',
                         '"https://tenant.eu.auth0.com/"',
                         '"https://', '"http://', '"RS256"', '"none"',
                         '"HS256"', '"EdDSA"', "true", "false", "null"])

# --- json -----------------------------------------------------------

JSON = {
    "object": '{"a":1,"b":"x","c":[true,false,null],"d":{"e":1.5}}',
    "depth-32": "[" * 32 + "]" * 32,
    "depth-33": "[" * 33 + "]" * 33,
    "depth-obj-33": '{"a":' * 33 + "1" + "}" * 33,
    "nul-string": '{"a":"x\\u0000y"}',
    "surrogate-lone": '"\\ud800"',
    "surrogate-pair": '"\\ud83d\\ude00"',
    "bigint": "[9223372036854775807,9223372036854775808,-9223372036854775809]",
    "double-huge": "[1e400,-1e400,1e-400,-0,0.0e0]",
    "dup-keys": '{"a":1,"a":2}',
    "trailing-comma": "[1,2,]",
    "trailing-data": "{} x",
    "trailing-ws": "{} \n\t",
    "bom": b"\xef\xbb\xbf{}",
    "nan": "[NaN,Infinity,-Infinity]",
    "single-quotes": "{'a':1}",
    "comment": "/* c */ {} // d",
    "bad-utf8": b'"\xc3\x28\xff"',
    "raw-ctl": b'"a\x01b"',
    "nul-raw": b'{"a":1}\x00',
    "empty": "",
    "ws": " ",
    "number": "-12.5e+3",
}
for k, v in JSON.items():
    seed("json", k, v)
for name in ["auth0.json", "path-issuer.json"]:
    shutil.copyfile(os.path.join(ddir, name),
                    os.path.join(FUZZ, "corpus", "json", "disco-" + name))
shutil.copyfile(os.path.join(DATA, "jwt", "node-tokens.json"),
                os.path.join(FUZZ, "corpus", "json", "node-tokens.json"))
dictionary("json", ["{", "}", "[", "]", ":", ",", '"', "true", "false",
                    "null", "\\u0000", "\\ud800", "\\n", "\\\\", "1e400",
                    "-0", "9223372036854775808", "NaN", "Infinity"])

# --- conf -----------------------------------------------------------

cdir = os.path.join(DATA, "conf")
for name in sorted(os.listdir(cdir)):
    if name.endswith(".conf"):
        with open(os.path.join(cdir, name), "rb") as f:
            seed("conf", name, f.read())
KEYS = ("domain issuer client_id client_secret client_assertion_key "
        "client_assertion_alg client_auth secret app_base_url scope audience "
        "audience.param login.forward_scope login.forward_audience "
        "login.default_return_to par id_token.algs userinfo claims.keep "
        "routes.prefix access_token_endpoint connect_account_endpoint "
        "profile.no_content callback.error_url session.store session.db "
        "session.rolling session.absolute_duration "
        "session.inactivity_duration cookie.name cookie.secure "
        "cookie.same_site cookie.path cookie.domain cookie.transient "
        "logout.strategy logout.allowed_return_urls logout.id_token_hint "
        "logout.revoke_refresh_token dpop dpop.key mfa.token_ttl "
        "token_refresh_buffer http.timeout_ms http.ca_file "
        "allow_insecure_requests wrap.roots wrap.remote_user_claim "
        "wrap.pass_access_token wrap.unauthenticated authorize.require "
        "log.level log.syslog authorization.").split()
dictionary("conf", KEYS + [" = ", "=", "\n", "\r\n", "#", '"', "on", "off",
                           "true", "false", "yes", "no", "https://",
                           "http://", "cookie", "sqlite", "lax", "strict",
                           "none", "RS256", "ES256", "EdDSA", "/auth",
                           "0123456789abcdef0123456789abcdef"])

# --- b64 ------------------------------------------------------------

B64 = {
    "empty": "",
    "1": "A",
    "2": "AA",
    "3": "AAA",
    "4": "AAAA",
    "5": "AAAAA",
    "noncanon-2": "AB",
    "noncanon-3": "AAB",
    "pad-1": "AA=",
    "pad-2": "AA==",
    "std-alphabet": "+/+/",
    "url-alphabet": "-_-_",
    "space": "AA AA",
    "newline": "AAAA\nAAAA",
    "nul": b"AA\x00A",
    "high": b"AA\xffA",
    "token-part": rs.split(".")[2],
}
for k, v in B64.items():
    seed("b64", k, v)

# --- rule -----------------------------------------------------------
# The first line is the rule, the rest (optional) the claims.

RULES = {
    "eq": 'email = "a@corp.com"',
    "and": 'roles contains "admin" and email_verified = true',
    "regex-trick": 'email ~ "^[^@]+@corp\\.com$"\n{"email":"a@evil.com@corp.com"}',
    "not-or": 'not (exists nope or org.name != "x")',
    "dotted": '"a.b" = "y" or a.b = "y"\n{"a":{"b":"y"}}',
    "int": 'n = 42 and d = 1 or z = "x"',
    "depth-8": "(" * 8 + "exists a" + ")" * 8,
    "depth-9": "(" * 9 + "exists a" + ")" * 9,
    "bad-regex": 'email ~ "a(b"',
    "regex-nested-repeat": 'name ~ "(((((((a{9}){9}){9}){9}){9}){9}){9})"\n'
                           '{"name":"a"}',
    "regex-nested-plus": 'name ~ "((((((a+)+)+)+)+)+)"\n{"name":"aaa"}',
    "bad-op": 'roles contians "admin"',
    "unterminated": 'email = "unterminated',
    "namespaced": 'exists "https://example.com/roles" and '
                  '"https://example.com/roles" contains "eng"\n'
                  '{"https://example.com/roles":["eng"]}',
    "nots": "not not not exists sub",
    "long-2048": 'email = "' + "x" * 2038 + '"',
    "long-2049": 'email = "' + "x" * 2039 + '"',
}
for k, v in RULES.items():
    seed("rule", k, v)
dictionary("rule", ["and", "or", "not", "exists", "contains", "true",
                    "false", "=", "==", "!=", "~", "(", ")", ".", "\"",
                    "\\\"", "\\\\", "^", "$", "email", "roles", "sub",
                    "email_verified", "org.name", "\"a.b\""])

# --- dpop -----------------------------------------------------------
# Line 1 WWW-Authenticate, line 2 DPoP-Nonce, line 3 URL, the rest the
# 400's body.

NONCE_ERR = '{"error":"use_dpop_nonce","error_description":"x"}'
DPOP = {
    "as-400": "\nn-1\nhttps://op.example/oauth/token\n" + NONCE_ERR,
    "rs-401": 'DPoP error="use_dpop_nonce", error_description="Resource '
              'server requires nonce in DPoP proof"\neyJ7S_zG.8\n'
              "https://api.example/v1/x?y=1#z\n",
    "rs-401-token": "DPoP error=use_dpop_nonce, algs=\"ES256 PS256\"\nabc\n"
                    "https://api.example:8443/\n",
    "rs-401-bearer": 'Bearer error="use_dpop_nonce"\nabc\nhttps://a/\n',
    "rs-401-case": 'dpop ERROR="use_dpop_nonce"\nabc\nhttp://A.Example:80\n',
    "rs-401-escaped": 'DPoP error="use_\\dpop_nonce", x="a\\"b"\nabc\n'
                      "https://a/\n",
    "rs-401-other-error": 'DPoP error="invalid_token"\nabc\nhttps://a/\n',
    "rs-401-error-twice": 'DPoP realm="x", error="invalid_dpop_proof", '
                          'error="use_dpop_nonce"\nabc\nhttps://a/\n',
    "rs-401-prefix": 'DPoP error="use_dpop_nonce_x"\nabc\nhttps://a/\n',
    "rs-401-unterminated": 'DPoP error="use_dpop_nonce\nabc\nhttps://a/\n',
    "rs-401-trailing-bs": 'DPoP error="use_dpop_nonce\\\nabc\nhttps://a/\n',
    "rs-401-two-schemes": 'Basic realm="x", DPoP error="use_dpop_nonce"\n'
                          'abc\nhttps://a/\n',
    "nonce-quote": '\na"b\nhttps://a/\n' + NONCE_ERR,
    "nonce-space": "\na b\nhttps://a/\n" + NONCE_ERR,
    "nonce-1024": "\n" + "N" * 1024 + "\nhttps://a/\n" + NONCE_ERR,
    "nonce-1025": "\n" + "N" * 1025 + "\nhttps://a/\n" + NONCE_ERR,
    "nonce-utf8": "\n\u00e9\nhttps://a/\n" + NONCE_ERR,
    "nonce-bad-utf8": b"\n\xc3\x28\nhttps://a/\n" + NONCE_ERR.encode(),
    "nonce-nul": b"\nab\x00cd\nhttps://a/\n" + NONCE_ERR.encode(),
    "nonce-empty": "\n\nhttps://a/\n" + NONCE_ERR,
    "url-userinfo": "\nn\nhttps://u:p@a.example/x\n",
    "url-ipv6": "\nn\nhttps://[::1]:8443/p?q\n",
    "url-no-path": "\nn\nhttps://a.example?x=1\n",
    "url-frag-only": "\nn\nhttps://a.example#/p\n",
    "url-relative": "\nn\n/token\n",
    "url-ftp": "\nn\nftp://a.example/\n",
    "url-port-huge": "\nn\nhttps://a.example:99999999999/\n",
    "url-long": "\nn\nhttps://a.example/" + "p" * 9000 + "\n",
    "body-wrong-type": "\nn\nhttps://a/\n" + '{"error":["use_dpop_nonce"]}',
    "body-array": "\nn\nhttps://a/\n[\"use_dpop_nonce\"]",
    "body-nested": "\nn\nhttps://a/\n" + '{"a":' * 40 + "1" + "}" * 40,
    "body-nul": b"\nn\nhttps://a/\n" + b'{"error":"use_dpop_nonce\\u0000"}',
    "body-bad-utf8": b"\nn\nhttps://a/\n" + b'{"error":"\xff"}',
    "body-huge": "\nn\nhttps://a/\n" + '{"error":"use_dpop_nonce","x":"' +
                 "x" * 20000 + '"}',
    "www-long": "DPoP " + "a=b, " * 4000 + 'error="use_dpop_nonce"\nn\n'
                "https://a/\n",
    "empty": "",
}
for k, v in DPOP.items():
    seed("dpop", k, v)
dictionary("dpop", ["DPoP ", "Bearer ", "error=", '"use_dpop_nonce"',
                    "use_dpop_nonce", "error_description=", ", ", '"',
                    "\\", "\n", "https://", "http://", ":443", ":80", "/",
                    "?", "#", "@", "[::1]", '{"error":', "}"])

# --- mfa ------------------------------------------------------------
# The body of a provider answer (every status), an mfa_required error
# body, a token payload and an authenticator list.

REQS = {"challenge": [{"type": "otp"}, {"type": "OOB"}]}
AUTHS = [
    {"id": "totp|dev_1", "authenticator_type": "otp", "active": True},
    {"id": "sms|dev_2", "authenticator_type": "oob", "oob_channel": "sms",
     "name": "+1 555"},
    {"id": "recovery-code|dev_3", "authenticator_type": "recovery-code"},
]
MFA = {
    "mfa-required": {"error": "mfa_required", "error_description":
                     "Multifactor authentication required",
                     "mfa_token": "Fe26.2**raw", "mfa_requirements": REQS},
    "mfa-required-no-token": {"error": "mfa_required"},
    "mfa-required-empty-token": {"error": "mfa_required", "mfa_token": ""},
    "mfa-required-reqs-array": {"error": "mfa_required", "mfa_token": "t",
                                "mfa_requirements": [REQS]},
    "mfa-required-token-number": {"error": "mfa_required", "mfa_token": 7},
    "mfa-required-enroll": {"error": "mfa_required", "mfa_token": "t",
                            "mfa_requirements": {"enroll": [
                                {"type": "otp"}]}},
    "authenticators": AUTHS,
    "authenticators-filtered": {"list": AUTHS, "mfa_requirements": REQS},
    "authenticators-reqs-empty": {"list": AUTHS, "mfa_requirements":
                                  {"challenge": []}},
    "authenticators-reqs-junk": {"list": AUTHS, "mfa_requirements":
                                 {"challenge": [1, None, {"type": 5},
                                                {"type": "otp"}]}},
    "authenticators-type-number": [{"authenticator_type": 1}],
    "authenticators-not-objects": [1, "otp", None],
    "authenticators-65": [{"authenticator_type": "otp", "id": str(i)}
                          for i in range(65)],
    "challenge-oob": {"challenge_type": "oob", "oob_code": "Fe26.x",
                      "binding_method": "prompt", "extra": {"x": 1}},
    "challenge-otp": {"challenge_type": "otp"},
    "challenge-type-number": {"challenge_type": 1, "oob_code": "x"},
    "challenge-oob-code-object": {"challenge_type": "oob",
                                  "oob_code": {"a": 1}},
    "associate-otp": {"authenticator_type": "otp", "secret": "JBSW",
                      "barcode_uri": "otpauth://totp/x",
                      "recovery_codes": ["N3B"]},
    "error-invalid-grant": {"error": "invalid_grant",
                            "error_description": "Invalid otp_code."},
    "error-ctl": {"error": "a\u0001b\nc", "error_description":
                  "\u00e9\u0000\u007f" + "d" * 400},
    "error-long-code": {"error": "e" * 200},
    "error-not-string": {"error": {"x": 1}, "error_description": 5},
    "payload": {"mfaToken": "raw", "audience": "https://api/",
                "scope": "read", "mfaRequirements": REQS,
                "createdAt": 1700000000000, "sid": "S1", "sub": "alice"},
    "payload-no-sid": {"mfaToken": "raw", "createdAt": 1, "sub": "alice"},
    "payload-sid-number": {"mfaToken": "raw", "createdAt": 1,
                           "sub": "alice", "sid": 5},
    "payload-created-string": {"mfaToken": "raw", "createdAt": "1",
                               "sub": "alice"},
    "payload-reqs-string": {"mfaToken": "raw", "createdAt": 1,
                            "sub": "alice", "mfaRequirements": "otp"},
    "payload-empty-token": {"mfaToken": "", "createdAt": 1, "sub": "alice"},
    "payload-session": {"user": {"sub": "alice"}, "tokenSet": {},
                        "internal": {"sid": "S1", "createdAt": 1}},
    "payload-nbf-future": {"mfaToken": "raw", "createdAt": 1,
                           "sub": "alice", "nbf": 4102444800},
}
for k, v in MFA.items():
    seed("mfa", k, json.dumps(v))
MFA_RAW = {
    "sealed-garbage": "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..AAAA.AAAA.AAAA",
    "nested": '{"mfa_requirements":' + '{"a":' * 40 + "1" + "}" * 41,
    "nul": b'{"mfa_token":"a\\u0000b","error":"mfa_required"}',
    "nul-raw": b'{"error":"x"}\x00',
    "bad-utf8": b'{"mfa_token":"\xc3\x28","error":"\xff"}',
    "huge-token": '{"error":"mfa_required","mfa_token":"' + "t" * 70000 +
                  '"}',
    "dup-keys": '{"mfa_token":"a","mfa_token":"b","error":"mfa_required"}',
    "not-json": "<html>502 Bad Gateway</html>",
    "empty": "",
}
for k, v in MFA_RAW.items():
    seed("mfa", k, v)
dictionary("mfa", ['"error"', '"mfa_required"', '"mfa_token"',
                   '"mfa_requirements"', '"challenge"', '"enroll"',
                   '"type"', '"otp"', '"oob"', '"recovery-code"',
                   '"authenticator_type"', '"challenge_type"',
                   '"oob_code"', '"binding_method"', '"mfaToken"',
                   '"createdAt"', '"sid"', '"sub"', '"alice"', '"S1"',
                   '"audience"', '"scope"', '"mfaRequirements"', '"list"',
                   "{", "}", "[", "]", ":", ",", "null", "true", "1"])

# --- connection -----------------------------------------------------
# An array of connectionTokenSets entries, session data holding some,
# a Cookie header of __FC_<n> cookies, or a name (first line).

FC_EXP = 1700003600     # an hour after the target's clock


def fc(conn, at="at", exp=FC_EXP, **kw):
    e = {"accessToken": at, "connection": conn, "expiresAt": exp}
    e.update(kw)
    return e


FC_SETS = [fc("google-oauth2", "ya29.a", scope="openid email"),
           fc("github", "gho_b", loginHint="alice@example.com"),
           fc("github", "gho_c")]
CONNECTION = {
    "entries": FC_SETS,
    "session": {"user": {"sub": "alice"}, "tokenSet": {"refreshToken": "rt",
                "accessToken": "at"}, "internal": {"sid": "S1"},
                "connectionTokenSets": FC_SETS},
    "session-hint": {"connectionTokenSets": [fc("github", "x",
                     loginHint="alice@example.com"), fc("github", "y")]},
    "session-expired": {"connectionTokenSets": [fc("google-oauth2",
                        exp=1699999999)]},
    "session-empty-hint": {"connectionTokenSets": [fc("github",
                           loginHint="")]},
    "session-sets-object": {"connectionTokenSets": {"0": FC_SETS[0]}},
    "entries-9": [fc("c%d" % i, "t%d" % i, exp=FC_EXP + i)
                  for i in range(9)],
    "entries-bad": [fc("bad name"), fc("a/b"), fc("x" * 129),
                    {"accessToken": 5, "connection": "a",
                     "expiresAt": FC_EXP},
                    {"accessToken": "a", "connection": "a",
                     "expiresAt": "1700003600"},
                    {"accessToken": "a", "connection": "a",
                     "expiresAt": 1.5e9},
                    {"connection": "a", "expiresAt": FC_EXP},
                    1, None, "x", []],
    "entries-exp-member": [dict(fc("a"), exp=1, extra=1)],
    "entries-nbf-future": [fc("a", nbf=4102444800)],
    "entries-iat-string": [fc("a", iat="now")],
    "entries-big-token": [fc("a", "t" * 3000), fc("b", "t" * 2900)],
    "entries-nested": [fc("a", deep=json.loads("[" * 30 + "]" * 30))],
    "entries-utf8": [fc("a", "\u00e9\u2713", loginHint="Zo\u00eb")],
}
for k, v in CONNECTION.items():
    seed("connection", k, json.dumps(v))
CONNECTION_RAW = {
    "cookies": "__FC_0=eyJlbmMiOiJBMjU2R0NNIiwiYWxnIjoiZGlyIn0..AAAA.BBBB.CC;"
               " __FC_1=; __FC_01=x; __FC_8=y; __FC_999=z; __FC_-1=a; "
               "__FC_=b; __fc_0=c; __session=d",
    "cookies-dup": "__FC_0=a; __FC_0=b",
    "name-ok": "google-oauth2",
    "name-129": "c" * 129,
    "name-slash": "../me/v1",
    "hint-ctl": "alice\x01@example.com",
    "hint-321": "h" * 321,
    "id-pct": "cac_%2F..",
    "nul": b'[{"accessToken":"a\\u0000b","connection":"a","expiresAt":1700003600}]',
    "nul-raw": b"google\x00oauth2",
    "bad-utf8": b'[{"accessToken":"\xc3\x28","connection":"a","expiresAt":1700003600}]',
    "nested": "[" * 40 + "]" * 40,
    "huge": json.dumps([fc("a", "t" * 60000)]),
    "empty": "",
}
for k, v in CONNECTION_RAW.items():
    seed("connection", k, v)
dictionary("connection", ['"connectionTokenSets"', '"accessToken"',
                          '"connection"', '"expiresAt"', '"loginHint"',
                          '"scope"', '"tokenSet"', '"refreshToken"',
                          '"google-oauth2"', '"github"', "1700003600",
                          "1699999999", "__FC_0=", "__FC_", "; ", "{", "}",
                          "[", "]", ":", ",", "\n"])

# --- mfaroute -------------------------------------------------------
# Line 1 Authorization, line 2 Content-Type, the rest the body; a
# leading '!' marks the body too large.

TOK = "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..AAAAAAAAAAAAAAAA.AAAA.AAAA"
CT = "application/json"


def route(body, auth="Bearer " + TOK, ct=CT):
    if not isinstance(body, (str, bytes)):
        body = json.dumps(body)
    if isinstance(body, str):
        body = body.encode()
    return auth.encode() + b"\n" + ct.encode() + b"\n" + body


MFAROUTE = {
    "verify-otp": route({"otp": "123456"}),
    "verify-oob": route({"oob_code": "Fe26.oob", "binding_code": "12"}),
    "verify-recovery": route({"recovery_code": "ABCD1234"}),
    "verify-two": route({"otp": "1", "recovery_code": "2"}),
    "verify-binding-alone": route({"otp": "1", "binding_code": "2"}),
    "verify-otp-number": route({"otp": 123456}),
    "verify-otp-empty": route({"otp": ""}),
    "verify-otp-1025": route({"otp": "1" * 1025}),
    "challenge": route({"mfa_token": TOK, "challenge_type": "otp"}, auth=""),
    "challenge-oob": route({"mfa_token": TOK, "challenge_type": "oob sms",
                            "authenticator_id": "sms|dev_2"}, auth=""),
    "challenge-id-null": route({"mfa_token": TOK, "challenge_type": "otp",
                                "authenticator_id": None}, auth=""),
    "associate-otp": route({"authenticator_types": ["otp"]}),
    "associate-sms": route({"authenticator_types": ["oob"],
                            "oob_channels": ["sms"],
                            "phone_number": "+15551234567"}),
    "associate-sms-no-phone": route({"authenticator_types": ["oob"],
                                     "oob_channels": ["sms", "voice"]}),
    "associate-email": route({"authenticator_types": ["oob"],
                              "oob_channels": ["email"],
                              "email": "a@example.com"}),
    "associate-types-9": route({"authenticator_types": ["otp"] * 9}),
    "associate-types-bad": route({"authenticator_types": ["push"]}),
    "associate-types-empty": route({"authenticator_types": []}),
    "associate-types-string": route({"authenticator_types": "otp"}),
    "associate-types-mixed": route({"authenticator_types": ["otp", 1]}),
    "associate-channels-object": route({"authenticator_types": ["otp"],
                                        "oob_channels": {"a": "sms"}}),
    "bearer-lower": route({"otp": "1"}, auth="bearer   " + TOK),
    "bearer-raw-token": route({"otp": "1"}, auth="Bearer Fe26.2**abc"),
    "bearer-empty": route({"otp": "1"}, auth="Bearer "),
    "bearer-basic": route({"otp": "1"}, auth="Basic YTpi"),
    "bearer-long": route({"otp": "1"}, auth="Bearer " + "A" * 65537),
    "ct-charset": route({"otp": "1"}, ct="application/json; charset=utf-8"),
    "ct-upper": route({"otp": "1"}, ct="Application/JSON"),
    "ct-form": route("otp=1", ct="application/x-www-form-urlencoded"),
    "ct-json-suffix": route({"otp": "1"}, ct="application/jsonp"),
    "ct-none": route({"otp": "1"}, ct=""),
    "too-large": b"!" + route({"otp": "1"}),
    "body-array": route([{"otp": "1"}]),
    "body-nested": route('{"otp":"1","x":' + "[" * 40 + "]" * 40 + "}"),
    "body-nul": route(b'{"otp":"1\\u00002"}'),
    "body-nul-raw": route(b'{"otp":"1"}\x00'),
    "body-bad-utf8": route(b'{"otp":"\xc3\x28"}'),
    "body-dup": route('{"otp":"1","otp":""}'),
    "body-65537": route('{"otp":"1","x":"' + "x" * 65520 + '"}'),
    "body-empty": route(""),
    "empty": b"",
}
for k, v in MFAROUTE.items():
    seed("mfaroute", k, v)
dictionary("mfaroute", ["Bearer ", "\n", "application/json", "; charset=",
                        '"otp"', '"oob_code"', '"binding_code"',
                        '"recovery_code"', '"mfa_token"',
                        '"challenge_type"', '"authenticator_id"',
                        '"authenticator_types"', '"oob_channels"',
                        '"phone_number"', '"email"', '"sms"', '"voice"',
                        '"auth0"', '"oob"', "{", "}", "[", "]", ":", ",",
                        "null", "!"])

# --- ciba -----------------------------------------------------------
# The body of the backchannel authentication endpoint's answer (the
# target tries it as a 200, a 400 and a 503).
CIBA = {
    "ok": {"auth_req_id": "1c266114-a1be-4252-8ad1-04986c5b9ac1",
           "expires_in": 120, "interval": 2},
    "ok-no-interval": {"auth_req_id": "abc", "expires_in": 120},
    "error": {"error": "unknown_user_id", "error_description": "no user"},
    "error-control": {"error": "access\u0000denied",
                      "error_description": "<script>\n"},
    "id-missing": {"expires_in": 120},
    "id-number": {"auth_req_id": 7, "expires_in": 120},
    "id-empty": {"auth_req_id": "", "expires_in": 120},
    "id-space": {"auth_req_id": "a b", "expires_in": 120},
    "id-1025": {"auth_req_id": "x" * 1025, "expires_in": 120},
    "expires-zero": {"auth_req_id": "a", "expires_in": 0},
    "expires-negative": {"auth_req_id": "a", "expires_in": -5},
    "expires-huge": {"auth_req_id": "a", "expires_in": 99999999999999},
    "expires-string": {"auth_req_id": "a", "expires_in": "120"},
    "expires-float": {"auth_req_id": "a", "expires_in": 1.5},
    "interval-huge": {"auth_req_id": "a", "expires_in": 120,
                      "interval": 100000},
    "interval-zero": {"auth_req_id": "a", "expires_in": 120, "interval": 0},
    "array": [{"auth_req_id": "a", "expires_in": 120}],
}
for k, v in CIBA.items():
    seed("ciba", k, json.dumps(v))
seed("ciba", "not-json", "auth_req_id=a&expires_in=120")
seed("ciba", "nested", '{"auth_req_id":"a","expires_in":120,"x":' +
     "[" * 40 + "]" * 40 + "}")
seed("ciba", "bad-utf8", b'{"auth_req_id":"\xc3\x28","expires_in":1}')
seed("ciba", "empty", b"")
dictionary("ciba", ['"auth_req_id"', '"expires_in"', '"interval"',
                    '"error"', '"error_description"', "{", "}", ":", ","])
