/*
 * log.c -- stderr or syslog backend, control bytes escaped.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static const char *const ag_log_names[AG_LOG__MAX] = {
	"error",	/* AG_LOG_ERROR */
	"warn",		/* AG_LOG_WARN */
	"info",		/* AG_LOG_INFO */
	"debug",	/* AG_LOG_DEBUG */
};

static const int ag_log_syslog[AG_LOG__MAX] = {
	LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG
};

static const char	*log_prog = "authgate";
static int		 log_level = AG_LOG_INFO;
static int		 log_syslog;

void
ag_log_open(const char *prog, int level, int use_syslog)
{
	if (prog != NULL)
		log_prog = prog;
	if (level >= 0 && level < AG_LOG__MAX)
		log_level = level;
	log_syslog = use_syslog;
	if (use_syslog)
		openlog(log_prog, LOG_PID, LOG_AUTHPRIV);
}

int
ag_log_level_parse(const char *s)
{
	int i;

	for (i = 0; i < AG_LOG__MAX; i++)
		if (strcmp(s, ag_log_names[i]) == 0)
			return i;
	return -1;
}

int
ag_log_enabled(int level)
{
	return level <= log_level;
}

void
ag_log(int level, const char *fmt, ...)
{
	char raw[2048], out[4096];
	size_t i, o;
	va_list ap;

	if (level < 0 || level >= AG_LOG__MAX || !ag_log_enabled(level))
		return;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);

	/* Escape control bytes so a value cannot start a forged line. */
	for (i = o = 0; raw[i] != '\0' && o + 5 < sizeof(out); i++) {
		unsigned char c = (unsigned char)raw[i];

		if (c < 0x20 || c == 0x7f)
			o += (size_t)snprintf(out + o, sizeof(out) - o,
			    "\\x%02x", c);
		else
			out[o++] = (char)c;
	}
	out[o] = '\0';

	if (log_syslog)
		syslog(ag_log_syslog[level], "%s", out);
	else
		fprintf(stderr, "%s[%ld]: %s: %s\n", log_prog,
		    (long)getpid(), ag_log_names[level], out);
}
