/* sqlexpr.c - a small SQL lexer that tells whether an operator's expression is one expression. */
#include <stddef.h>
#include <string.h>

#include "sqlexpr.h"

static int is_ident_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	    (unsigned char)c >= 0x80;
}

static int is_ident_char(char c)
{
	return is_ident_start(c) || (c >= '0' && c <= '9') || c == '$';
}

/*
 * At s[0] == '$' outside quotes: the length of a dollar-quote delimiter
 * ("$$" or "$tag$"), or 0 when there is none.
 */
static size_t dollar_tag(const char *s)
{
	size_t i = 1;
	if (s[i] == '$')
		return 2;
	if (!is_ident_start(s[i]))
		return 0;
	while (is_ident_char(s[i]) && s[i] != '$')
		i++;
	return s[i] == '$' ? i + 1 : 0;
}

/*
 * After a string's closing quote at s[i - 1]: where the string goes on, as
 * PostgreSQL's lexer continues it (whitespace holding a newline, then
 * whitespace and line comments, then a quote), returned as the index of that
 * quote; 0 when it ends here.
 */
static size_t string_continues(const char *s, size_t i)
{
	int newline = 0;
	while (s[i] == ' ' || s[i] == '\t' || s[i] == '\f')
		i++;
	for (;;) {
		if (s[i] == '\n' || s[i] == '\r') {
			newline = 1;
			i++;
		} else if (newline && (s[i] == ' ' || s[i] == '\t' || s[i] == '\f')) {
			i++;
		} else if (newline && s[i] == '-' && s[i + 1] == '-') {
			while (s[i] != '\0' && s[i] != '\n' && s[i] != '\r')
				i++;
		} else {
			break;
		}
	}
	return newline && s[i] == '\'' ? i : 0;
}

const char *sqlexpr_problem(const char *s)
{
	long depth = 0;
	int tokens = 0;
	size_t i = 0;
	while (s[i] != '\0') {
		char c = s[i];
		char prev = i > 0 ? s[i - 1] : ' ';
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
			i++;
			continue;
		}
		if (c == '-' && s[i + 1] == '-') {
			/* PostgreSQL ends a line comment at a CR as at an LF. */
			while (s[i] != '\0' && s[i] != '\n' && s[i] != '\r')
				i++;
			continue;
		}
		if (c == '/' && s[i + 1] == '*') {
			long nest = 1;
			i += 2;
			while (s[i] != '\0' && nest > 0) {
				if (s[i] == '/' && s[i + 1] == '*') {
					nest++;
					i += 2;
				} else if (s[i] == '*' && s[i + 1] == '/') {
					nest--;
					i += 2;
				} else {
					i++;
				}
			}
			if (nest > 0)
				return "unterminated /* comment";
			continue;
		}
		tokens = 1;
		if (c == '\'') {
			/* E'...' takes backslash escapes; the E is the previous byte, alone. */
			int esc = i > 0 && (prev == 'E' || prev == 'e') && (i < 2 || !is_ident_char(s[i - 2]));
			for (i++;; i++) {
				if (s[i] == '\0')
					return "unterminated quoted string";
				if (esc && s[i] == '\\' && s[i + 1] != '\0') {
					i++;
				} else if (s[i] == '\'') {
					if (s[i + 1] == '\'') {
						i++;
						continue;
					}
					/* 'a'<newline>'b' is one string, in the first part's mode. */
					size_t next = string_continues(s, i + 1);
					if (next == 0)
						break;
					i = next;
				}
			}
			i++;
			continue;
		}
		if (c == '"') {
			for (i++;; i++) {
				if (s[i] == '\0')
					return "unterminated quoted identifier";
				if (s[i] == '"') {
					if (s[i + 1] != '"')
						break;
					i++;
				}
			}
			i++;
			continue;
		}
		if (c == '$' && !is_ident_char(prev)) {
			if (s[i + 1] >= '0' && s[i + 1] <= '9')
				return "must not use parameters ($1, $2, ...): the refresher's statements have their own";
			size_t tag = dollar_tag(s + i);
			if (tag > 0) {
				const char *end = NULL, *p = s + i + tag;
				while ((p = strchr(p, '$')) != NULL) {
					if (strncmp(p, s + i, tag) == 0) {
						end = p;
						break;
					}
					p++;
				}
				if (end == NULL)
					return "unterminated $$ quoted string";
				i = (size_t)(end - s) + tag;
				continue;
			}
		}
		if (c == ';')
			return "must be one expression, without ';'";
		if (c == '(') {
			depth++;
		} else if (c == ')') {
			if (--depth < 0)
				return "has a ')' without its '(': the expression must be one whole expression";
		}
		i++;
	}
	if (depth > 0)
		return "has a '(' without its ')'";
	if (!tokens)
		return "holds no expression (only blanks or comments)";
	return NULL;
}
