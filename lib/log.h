/*
 * log.h -- the one logger.
 *
 * Lines go to stderr (which lighttpd and Apache put in their error log)
 * or to syslog, filtered by level.  Every line names the place ("route
 * step") and the reason.  Never pass a token, code, secret or cookie
 * value: log their names and lengths instead.  Control bytes in the
 * formatted message are escaped, so a hostile value cannot forge lines.
 */
#ifndef AG_LOG_H
#define AG_LOG_H

enum ag_log_level {
	AG_LOG_ERROR,
	AG_LOG_WARN,
	AG_LOG_INFO,
	AG_LOG_DEBUG,
	AG_LOG__MAX
};

/* Program name for each line, level threshold, syslog (1) or stderr (0). */
void	 ag_log_open(const char *prog, int level, int use_syslog);
/* Parse "error", "warn", "info", "debug"; -1 if none of these. */
int	 ag_log_level_parse(const char *);
int	 ag_log_enabled(int level);
void	 ag_log(int level, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

#define ag_err(...)	ag_log(AG_LOG_ERROR, __VA_ARGS__)
#define ag_warn(...)	ag_log(AG_LOG_WARN, __VA_ARGS__)
#define ag_info(...)	ag_log(AG_LOG_INFO, __VA_ARGS__)
#define ag_debug(...)	ag_log(AG_LOG_DEBUG, __VA_ARGS__)

#endif
