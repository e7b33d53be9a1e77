#!/bin/sh
# redirect.sh -- a CGI program that answers with a redirect of its own
# (Location plus an explicit Status, so that the server sends it to the
# browser instead of following a local path itself).

printf 'Location: /somewhere\n'
printf 'Status: 302 Found\n'
printf '\n'
