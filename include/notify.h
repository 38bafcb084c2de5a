/* notify.h - one webhook POST (Slack- and Discord-compatible) when a run exits non-zero. */
#ifndef REFRESHER_NOTIFY_H
#define REFRESHER_NOTIFY_H

#include "sweep.h"

/*
 * Builds the webhook body: {"text": msg, "content": msg} (Slack reads text,
 * Discord content) with a one-line message naming the host, the exit code and
 * the counts; no secret. Caller frees; NULL on OOM.
 */
char *notify_body(const struct sweep_stats *st, int exit_code, const char *host);

/*
 * POSTs the body to url (TLS verified, NOTIFY_TIMEOUT_MS). Returns 0, or -1
 * (logged as a warning without the URL, which holds the webhook's secret).
 * A failure never changes the run's exit code.
 */
int notify_send(const char *url, const struct sweep_stats *st, int exit_code);

#endif
