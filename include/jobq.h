/* jobq.h - claimed rows on their way through a run (jobs), their FIFO queues and the retry wait. */
#ifndef REFRESHER_JOBQ_H
#define REFRESHER_JOBQ_H

#include <stddef.h>

#include "db.h"
#include "profile.h"

/* A claimed row on its way through the run: queued, waiting out a backoff, or on the wire. */
struct job {
	struct row *row; /* owned; NULL once handed to write-back */
	void *pstate; /* the profile's state for the row (see profile_ops.build); owned */
	int attempts; /* requests made so far */
	long long not_before; /* monotonic ms; for a job waiting to retry */
	struct job *next; /* the queue's link */
	struct job *live_prev, *live_next; /* the run's live set (struct joblive) */
};

/*
 * Every job of a run from its claim until it ends, wherever it is (queued,
 * waiting, on the wire): the rows a claim must skip, as any of them may be
 * released by a write that reaches the database before a late claim does.
 * A zeroed struct is an empty set; it does not own its jobs.
 */
struct joblive {
	struct job *head;
	size_t n;
};

/* Adds j (not in the set) to the set. */
void joblive_add(struct joblive *l, struct job *j);

/* Takes j (in the set) out of the set. */
void joblive_remove(struct joblive *l, struct job *j);

/* FIFO of jobs; a zeroed struct is an empty queue. It owns the jobs it holds. */
struct jobq {
	struct job *head, *tail;
	size_t n;
};

/* A job for row (taken on success), or NULL on OOM (row untouched). Free with job_free. */
struct job *job_new(struct row *row);

/* Frees a job, its row (when still held) and its profile state (p->free_state). NULL is fine. */
void job_free(const struct profile_ops *p, struct job *j);

/* Appends j at the tail; the queue owns it until popped. */
void jobq_push(struct jobq *q, struct job *j);

/* Takes the job at the head (the caller owns it), or NULL when the queue is empty. */
struct job *jobq_pop(struct jobq *q);

/*
 * Moves the jobs of waiting whose not_before is at or before now to the tail
 * of ready, in order. Returns the ms until the earliest job left in waiting
 * is due, or -1 when none is left.
 */
long jobq_wake(struct jobq *waiting, struct jobq *ready, long long now);

/* Frees every job of the queue (job_free) and leaves it empty. */
void jobq_clear(struct jobq *q, const struct profile_ops *p);

#endif
