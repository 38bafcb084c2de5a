/* envexpand.h - ${VAR} and ${VAR:-default} in config values: from the environment or as written. */
#ifndef REFRESHER_ENVEXPAND_H
#define REFRESHER_ENVEXPAND_H

#include <stddef.h>

/*
 * Stands, in envexpand_file_text's result, for whatever the environment may
 * put there. No loaded config value holds it: the config's setters refuse
 * control characters.
 */
#define ENVEXPAND_MARK '\x01'

/*
 * Expands ${VAR} and ${VAR:-default} in s from the environment; "$$" is a
 * literal "$", and a '$' that starts neither "$$" nor "${" is literal too
 * (passwords with '$' survive). A default (after ":-") is taken literally up
 * to the first '}' and may not hold "${": nesting is refused rather than
 * half-supported. Values from the environment are inserted as they are, never
 * expanded again. The result is at most CONFIG_MAX_VALUE_BYTES.
 * Returns a new string (caller frees), or NULL with a message in err (err may
 * be NULL): "${DATABASE_URL} is not set", "unterminated ${", "out of memory"...
 */
char *envexpand(const char *s, char *err, size_t errlen);

/*
 * The same, but nothing is looked up: the result is what the file itself
 * says, each ${VAR} as ENVEXPAND_MARK and each ${VAR:-default} as its default
 * followed by ENVEXPAND_MARK (the default is in the file whether or not a run
 * uses it). Pure. Returns a new string (caller frees), or NULL as envexpand.
 */
char *envexpand_file_text(const char *s, char *err, size_t errlen);

#endif
