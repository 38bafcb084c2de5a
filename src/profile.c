/* profile.c - picks the protocol module for the config; frees what profiles hand out. */
#include <stdlib.h>
#include <string.h>

#include "profile.h"

const struct profile_ops *profile_get(enum profile p)
{
	return p == PROFILE_OAUTH2 ? &profile_oauth2 : &profile_aimharder;
}

void request_clear(struct request *r)
{
	if (r == NULL)
		return;
	free(r->body);
	free(r->cookie);
	if (r->authorization != NULL) /* a secret: do not leave it in freed memory */
		explicit_bzero(r->authorization, strlen(r->authorization));
	free(r->authorization);
	memset(r, 0, sizeof(*r));
}

void verdict_clear(struct verdict *v)
{
	if (v == NULL)
		return;
	free(v->new_token);
	free(v->cookies);
	free(v->access_token);
	memset(v, 0, sizeof(*v));
}
