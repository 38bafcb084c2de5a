/* fuzz_set_cookie.c - libFuzzer harness: cookies_parse_set_cookie on any header value. */
#include <stdlib.h>

#include "cookies.h"
#include "defaults.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

/* 1 for a byte RFC 6265 allows in a cookie name (a token). */
static int name_byte_ok(unsigned char c)
{
	return c > 0x20 && c < 0x7F && strchr("()<>@,;:\\\"/[]?={}", c) == NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line = fuzz_copy(data, size, 0); /* exactly size bytes: no NUL to lean on */
	char *name = (char *)line, *value = (char *)line;
	int rc = cookies_parse_set_cookie(line, size, &name, &value);

	if (rc != 0) {
		FUZZ_ASSERT(rc == -1 && name == NULL && value == NULL);
	} else {
		char *again, *n2, *v2;
		size_t nl, vl;

		FUZZ_ASSERT(name != NULL && value != NULL);
		FUZZ_ASSERT(size <= MAX_SET_COOKIE_BYTES);
		nl = strlen(name);
		vl = strlen(value);
		FUZZ_ASSERT(nl >= 1 && nl + vl < size);
		for (size_t i = 0; i < nl; i++)
			FUZZ_ASSERT(name_byte_ok((unsigned char)name[i]));
		FUZZ_ASSERT(fuzz_one_line(value) && strchr(value, ';') == NULL);
		/* Trimmed: no space, tab, CR or LF at either end of the value. */
		FUZZ_ASSERT(vl == 0 || (strchr(" \t\r\n", value[0]) == NULL &&
		    strchr(" \t\r\n", value[vl - 1]) == NULL));
		/* What we would store parses back to itself. */
		FUZZ_ASSERT(asprintf(&again, "%s=%s; Path=/", name, value) > 0);
		FUZZ_ASSERT(cookies_parse_set_cookie(again, strlen(again), &n2, &v2) == 0);
		FUZZ_ASSERT(strcmp(n2, name) == 0 && strcmp(v2, value) == 0);
		free(n2);
		free(v2);
		free(again);
	}
	free(name);
	free(value);
	free(line);
	return 0;
}
