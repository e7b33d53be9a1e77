#!/bin/sh
# hello.cgi -- the smallest protected program, for the benchmark: what
# authgate-wrap costs on top of running a CGI program at all.

printf 'Content-Type: text/plain\n\nhello\n'
