// authgate-wrap under lighttpd (www/examples/lighttpd-cgi.conf): the
// example legacy programs of www/cgi-bin/ (sh, Perl, C) see alice's
// identity and nothing a request could forge; without a session they
// never run; hostile claims arrive neutralised; a rolling session's
// Set-Cookie joins the program's own header block.  The cases are in
// tests/lib/wrap-cases.mjs, shared with wrap-apache.test.mjs.

import { wrapTests } from '../lib/wrap-cases.mjs';

wrapTests('lighttpd');
