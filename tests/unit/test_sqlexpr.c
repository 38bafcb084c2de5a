/* test_sqlexpr.c - tables for the one-expression check of database.where and refresh.keep_when. */
#include <string.h>

#include "guard.h"
#include "sqlexpr.h"
#include "suites.h"

/* Generous: CI runs the suite under sanitizers and valgrind, maybe on a loaded machine. */
#define TCASE_TIMEOUT_S 60

struct expr_case {
	const char *sql;
	const char *problem; /* NULL = fine; else a substring of the reason */
};

static const struct expr_case expr_cases[] = {
	/* one expression: fine */
	{ "protected", NULL },
	{ "protected OR session_type = 'background'", NULL },
	{ "NOT protected AND (session_type = 'device' OR session_type IS NULL)", NULL },
	{ "((a))", NULL },
	{ "session_type IN ('device', 'background')", NULL },
	{ "user_email LIKE '%@example.com'", NULL },
	{ "note = 'it''s (fine'", NULL },                  /* '' escape, paren inside a string */
	{ "note = E'a\\'b)'", NULL },                     /* E'' takes backslash escapes */
	{ "note = e'x\\\\'", NULL },                      /* an escaped backslash ends it */
	{ "\"Weird (col)\" = 1", NULL },                  /* paren inside a quoted identifier */
	{ "\"a\"\"b\" = 1", NULL },                       /* "" escape */
	{ "note = $$it's ) fine$$", NULL },               /* dollar quote */
	{ "note = $tag$ $$ ) $tag$", NULL },              /* tagged dollar quote holding $$ */
	{ "col$1 = 1", NULL },                            /* $ inside an identifier, not a parameter */
	{ "a -- a comment with ) and ;\n OR b", NULL },   /* a line comment hides ) and ; */
	{ "a /* ) ; /* nested */ ( */ OR b", NULL },      /* nested block comments */
	{ "protected -- trailing comment", NULL },        /* the refresher ends the line for it */
	{ "\tprotected\n\tOR session_type = 'background'\n", NULL }, /* over several lines */
	{ "now() - interval '1 hour' < created_at", NULL },
	{ "x::text ~ '^[a-z]+$'", NULL },                 /* $ inside a string */
	{ "json_col->>'k' = 'v'", NULL },
	{ "caf\xC3\xA9 = 1", NULL },                      /* non-ASCII identifier */
	/* more than one expression, or not a whole one */
	{ "true) OR (true", "')' without its '('" },
	{ ") OR (", "')' without its '('" },
	{ "(protected", "'(' without its ')'" },
	{ "protected)", "')' without its '('" },
	{ "a = 'x') OR (b", "')' without its '('" },
	{ "protected; DROP TABLE auth_sessions", "without ';'" },
	{ "protected;", "without ';'" },
	{ "id = $1", "parameters" },
	{ "$2 IS NULL", "parameters" },
	{ "a = ($3)", "parameters" },
	/* PostgreSQL's own lexing: a CR ends a line comment; 'a' + newline + 'b' is one string,
	 * in the first part's escape mode (found by review: each widened the statement) */
	{ "session_type = 'background' --\r) OR (true", "')' without its '('" },
	{ "false --\r) OR (id = ANY($5::uuid[])", "')' without its '('" },
	{ "session_type = E'x'\n'\\' ' ) OR (true --'", "')' without its '('" },
	{ "session_type = E'x'\n  -- a comment\n'\\' ' ) OR (true --'", "')' without its '('" },
	{ "a = 'x'\n'y'", NULL },                         /* one string, continued */
	{ "a = 'x' 'y'", NULL },                           /* no newline: two tokens, still balanced */
	{ "a = E'x'\n'\\'' OR b", NULL },              /* continued E'': \' escapes the quote */
	/* unterminated quotes and comments */
	{ "note = 'open", "unterminated quoted string" },
	{ "note = E'open\\'", "unterminated quoted string" },
	{ "\"open = 1", "unterminated quoted identifier" },
	{ "note = $$open", "unterminated $$" },
	{ "note = $a$open$b$", "unterminated $$" },
	{ "a /* open", "unterminated /*" },
	{ "a /* /* */", "unterminated /*" },
	/* nothing */
	{ " ", "no expression" },
	{ "\n\t", "no expression" },
	{ "-- only a comment", "no expression" },
	{ "/* only */", "no expression" },
};

START_TEST(test_expr_table)
{
	const struct expr_case *c = &expr_cases[_i];
	const char *got = sqlexpr_problem(c->sql);

	if (c->problem == NULL) {
		ck_assert_msg(got == NULL, "case %d: '%s': unexpected problem '%s'", _i, c->sql, got);
	} else {
		ck_assert_msg(got != NULL, "case %d: '%s': no problem found, want '%s'", _i, c->sql,
		    c->problem);
		ck_assert_msg(strstr(got, c->problem) != NULL, "case %d: got '%s', want '%s'", _i, got,
		    c->problem);
	}
}
END_TEST

/* The mass-logout guard: logouts >= min and logouts > share x answers; min 0 is off. */
struct guard_case {
	long logouts, answers;
	int min;
	double share;
	int want;
};

static const struct guard_case guard_cases[] = {
	{ 0, 0, 10, 0.5, 0 },
	{ 9, 9, 10, 0.5, 0 },       /* all logouts, but fewer than min */
	{ 10, 10, 10, 0.5, 1 },     /* all logouts, min reached */
	{ 10, 20, 10, 0.5, 0 },     /* exactly half: not more than the share */
	{ 11, 21, 10, 0.5, 1 },     /* just over half */
	{ 10, 19, 10, 0.5, 1 },
	{ 100, 1000, 10, 0.5, 0 },  /* 10 % logouts: normal churn */
	{ 600, 1000, 10, 0.5, 1 },  /* mostly logouts */
	{ 1000, 1000, 0, 0.5, 0 },  /* min 0: the guard is off */
	{ 1, 1, 1, 0.5, 1 },
	{ 1, 1, 1, 1.0, 0 },        /* share 1: never more than all */
	{ 5, 100, 5, 0.0, 1 },      /* share 0: min logouts alone trip it */
	{ 4, 100, 5, 0.0, 0 },
	{ 2000000000L, 2000000000L, 10, 0.5, 1 },
};

START_TEST(test_guard_table)
{
	const struct guard_case *c = &guard_cases[_i];

	ck_assert_int_eq(guard_mass_logout(c->logouts, c->answers, c->min, c->share), c->want);
}
END_TEST

Suite *sqlexpr_suite(void)
{
	Suite *s = suite_create("sqlexpr");
	TCase *tc = tcase_create("sqlexpr");
	tcase_set_timeout(tc, TCASE_TIMEOUT_S);
	tcase_add_loop_test(tc, test_expr_table, 0, (int)(sizeof expr_cases / sizeof expr_cases[0]));
	suite_add_tcase(s, tc);
	tc = tcase_create("guard");
	tcase_set_timeout(tc, TCASE_TIMEOUT_S);
	tcase_add_loop_test(tc, test_guard_table, 0, (int)(sizeof guard_cases / sizeof guard_cases[0]));
	suite_add_tcase(s, tc);
	return s;
}
