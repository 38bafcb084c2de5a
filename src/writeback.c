/* writeback.c - a run's results to the database: batches, one write in flight, held logouts, accounting. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "defaults.h"
#include "log.h"
#include "writeback.h"

/* Initial capacity of the exclude set and of the held rows. */
#define WRITEBACK_SET_CAP 64

static void result_free(struct result *r)
{
	if (r == NULL)
		return;
	free(r->new_token);
	free(r->cookies);
	free(r->access_token);
	free(r);
}

/* Frees a result and the row it owns. */
static void result_drop(struct result *r)
{
	row_free(r->row);
	r->row = NULL;
	result_free(r);
}

void writeback_init(struct writeback *w, struct db *db, struct sweep_stats *st, long lease_ms,
    int guarding)
{
	memset(w, 0, sizeof(*w));
	w->db = db;
	w->st = st;
	w->lease_ms = lease_ms;
	w->guarding = guarding;
}

/* Appends a result to the pending writes (it owns its row); 0, or -1 on OOM. */
static int pend(struct writeback *w, struct result *r, long long now)
{
	if (w->npending == w->cappending) {
		size_t cap = w->cappending ? w->cappending * 2 : FLUSH_BATCH * 2;
		struct result **p = realloc(w->pending, cap * sizeof(*p));
		if (p == NULL)
			return -1;
		w->pending = p;
		w->cappending = cap;
	}
	if (w->npending == 0)
		w->oldest_pending = now;
	w->pending[w->npending++] = r;
	return 0;
}

int writeback_add(struct writeback *w, struct row **row, enum outcome o, struct verdict *v,
    const char *reason, long long now)
{
	struct result *r = calloc(1, sizeof(*r));
	if (r == NULL)
		return -1;
	r->row = *row;
	r->outcome = o;
	if (reason)
		snprintf(r->reason, sizeof(r->reason), "%s", reason);
	if (o == OUTCOME_LOGGED_OUT)
		r->logout = !w->guarding ? LOGOUT_DELETE : w->st->mass_logout ? LOGOUT_MASS : LOGOUT_HOLD;
	if (pend(w, r, now) != 0) {
		free(r);
		return -1;
	}
	*row = NULL; /* taken */
	if (v != NULL) {
		r->new_token = v->new_token;
		r->cookies = v->cookies;
		r->access_token = v->access_token;
		r->expires_at = v->expires_at;
		v->new_token = v->cookies = v->access_token = NULL;
	}
	return 0;
}

size_t writeback_unwritten(const struct writeback *w)
{
	return w->npending + w->nwriting;
}

int writeback_idle(const struct writeback *w)
{
	return w->npending == 0 && w->nwriting == 0 && w->nheld == 0;
}

int writeback_flush_due(const struct writeback *w, long long now, int quiet)
{
	return w->npending > 0 && w->nwriting == 0 &&
	    (w->npending >= FLUSH_BATCH || now - w->oldest_pending >= FLUSH_INTERVAL_MS || quiet);
}

long writeback_flush_in(const struct writeback *w, long long now)
{
	if (w->npending == 0 || w->nwriting > 0)
		return -1;
	long long in = w->oldest_pending + FLUSH_INTERVAL_MS - now;
	return in > 0 ? (long)in : 0;
}

static void remember_exclude(struct writeback *w, const struct row *row)
{
	if (!row_claimable(row, w->after))
		return; /* before the cursor: no claim of this run can take it */
	if (w->nexclude == w->capexclude) {
		size_t cap = w->capexclude ? w->capexclude * 2 : WRITEBACK_SET_CAP;
		struct excluded *p = realloc(w->exclude, cap * sizeof(*p));
		if (p == NULL)
			return; /* worst case: a failed row is called twice in this run */
		w->exclude = p;
		w->capexclude = cap;
	}
	char *dup = strdup(row->id);
	if (dup == NULL)
		return;
	w->exclude[w->nexclude].id = dup;
	memcpy(w->exclude[w->nexclude].order, row->order, ROW_ORDER_LEN);
	w->nexclude++;
}

void writeback_after(struct writeback *w, const char *after)
{
	size_t k = 0;
	if (strcmp(after, w->after) <= 0)
		return;
	memcpy(w->after, after, ROW_ORDER_LEN);
	for (size_t i = 0; i < w->nexclude; i++) {
		if (!order_claimable(w->exclude[i].order, after))
			free(w->exclude[i].id);
		else
			w->exclude[k++] = w->exclude[i];
	}
	w->nexclude = k;
}

/*
 * Keeps a logout row whose delete waits for the guard's decision. Only what
 * its last write needs stays in memory (id, sent token, claim). Returns 0, or
 * -1 on OOM (the row is then simply left: its lease expires, nothing deleted).
 */
static int hold(struct writeback *w, struct result *r, long long now)
{
	if (w->nheld == w->capheld) {
		size_t cap = w->capheld ? w->capheld * 2 : WRITEBACK_SET_CAP;
		struct result **p = realloc(w->held, cap * sizeof(*p));
		if (p == NULL)
			return -1;
		w->held = p;
		w->capheld = cap;
	}
	free(r->row->cookies);
	free(r->row->fingerprint);
	r->row->cookies = r->row->fingerprint = NULL;
	r->held_at = now;
	w->held[w->nheld++] = r;
	return 0;
}

/*
 * held is in the order of renewal: the oldest come first. A write of
 * LOGOUT_HOLD renews the lease, so no other run takes a row this run still
 * holds.
 */
void writeback_renew_held(struct writeback *w, long long now)
{
	size_t k = 0;
	while (k < w->nheld && now - w->held[k]->held_at >= w->lease_ms / 2 &&
	    pend(w, w->held[k], now) == 0)
		k++;
	if (k == 0)
		return;
	memmove(w->held, w->held + k, (w->nheld - k) * sizeof(*w->held));
	w->nheld -= k;
}

void writeback_release_held(struct writeback *w, int abandoned, long long now)
{
	size_t k = 0;
	for (size_t i = 0; i < w->nheld; i++) {
		struct result *r = w->held[i];
		r->logout = w->st->mass_logout ? LOGOUT_MASS : LOGOUT_DELETE;
		/* Stopped at once (a third signal): nothing was decided, nothing is deleted. */
		if (abandoned)
			r->outcome = OUTCOME_RELEASED;
		if (pend(w, r, now) != 0)
			w->held[k++] = r; /* out of memory: tried again on the next turn */
	}
	w->nheld = k;
}

void writeback_mark_mass(struct writeback *w)
{
	for (size_t i = 0; i < w->npending; i++)
		if (w->pending[i]->outcome == OUTCOME_LOGGED_OUT)
			w->pending[i]->logout = LOGOUT_MASS;
}

/* Logs, counts and frees a written result (a held-back logout row is held instead). */
static void account(struct writeback *w, struct result *r, long long now)
{
	const char *id = r->row->id;
	if (r->outcome == OUTCOME_LOGGED_OUT && r->note == WRITE_NOTE_HELD_BACK) {
		/* Nothing written yet: the row waits for the guard (or goes now, if it tripped). */
		int rc;
		if (w->st->mass_logout) {
			r->logout = LOGOUT_MASS;
			rc = pend(w, r, now);
		} else {
			rc = hold(w, r, now);
		}
		if (rc == 0) {
			log_debug(id, "logged out upstream: delete held back until the run can tell"
				      " it is no mass logout");
			return;
		}
		log_error(id, "out of memory: a logout row is left as it is");
		w->st->count[OUTCOME_RELEASED]++;
		result_drop(r);
		return;
	}
	w->st->count[r->outcome]++;
	switch (r->outcome) {
	case OUTCOME_REFRESHED:
		log_debug(id, "refreshed");
		break;
	case OUTCOME_LOGGED_OUT:
		switch (r->note) {
		case WRITE_NOTE_KEPT_RULE:
			w->st->kept_by_rule++;
			log_warn(id, "logged out upstream: row kept, as refresh.keep_when says it is never"
				     " deleted; marked 'logout'");
			break;
		case WRITE_NOTE_KEPT_HELD:
			log_info(id, "logged out upstream: row kept, as the application holds it now;"
				     " marked 'logout', a later run deletes it");
			break;
		case WRITE_NOTE_MASS:
			log_info(id, "logged out upstream: row kept (mass logout), marked"
				     " 'logout (not deleted: mass logout)'");
			break;
		case WRITE_NOTE_KEPT:
			log_info(id, "logged out upstream: row kept, marked 'logout'");
			break;
		default:
			log_info(id, "logged out upstream: row deleted");
			break;
		}
		break;
	case OUTCOME_FAILED:
		log_warn(id, "failed: %s", r->reason);
		remember_exclude(w, r->row);
		break;
	case OUTCOME_SUPERSEDED:
		if (r->note == WRITE_NOTE_NOT_MATCHING_ISSUED)
			log_warn(id, "superseded: upstream issued a new token, but the row no longer matches"
				     " database.where, so it was not written; the row is left as it is and"
				     " its stored token may no longer work");
		else if (r->note == WRITE_NOTE_NOT_MATCHING)
			log_info(id, "superseded: the row no longer matches database.where; left as it is");
		else
			log_info(id, "superseded: the token changed while we called; row left as it is");
		remember_exclude(w, r->row);
		break;
	case OUTCOME_RELEASED:
		log_debug(id, "released");
		break;
	default:
		break;
	}
	result_drop(r);
}

void writeback_requeue(struct writeback *w)
{
	size_t total = w->nwriting + w->npending;
	if (w->nwriting == 0)
		return; /* nothing was being written: pending stays as it is */
	if (w->capwriting < total) {
		struct result **p = realloc(w->writing, total * sizeof(*p));
		if (p == NULL) {
			/* Cannot happen in practice (pending fits in its own array): keep both, try later. */
			log_error("sweep", "out of memory while requeueing results");
			return;
		}
		w->writing = p;
		w->capwriting = total;
	}
	if (w->npending > 0)
		memcpy(w->writing + w->nwriting, w->pending, w->npending * sizeof(*w->pending));
	struct result **tmp = w->pending;
	size_t cap = w->cappending;
	w->pending = w->writing;
	w->cappending = w->capwriting;
	w->writing = tmp;
	w->capwriting = cap;
	w->npending = total;
	w->nwriting = 0;
	w->oldest_pending = w->oldest_writing;
}

int writeback_flush(struct writeback *w, long long now)
{
	if (w->npending == 0 || w->nwriting > 0)
		return 0;
	size_t k = w->npending < WRITE_MAX ? w->npending : WRITE_MAX;
	if (w->capwriting < k) {
		struct result **p = realloc(w->writing, k * sizeof(*p));
		if (p == NULL)
			return 0; /* tried again on the next turn */
		w->writing = p;
		w->capwriting = k;
	}
	memcpy(w->writing, w->pending, k * sizeof(*w->pending));
	if (db_write_send(w->db, w->writing, k) != 0)
		return -1;
	w->nwriting = k;
	w->oldest_writing = w->oldest_pending;
	memmove(w->pending, w->pending + k, (w->npending - k) * sizeof(*w->pending));
	w->npending -= k;
	if (w->npending > 0)
		w->oldest_pending = now; /* they go out as soon as this write ends */
	return 0;
}

int writeback_poll(struct writeback *w)
{
	int rc = db_write_poll(w->db);
	return w->nwriting == 0 ? 0 : rc;
}

void writeback_settle(struct writeback *w, long long now)
{
	for (size_t i = 0; i < w->nwriting; i++)
		account(w, w->writing[i], now);
	w->nwriting = 0;
}

char **writeback_exclude_ids(const struct writeback *w, size_t spare, size_t *n)
{
	size_t nx = w->nexclude + w->npending + w->nwriting + w->nheld;
	char **ids = malloc((nx + spare ? nx + spare : 1) * sizeof(*ids));
	if (ids == NULL)
		return NULL;
	size_t k = 0;
	for (size_t i = 0; i < w->nexclude; i++)
		ids[k++] = w->exclude[i].id;
	struct result *const *const sets[] = { w->pending, w->writing, w->held };
	const size_t counts[] = { w->npending, w->nwriting, w->nheld };
	for (size_t s = 0; s < sizeof(counts) / sizeof(counts[0]); s++)
		for (size_t i = 0; i < counts[s]; i++)
			if (row_claimable(sets[s][i]->row, w->after))
				ids[k++] = sets[s][i]->row->id;
	*n = k;
	return ids;
}

void writeback_close(struct writeback *w, int abandoned, long long now)
{
	writeback_requeue(w);
	writeback_release_held(w, abandoned, now); /* not deleted: counted with the other unwritten results */
	for (size_t i = 0; i < w->npending; i++) {
		struct result *r = w->pending[i];
		/* It happened, but is not durable: count it, and say what was lost. */
		w->st->count[r->outcome]++;
		if (r->outcome == OUTCOME_REFRESHED)
			w->st->unwritten++;
		result_drop(r);
	}
	if (w->st->unwritten > 0)
		log_error("db", "%ld issued tokens could not be written: those users must log in again",
		    w->st->unwritten);
	/* Left only when memory ran out on the way here: their leases expire, nothing is deleted. */
	for (size_t i = 0; i < w->nheld; i++)
		result_drop(w->held[i]);
	/* Left only when the requeue ran out of memory: not durable either. */
	for (size_t i = 0; i < w->nwriting; i++)
		result_drop(w->writing[i]);
	free(w->pending);
	free(w->writing);
	free(w->held);
	for (size_t i = 0; i < w->nexclude; i++)
		free(w->exclude[i].id);
	free(w->exclude);
	memset(w, 0, sizeof(*w));
}
