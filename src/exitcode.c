/* exitcode.c - what each exit code means, for the help text, the webhook and the metrics. */
#include "exitcode.h"

static const struct {
	const char *word;
	const char *meaning;
} codes[EXIT_CODE_COUNT] = {
	[EXIT_OK] = { "ok", "ok" },
	[EXIT_FAILED_ROWS] = { "rows failed", "some sessions failed and stay due" },
	[EXIT_CONFIG] = { "config", "usage or config error" },
	[EXIT_DATABASE] = { "database", "database unreachable or lost" },
	[EXIT_SIGNAL] = { "signal", "stopped by a signal" },
};

const char *exit_code_meaning(int code)
{
	return code > 0 && code < EXIT_CODE_COUNT ? codes[code].meaning : codes[EXIT_OK].meaning;
}

const char *exit_code_word(int code)
{
	return code >= 0 && code < EXIT_CODE_COUNT ? codes[code].word : "unknown";
}
