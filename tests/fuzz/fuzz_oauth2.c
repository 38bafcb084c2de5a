/* fuzz_oauth2.c - libFuzzer harness: the oauth2 profile's answer judge and JWT exp reader. */
#include <stdlib.h>

#include "defaults.h"
#include "fuzz.h"
#include "oauth2.h"

/* A fixed "now": 2026-11-22T21:00:00Z. */
#define FUZZ_NOW 1795381200LL

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

/*
 * Input: bytes 0-1 the status (as in fuzz_classify: high bit picks a common one), byte 2 flags
 * (1 too_big, 2 need_expiry), the rest the body; the body is also read as a JWT.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const long statuses[] = { 200, 201, 299, 400, 401, 403, 408, 429, 500, 503, 302, 0 };
	struct verdict v;
	long status;
	char *body;
	size_t len;
	int need_expiry;
	long long exp;

	if (size < 3)
		return 0;
	if (data[0] & 0x80)
		status = statuses[data[1] % (sizeof statuses / sizeof statuses[0])];
	else
		status = (long)(((unsigned)data[0] << 8 | data[1]) % 1200) - 100;
	need_expiry = (data[2] & 2) != 0;
	len = size - 3;
	body = fuzz_copy(data + 3, len, 1);

	oauth2_judge_answer(status, body, len, data[2] & 1, "old-refresh-token", need_expiry,
	    FUZZ_NOW, &v);
	FUZZ_ASSERT(v.kind == ANSWER_REFRESHED || v.kind == ANSWER_LOGOUT ||
	    v.kind == ANSWER_TRANSIENT || v.kind == ANSWER_FAILED);
	FUZZ_ASSERT(memchr(v.reason, '\0', sizeof v.reason) != NULL);
	FUZZ_ASSERT(v.reason[0] != '\0' && fuzz_one_line(v.reason));
	FUZZ_ASSERT(strstr(v.reason, "SECRET") == NULL); /* the body is never quoted */
	FUZZ_ASSERT(!v.stop_run || v.kind == ANSWER_FAILED);
	if (data[2] & 1)
		FUZZ_ASSERT(v.kind == ANSWER_FAILED);
	if (v.kind == ANSWER_REFRESHED) {
		FUZZ_ASSERT(status >= 200 && status <= 299);
		FUZZ_ASSERT(v.access_token != NULL && fuzz_token_ok(v.access_token));
		FUZZ_ASSERT(v.new_token != NULL && fuzz_token_ok(v.new_token));
		FUZZ_ASSERT(v.expires_at >= 0);
		FUZZ_ASSERT(!need_expiry || v.expires_at > 0);
	} else
		FUZZ_ASSERT(v.access_token == NULL && v.new_token == NULL);
	verdict_clear(&v);

	exp = oauth2_jwt_exp(body, len);
	FUZZ_ASSERT(exp == -1 || exp > 0);
	free(body);
	return 0;
}
