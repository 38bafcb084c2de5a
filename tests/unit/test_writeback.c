/* test_writeback.c - write-back without a database: logout modes, batching, requeue, held rows, accounting. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "log.h"
#include "suites.h"
#include "writeback.h"

/* Generous: CI runs the suite under sanitizers and valgrind, maybe on a loaded machine. */
#define TCASE_TIMEOUT_S 60

#define NELEM(a) ((int)(sizeof(a) / sizeof((a)[0])))
#define LEASE_MS 1000

/* A claimed row with every field heap-owned, as a claim makes them. */
static struct row *row_make(const char *id)
{
	struct row *row = calloc(1, sizeof(*row));
	ck_assert_ptr_nonnull(row);
	row->id = strdup(id);
	row->token = strdup("tok");
	row->cookies = strdup("[]");
	row->fingerprint = strdup("fp");
	row->claim = strdup("2024-01-01T00:00:00.000000");
	ck_assert(row->id && row->token && row->cookies && row->fingerprint && row->claim);
	return row;
}

/* Adds a result for a new row `id`; returns it (the last pending). */
static struct result *add(struct writeback *w, const char *id, enum outcome o, long long now)
{
	struct row *row = row_make(id);
	ck_assert_int_eq(writeback_add(w, &row, o, NULL, o == OUTCOME_FAILED ? "HTTP 400" : NULL, now), 0);
	ck_assert_ptr_null(row);
	return w->pending[w->npending - 1];
}

/* What writeback_flush does, without a database: every pending result goes to the write. */
static void fake_flush(struct writeback *w)
{
	ck_assert_uint_eq(w->nwriting, 0);
	free(w->writing);
	w->writing = malloc((w->npending ? w->npending : 1) * sizeof(*w->writing));
	ck_assert_ptr_nonnull(w->writing);
	memcpy(w->writing, w->pending, w->npending * sizeof(*w->pending));
	w->capwriting = w->npending ? w->npending : 1;
	w->nwriting = w->npending;
	w->oldest_writing = w->oldest_pending;
	w->npending = 0;
}

/* How a logout is to be written: guard off, holding, or tripped. */
struct logout_case {
	int guarding, mass;
	enum logout_write want;
};

static const struct logout_case logout_cases[] = {
	{ 0, 0, LOGOUT_DELETE },
	{ 0, 1, LOGOUT_DELETE }, /* no guard: mass_logout is never set, but delete anyway */
	{ 1, 0, LOGOUT_HOLD },
	{ 1, 1, LOGOUT_MASS },
};

START_TEST(test_add_logout_table)
{
	const struct logout_case *c = &logout_cases[_i];
	struct sweep_stats st;
	struct writeback w;
	struct capture cap;

	memset(&st, 0, sizeof(st));
	st.mass_logout = c->mass;
	writeback_init(&w, NULL, &st, LEASE_MS, c->guarding);
	ck_assert_int_eq(add(&w, "1", OUTCOME_LOGGED_OUT, 10)->logout, c->want);
	ck_assert_int_eq(add(&w, "2", OUTCOME_REFRESHED, 20)->logout, LOGOUT_DELETE); /* not a logout */
	ck_assert_int_eq(w.oldest_pending, 10);
	capture_start(&cap);
	writeback_close(&w, 0, 30); /* says the issued token of "2" was lost */
	free(capture_end(&cap));
}
END_TEST

/* A verdict's issued token, cookies and access token are taken; the reason is copied. */
START_TEST(test_add_takes)
{
	struct sweep_stats st;
	struct writeback w;
	struct verdict v;
	struct capture cap;

	memset(&st, 0, sizeof(st));
	memset(&v, 0, sizeof(v));
	v.new_token = strdup("new");
	v.cookies = strdup("[1]");
	v.access_token = strdup("at");
	v.expires_at = 42;
	writeback_init(&w, NULL, &st, LEASE_MS, 0);
	struct row *row = row_make("7");
	ck_assert_int_eq(writeback_add(&w, &row, OUTCOME_REFRESHED, &v, "why", 5), 0);
	ck_assert_ptr_null(row);
	ck_assert_ptr_null(v.new_token);
	ck_assert_ptr_null(v.cookies);
	ck_assert_ptr_null(v.access_token);
	struct result *r = w.pending[0];
	ck_assert_str_eq(r->new_token, "new");
	ck_assert_str_eq(r->cookies, "[1]");
	ck_assert_str_eq(r->access_token, "at");
	ck_assert_int_eq(r->expires_at, 42);
	ck_assert_str_eq(r->reason, "why");
	ck_assert_str_eq(r->row->id, "7");
	ck_assert_uint_eq(writeback_unwritten(&w), 1);
	ck_assert_int_eq(writeback_idle(&w), 0);
	/* Never written: counted, and the lost token said once. */
	capture_start(&cap);
	writeback_close(&w, 0, 6);
	char *out = capture_end(&cap);
	ck_assert_ptr_nonnull(strstr(out, "1 issued tokens could not be written: those users must"
					  " log in again"));
	free(out);
	ck_assert_int_eq(st.count[OUTCOME_REFRESHED], 1);
	ck_assert_int_eq(st.unwritten, 1);
}
END_TEST

/* When a batch is due: full, old, or nothing else to wait for; never with a write in flight. */
struct due_case {
	int npending, writing;
	long long oldest, now;
	int quiet;
	int want_due;
	long want_in;
};

static const struct due_case due_cases[] = {
	{ 0, 0, 0, 1000, 1, 0, -1 }, /* nothing pending */
	{ 1, 0, 1000, 1000, 0, 0, FLUSH_INTERVAL_MS },
	{ 1, 0, 1000, 1000, 1, 1, FLUSH_INTERVAL_MS }, /* quiet: now */
	{ 1, 0, 1000, 1000 + FLUSH_INTERVAL_MS - 1, 0, 0, 1 },
	{ 1, 0, 1000, 1000 + FLUSH_INTERVAL_MS, 0, 1, 0 }, /* old enough */
	{ 1, 0, 1000, 5000, 0, 1, 0 },
	{ FLUSH_BATCH - 1, 0, 1000, 1000, 0, 0, FLUSH_INTERVAL_MS },
	{ FLUSH_BATCH, 0, 1000, 1000, 0, 1, FLUSH_INTERVAL_MS }, /* a full batch */
	{ FLUSH_BATCH, 1, 1000, 5000, 1, 0, -1 }, /* one write at a time */
};

START_TEST(test_due_table)
{
	const struct due_case *c = &due_cases[_i];
	struct sweep_stats st;
	struct writeback w;

	memset(&st, 0, sizeof(st));
	writeback_init(&w, NULL, &st, LEASE_MS, 0);
	if (c->writing) {
		add(&w, "w", OUTCOME_RELEASED, 0);
		fake_flush(&w);
	}
	for (int i = 0; i < c->npending; i++)
		add(&w, "p", OUTCOME_RELEASED, c->oldest);
	ck_assert_int_eq(writeback_flush_due(&w, c->now, c->quiet), c->want_due);
	ck_assert_int_eq(writeback_flush_in(&w, c->now), c->want_in);
	writeback_close(&w, 0, c->now);
	ck_assert_int_eq(st.count[OUTCOME_RELEASED], c->npending + c->writing);
}
END_TEST

/* A lost write goes back in front of what finished meanwhile, with its age. */
START_TEST(test_requeue)
{
	struct sweep_stats st;
	struct writeback w;

	memset(&st, 0, sizeof(st));
	writeback_init(&w, NULL, &st, LEASE_MS, 0);
	writeback_requeue(&w); /* nothing written: nothing to do */
	ck_assert_uint_eq(w.npending, 0);
	add(&w, "a", OUTCOME_RELEASED, 100);
	add(&w, "b", OUTCOME_RELEASED, 110);
	fake_flush(&w);
	add(&w, "c", OUTCOME_RELEASED, 200);
	add(&w, "d", OUTCOME_RELEASED, 210);
	ck_assert_int_eq(w.oldest_pending, 200);
	writeback_requeue(&w);
	ck_assert_uint_eq(w.nwriting, 0);
	ck_assert_uint_eq(w.npending, 4);
	ck_assert_int_eq(w.oldest_pending, 100);
	const char *want[] = { "a", "b", "c", "d" };
	for (int i = 0; i < 4; i++)
		ck_assert_str_eq(w.pending[i]->row->id, want[i]);
	writeback_close(&w, 0, 300);
	ck_assert_int_eq(st.count[OUTCOME_RELEASED], 4);
	ck_assert_int_eq(st.unwritten, 0);
}
END_TEST

/*
 * A durable write: each result logged and counted; failed and superseded
 * ids join the exclude set; a held-back logout is held (or, after a mass
 * logout, goes to be marked).
 */
START_TEST(test_settle)
{
	struct sweep_stats st;
	struct writeback w;
	struct capture cap;
	size_t n = 0;

	memset(&st, 0, sizeof(st));
	writeback_init(&w, NULL, &st, LEASE_MS, 1);
	add(&w, "r", OUTCOME_REFRESHED, 0);
	add(&w, "f", OUTCOME_FAILED, 0);
	add(&w, "s", OUTCOME_REFRESHED, 0)->outcome = OUTCOME_SUPERSEDED; /* as db_write_poll turns it */
	add(&w, "k", OUTCOME_LOGGED_OUT, 0)->note = WRITE_NOTE_KEPT_RULE;
	add(&w, "h", OUTCOME_LOGGED_OUT, 0)->note = WRITE_NOTE_HELD_BACK;
	fake_flush(&w);
	capture_start(&cap);
	writeback_settle(&w, 500);
	char *out = capture_end(&cap);
	ck_assert_ptr_nonnull(strstr(out, "failed: HTTP 400"));
	ck_assert_ptr_nonnull(strstr(out, "superseded: the token changed while we called; row left"
					  " as it is"));
	ck_assert_ptr_nonnull(strstr(out, "row kept, as refresh.keep_when says it is never deleted"));
	free(out);
	ck_assert_uint_eq(w.nwriting, 0);
	ck_assert_int_eq(st.count[OUTCOME_REFRESHED], 1);
	ck_assert_int_eq(st.count[OUTCOME_FAILED], 1);
	ck_assert_int_eq(st.count[OUTCOME_SUPERSEDED], 1);
	ck_assert_int_eq(st.count[OUTCOME_LOGGED_OUT], 1); /* the held one is not counted yet */
	ck_assert_int_eq(st.kept_by_rule, 1);
	ck_assert_uint_eq(w.nheld, 1);
	ck_assert_int_eq(w.held[0]->held_at, 500);
	ck_assert_ptr_null(w.held[0]->row->cookies); /* only what its last write needs is kept */
	ck_assert_ptr_null(w.held[0]->row->fingerprint);
	ck_assert_ptr_nonnull(w.held[0]->row->claim);
	ck_assert_int_eq(writeback_idle(&w), 0);

	/* The next claim skips the failed, the superseded and the held row. */
	add(&w, "p", OUTCOME_RELEASED, 600);
	char **ids = writeback_exclude_ids(&w, 0, &n);
	ck_assert_ptr_nonnull(ids);
	ck_assert_uint_eq(n, 4);
	ck_assert_str_eq(ids[0], "f");
	ck_assert_str_eq(ids[1], "s");
	ck_assert_str_eq(ids[2], "p");
	ck_assert_str_eq(ids[3], "h");
	free(ids);
	/* With room for the caller's own ids (the run's live jobs) after them. */
	ids = writeback_exclude_ids(&w, 2, &n);
	ck_assert_ptr_nonnull(ids);
	ck_assert_uint_eq(n, 4);
	ids[4] = "x";
	ids[5] = "y";
	ck_assert_str_eq(ids[3], "h");
	free(ids);

	/* The guard tripped: a held-back answer now goes to be marked at once. */
	st.mass_logout = 1;
	fake_flush(&w);
	add(&w, "m", OUTCOME_LOGGED_OUT, 700);
	w.writing[0]->outcome = OUTCOME_LOGGED_OUT;
	w.writing[0]->note = WRITE_NOTE_HELD_BACK;
	capture_start(&cap);
	writeback_settle(&w, 800);
	free(capture_end(&cap));
	ck_assert_uint_eq(w.npending, 2);
	ck_assert_int_eq(w.pending[1]->logout, LOGOUT_MASS);
	writeback_close(&w, 0, 900);
}
END_TEST

/* Held rows are renewed at half their lease, oldest first; released once the guard decides. */
struct held_case {
	int mass, abandoned;
	enum logout_write want_logout;
	enum outcome want_outcome;
};

static const struct held_case held_cases[] = {
	{ 0, 0, LOGOUT_DELETE, OUTCOME_LOGGED_OUT },
	{ 1, 0, LOGOUT_MASS, OUTCOME_LOGGED_OUT },
	{ 0, 1, LOGOUT_DELETE, OUTCOME_RELEASED }, /* a third signal: nothing is deleted */
	{ 1, 1, LOGOUT_MASS, OUTCOME_RELEASED },
};

START_TEST(test_held_table)
{
	const struct held_case *c = &held_cases[_i];
	struct sweep_stats st;
	struct writeback w;
	struct capture cap;

	memset(&st, 0, sizeof(st));
	writeback_init(&w, NULL, &st, LEASE_MS, 1);
	add(&w, "a", OUTCOME_LOGGED_OUT, 0)->note = WRITE_NOTE_HELD_BACK;
	fake_flush(&w);
	capture_start(&cap);
	writeback_settle(&w, 1000);
	free(capture_end(&cap));
	add(&w, "b", OUTCOME_LOGGED_OUT, 0)->note = WRITE_NOTE_HELD_BACK;
	fake_flush(&w);
	capture_start(&cap);
	writeback_settle(&w, 1200);
	free(capture_end(&cap));
	ck_assert_uint_eq(w.nheld, 2);

	writeback_renew_held(&w, 1000 + LEASE_MS / 2 - 1); /* not yet */
	ck_assert_uint_eq(w.nheld, 2);
	ck_assert_uint_eq(w.npending, 0);
	writeback_renew_held(&w, 1000 + LEASE_MS / 2); /* a's lease is half gone, b's not */
	ck_assert_uint_eq(w.nheld, 1);
	ck_assert_uint_eq(w.npending, 1);
	ck_assert_str_eq(w.pending[0]->row->id, "a");
	ck_assert_int_eq(w.pending[0]->logout, LOGOUT_HOLD);
	ck_assert_str_eq(w.held[0]->row->id, "b");

	st.mass_logout = c->mass;
	writeback_release_held(&w, c->abandoned, 2000);
	ck_assert_uint_eq(w.nheld, 0);
	ck_assert_uint_eq(w.npending, 2);
	ck_assert_int_eq(w.pending[1]->logout, c->want_logout);
	ck_assert_int_eq(w.pending[1]->outcome, c->want_outcome);
	writeback_close(&w, c->abandoned, 3000);
}
END_TEST

/* The guard tripped: pending logouts are marked, nothing else. */
START_TEST(test_mark_mass)
{
	struct sweep_stats st;
	struct writeback w;

	memset(&st, 0, sizeof(st));
	writeback_init(&w, NULL, &st, LEASE_MS, 1);
	add(&w, "a", OUTCOME_LOGGED_OUT, 0);
	add(&w, "b", OUTCOME_FAILED, 0);
	writeback_mark_mass(&w);
	ck_assert_int_eq(w.pending[0]->logout, LOGOUT_MASS);
	ck_assert_int_eq(w.pending[1]->logout, LOGOUT_DELETE);
	writeback_close(&w, 0, 0);
	ck_assert_int_eq(st.count[OUTCOME_LOGGED_OUT], 1);
	ck_assert_int_eq(st.count[OUTCOME_FAILED], 1);
}
END_TEST

/* A failed result for row id whose order text is order ("" for none). */
static void add_failed_at(struct writeback *w, const char *id, const char *order)
{
	struct result *r = add(w, id, OUTCOME_FAILED, 0);
	snprintf(r->row->order, sizeof(r->row->order), "%s", order);
}

/* The exclude ids joined with ',' (the set alone: nothing pending). */
static void exclude_ids(const struct writeback *w, char *out, size_t size)
{
	size_t n = 0;
	char **ids = writeback_exclude_ids(w, 0, &n);
	ck_assert_ptr_nonnull(ids);
	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			strncat(out, ",", size - strlen(out) - 1);
		strncat(out, ids[i], size - strlen(out) - 1);
	}
	free(ids);
}

/*
 * The claims' cursor: failed rows before it leave the exclude set (the claim
 * skips them by their order), rows at it (ties) and after it stay, rows
 * with no order ("-infinity") go once any cursor is set, and a cursor never
 * moves back.
 */
START_TEST(test_after)
{
	struct sweep_stats st;
	struct writeback w;
	struct capture cap;
	char ids[128];

	memset(&st, 0, sizeof(st));
	writeback_init(&w, NULL, &st, LEASE_MS, 0);
	add_failed_at(&w, "inf", "");
	add_failed_at(&w, "a", "2026-01-01T00:00:00.000001");
	add_failed_at(&w, "b", "2026-01-01T00:00:00.000002");
	add_failed_at(&w, "b2", "2026-01-01T00:00:00.000002");
	add_failed_at(&w, "c", "2026-06-01T00:00:00.000000");
	fake_flush(&w);
	capture_start(&cap);
	writeback_settle(&w, 10);
	free(capture_end(&cap));
	exclude_ids(&w, ids, sizeof(ids));
	ck_assert_str_eq(ids, "inf,a,b,b2,c");

	writeback_after(&w, "2026-01-01T00:00:00.000002");
	exclude_ids(&w, ids, sizeof(ids));
	ck_assert_str_eq(ids, "b,b2,c");
	writeback_after(&w, "2026-01-01T00:00:00.000001"); /* back: ignored */
	ck_assert_str_eq(w.after, "2026-01-01T00:00:00.000002");
	exclude_ids(&w, ids, sizeof(ids));
	ck_assert_str_eq(ids, "b,b2,c");

	/* A row that ends after the cursor passed it is not remembered at all. */
	add_failed_at(&w, "late", "2025-12-31T23:59:59.999999");
	add_failed_at(&w, "tie", "2026-01-01T00:00:00.000002");
	fake_flush(&w);
	capture_start(&cap);
	writeback_settle(&w, 20);
	free(capture_end(&cap));
	exclude_ids(&w, ids, sizeof(ids));
	ck_assert_str_eq(ids, "b,b2,c,tie");

	/* Results not yet written: named only when the cursor does not cover them. */
	add_failed_at(&w, "p-before", "2025-01-01T00:00:00.000000");
	add_failed_at(&w, "p-tie", "2026-01-01T00:00:00.000002");
	add_failed_at(&w, "p-none", "");
	exclude_ids(&w, ids, sizeof(ids));
	ck_assert_str_eq(ids, "b,b2,c,tie,p-tie");
	fake_flush(&w);
	exclude_ids(&w, ids, sizeof(ids));
	ck_assert_str_eq(ids, "b,b2,c,tie,p-tie");
	capture_start(&cap);
	writeback_settle(&w, 25);
	free(capture_end(&cap));

	writeback_after(&w, "2027-01-01T00:00:00.000000");
	exclude_ids(&w, ids, sizeof(ids));
	ck_assert_str_eq(ids, "");
	ck_assert_uint_eq(w.nexclude, 0);
	writeback_close(&w, 0, 30);
}
END_TEST

Suite *writeback_suite(void)
{
	Suite *s = suite_create("writeback");
	TCase *tc = tcase_create("writeback");
	tcase_set_timeout(tc, TCASE_TIMEOUT_S);
	tcase_add_loop_test(tc, test_add_logout_table, 0, NELEM(logout_cases));
	tcase_add_test(tc, test_add_takes);
	tcase_add_loop_test(tc, test_due_table, 0, NELEM(due_cases));
	tcase_add_test(tc, test_requeue);
	tcase_add_test(tc, test_settle);
	tcase_add_test(tc, test_after);
	tcase_add_loop_test(tc, test_held_table, 0, NELEM(held_cases));
	tcase_add_test(tc, test_mark_mass);
	suite_add_tcase(s, tc);
	return s;
}
