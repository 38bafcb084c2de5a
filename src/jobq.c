/* jobq.c - jobs (claimed rows in a run), FIFO queues of them, and the scan of those waiting to retry. */
#include <stdlib.h>

#include "jobq.h"

struct job *job_new(struct row *row)
{
	struct job *j = calloc(1, sizeof(*j));

	if (j != NULL)
		j->row = row;
	return j;
}

void job_free(const struct profile_ops *p, struct job *j)
{
	if (j == NULL)
		return;
	if (j->pstate != NULL && p->free_state != NULL)
		p->free_state(j->pstate);
	row_free(j->row);
	free(j);
}

void joblive_add(struct joblive *l, struct job *j)
{
	j->live_prev = NULL;
	j->live_next = l->head;
	if (l->head)
		l->head->live_prev = j;
	l->head = j;
	l->n++;
}

void joblive_remove(struct joblive *l, struct job *j)
{
	if (j->live_prev)
		j->live_prev->live_next = j->live_next;
	else
		l->head = j->live_next;
	if (j->live_next)
		j->live_next->live_prev = j->live_prev;
	j->live_prev = j->live_next = NULL;
	l->n--;
}

void jobq_push(struct jobq *q, struct job *j)
{
	j->next = NULL;
	if (q->tail)
		q->tail->next = j;
	else
		q->head = j;
	q->tail = j;
	q->n++;
}

struct job *jobq_pop(struct jobq *q)
{
	struct job *j = q->head;

	if (j == NULL)
		return NULL;
	q->head = j->next;
	if (q->head == NULL)
		q->tail = NULL;
	q->n--;
	j->next = NULL;
	return j;
}

long jobq_wake(struct jobq *waiting, struct jobq *ready, long long now)
{
	struct jobq keep = { NULL, NULL, 0 };
	long next = -1;
	struct job *j;

	while ((j = jobq_pop(waiting)) != NULL) {
		if (j->not_before <= now) {
			jobq_push(ready, j);
			continue;
		}
		long wait = (long)(j->not_before - now);
		if (next < 0 || wait < next)
			next = wait;
		jobq_push(&keep, j);
	}
	*waiting = keep;
	return next;
}

void jobq_clear(struct jobq *q, const struct profile_ops *p)
{
	struct job *j;

	while ((j = jobq_pop(q)) != NULL)
		job_free(p, j);
}
