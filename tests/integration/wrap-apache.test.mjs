// authgate-wrap under Apache httpd (www/examples/apache-cgi.conf:
// Action + AddHandler, the wrapper in a ScriptAlias directory of its
// own, /auth/ through mod_proxy_fcgi to authgate-fcgi under spawn-fcgi).
// The same cases as wrap.test.mjs (tests/lib/wrap-cases.mjs).  When
// the tests run as root, Apache's children and the programs run as
// www-data (tests/lib/apache.mjs).

import { wrapTests } from '../lib/wrap-cases.mjs';

wrapTests('apache');
