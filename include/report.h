/* report.h - the end-of-run summary: stderr (text or JSON) and the GitHub step summary. */
#ifndef REFRESHER_REPORT_H
#define REFRESHER_REPORT_H

#include "sweep.h"

/* Writes the summary line to stderr and, where GITHUB_STEP_SUMMARY is set, a Markdown table there. */
void report_summary(const struct sweep_stats *st, int exit_code);

/* Formats the text summary line into buf. Returns buf. */
char *report_text(char *buf, size_t size, const struct sweep_stats *st);

/* Formats the JSON summary line into buf. Returns buf. */
char *report_json(char *buf, size_t size, const struct sweep_stats *st);

#endif
