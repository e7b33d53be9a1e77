/*
 * h-health.c -- GET /auth/health: liveness, never any identity.
 */
#include "handlers.h"

int
ag_h_health(struct ag_app *app, struct ag_req *req, struct ag_resp *w)
{
	(void)ag_resp_header(w, "Cache-Control", "no-store");
	return ag_resp_json(w, 200, "{\"status\":\"ok\"}");
}
