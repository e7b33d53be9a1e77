/*
 * fcgx.h -- the bridge between libfcgi (or a plain CGI environment) and
 * the handlers.  fcgx.c is the only file that includes fcgiapp.h.
 */
#ifndef AG_FCGX_H
#define AG_FCGX_H

#include "app.h"

/*
 * Serve requests: as a FastCGI application when standard input is a
 * listening socket (lighttpd bin-path, spawn-fcgi, mod_fcgid), else one
 * request as a plain CGI program.  Returns the process exit status.
 */
int	 ag_fcgx_serve(struct ag_app *);

#endif
