#!/usr/bin/perl
# env.pl -- a legacy Perl CGI program behind authgate-wrap, written the
# way such programs were written around 2005 (no CGI.pm, no modules).
#
# Prints the same as env.sh: REMOTE_USER, AUTH_TYPE, the OIDC_* and
# HTTP_* variables sorted, VARIABLES= (the names of the environment)
# and, for a POST, STDIN=<the request body read by CONTENT_LENGTH>.

use strict;

my ($key, $buffer, @names);

print "Content-Type: text/plain\n\n";
print "REMOTE_USER=" . (defined($ENV{'REMOTE_USER'}) ? $ENV{'REMOTE_USER'} : '') . "\n";
print "AUTH_TYPE=" . (defined($ENV{'AUTH_TYPE'}) ? $ENV{'AUTH_TYPE'} : '') . "\n";
foreach $key (sort keys %ENV) {
	print "$key=$ENV{$key}\n" if $key =~ /^OIDC_/;
}
foreach $key (sort keys %ENV) {
	print "$key=$ENV{$key}\n" if $key =~ /^HTTP_/;
}
@names = sort keys %ENV;
print "VARIABLES=" . join(' ', @names) . "\n";
if (defined($ENV{'REQUEST_METHOD'}) && $ENV{'REQUEST_METHOD'} eq 'POST') {
	binmode(STDIN);
	$buffer = '';
	read(STDIN, $buffer, $ENV{'CONTENT_LENGTH'}) if $ENV{'CONTENT_LENGTH'};
	print "STDIN=$buffer\n";
}
exit 0;
