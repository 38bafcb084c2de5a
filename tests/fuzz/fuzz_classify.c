/* fuzz_classify.c - libFuzzer harness: tokenupdate_classify on any status, size flag and body. */
#include <stdlib.h>

#include "defaults.h"
#include "fuzz.h"
#include "tokenupdate.h"

/* Statuses worth hitting often; the rest of the range comes from the raw bytes. */
static const long statuses[] = { 200, 201, 204, 299, 100, 199, 300, 301, 302, 304, 400, 401,
	403, 404, 408, 409, 429, 499, 500, 501, 502, 503, 504, 505, 599, 0, -1, 999, 1000 };
#define NSTATUSES (sizeof statuses / sizeof statuses[0])

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

static int transient(long s)
{
	return s == 408 || s == 429 || s == 500 || s == 502 || s == 503 || s == 504;
}

/*
 * Input: byte 0 picks the status (high bit set: from the table by byte 1; else bytes 0-1 as a
 * number in [-100, 1100)); byte 2 == 0xff sets too_big, == 0xfe gives a NULL body; the rest is
 * the body (NUL-terminated after len bytes, as upstream hands it over; it may hold NULs).
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_answer in = { 0 };
	struct answer out;
	char *body;
	size_t len;

	if (size < 3)
		return 0;
	if (data[0] & 0x80)
		in.status = statuses[data[1] % NSTATUSES];
	else
		in.status = (long)(((unsigned)data[0] << 8 | data[1]) % 1200) - 100;
	in.too_big = data[2] == 0xff;
	len = size - 3;
	body = fuzz_copy(data + 3, len, 1);
	in.body = data[2] == 0xfe ? NULL : body;
	in.len = data[2] == 0xfe ? 0 : len;

	FUZZ_ASSERT(tokenupdate_classify(&in, &out) == 0);
	FUZZ_ASSERT(out.kind == ANSWER_REFRESHED || out.kind == ANSWER_LOGOUT ||
	    out.kind == ANSWER_TRANSIENT || out.kind == ANSWER_FAILED);
	FUZZ_ASSERT(answer_kind_name(out.kind) != NULL);
	FUZZ_ASSERT(memchr(out.reason, '\0', sizeof out.reason) != NULL);
	FUZZ_ASSERT(out.reason[0] != '\0' && fuzz_one_line(out.reason));
	if (in.too_big)
		FUZZ_ASSERT(out.kind == ANSWER_FAILED);
	else if (transient(in.status))
		FUZZ_ASSERT(out.kind == ANSWER_TRANSIENT);
	else if (in.status < 200 || in.status > 299)
		FUZZ_ASSERT(out.kind == ANSWER_FAILED);
	if (out.kind == ANSWER_REFRESHED) {
		size_t n;

		FUZZ_ASSERT(out.new_token != NULL);
		n = strlen(out.new_token);
		FUZZ_ASSERT(n >= 1 && n <= MAX_TOKEN_BYTES);
		for (size_t i = 0; i < n; i++)
			FUZZ_ASSERT(out.new_token[i] >= 0x20 && out.new_token[i] <= 0x7E); /* SPEC: the space included */
		/* The token is a secret: the reason never quotes it. */
		FUZZ_ASSERT(n < 10 || strstr(out.reason, out.new_token) == NULL);
	} else
		FUZZ_ASSERT(out.new_token == NULL);
	/* Reasons never quote the body: a marker in it never reaches the reason. */
	FUZZ_ASSERT(strstr(out.reason, "SECRET") == NULL);
	answer_clear(&out);
	FUZZ_ASSERT(out.new_token == NULL);
	free(body);
	return 0;
}
