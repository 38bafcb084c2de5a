/* fuzz_json.c - libFuzzer harness: the json profile's answer judge, its JSON Pointer lookups and RFC 3339 reader. */
#include <stdlib.h>

#include "config.h"
#include "defaults.h"
#include "fuzz.h"
#include "jsonprofile.h"
#include "jsonutil.h"

/* A fixed "now": 2026-11-22T21:00:00Z. */
#define FUZZ_NOW 1795381200LL
/* Pointers from the input are cut to this many bytes. */
#define FUZZ_POINTER_MAX 256

static struct config *cfg;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	cfg = config_new();
	FUZZ_ASSERT(cfg != NULL);
	cfg->upstream.profile = PROFILE_JSON;
	return 0;
}

/* The next line of *p (up to end) as a pointer: "/" + the line, or "" when the line is empty. */
static char *next_pointer(const uint8_t **p, const uint8_t *end)
{
	const uint8_t *nl = memchr(*p, '\n', (size_t)(end - *p));
	size_t n = (size_t)((nl != NULL ? nl : end) - *p);
	char *out = malloc(FUZZ_POINTER_MAX + 2);
	FUZZ_ASSERT(out != NULL);
	if (n > FUZZ_POINTER_MAX)
		n = FUZZ_POINTER_MAX;
	out[0] = '\0';
	if (n > 0) {
		out[0] = '/';
		memcpy(out + 1, *p, n);
		out[n + 1] = '\0'; /* a NUL inside just ends the pointer early */
	}
	*p = nl != NULL ? nl + 1 : end;
	return out;
}

/*
 * Input: bytes 0-1 the status (high bit of byte 0 picks a common one), byte 2 flags (1 too_big,
 * 2 an expires_at column, 4 logout_status [401, 403] instead of [401]), then four lines: the
 * token, access_token, expires_in and expires_at pointers (without their leading '/'; an empty
 * line is ""), then the body. The body is also read as an RFC 3339 date-time.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const long statuses[] = { 200, 201, 299, 400, 401, 403, 408, 429, 500, 503, 302, 0 };
	char *saved[4], *ptrs[4], *body;
	char **fields[4] = { &cfg->upstream.json.token, &cfg->upstream.json.access_token,
		&cfg->upstream.json.expires_in, &cfg->upstream.json.expires_at };
	char *saved_exp = cfg->database.columns.expires_at;
	const uint8_t *p, *end = data + size;
	struct verdict v;
	long status;
	size_t len;

	if (size < 3)
		return 0;
	if (data[0] & 0x80)
		status = statuses[data[1] % (sizeof statuses / sizeof statuses[0])];
	else
		status = (long)(((unsigned)data[0] << 8 | data[1]) % 1200) - 100;
	p = data + 3;
	for (int i = 0; i < 4; i++) {
		ptrs[i] = next_pointer(&p, end);
		saved[i] = *fields[i];
		*fields[i] = ptrs[i];
	}
	cfg->database.columns.expires_at = (data[2] & 2) ? "exp" : "";
	cfg->upstream.json.logout_status.n = (data[2] & 4) ? 2 : 1;
	cfg->upstream.json.logout_status.v[0] = 401;
	cfg->upstream.json.logout_status.v[1] = 403;
	len = (size_t)(end - p);
	body = fuzz_copy(p, len, 1);

	jsonprofile_judge_answer(cfg, status, body, len, data[2] & 1, "old-token", FUZZ_NOW, &v);
	FUZZ_ASSERT(v.kind == ANSWER_REFRESHED || v.kind == ANSWER_LOGOUT ||
	    v.kind == ANSWER_TRANSIENT || v.kind == ANSWER_FAILED);
	FUZZ_ASSERT(memchr(v.reason, '\0', sizeof v.reason) != NULL);
	FUZZ_ASSERT(v.reason[0] != '\0' && fuzz_one_line(v.reason));
	/* The body is never quoted (a reason may name a pointer: config text, not a secret). */
	int ptr_secret = 0;
	for (int i = 0; i < 4; i++)
		ptr_secret |= strstr(ptrs[i], "SECRET") != NULL;
	FUZZ_ASSERT(ptr_secret || strstr(v.reason, "SECRET") == NULL);
	FUZZ_ASSERT(!v.stop_run);
	if (v.kind == ANSWER_LOGOUT)
		FUZZ_ASSERT(status == 401 || ((data[2] & 4) && status == 403));
	if (v.kind == ANSWER_REFRESHED) {
		FUZZ_ASSERT(status >= 200 && status <= 299 && !(data[2] & 1));
		FUZZ_ASSERT(v.new_token != NULL && fuzz_token_ok(v.new_token));
		FUZZ_ASSERT((ptrs[1][0] == '\0') == (v.access_token == NULL));
		FUZZ_ASSERT(v.access_token == NULL || fuzz_token_ok(v.access_token));
		FUZZ_ASSERT(ptrs[0][0] != '\0' || strcmp(v.new_token, "old-token") == 0);
		FUZZ_ASSERT(v.expires_at >= 0);
		FUZZ_ASSERT(!(data[2] & 2) || v.expires_at > 0);
	} else {
		FUZZ_ASSERT(v.access_token == NULL && v.new_token == NULL);
	}
	verdict_clear(&v);

	/* Every pointer against the body as a document, when it is one. */
	struct json_object *root = NULL, *got;
	const char *why;
	if (jsonutil_parse_exact(body, len, &root, &why) == 0 && root != NULL)
		for (int i = 0; i < 4; i++)
			if (!jsonprofile_lookup(root, ptrs[i], &got))
				FUZZ_ASSERT(got == NULL);
	json_object_put(root);

	long long t;
	if (jsonprofile_rfc3339(body, len, &t) == 0)
		FUZZ_ASSERT(len >= 20 && t >= -62167219200LL - 86400 && t < 253402300800LL + 86400);

	for (int i = 0; i < 4; i++) {
		*fields[i] = saved[i];
		free(ptrs[i]);
	}
	cfg->database.columns.expires_at = saved_exp;
	free(body);
	return 0;
}
