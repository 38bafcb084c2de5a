/* report.c - the end-of-run summary in text, JSON and GitHub Markdown. */
#include <stdio.h>
#include <stdlib.h>

#include "log.h"
#include "report.h"

static long finished_rows(const struct sweep_stats *st)
{
	return st->due - st->count[OUTCOME_RELEASED];
}

char *report_text(char *buf, size_t size, const struct sweep_stats *st)
{
	double secs = (double)st->duration_ms / 1000.0;
	double rate = secs > 0 ? (double)finished_rows(st) / secs : 0;
	snprintf(buf, size,
	    "summary: due=%ld refreshed=%ld logged_out=%ld failed=%ld superseded=%ld released=%ld"
	    " duration=%.1fs rate=%.0f/s retries=%ld throttle_waits=%ld breaker=%s",
	    st->due, st->count[OUTCOME_REFRESHED], st->count[OUTCOME_LOGGED_OUT],
	    st->count[OUTCOME_FAILED], st->count[OUTCOME_SUPERSEDED], st->count[OUTCOME_RELEASED], secs,
	    rate, st->retries, st->throttle_waits, st->breaker_open ? "open" : "closed");
	return buf;
}

char *report_json(char *buf, size_t size, const struct sweep_stats *st)
{
	snprintf(buf, size,
	    "{\"event\":\"summary\",\"due\":%ld,\"refreshed\":%ld,\"logged_out\":%ld,\"failed\":%ld,"
	    "\"superseded\":%ld,\"released\":%ld,\"retries\":%ld,\"throttle_waits\":%ld,"
	    "\"breaker\":\"%s\",\"duration_ms\":%ld}",
	    st->due, st->count[OUTCOME_REFRESHED], st->count[OUTCOME_LOGGED_OUT],
	    st->count[OUTCOME_FAILED], st->count[OUTCOME_SUPERSEDED], st->count[OUTCOME_RELEASED],
	    st->retries, st->throttle_waits, st->breaker_open ? "open" : "closed", st->duration_ms);
	return buf;
}

/* Appends the Markdown table to $GITHUB_STEP_SUMMARY; a failure is a warning, never fatal. */
static void step_summary(const struct sweep_stats *st, int exit_code)
{
	const char *path = getenv("GITHUB_STEP_SUMMARY");
	if (path == NULL || path[0] == '\0')
		return;
	FILE *f = fopen(path, "a");
	if (f == NULL) {
		log_warn("report", "cannot open GITHUB_STEP_SUMMARY");
		return;
	}
	fprintf(f,
	    "### refresher %s\n\n"
	    "| due | refreshed | logged out | failed | superseded | released | retries | throttle waits"
	    " | breaker | duration | exit |\n"
	    "|---:|---:|---:|---:|---:|---:|---:|---:|:---:|---:|---:|\n"
	    "| %ld | %ld | %ld | %ld | %ld | %ld | %ld | %ld | %s | %.1f s | %d |\n\n",
	    exit_code == 0 ? "run OK" : "run needs attention", st->due, st->count[OUTCOME_REFRESHED],
	    st->count[OUTCOME_LOGGED_OUT], st->count[OUTCOME_FAILED], st->count[OUTCOME_SUPERSEDED],
	    st->count[OUTCOME_RELEASED], st->retries, st->throttle_waits,
	    st->breaker_open ? "open" : "closed", (double)st->duration_ms / 1000.0, exit_code);
	if (fclose(f) != 0)
		log_warn("report", "cannot write GITHUB_STEP_SUMMARY");
}

void report_summary(const struct sweep_stats *st, int exit_code)
{
	char line[512];
	if (log_get_format() == LOG_FORMAT_JSON)
		log_raw(report_json(line, sizeof(line), st));
	else
		log_raw(report_text(line, sizeof(line), st));
	step_summary(st, exit_code);
}
