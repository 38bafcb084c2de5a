/* outcome.h - what happened to one claimed row. */
#ifndef REFRESHER_OUTCOME_H
#define REFRESHER_OUTCOME_H

enum outcome {
	OUTCOME_REFRESHED, /* new token and merged cookies written */
	OUTCOME_LOGGED_OUT, /* upstream said logout: row deleted (or marked, on_logout: keep) */
	OUTCOME_FAILED, /* reason recorded, row stays due for the next run */
	OUTCOME_SUPERSEDED, /* the row's token changed while we called: left alone */
	OUTCOME_RELEASED, /* never called (or not retried) because the run stopped */
	OUTCOME_COUNT
};

/* "refreshed", "logged_out", "failed", "superseded", "released". */
const char *outcome_name(enum outcome o);

#endif
