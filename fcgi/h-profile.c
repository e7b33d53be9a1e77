/*
 * h-profile.c -- GET /auth/profile: the session's user as JSON.
 *
 * 200 with the user object, or 401 with an empty body (204 when
 * profile.no_content is on).  A rolling session whose expiry moved
 * enough (see ag_session_should_roll) is written back, so a page that
 * only calls this route keeps its session alive -- the SDK does not roll
 * here, but in authgate there is no middleware to do it for such pages.
 */
#include "err.h"
#include "handlers.h"
#include "json.h"
#include "rand.h"
#include "session.h"

int
ag_h_profile(struct ag_app *app, struct ag_req *req, struct ag_resp *w)
{
	struct ag_session s;
	const char *json;
	int64_t now = ag_now(), new_exp;
	int r = AG_OK, rolled = 0;

	if ((r = ag_session_read(app, &req->cookies, &s)) != AG_OK) {
		(void)ag_resp_header(w, "Cache-Control", "no-store");
		if (r == AG_ERR_BUSY || r == AG_ERR_DB)
			return ag_resp_text(w, 503, MSG_STORE_DOWN);
		w->status = app->conf.profile_204 ? 204 : 401;
		return AG_OK;
	}
	new_exp = now + ag_session_max_age(&app->conf, s.created_at, now);
	if (ag_session_should_roll(&app->conf, s.exp, new_exp))
		rolled = ag_session_roll(app, &req->cookies, &s, w) == AG_OK;
	if (!rolled)
		r = ag_resp_nocache(w);
	if (r == AG_OK) {
		json = ag_json_dump(ag_session_user(&s));
		r = json != NULL ? ag_resp_json(w, 200, json) : AG_ERR_NOMEM;
	}
	ag_session_free(&s);
	return r;
}
