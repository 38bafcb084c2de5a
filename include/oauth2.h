/* oauth2.h - the OAuth 2.0 refresh-token grant (RFC 6749 section 6) as a refresh profile. */
#ifndef REFRESHER_OAUTH2_H
#define REFRESHER_OAUTH2_H

#include <stddef.h>
#include "profile.h"

/* Largest JWT whose payload we look into; a longer access token yields no exp. */
#define OAUTH2_JWT_MAX 16384

/*
 * The "exp" claim of a JWT (read, not verified): the payload segment
 * base64url-decoded, parsed as a JSON object, exp a positive number. Returns
 * Unix seconds, or -1 when jwt is not a JWT, not base64url, not JSON, has no
 * usable exp, or is over OAUTH2_JWT_MAX bytes. Never crashes on any input.
 */
long long oauth2_jwt_exp(const char *jwt, size_t len);

/*
 * The HTTP Basic credentials of RFC 6749 section 2.3.1: "Basic " +
 * base64(form-urlencoded id ":" form-urlencoded secret). Caller frees (it is
 * a secret); NULL on OOM.
 */
char *oauth2_basic_auth(const char *client_id, const char *client_secret);

/*
 * Judges a token endpoint answer at time now (Unix seconds) for a row whose
 * refresh token is old_refresh; need_expiry when the table stores expires_at.
 * 2xx JSON with access_token: refreshed (refresh_token rotated when one is
 * returned, else kept; expiry from expires_in, else the JWT exp); 400
 * invalid_grant: logout; 401, or an error of invalid_client, unauthorized_client,
 * unsupported_grant_type, invalid_scope or invalid_request: failed with stop_run;
 * 408/429/5xx: transient; anything else failed.
 */
void oauth2_judge_answer(long status, const char *body, size_t len, int too_big,
    const char *old_refresh, int need_expiry, long long now, struct verdict *out);

#endif
