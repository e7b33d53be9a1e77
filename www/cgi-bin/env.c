/*
 * env.c -- a legacy CGI program in C behind authgate-wrap.
 *
 * Prints the same as env.sh and env.pl: REMOTE_USER, AUTH_TYPE, the
 * OIDC_* and HTTP_* variables (each group sorted by name, one
 * NAME=value per line), VARIABLES= (the names of the whole
 * environment) and, for a POST, STDIN=<the request body> read by
 * CONTENT_LENGTH.  Built by make into $(BUILD)/www/env-c.cgi.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BODY	(1024 * 1024)

extern char **environ;

static int
cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static const char *
value(const char *name)
{
	const char *v;

	return (v = getenv(name)) != NULL ? v : "";
}

static void
print_prefixed(char **v, size_t n, const char *prefix)
{
	size_t i, len = strlen(prefix);

	for (i = 0; i < n; i++)
		if (strncmp(v[i], prefix, len) == 0)
			printf("%s\n", v[i]);
}

static int
print_body(void)
{
	const char *cl = getenv("CONTENT_LENGTH");
	char *end, *body = NULL;
	unsigned long want;
	size_t got = 0, r;

	want = 0;
	if (cl != NULL && *cl != '\0') {
		errno = 0;
		want = strtoul(cl, &end, 10);
		if (errno != 0 || *end != '\0' || want > MAX_BODY)
			return -1;
	}
	if ((body = malloc(want + 1)) == NULL)
		return -1;
	while (got < want && (r = fread(body + got, 1, want - got,
	    stdin)) > 0)
		got += r;
	fputs("STDIN=", stdout);
	fwrite(body, 1, got, stdout);
	fputs("\n", stdout);
	free(body);
	return 0;
}

int
main(void)
{
	char **v = NULL;
	size_t n, i;
	const char *m;

	for (n = 0; environ[n] != NULL; n++)
		;
	if ((v = calloc(n + 1, sizeof(*v))) == NULL)
		return 1;
	memcpy(v, environ, n * sizeof(*v));
	qsort(v, n, sizeof(*v), cmp);

	printf("Content-Type: text/plain\n\n");
	printf("REMOTE_USER=%s\n", value("REMOTE_USER"));
	printf("AUTH_TYPE=%s\n", value("AUTH_TYPE"));
	print_prefixed(v, n, "OIDC_");
	print_prefixed(v, n, "HTTP_");
	fputs("VARIABLES=", stdout);
	for (i = 0; i < n; i++) {
		size_t len = strcspn(v[i], "=");

		printf("%s%.*s", i > 0 ? " " : "", (int)len, v[i]);
	}
	fputs("\n", stdout);
	m = getenv("REQUEST_METHOD");
	if (m != NULL && strcmp(m, "POST") == 0 && print_body() == -1)
		fputs("STDIN-ERROR=bad CONTENT_LENGTH\n", stdout);
	free(v);
	return fflush(stdout) == 0 ? 0 : 1;
}
