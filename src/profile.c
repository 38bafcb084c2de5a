/* profile.c - the table of refresh protocols; frees what profiles hand out. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profile.h"

/* Every profile, by its enum profile value. A new profile is a new file and a line here. */
static const struct profile_ops *const profiles[PROFILE_COUNT] = {
	[PROFILE_AIMHARDER] = &profile_aimharder,
	[PROFILE_OAUTH2] = &profile_oauth2,
	[PROFILE_JSON] = &profile_json,
};

const struct profile_ops *profile_get(enum profile p)
{
	return (unsigned)p < PROFILE_COUNT ? profiles[p] : profiles[PROFILE_AIMHARDER];
}

const struct profile_ops *profile_find(const char *name, enum profile *p)
{
	for (int i = 0; i < PROFILE_COUNT; i++) {
		if (strcmp(profiles[i]->name, name) == 0) {
			*p = (enum profile)i;
			return profiles[i];
		}
	}
	return NULL;
}

/* 1 for the statuses SPEC calls transient. */
int http_status_transient(long status)
{
	switch (status) {
	case 408:
	case 429:
	case 500:
	case 502:
	case 503:
	case 504:
		return 1;
	}
	return 0;
}

const char *answer_kind_name(enum answer_kind kind)
{
	switch (kind) {
	case ANSWER_REFRESHED:
		return "refreshed";
	case ANSWER_LOGOUT:
		return "logout";
	case ANSWER_TRANSIENT:
		return "transient";
	case ANSWER_FAILED:
		return "failed";
	}
	return "unknown";
}

void request_clear(struct request *r)
{
	if (r == NULL)
		return;
	/* Secrets (a token in the body, credentials in headers): not left in freed memory. */
	if (r->body != NULL)
		explicit_bzero(r->body, strlen(r->body));
	free(r->body);
	free(r->cookie);
	if (r->authorization != NULL)
		explicit_bzero(r->authorization, strlen(r->authorization));
	free(r->authorization);
	for (size_t i = 0; i < r->nheaders; i++) {
		explicit_bzero(r->headers[i], strlen(r->headers[i]));
		free(r->headers[i]);
	}
	free(r->headers);
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

void verdict_set(struct verdict *out, enum answer_kind kind, const char *fmt, ...)
{
	va_list ap;
	out->kind = kind;
	va_start(ap, fmt);
	(void)vsnprintf(out->reason, sizeof(out->reason), fmt, ap);
	va_end(ap);
}
