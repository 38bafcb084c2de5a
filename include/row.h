/* row.h - a claimed row as the run carries it: what profiles read, what guards the write. */
#ifndef REFRESHER_ROW_H
#define REFRESHER_ROW_H

#include <string.h>

/* Length of a row's order text with its NUL: "YYYY-MM-DDTHH:MI:SS.US". */
#define ROW_ORDER_LEN 27

/* Every pointer heap-owned; free with row_free (db.c). */
struct row {
	char *id; /* as text */
	char *email;
	char *token; /* the token we send; every write is guarded by it (secret) */
	char *cookies; /* stored cookies JSON text, NULL when the column is absent */
	char *fingerprint; /* NULL when the column is NULL or absent (secret) */
	char *access_token; /* NULL when the column is NULL or absent (secret) */
	char *claim; /* our lease, UTC "YYYY-MM-DDTHH:MI:SS.US", guards releases */
	/*
	 * Its place in the claims' order (oldest refresh or creation first) as
	 * UTC "YYYY-MM-DDTHH:MI:SS.US": texts of this one width compare as the
	 * times do. "" when before the year 1000 or -infinity: before any other.
	 */
	char order[ROW_ORDER_LEN];
};
void row_free(struct row *row);

/*
 * Whether a claim with the cursor after (an order text, "" for none) can
 * still take a row of this order: it is at or after the cursor. Only such
 * rows need excluding by id.
 */
static inline int order_claimable(const char *order, const char *after)
{
	return after[0] == '\0' || strcmp(order, after) >= 0;
}

static inline int row_claimable(const struct row *row, const char *after)
{
	return order_claimable(row->order, after);
}

#endif
