/* form.h - application/x-www-form-urlencoded encoding. */
#ifndef REFRESHER_FORM_H
#define REFRESHER_FORM_H

#include <stddef.h>

/*
 * Appends "name=value" (with a leading '&' unless *buf is empty) to the
 * heap string *buf (may be NULL), both escaped: ALPHA / DIGIT / "-._*" kept,
 * space as '+', every other byte as %XX (uppercase). Returns 0, or -1 on OOM
 * (*buf is then freed and NULL).
 */
int form_append(char **buf, const char *name, const char *value)
    __attribute__((warn_unused_result));

/* The escaping of form_append for one string. Caller frees; NULL on OOM. */
char *form_escape(const char *s);

#endif
