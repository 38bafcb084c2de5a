/* wpath.c - the write path alone: the refresher's own claim and write-back statements, no HTTP (bench). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "cookies.h"
#include "db.h"
#include "defaults.h"
#include "log.h"
#include "loop.h"

/*
 * Usage: bench-wpath CONFIG [MAX_ROWS]
 * Drives src/db.c exactly as a sweep does when every answer is instant: claim refresh.batch_size
 * rows, then write them back as refreshed in sets of FLUSH_BATCH (new token, cookies merged with
 * two captured ones, as the fake upstream's answers give), until nothing is due (or MAX_ROWS).
 * One statement at a time, through the non-blocking calls the sweep uses (send, then poll until
 * it ends, turning the run's loop in between): the ceiling of the refresher's database side.
 * Prints one line: rows=N wall_s=S rows_per_s=R claims=N writes=N claim_ms=avg write_ms=avg
 * prep_ms=total (client-side building of the results, included in wall_s).
 */

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The run's loop, which drives the database's channels. */
static struct loop *lp;

/* Waits until one of the database's sockets is ready (its channel is driven), or 100 ms pass. */
static void wait_db(void)
{
	(void)loop_once(lp, 100);
}

/* A claim from start to end: 0 with the rows (caller frees), or -1 (logged). */
static int claim(struct db *db, long want, struct row ***rows, size_t *n)
{
	if (db_claim_send(db, want, NULL, NULL, 0) != 0)
		return -1;
	for (;;) {
		int rc = db_claim_poll(db, rows, n);
		if (rc != 0)
			return rc == 1 ? 0 : -1;
		wait_db();
	}
}

/* A write from start to end: 0 when durable, or -1 (logged). */
static int write_results(struct db *db, struct result *const *res, size_t n)
{
	if (db_write_send(db, res, n) != 0)
		return -1;
	for (;;) {
		int rc = db_write_poll(db);
		if (rc != 0)
			return rc == 1 ? 0 : -1;
		wait_db();
	}
}

/* Fills a result for a claimed row as a fake "ok" answer would; 0 or -1. */
static int fake_refreshed(struct result *r, struct row *row, unsigned long seq)
{
	char tok[64], alb[48], cors[48], err[REASON_MAX];
	struct cookie_jar *jar = cookies_new();
	int rc = -1;
	memset(r, 0, sizeof(*r));
	r->row = row;
	r->outcome = OUTCOME_REFRESHED;
	snprintf(tok, sizeof(tok), "ok-%032lx", seq);
	snprintf(alb, sizeof(alb), "%040lx", seq * 2654435761UL);
	snprintf(cors, sizeof(cors), "%040lx", seq * 40503UL);
	if (jar == NULL || cookies_parse_json(jar, row->cookies, strlen(row->cookies), err, sizeof(err)) != 0 ||
	    cookies_set(jar, "AWSALB", alb) != 0 || cookies_set(jar, "AWSALBCORS", cors) != 0)
		goto out;
	r->new_token = strdup(tok);
	r->cookies = cookies_to_json(jar);
	if (r->new_token != NULL && r->cookies != NULL)
		rc = 0;
out:
	cookies_free(jar);
	return rc;
}

int main(int argc, char **argv)
{
	struct errlist errs = { NULL, 0 };
	struct config *cfg = NULL;
	char err[512];
	long max = 0, done = 0, claims = 0, writes = 0;
	double t_claim = 0, t_write = 0, t_prep = 0, t0, t;
	int rc = 1;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: bench-wpath CONFIG [MAX_ROWS]\n");
		return 2;
	}
	if (argc == 3)
		max = strtol(argv[2], NULL, 10);
	if (config_load(argv[1], &cfg, &errs) != 0) {
		for (size_t i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.msgs[i]);
		errlist_clear(&errs);
		return 2;
	}
	errlist_clear(&errs);
	log_init(LOG_FORMAT_TEXT, LOG_LEVEL_WARN);
	struct db_filter filter = { NULL, 0, 0, cfg->refresh.stale_after_ms, 0 };
	enum db_open_status why;
	struct db *db = db_open(cfg, &filter, &why, err, sizeof(err));
	lp = db != NULL ? loop_new() : NULL;
	if (lp == NULL) {
		fprintf(stderr, "bench-wpath: %s\n", db == NULL ? err : "no event loop");
		db_close(db);
		config_free(cfg);
		return 3;
	}
	db_attach(db, lp);
	struct result *res = calloc(FLUSH_BATCH, sizeof(*res));
	struct result **ptr = calloc(FLUSH_BATCH, sizeof(*ptr));
	if (res == NULL || ptr == NULL)
		goto out;
	t0 = now_s();
	for (;;) {
		long want = cfg->refresh.batch_size;
		struct row **rows = NULL;
		size_t n = 0;
		if (max > 0 && want > max - done)
			want = max - done;
		if (want <= 0)
			break;
		t = now_s();
		if (claim(db, want, &rows, &n) != 0)
			goto out;
		t_claim += now_s() - t;
		claims++;
		for (size_t i = 0; i < n; i += FLUSH_BATCH) {
			size_t k = n - i < FLUSH_BATCH ? n - i : FLUSH_BATCH;
			t = now_s();
			for (size_t j = 0; j < k; j++) {
				if (fake_refreshed(&res[j], rows[i + j], (unsigned long)(done + (long)j)) != 0)
					goto out;
				ptr[j] = &res[j];
			}
			t_prep += now_s() - t;
			t = now_s();
			if (write_results(db, ptr, k) != 0)
				goto out;
			t_write += now_s() - t;
			writes++;
			for (size_t j = 0; j < k; j++) {
				free(res[j].new_token);
				free(res[j].cookies);
				if (res[j].outcome != OUTCOME_REFRESHED)
					fprintf(stderr, "bench-wpath: a row was not written as refreshed\n");
			}
			done += (long)k;
		}
		for (size_t i = 0; i < n; i++)
			row_free(rows[i]);
		free(rows);
		if ((long)n < want)
			break;
	}
	t = now_s() - t0;
	printf("rows=%ld wall_s=%.3f rows_per_s=%.0f claims=%ld writes=%ld claim_ms=%.2f write_ms=%.2f "
	       "prep_ms=%.0f\n",
	    done, t, t > 0 ? (double)done / t : 0.0, claims, writes,
	    claims ? t_claim * 1e3 / (double)claims : 0.0, writes ? t_write * 1e3 / (double)writes : 0.0,
	    t_prep * 1e3);
	rc = 0;
out:
	free(res);
	free(ptr);
	db_detach(db);
	db_close(db);
	loop_free(lp);
	config_free(cfg);
	return rc;
}
