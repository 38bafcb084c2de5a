/* sqlexpr.h - checks of an operator's SQL boolean expression (database.where, refresh.keep_when). */
#ifndef REFRESHER_SQLEXPR_H
#define REFRESHER_SQLEXPR_H

/*
 * The refresher places such an expression, in parentheses and on lines of
 * its own, inside its statements. Pure: returns NULL when s reads as one
 * expression, else a static one-line reason: parentheses that do not balance
 * outside quotes and comments (so "a) OR (b" cannot widen the statement), a
 * ';', a $n parameter (it would bind to the refresher's own parameters), an
 * unterminated quote or comment, or nothing but blanks and comments.
 * Quotes: '...', E'...' (backslash escapes), "...", $tag$...$tag$; comments:
 * -- to the end of the line, nested block comments.
 */
const char *sqlexpr_problem(const char *s);

#endif
