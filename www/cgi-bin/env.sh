#!/bin/sh
# env.sh -- a legacy CGI program in POSIX sh behind authgate-wrap.
#
# Shows what a wrapped program is told about the signed-in user: prints
# REMOTE_USER, AUTH_TYPE, every OIDC_* variable and every HTTP_* request
# header variable (each group sorted, one NAME=value per line), then
# VARIABLES= with the names of its whole environment, and for a POST
# the request body as STDIN=<body>.  Nothing in it knows about OpenID
# Connect: the wrapper checked the session before running it.

printf 'Content-Type: text/plain\n\n'
printf 'REMOTE_USER=%s\n' "${REMOTE_USER-}"
printf 'AUTH_TYPE=%s\n' "${AUTH_TYPE-}"
env | grep '^OIDC_' | LC_ALL=C sort
env | grep '^HTTP_' | LC_ALL=C sort
printf 'VARIABLES=%s\n' "$(env | sed -n 's/^\([A-Za-z_][A-Za-z0-9_]*\)=.*/\1/p' |
    LC_ALL=C sort | tr '\n' ' ' | sed 's/ $//')"
if [ "${REQUEST_METHOD-}" = POST ]; then
	printf 'STDIN='
	cat
	printf '\n'
fi
