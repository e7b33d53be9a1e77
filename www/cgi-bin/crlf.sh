#!/bin/sh
# crlf.sh -- a CGI program that ends its header lines with CR LF (as
# many old Windows-born programs do) and sets its own status and a
# header of its own: the wrapper's Set-Cookie lines (a rolling session)
# and these must arrive as one header block, status 201 intact.

printf 'Status: 201 Created\r\n'
printf 'Content-Type: text/plain\r\n'
printf 'X-Legacy: yes\r\n'
printf '\r\n'
printf 'created\r\n'
