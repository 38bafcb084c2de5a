/* test_jobq.c - jobs and their queues: FIFO order, the wake scan of jobs waiting to retry, teardown. */
#include <stdlib.h>
#include <string.h>

#include "jobq.h"
#include "suites.h"

/* Generous: CI runs the suite under sanitizers and valgrind, maybe on a loaded machine. */
#define TCASE_TIMEOUT_S 60

#define NELEM(a) ((int)(sizeof(a) / sizeof((a)[0])))
/* Most jobs a table case holds. */
#define MAX_JOBS 8

static int states_freed;

static void count_free_state(void *state)
{
	states_freed++;
	free(state);
}

static const struct profile_ops counting_profile = { .name = "test", .free_state = count_free_state };

/* A job for a row with id `id` (heap-owned, as a claim makes them). */
static struct job *job_make(const char *id, long long not_before)
{
	struct row *row = calloc(1, sizeof(*row));
	ck_assert_ptr_nonnull(row);
	row->id = strdup(id);
	ck_assert_ptr_nonnull(row->id);
	struct job *j = job_new(row);
	ck_assert_ptr_nonnull(j);
	ck_assert_ptr_eq(j->row, row);
	ck_assert_int_eq(j->attempts, 0);
	j->not_before = not_before;
	return j;
}

/* The ids of a queue, in order, joined ("" for none). */
static void queue_ids(const struct jobq *q, char *out, size_t size)
{
	size_t n = 0;
	out[0] = '\0';
	for (const struct job *j = q->head; j != NULL; j = j->next) {
		ck_assert_uint_lt(n, q->n);
		strncat(out, j->row->id, size - strlen(out) - 1);
		n++;
	}
	ck_assert_uint_eq(n, q->n);
}

START_TEST(test_fifo)
{
	struct jobq q = { NULL, NULL, 0 };
	char ids[32];

	ck_assert_ptr_null(jobq_pop(&q));
	jobq_push(&q, job_make("a", 0));
	jobq_push(&q, job_make("b", 0));
	jobq_push(&q, job_make("c", 0));
	queue_ids(&q, ids, sizeof(ids));
	ck_assert_str_eq(ids, "abc");
	struct job *j = jobq_pop(&q);
	ck_assert_str_eq(j->row->id, "a");
	ck_assert_ptr_null(j->next);
	job_free(&counting_profile, j);
	j = jobq_pop(&q);
	ck_assert_str_eq(j->row->id, "b");
	job_free(&counting_profile, j);
	j = jobq_pop(&q);
	ck_assert_str_eq(j->row->id, "c");
	ck_assert_uint_eq(q.n, 0);
	ck_assert_ptr_null(q.head);
	ck_assert_ptr_null(q.tail);
	/* Emptied, the queue takes jobs again. */
	jobq_push(&q, j);
	ck_assert_ptr_eq(q.head, j);
	ck_assert_ptr_eq(q.tail, j);
	ck_assert_ptr_eq(jobq_pop(&q), j);
	ck_assert_ptr_null(jobq_pop(&q));
	job_free(&counting_profile, j);
}
END_TEST

/* job_free frees the row and, through the profile, its state; NULL and a taken row are fine. */
START_TEST(test_free)
{
	static const struct profile_ops stateless = { .name = "test" };
	struct jobq q = { NULL, NULL, 0 };

	states_freed = 0;
	job_free(&counting_profile, NULL);
	struct job *j = job_make("a", 0);
	j->pstate = malloc(8);
	job_free(&counting_profile, j);
	ck_assert_int_eq(states_freed, 1);
	j = job_make("b", 0); /* no state: free_state not called */
	job_free(&counting_profile, j);
	ck_assert_int_eq(states_freed, 1);
	j = job_make("c", 0);
	row_free(j->row);
	j->row = NULL; /* handed on */
	job_free(&stateless, j);
	for (int i = 0; i < 3; i++) {
		j = job_make("d", 0);
		j->pstate = malloc(8);
		jobq_push(&q, j);
	}
	jobq_clear(&q, &counting_profile);
	ck_assert_int_eq(states_freed, 4);
	ck_assert_uint_eq(q.n, 0);
	ck_assert_ptr_null(q.head);
	jobq_clear(&q, &counting_profile); /* an empty queue */
}
END_TEST

/* Waiting jobs (id, not_before) scanned at now. */
struct wake_case {
	const char *ids; /* one letter per job */
	long long not_before[MAX_JOBS];
	const char *ready_before; /* already in ready */
	long long now;
	const char *want_ready, *want_waiting;
	long want_next;
};

static const struct wake_case wake_cases[] = {
	{ "", { 0 }, "", 1000, "", "", -1 }, /* nothing waits */
	{ "ab", { 900, 1000 }, "", 1000, "ab", "", -1 }, /* due, and due exactly now */
	{ "ab", { 1500, 1200 }, "", 1000, "", "ab", 200 }, /* none due: the earliest */
	{ "abcd", { 1300, 900, 1100, 1000 }, "", 1000, "bd", "ac", 100 }, /* order kept */
	{ "ab", { 900, 5000 }, "xy", 1000, "xya", "b", 4000 }, /* appended to ready */
	{ "a", { 1001 }, "", 1000, "", "a", 1 },
};

START_TEST(test_wake_table)
{
	const struct wake_case *c = &wake_cases[_i];
	struct jobq waiting = { NULL, NULL, 0 }, ready = { NULL, NULL, 0 };
	char id[2] = "";
	char got[MAX_JOBS + 1];

	for (const char *p = c->ready_before; *p; p++) {
		id[0] = *p;
		jobq_push(&ready, job_make(id, 0));
	}
	for (int i = 0; c->ids[i]; i++) {
		id[0] = c->ids[i];
		jobq_push(&waiting, job_make(id, c->not_before[i]));
	}
	ck_assert_int_eq(jobq_wake(&waiting, &ready, c->now), c->want_next);
	queue_ids(&ready, got, sizeof(got));
	ck_assert_str_eq(got, c->want_ready);
	queue_ids(&waiting, got, sizeof(got));
	ck_assert_str_eq(got, c->want_waiting);
	jobq_clear(&ready, &counting_profile);
	jobq_clear(&waiting, &counting_profile);
}
END_TEST

/* The ids of the live set, head first, joined; checks the back links on the way. */
static void live_ids(const struct joblive *l, char *out, size_t size)
{
	size_t n = 0;
	const struct job *prev = NULL;
	out[0] = '\0';
	for (const struct job *j = l->head; j != NULL; j = j->live_next) {
		ck_assert_uint_lt(n, l->n);
		ck_assert_ptr_eq(j->live_prev, prev);
		strncat(out, j->row->id, size - strlen(out) - 1);
		prev = j;
		n++;
	}
	ck_assert_uint_eq(n, l->n);
}

START_TEST(test_live)
{
	struct joblive l = { NULL, 0 };
	struct job *a = job_make("a", 0), *b = job_make("b", 0), *c = job_make("c", 0);
	char ids[32];

	joblive_add(&l, a);
	joblive_add(&l, b);
	joblive_add(&l, c);
	live_ids(&l, ids, sizeof(ids));
	ck_assert_str_eq(ids, "cba");
	joblive_remove(&l, b); /* the middle */
	live_ids(&l, ids, sizeof(ids));
	ck_assert_str_eq(ids, "ca");
	joblive_remove(&l, c); /* the head */
	live_ids(&l, ids, sizeof(ids));
	ck_assert_str_eq(ids, "a");
	ck_assert_ptr_null(c->live_next);
	joblive_add(&l, b); /* back in after leaving */
	joblive_remove(&l, a); /* the tail */
	live_ids(&l, ids, sizeof(ids));
	ck_assert_str_eq(ids, "b");
	joblive_remove(&l, b);
	ck_assert_ptr_null(l.head);
	ck_assert_uint_eq(l.n, 0);
	/* In the live set and in a queue at once: the two links are separate. */
	struct jobq q = { NULL, NULL, 0 };
	joblive_add(&l, a);
	jobq_push(&q, a);
	joblive_add(&l, c);
	jobq_push(&q, c);
	joblive_remove(&l, a);
	queue_ids(&q, ids, sizeof(ids));
	ck_assert_str_eq(ids, "ac");
	jobq_clear(&q, &counting_profile);
	job_free(&counting_profile, b);
}
END_TEST

Suite *jobq_suite(void)
{
	Suite *s = suite_create("jobq");
	TCase *tc = tcase_create("jobq");
	tcase_set_timeout(tc, TCASE_TIMEOUT_S);
	tcase_add_test(tc, test_fifo);
	tcase_add_test(tc, test_free);
	tcase_add_test(tc, test_live);
	tcase_add_loop_test(tc, test_wake_table, 0, NELEM(wake_cases));
	suite_add_tcase(s, tc);
	return s;
}
