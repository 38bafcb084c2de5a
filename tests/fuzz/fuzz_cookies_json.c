/* fuzz_cookies_json.c - libFuzzer harness: stored cookies JSON read, Set-Cookie capture and merge,
 * written back: what we write must read again, to the same cookies, and be a fixed point. */
#include <stdlib.h>

#include "cookies.h"
#include "defaults.h"
#include "fuzz.h"

/* The names captured: the defaults plus short ones the fuzzer finds easily. */
static char *const capture[] = { "AWSALB", "AWSALBCORS", "a", "b" };
#define NCAPTURE (sizeof capture / sizeof capture[0])
/* Most Set-Cookie lines taken from one input (cookies_capture caps at MAX_SET_COOKIES). */
#define MAX_LINES (MAX_SET_COOKIES + 8)

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

/* Checks the shape of every entry of a jar. */
static void check_jar(const struct cookie_jar *jar)
{
	for (size_t i = 0; i < jar->n; i++) {
		const struct cookie *c = &jar->v[i];

		FUZZ_ASSERT(c->name != NULL || c->raw != NULL);
		FUZZ_ASSERT((c->name == NULL) == (c->value == NULL));
	}
}

/* 1 when the two jars hold the same entries in the same order. */
static int same_jar(const struct cookie_jar *a, const struct cookie_jar *b)
{
	if (a->n != b->n)
		return 0;
	for (size_t i = 0; i < a->n; i++) {
		const struct cookie *x = &a->v[i], *y = &b->v[i];

		if ((x->name == NULL) != (y->name == NULL))
			return 0;
		if (x->name != NULL && (strcmp(x->name, y->name) != 0 || strcmp(x->value, y->value) != 0))
			return 0;
	}
	return 1;
}

/*
 * Input: the stored cookies JSON, then (after the first NUL byte, if any) Set-Cookie header
 * values separated by '\n'.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	size_t jlen = nul ? (size_t)(nul - data) : size;
	char *json = fuzz_copy(data, jlen, 0); /* exactly jlen bytes, as a jsonb text is given */
	char *rest = nul ? fuzz_copy(nul + 1, size - jlen - 1, 1) : NULL;
	char *lines[MAX_LINES];
	size_t nlines = 0;
	struct cookie_jar *jar = cookies_new(), *again = cookies_new();
	char err[256] = "", err2[256] = "";
	char *out = NULL, *out2 = NULL, *header = NULL;
	int rc;

	FUZZ_ASSERT(jar != NULL && again != NULL);
	if (rest != NULL) {
		char *save = NULL;

		for (char *line = strtok_r(rest, "\n", &save); line != NULL && nlines < MAX_LINES;
		     line = strtok_r(NULL, "\n", &save))
			lines[nlines++] = line;
	}

	rc = cookies_parse_json(jar, json, jlen, err, sizeof err);
	if (rc != 0) {
		FUZZ_ASSERT(rc == -1 && jar->n == 0);
		FUZZ_ASSERT(err[0] != '\0' && fuzz_one_line(err));
		goto out;
	}
	check_jar(jar);

	/* The Cookie header can never carry a second header line or an unexpected pair. */
	header = cookies_header(jar);
	FUZZ_ASSERT(header != NULL && fuzz_one_line(header));

	FUZZ_ASSERT(cookies_capture(jar, lines, nlines, capture, NCAPTURE) >= 0);
	check_jar(jar);

	out = cookies_to_json(jar);
	FUZZ_ASSERT(out != NULL);
	if (strlen(out) > MAX_COOKIES_JSON_BYTES)
		goto out; /* too big to be read again: the row fails then, by design */
	/* What we write back reads again (as PostgreSQL would take it: valid UTF-8 JSON), to the
	 * same cookies, and writing that gives the same text. */
	rc = cookies_parse_json(again, out, strlen(out), err2, sizeof err2);
	if (rc != 0)
		fprintf(stderr, "written back: %s\nreads as: %s\n", out, err2);
	FUZZ_ASSERT(rc == 0);
	FUZZ_ASSERT(same_jar(jar, again));
	out2 = cookies_to_json(again);
	FUZZ_ASSERT(out2 != NULL && strcmp(out, out2) == 0);
out:
	free(header);
	free(out);
	free(out2);
	cookies_free(jar);
	cookies_free(again);
	free(rest);
	free(json);
	return 0;
}
