/* test_confparts.c - config's parts: ${VAR} expansion, secrets, diagnostics, YAML walker, defaults. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capture.h"
#include "confdiag.h"
#include "config.h"
#include "confyaml.h"
#include "defaults.h"
#include "envexpand.h"
#include "log.h"
#include "parse.h"
#include "secrets.h"
#include "suites.h"

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))
/* What a literal secret looks like in these tests: it must never show. */
#define SECRET "s3cr3t-pw"
/* ENVEXPAND_MARK as a string, to write expected file texts. */
#define M "\x01"

static void env_setup(void)
{
	(void)setenv("CP_SET", "value", 1);
	(void)setenv("CP_EMPTY", "", 1);
	(void)setenv("CP_DOLLAR", "a$b${CP_SET}", 1);
	(void)unsetenv("CP_UNSET");
}

static void env_teardown(void)
{
	(void)unsetenv("CP_SET");
	(void)unsetenv("CP_EMPTY");
	(void)unsetenv("CP_DOLLAR");
}

/* ---- envexpand, envexpand_file_text ---- */

/* env: envexpand's result (NULL: fails with err); file: envexpand_file_text's. */
static const struct {
	const char *in;
	const char *env;
	const char *file;
	const char *err;
} expand_cases[] = {
	{ "", "", "", NULL },
	{ "plain", "plain", "plain", NULL },
	{ "${CP_SET}", "value", M, NULL },
	{ "a${CP_SET}b", "avalueb", "a" M "b", NULL },
	{ "${CP_EMPTY}", "", M, NULL },
	{ "${CP_EMPTY:-dflt}", "dflt", "dflt" M, NULL },
	{ "${CP_SET:-dflt}", "value", "dflt" M, NULL },
	{ "${CP_UNSET:-}", "", M, NULL },
	{ "${CP_UNSET:-a b}", "a b", "a b" M, NULL },
	/* what the environment holds is never expanded again */
	{ "${CP_DOLLAR}", "a$b${CP_SET}", M, NULL },
	/* '$' alone is literal, "$$" is one '$' */
	{ "pa$word", "pa$word", "pa$word", NULL },
	{ "$", "$", "$", NULL },
	{ "$$", "$", "$", NULL },
	{ "$${CP_SET}", "${CP_SET}", "${CP_SET}", NULL },
	{ "cost: 5$", "cost: 5$", "cost: 5$", NULL },
	/* refused, in both modes (file text needs no environment to refuse) */
	{ "${CP_UNSET}", NULL, M, "${CP_UNSET} is not set" },
	{ "${", NULL, NULL, "unterminated ${" },
	{ "${CP_SET", NULL, NULL, "unterminated ${" },
	{ "${}", NULL, NULL, "bad variable reference (use ${VAR} or ${VAR:-default})" },
	{ "${9X}", NULL, NULL, "bad variable reference (use ${VAR} or ${VAR:-default})" },
	{ "${CP_SET:=x}", NULL, NULL, "bad variable reference (use ${VAR} or ${VAR:-default})" },
	{ "${CP_UNSET:-${CP_SET}}", NULL, NULL, "nested ${ in a ${VAR:-default} is not supported" },
};

START_TEST(test_envexpand)
{
	char err[128] = "untouched";
	char *got = envexpand(expand_cases[_i].in, err, sizeof err);

	if (expand_cases[_i].env != NULL) {
		ck_assert_msg(got != NULL, "'%s' failed: %s", expand_cases[_i].in, err);
		ck_assert_str_eq(got, expand_cases[_i].env);
		ck_assert_str_eq(err, "");
	} else {
		ck_assert_msg(got == NULL, "'%s' gave '%s'", expand_cases[_i].in, got);
		ck_assert_str_eq(err, expand_cases[_i].err);
	}
	free(got);
}
END_TEST

START_TEST(test_envexpand_file_text)
{
	char err[128] = "untouched";
	char *got;

	/* The environment must not matter: the same answer with every variable unset. */
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1)
			env_teardown();
		got = envexpand_file_text(expand_cases[_i].in, err, sizeof err);
		if (expand_cases[_i].file != NULL) {
			ck_assert_msg(got != NULL, "'%s' failed: %s", expand_cases[_i].in, err);
			ck_assert_str_eq(got, expand_cases[_i].file);
		} else {
			ck_assert_msg(got == NULL, "'%s' gave '%s'", expand_cases[_i].in, got);
			ck_assert_str_eq(err, expand_cases[_i].err);
		}
		free(got);
	}
}
END_TEST

START_TEST(test_envexpand_limits)
{
	char err[128];
	char *big = malloc(CONFIG_MAX_VALUE_BYTES + 8);
	char *got;

	ck_assert_ptr_nonnull(big);
	/* A default that makes the file text one byte too long (its mark is the byte). */
	memcpy(big, "${X:-", 5);
	memset(big + 5, 'd', CONFIG_MAX_VALUE_BYTES);
	memcpy(big + 5 + CONFIG_MAX_VALUE_BYTES, "}", 2);
	got = envexpand_file_text(big, err, sizeof err);
	ck_assert_ptr_null(got);
	ck_assert_str_eq(err, "longer than 8192 bytes after ${VAR} expansion");
	/* ...while the run, with X unset, takes the default: exactly at the cap. */
	(void)unsetenv("X");
	got = envexpand(big, err, sizeof err);
	ck_assert_ptr_nonnull(got);
	ck_assert_uint_eq(strlen(got), CONFIG_MAX_VALUE_BYTES);
	free(got);
	free(big);
	/* No error buffer at all is fine. */
	ck_assert_ptr_null(envexpand("${", NULL, 0));
	ck_assert_ptr_null(envexpand_file_text("${", NULL, 0));
}
END_TEST

/* ---- secrets_is_literal, secrets_warn_readable ---- */

static const struct {
	const char *raw;
	int conninfo;
	int want;
} literal_cases[] = {
	{ "", 0, 0 },
	{ "${FP}", 0, 0 },
	{ "${FP:-}", 0, 0 },
	{ "${A}${B}", 0, 0 },
	{ "x${FP}", 0, 1 },
	{ "${FP:-" SECRET "}", 0, 1 },
	{ SECRET, 0, 1 },
	{ "$$", 0, 1 },
	{ "${", 0, 1 },   /* malformed: said rather than missed */
	{ M, 0, 1 },      /* the mark itself, written in the file */
	{ "${DATABASE_URL}", 1, 0 },
	{ "postgres://u@h/db", 1, 0 },
	{ "postgres://u:${PW}@h/db", 1, 0 },
	{ "host=h password=${PW} dbname=db", 1, 0 },
	{ "postgres://u:" SECRET "@h/db", 1, 1 },
	{ "host=h sslpassword=" SECRET, 1, 1 },
	{ "${DATABASE_URL:-postgres://u:" SECRET "@h/db}", 1, 1 },
	{ "not a conninfo", 1, 0 },
};

START_TEST(test_secrets_is_literal)
{
	ck_assert_msg(secrets_is_literal(literal_cases[_i].raw, literal_cases[_i].conninfo) ==
	        literal_cases[_i].want,
	    "'%s' (conninfo %d): want %d", literal_cases[_i].raw, literal_cases[_i].conninfo,
	    literal_cases[_i].want);
	/* The wrapper config's callers use says the same. */
	ck_assert_int_eq(config_secret_is_literal(literal_cases[_i].raw, literal_cases[_i].conninfo),
	    literal_cases[_i].want);
}
END_TEST

/* secrets_warn_readable's output for a file of the given mode; caller frees. */
static char *warn_for(mode_t mode, size_t n, int *warned)
{
	char path[] = "/tmp/confparts-XXXXXX";
	struct capture cap;
	int fd = mkstemp(path);
	char *out;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(close(fd), 0);
	ck_assert_int_eq(chmod(path, mode), 0);
	capture_start(&cap);
	*warned = secrets_warn_readable(path, n, "upstream.fingerprint", "${AIMHARDER_FINGERPRINT}");
	out = capture_end(&cap);
	ck_assert_int_eq(unlink(path), 0);
	return out;
}

START_TEST(test_secrets_warn_readable)
{
	int warned;
	char *out;

	out = warn_for(0600, 1, &warned);
	ck_assert_int_eq(warned, 0);
	ck_assert_str_eq(out, "");
	free(out);
	out = warn_for(0644, 0, &warned);
	ck_assert_int_eq(warned, 0);
	ck_assert_str_eq(out, "");
	free(out);
	out = warn_for(0640, 1, &warned);
	ck_assert_int_eq(warned, 1);
	ck_assert_ptr_nonnull(strstr(out, "mode 0640 lets other users read a literal secret "
					  "(upstream.fingerprint); chmod 600 it, or move the secret "
					  "to the environment (${AIMHARDER_FINGERPRINT})"));
	free(out);
	ck_assert_int_eq(secrets_warn_readable("/nonexistent/confparts.yaml", 1, "x", "y"), 0);
}
END_TEST

/* ---- confdiag ---- */

static const char *const sections[] = { "database", "upstream", "refresh", "retry", "log" };

static const struct {
	const char *key;
	const char *want; /* NULL: no suggestion */
} nearest_cases[] = {
	{ "databse", "database" },
	{ "upstraem", "upstream" },
	{ "retyr", "retry" },
	{ "lgo", NULL }, /* a swap is 2 edits: too many for 3 bytes */
	{ "database", "database" },
	{ "xyz", NULL },
	{ "", NULL },
	{ "refreshments", NULL }, /* more than 3 edits */
	{ "lo", "log" },
	{ "l", NULL }, /* 2 edits of 3 bytes: less than half left */
};

START_TEST(test_confdiag_nearest)
{
	const char *got = confdiag_nearest(nearest_cases[_i].key, sections, N(sections));

	if (nearest_cases[_i].want == NULL)
		ck_assert_msg(got == NULL, "'%s' gave '%s'", nearest_cases[_i].key, got);
	else
		ck_assert_pstr_eq(got, nearest_cases[_i].want);
}
END_TEST

static const struct {
	const char *in;
	const char *want;
} escape_cases[] = {
	{ "", "" },
	{ "plain", "plain" },
	{ "it's", "it\\'s" },
	{ "a\\b", "a\\\\b" },
	{ "tab\there", "tab\\x09here" },
	{ "\x7f\xff", "\\x7f\\xff" },
	{ "0123456789012345678901234567890123456789012345678901234567890123",
	  "0123456789012345678901234567890123456789012345678901234567890123" },
	{ "01234567890123456789012345678901234567890123456789012345678901234",
	  "0123456789012345678901234567890123456789012345678901234567890123..." },
	{ "012345678901234567890123456789012345678901234567890123456789012\x01",
	  "012345678901234567890123456789012345678901234567890123456789012..." },
};

START_TEST(test_confdiag_escape)
{
	char buf[CONFDIAG_ECHO_BUF];

	ck_assert_str_eq(confdiag_escape(buf, escape_cases[_i].in), escape_cases[_i].want);
	ck_assert_uint_le(strlen(buf), CONFIG_ECHO_MAX + 3);
}
END_TEST

START_TEST(test_confdiag_errlist_cap)
{
	struct errlist errs = { 0 };

	for (int i = 0; i < CONFIG_MAX_ERRORS + 10; i++)
		errlist_add(&errs, "e%d", i);
	ck_assert_uint_eq(errs.n, CONFIG_MAX_ERRORS);
	ck_assert_str_eq(errs.msgs[CONFIG_MAX_ERRORS - 1], "e49");
	errlist_add(NULL, "ignored");
	errlist_clear(&errs);
	ck_assert_uint_eq(errs.n, 0);
	ck_assert_ptr_null(errs.msgs);
	errlist_clear(NULL);
	ck_assert_uint_eq(confdiag_edit_distance("kitten", "sitting"), 3);
	ck_assert_uint_eq(config_edit_distance("kitten", "sitting"), 3);
}
END_TEST

/* ---- confyaml: the walker alone, with a handler that records what it saw ---- */

struct seen {
	char text[1024];
};

/* Records "path.key=value@line:col" for scalars; walks mappings; skips lists. */
static int record_entry(struct confyaml *y, void *ctx, const char *path, const char *key,
    const yaml_mark_t *kmark, yaml_event_t *val)
{
	struct seen *s = ctx;
	char item[256], full[128];
	size_t used = strlen(s->text);

	(void)snprintf(full, sizeof full, "%s%s%s", path, *path ? "." : "", key);
	if (val->type == YAML_MAPPING_START_EVENT)
		return confyaml_walk_mapping(y, val, full, record_entry, ctx);
	if (val->type != YAML_SCALAR_EVENT)
		return confyaml_wrong_type(y, val, full, "a single value");
	(void)snprintf(item, sizeof item, "%s%s=%s@%zu:%zu", used ? " " : "", full,
	    confyaml_is_null(val) ? "(null)" : (const char *)val->data.scalar.value,
	    kmark->line + 1, kmark->column + 1);
	(void)snprintf(s->text + used, sizeof s->text - used, "%s", item);
	yaml_event_delete(val);
	return 0;
}

static const struct {
	const char *yaml;
	int rc;
	const char *seen;
	const char *errs; /* joined with " | " */
} walk_cases[] = {
	{ "", 0, "", "" },
	{ "~\n", 0, "", "" },
	{ "a: 1\nb:\n  c: x\n  d: ~\n", 0, "a=1@1:1 b.c=x@3:3 b.d=(null)@4:3", "" },
	{ "a: 1\na: 2\n", 0, "a=1@1:1", "t.yaml:2:1: a: duplicate key (first at line 1)" },
	{ "a: [1, 2]\n", 0, "", "t.yaml:1:4: a: expected a single value, got a list" },
	{ "a: *x\n", 0, "", "t.yaml:1:4: a: expected a single value, got an alias (aliases are not supported)" },
	{ "[1]\n", 0, "", "t.yaml:1:1: top level: expected a mapping of sections, got a list" },
	{ "a: 1\n---\nb: 2\n", 0, "a=1@1:1", "t.yaml:2:1: only one YAML document is allowed" },
	{ "? [k]\n: v\n", 0, "", "t.yaml:1:3: keys must be plain strings, got a list" },
	{ "a:\n\tb: 1\n", -1, "",
	  "t.yaml:2:1: YAML syntax error: a tab character; YAML indents and separates with spaces only" },
	{ "a: {b: {c: {d: {e: {f: {g: {h: {i: {j: {k: {l: {m: {n: {o: {p: {q: 1}}}}}}}}}}}}}}}}}\n",
	  -1, "", "t.yaml:1:64: nested deeper than 16 levels" },
};

START_TEST(test_confyaml_walk)
{
	const char *yaml = walk_cases[_i].yaml;
	struct errlist errs = { 0 };
	struct seen seen = { "" };
	struct confyaml y;
	char joined[1024] = "";
	int rc;

	confyaml_init(&y, "t.yaml", yaml, strlen(yaml), &errs);
	rc = confyaml_walk(&y, record_entry, &seen);
	for (size_t i = 0; i < errs.n; i++) {
		size_t used = strlen(joined);
		(void)snprintf(joined + used, sizeof joined - used, "%s%s", i ? " | " : "", errs.msgs[i]);
	}
	ck_assert_msg(rc == walk_cases[_i].rc, "'%s': rc %d (%s)", yaml, rc, joined);
	ck_assert_str_eq(seen.text, walk_cases[_i].seen);
	ck_assert_str_eq(joined, walk_cases[_i].errs);
	ck_assert_uint_eq(y.nerr, errs.n);
	errlist_clear(&errs);
}
END_TEST

/* ---- the key table: defaults through the setters ---- */

/* Every row's default is accepted by its own setter, and a config keeps it. */
START_TEST(test_defaults_accepted_by_setters)
{
	size_t n = config_key_count();
	int required = 0;

	ck_assert_uint_gt(n, 30);
	for (size_t i = 0; i < n; i++) {
		char name[128], why[512] = "", a[4096], b[4096];
		const char *def = config_key_default(i);
		struct config *c = config_new();

		ck_assert_ptr_nonnull(c);
		ck_assert_ptr_nonnull(config_key_name(i, name, sizeof name));
		if (def == NULL) {
			/* Only database.url has no default (SPEC: "Every key has a default except
			 * database.url"). */
			ck_assert_str_eq(name, "database.url");
			required++;
			config_free(c);
			continue;
		}
		ck_assert_int_eq(config_key_get(c, i, a, sizeof a), 0);
		ck_assert_msg(config_key_set(c, i, def, why, sizeof why) == 0, "%s: default '%s': %s",
		    name, def, why);
		ck_assert_int_eq(config_key_get(c, i, b, sizeof b), 0);
		ck_assert_msg(strcmp(a, b) == 0, "%s: '%s' after its default, '%s' before", name, b, a);
		/* What a config holds reads back as text its setter takes again. */
		ck_assert_msg(config_key_set(c, i, a, why, sizeof why) == 0, "%s: '%s': %s", name, a, why);
		ck_assert_int_eq(config_key_get(c, i, b, sizeof b), 0);
		ck_assert_str_eq(a, b);
		config_free(c);
	}
	ck_assert_int_eq(required, 1);
	ck_assert_ptr_null(config_key_name(n, (char[8]){ 0 }, 8));
	ck_assert_ptr_null(config_key_default(n));
}
END_TEST

/* config_new holds exactly what loading a document that sets only database.url gives. */
START_TEST(test_defaults_equal_empty_document)
{
	static const char doc[] = "database:\n  url: postgres://h/db\n";
	struct errlist errs = { 0 };
	struct config *fresh = config_new(), *loaded = NULL;

	ck_assert_ptr_nonnull(fresh);
	ck_assert_int_eq(config_load_string("t.yaml", doc, strlen(doc), &loaded, &errs), 0);
	for (size_t i = 0; i < config_key_count(); i++) {
		char name[128], a[4096], b[4096];
		(void)config_key_name(i, name, sizeof name);
		if (strcmp(name, "database.url") == 0)
			continue;
		ck_assert_int_eq(config_key_get(fresh, i, a, sizeof a), 0);
		ck_assert_int_eq(config_key_get(loaded, i, b, sizeof b), 0);
		ck_assert_msg(strcmp(a, b) == 0, "%s: config_new '%s', loaded '%s'", name, a, b);
	}
	ck_assert_str_eq(fresh->database.url, "");
	ck_assert_uint_eq(fresh->literal_secrets, 0);
	/* A document with nothing in it is refused for the one key without a default. */
	config_free(loaded);
	ck_assert_int_eq(config_load_string("t.yaml", "", 0, &loaded, &errs), -1);
	ck_assert_uint_eq(errs.n, 1);
	ck_assert_str_eq(errs.msgs[0], "t.yaml: database.url: required");
	errlist_clear(&errs);
	config_free(fresh);
}
END_TEST

/* The text defaults say what the numbers in defaults.h and SPEC say. */
START_TEST(test_defaults_values)
{
	struct config *c = config_new();
	char why[256];

	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(c->retry.base_delay_ms, DEFAULT_BASE_DELAY_MS);
	ck_assert_int_eq(c->refresh.stale_after_ms, 15L * 60 * 1000);
	ck_assert_int_eq(c->refresh.ahead_ms, 5L * 60 * 1000);
	ck_assert_int_eq(c->database.outage_timeout_ms, 120L * 1000);
	ck_assert_int_eq(c->breaker.window, 50);
	ck_assert_int_eq(c->breaker.logout_min, 10);
	ck_assert(c->breaker.logout_share == 0.5);
	ck_assert(c->retry.budget == 0.2);
	ck_assert_int_eq(c->upstream.profile, PROFILE_AIMHARDER);
	ck_assert_int_eq(c->log.level, LOG_LEVEL_INFO);
	ck_assert_str_eq(c->database.columns.access_token, "");
	ck_assert_str_eq(c->database.columns.token, DEFAULT_COL_TOKEN);
	/* A setter refuses what the file may not say, and the field keeps its value. */
	for (size_t i = 0; i < config_key_count(); i++) {
		char name[128];
		(void)config_key_name(i, name, sizeof name);
		if (strcmp(name, "refresh.concurrency") == 0) {
			ck_assert_int_eq(config_key_set(c, i, "0", why, sizeof why), -1);
			ck_assert_str_eq(why, "must be an integer from 1 to 4096 (got '0')");
		} else if (strcmp(name, "log.format") == 0) {
			ck_assert_int_eq(config_key_set(c, i, "xml", why, sizeof why), -1);
			ck_assert_str_eq(why, "must be one of text, json (got 'xml')");
		} else if (strcmp(name, "database.columns") == 0) {
			ck_assert_int_eq(config_key_set(c, i, "nosuch=x", why, sizeof why), -1);
			ck_assert_str_eq(why, "unknown role 'nosuch'");
			ck_assert_int_eq(config_key_set(c, i, "id=", why, sizeof why), -1);
			ck_assert_str_eq(why, "must name a column");
		}
	}
	ck_assert_int_eq(c->refresh.concurrency, 32);
	ck_assert_int_eq(c->log.format, LOG_FORMAT_TEXT);
	ck_assert_str_eq(c->database.columns.id, DEFAULT_COL_ID);
	ck_assert_int_eq(config_key_set(c, config_key_count(), "x", why, sizeof why), -1);
	config_free(c);
}
END_TEST

/* log.format in the file and --log-format read names through the same table. */
START_TEST(test_log_format_names)
{
	int v = -1;

	ck_assert_int_eq(parse_name("text", log_format_names, &v), 0);
	ck_assert_int_eq(v, LOG_FORMAT_TEXT);
	ck_assert_int_eq(parse_name("json", log_format_names, &v), 0);
	ck_assert_int_eq(v, LOG_FORMAT_JSON);
	ck_assert_int_eq(parse_name("JSON", log_format_names, &v), -1);
	ck_assert_int_eq(parse_name("", log_format_names, &v), -1);
	ck_assert_int_eq(v, LOG_FORMAT_JSON); /* untouched on failure */
	ck_assert_int_eq(parse_name("warn", log_level_names, &v), 0);
	ck_assert_int_eq(v, LOG_LEVEL_WARN);
}
END_TEST

Suite *confparts_suite(void)
{
	Suite *s = suite_create("confparts");
	TCase *tc = tcase_create("envexpand");

	tcase_add_checked_fixture(tc, env_setup, env_teardown);
	tcase_add_loop_test(tc, test_envexpand, 0, N(expand_cases));
	tcase_add_loop_test(tc, test_envexpand_file_text, 0, N(expand_cases));
	tcase_add_test(tc, test_envexpand_limits);
	suite_add_tcase(s, tc);

	tc = tcase_create("secrets");
	tcase_add_loop_test(tc, test_secrets_is_literal, 0, N(literal_cases));
	tcase_add_test(tc, test_secrets_warn_readable);
	suite_add_tcase(s, tc);

	tc = tcase_create("confdiag");
	tcase_add_loop_test(tc, test_confdiag_nearest, 0, N(nearest_cases));
	tcase_add_loop_test(tc, test_confdiag_escape, 0, N(escape_cases));
	tcase_add_test(tc, test_confdiag_errlist_cap);
	suite_add_tcase(s, tc);

	tc = tcase_create("confyaml");
	tcase_add_loop_test(tc, test_confyaml_walk, 0, N(walk_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("defaults");
	tcase_add_test(tc, test_defaults_accepted_by_setters);
	tcase_add_test(tc, test_defaults_equal_empty_document);
	tcase_add_test(tc, test_defaults_values);
	tcase_add_test(tc, test_log_format_names);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);
	return s;
}
