/*
 * app.c -- per-process state.  See app.h.
 */
#include <string.h>

#include <openssl/crypto.h>

#include "app.h"
#include "db.h"
#include "err.h"
#include "log.h"
#include "oidc.h"

int
ag_app_open(struct ag_app *app, const char *path, struct ag_buf *problems)
{
	char why[AG_WHY_LEN];
	int r;

	memset(app, 0, sizeof(*app));
	if ((r = ag_crypto_init()) != AG_OK) {
		ag_buf_puts(problems, "openssl: cannot initialise\n");
		return r;
	}
	if ((r = ag_conf_load(&app->conf, path, NULL, problems)) != AG_OK)
		return r;
	if ((r = ag_rules_load(&app->rules, &app->conf, problems)) != AG_OK)
		return r;
	if ((r = ag_cookie_key(app->conf.secret, app->key)) != AG_OK) {
		ag_buf_puts(problems, "secret: cannot derive the cookie key\n");
		return r;
	}
	if ((r = ag_db_key(app->conf.secret, app->db_key)) != AG_OK) {
		ag_buf_puts(problems, "secret: cannot derive the database key\n");
		return r;
	}
	if ((r = ag_oidc_new(&app->conf, &app->oidc)) != AG_OK) {
		ag_buf_puts(problems, "oidc: cannot initialise\n");
		return r;
	}
	if ((r = ag_oidc_dpop_init(app->oidc, why)) != AG_OK) {
		ag_buf_printf(problems, "%s\n", why);
		return r;
	}
	return AG_OK;
}

void
ag_app_close(struct ag_app *app)
{
	ag_app_db_close(app);
	ag_rules_free(&app->rules);
	ag_oidc_free(app->oidc);
	app->oidc = NULL;
	ag_conf_free(&app->conf);
	OPENSSL_cleanse(app->key, sizeof(app->key));
	OPENSSL_cleanse(app->db_key, sizeof(app->db_key));
}

int
ag_app_db(struct ag_app *app, struct ag_db **out)
{
	int r;

	*out = NULL;
	if (app->db != NULL && ag_db_replaced(app->db))
		ag_app_db_close(app);
	if (app->db == NULL) {
		r = ag_db_open(app->conf.session_db, AG_DB_READWRITE,
		    app->db_key, &app->db);
		if (r != AG_OK) {
			ag_err("sessions: cannot open %s: %s",
			    app->conf.session_db, ag_strerror(r));
			return r;
		}
	}
	*out = app->db;
	return AG_OK;
}

void
ag_app_db_close(struct ag_app *app)
{
	ag_db_close(app->db);
	app->db = NULL;
}

void
ag_app_cookie_attr(const struct ag_app *app, struct ag_cookie_attr *a)
{
	memset(a, 0, sizeof(*a));
	a->path = app->conf.cookie_path;
	a->domain = app->conf.cookie_domain;
	a->secure = app->conf.cookie_secure;
	a->same_site = app->conf.cookie_same_site;
	a->transient = app->conf.cookie_transient;
}
