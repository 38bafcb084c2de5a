/* test_cli.c - tables of command lines and the struct cli or exact message they give. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "cli.h"
#include "config.h"
#include "defaults.h"
#include "suites.h"

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))
#define MAXARGS 8
#define HINT "\nTry 'refresher --help'.\n"

static void env_setup(void)
{
	(void)unsetenv("JOB_COMPLETION_INDEX");
	(void)unsetenv("REFRESHER_CONFIG");
}

static void env_teardown(void)
{
	env_setup();
}

/* Sets name to value, or unsets it when value is NULL. */
static void set_env(const char *name, const char *value)
{
	if (value != NULL)
		ck_assert_int_eq(setenv(name, value, 1), 0);
	else
		ck_assert_int_eq(unsetenv(name), 0);
}

/*
 * Runs cli_parse on the NULL-terminated args with stderr captured into err
 * (so failing rows print nothing to the test log). Returns cli_parse's result.
 */
static int run(const char *const *args, struct cli *cli, char *err, size_t errlen)
{
	char *argv[MAXARGS + 1];
	int argc = 0, r;
	struct capture c;
	char *out;

	while (argc < MAXARGS && args[argc] != NULL) {
		argv[argc] = (char *)args[argc];
		argc++;
	}
	argv[argc] = NULL;
	capture_start(&c);
	r = cli_parse(argc, argv, cli);
	out = capture_end(&c);
	(void)snprintf(err, errlen, "%s", out);
	free(out);
	return r;
}

/* A struct cli as parsed from no flags; rows name the fields they change. */
#define DEF_PATH .config_path = DEFAULT_CONFIG_PATH
#define NO_STALE .stale_after_ms = -1
#define NO_FORMAT .log_format = -1
#define BASE DEF_PATH, NO_STALE, NO_FORMAT

static const struct {
	const char *args[MAXARGS];
	const char *job_index;  /* JOB_COMPLETION_INDEX; NULL = unset */
	const char *config_env; /* REFRESHER_CONFIG; NULL = unset */
	struct cli want;
} ok_cases[] = {
	{ { "refresher" }, NULL, NULL, { BASE } },
	{ { "refresher", "-c", "/etc/r.yaml" }, NULL, NULL, { NO_STALE, NO_FORMAT, .config_path = "/etc/r.yaml" } },
	{ { "refresher", "--config", "a.yaml" }, NULL, NULL, { NO_STALE, NO_FORMAT, .config_path = "a.yaml" } },
	{ { "refresher", "--config=b.yaml" }, NULL, NULL, { NO_STALE, NO_FORMAT, .config_path = "b.yaml" } },
	{ { "refresher", "-cc.yaml" }, NULL, NULL, { NO_STALE, NO_FORMAT, .config_path = "c.yaml" } },
	{ { "refresher" }, NULL, "/env.yaml", { NO_STALE, NO_FORMAT, .config_path = "/env.yaml" } },
	{ { "refresher", "-c", "x.yaml" }, NULL, "/env.yaml", { NO_STALE, NO_FORMAT, .config_path = "x.yaml" } },
	{ { "refresher" }, NULL, "", { BASE } },
	{ { "refresher", "-n" }, NULL, NULL, { DEF_PATH, NO_STALE, NO_FORMAT, .dry_run = 1 } },
	{ { "refresher", "--dry-run" }, NULL, NULL, { DEF_PATH, NO_STALE, NO_FORMAT, .dry_run = 1 } },
	{ { "refresher", "--dry" }, NULL, NULL, { DEF_PATH, NO_STALE, NO_FORMAT, .dry_run = 1 } },
	{ { "refresher", "--check-config" }, NULL, NULL, { DEF_PATH, NO_STALE, NO_FORMAT, .check_config = 1 } },
	{ { "refresher", "--email", "a@b.c" }, NULL, NULL, { DEF_PATH, NO_STALE, NO_FORMAT, .email = "a@b.c" } },
	{ { "refresher", "--email=x@y" }, NULL, NULL, { DEF_PATH, NO_STALE, NO_FORMAT, .email = "x@y" } },
	{ { "refresher", "--limit", "1" }, NULL, NULL, { DEF_PATH, NO_STALE, NO_FORMAT, .limit = 1 } },
	{ { "refresher", "--limit=9223372036854775807" }, NULL, NULL,
	  { DEF_PATH, NO_STALE, NO_FORMAT, .limit = 9223372036854775807L } },
	{ { "refresher", "--limit", "5", "--limit", "6" }, NULL, NULL, { DEF_PATH, NO_STALE, NO_FORMAT, .limit = 6 } },
	{ { "refresher", "--concurrency", "1" }, NULL, NULL, { DEF_PATH, NO_STALE, NO_FORMAT, .concurrency = 1 } },
	{ { "refresher", "--concurrency", "4096" }, NULL, NULL, { DEF_PATH, NO_STALE, NO_FORMAT, .concurrency = 4096 } },
	{ { "refresher", "--stale-after", "0" }, NULL, NULL, { DEF_PATH, NO_FORMAT, .stale_after_ms = 0 } },
	{ { "refresher", "--stale-after", "1h30m" }, NULL, NULL, { DEF_PATH, NO_FORMAT, .stale_after_ms = 5400000 } },
	{ { "refresher", "--stale-after=500ms" }, NULL, NULL, { DEF_PATH, NO_FORMAT, .stale_after_ms = 500 } },
	{ { "refresher", "--shard", "3/4" }, NULL, NULL,
	  { DEF_PATH, NO_STALE, NO_FORMAT, .shard_index = 3, .shard_count = 4 } },
	{ { "refresher", "--shard", "0/1" }, "7", NULL, { DEF_PATH, NO_STALE, NO_FORMAT, .shard_index = 0, .shard_count = 1 } },
	{ { "refresher", "--shard-count", "4" }, "3", NULL,
	  { DEF_PATH, NO_STALE, NO_FORMAT, .shard_index = 3, .shard_count = 4 } },
	{ { "refresher", "--shard-count=1" }, "0", NULL, { DEF_PATH, NO_STALE, NO_FORMAT, .shard_index = 0, .shard_count = 1 } },
	{ { "refresher", "--log-format", "json" }, NULL, NULL, { DEF_PATH, NO_STALE, .log_format = LOG_FORMAT_JSON } },
	{ { "refresher", "--log-format=text" }, NULL, NULL, { DEF_PATH, NO_STALE, .log_format = LOG_FORMAT_TEXT } },
	{ { "refresher", "-v" }, NULL, NULL, { DEF_PATH, NO_STALE, NO_FORMAT, .verbosity = 1 } },
	{ { "refresher", "--verbose" }, NULL, NULL, { DEF_PATH, NO_STALE, NO_FORMAT, .verbosity = 1 } },
	{ { "refresher", "-vv" }, NULL, NULL, { DEF_PATH, NO_STALE, NO_FORMAT, .verbosity = 1 } },
	{ { "refresher", "-q" }, NULL, NULL, { DEF_PATH, NO_STALE, NO_FORMAT, .verbosity = -1 } },
	{ { "refresher", "--quiet" }, NULL, NULL, { DEF_PATH, NO_STALE, NO_FORMAT, .verbosity = -1 } },
	{ { "refresher", "-h" }, NULL, NULL, { DEF_PATH, NO_STALE, NO_FORMAT, .help = 1 } },
	{ { "refresher", "--help" }, NULL, NULL, { DEF_PATH, NO_STALE, NO_FORMAT, .help = 1 } },
	{ { "refresher", "-V" }, NULL, NULL, { DEF_PATH, NO_STALE, NO_FORMAT, .version = 1 } },
	{ { "refresher", "--version" }, NULL, NULL, { DEF_PATH, NO_STALE, NO_FORMAT, .version = 1 } },
	{ { "refresher", "-nqc", "d.yaml" }, NULL, NULL,
	  { NO_STALE, NO_FORMAT, .dry_run = 1, .verbosity = -1, .config_path = "d.yaml" } },
	{ { "refresher", "--" }, NULL, NULL, { BASE } },
	{ { "refresher", "-n", "--check-config", "--email", "e@f", "--limit", "3", "-v" }, NULL, NULL,
	  { DEF_PATH, NO_STALE, NO_FORMAT, .dry_run = 1, .check_config = 1, .email = "e@f", .limit = 3, .verbosity = 1 } },
};

static void assert_str_or_null(const char *got, const char *want)
{
	if (want == NULL)
		ck_assert_ptr_null(got);
	else
		ck_assert_str_eq(got, want);
}

START_TEST(test_cli_ok)
{
	struct cli cli;
	char err[1024];
	const struct cli *w = &ok_cases[_i].want;

	set_env("JOB_COMPLETION_INDEX", ok_cases[_i].job_index);
	set_env("REFRESHER_CONFIG", ok_cases[_i].config_env);
	ck_assert_msg(run(ok_cases[_i].args, &cli, err, sizeof err) == 0, "row %d: %s", _i, err);
	ck_assert_str_eq(err, "");
	assert_str_or_null(cli.config_path, w->config_path);
	ck_assert_int_eq(cli.dry_run, w->dry_run);
	ck_assert_int_eq(cli.check_config, w->check_config);
	assert_str_or_null(cli.email, w->email);
	ck_assert_int_eq(cli.limit, w->limit);
	ck_assert_int_eq(cli.concurrency, w->concurrency);
	ck_assert_int_eq(cli.stale_after_ms, w->stale_after_ms);
	ck_assert_int_eq(cli.shard_index, w->shard_index);
	ck_assert_int_eq(cli.shard_count, w->shard_count);
	ck_assert_int_eq(cli.log_format, w->log_format);
	ck_assert_int_eq(cli.verbosity, w->verbosity);
	ck_assert_int_eq(cli.help, w->help);
	ck_assert_int_eq(cli.version, w->version);
}
END_TEST

static const struct {
	const char *args[MAXARGS];
	const char *job_index;
	const char *want; /* the whole of stderr */
} error_cases[] = {
	{ { "refresher", "foo" }, NULL, "refresher: unexpected argument 'foo'" HINT },
	{ { "refresher", "-n", "foo", "-v" }, NULL, "refresher: unexpected argument 'foo'" HINT },
	{ { "refresher", "--", "-n" }, NULL, "refresher: unexpected argument '-n'" HINT },
	{ { "refresher", "\x1b[31m" }, NULL, "refresher: unexpected argument '\\x1b[31m'" HINT },
	{ { "refresher", "-x" }, NULL, "refresher: unknown option '-x'" HINT },
	{ { "refresher", "-nx" }, NULL, "refresher: unknown option '-x'" HINT },
	{ { "refresher", "-\x01" }, NULL, "refresher: unknown option '-\\x01'" HINT },
	{ { "refresher", "--bogus" }, NULL, "refresher: unknown option '--bogus'" HINT },
	{ { "refresher", "--bogus=s3cr3t" }, NULL, "refresher: unknown option '--bogus'" HINT },
	/* A typo of a long option gets the nearest one, as config keys do. */
	{ { "refresher", "--dryrun" }, NULL, "refresher: unknown option '--dryrun' (did you mean '--dry-run'?)" HINT },
	{ { "refresher", "--concurency", "4" }, NULL,
	  "refresher: unknown option '--concurency' (did you mean '--concurrency'?)" HINT },
	{ { "refresher", "--check-confg" }, NULL,
	  "refresher: unknown option '--check-confg' (did you mean '--check-config'?)" HINT },
	{ { "refresher", "--dryrun=s3cr3t" }, NULL, "refresher: unknown option '--dryrun' (did you mean '--dry-run'?)" HINT },
	{ { "refresher", "--con" }, NULL,
	  "refresher: ambiguous option '--con' (could be --config, --concurrency)" HINT },
	{ { "refresher", "--help=1" }, NULL, "refresher: option '--help' does not take an argument" HINT },
	{ { "refresher", "--dry-run=yes" }, NULL,
	  "refresher: option '--dry-run' does not take an argument" HINT },
	{ { "refresher", "-c" }, NULL, "refresher: option '--config' needs an argument" HINT },
	{ { "refresher", "--limit" }, NULL, "refresher: option '--limit' needs an argument" HINT },
	{ { "refresher", "--shard-count" }, NULL,
	  "refresher: option '--shard-count' needs an argument" HINT },
	{ { "refresher", "-c", "" }, NULL, "refresher: --config needs a file name" HINT },
	{ { "refresher", "--limit", "0" }, NULL, "refresher: --limit must be an integer >= 1 (got '0')" HINT },
	{ { "refresher", "--limit", "-1" }, NULL, "refresher: --limit must be an integer >= 1 (got '-1')" HINT },
	{ { "refresher", "--limit", "" }, NULL, "refresher: --limit must be an integer >= 1 (got '')" HINT },
	{ { "refresher", "--limit", "1x" }, NULL, "refresher: --limit must be an integer >= 1 (got '1x')" HINT },
	{ { "refresher", "--limit", " 1" }, NULL, "refresher: --limit must be an integer >= 1 (got ' 1')" HINT },
	{ { "refresher", "--limit", "99999999999999999999" }, NULL,
	  "refresher: --limit must be an integer >= 1 (got '99999999999999999999')" HINT },
	{ { "refresher", "--concurrency", "0" }, NULL,
	  "refresher: --concurrency must be an integer from 1 to 4096 (got '0')" HINT },
	{ { "refresher", "--concurrency", "4097" }, NULL,
	  "refresher: --concurrency must be an integer from 1 to 4096 (got '4097')" HINT },
	{ { "refresher", "--stale-after", "15x" }, NULL,
	  "refresher: --stale-after: bad duration '15x' (use e.g. 0, 500ms, 15s, 15m, 1h30m)" HINT },
	{ { "refresher", "--stale-after", "-1s" }, NULL,
	  "refresher: --stale-after: bad duration '-1s' (use e.g. 0, 500ms, 15s, 15m, 1h30m)" HINT },
	{ { "refresher", "--stale-after", "" }, NULL,
	  "refresher: --stale-after: bad duration '' (use e.g. 0, 500ms, 15s, 15m, 1h30m)" HINT },
	{ { "refresher", "--shard", "4/4" }, NULL,
	  "refresher: --shard must be I/N with 0 <= I < N <= 65536 (got '4/4')" HINT },
	{ { "refresher", "--shard", "1" }, NULL,
	  "refresher: --shard must be I/N with 0 <= I < N <= 65536 (got '1')" HINT },
	{ { "refresher", "--shard", "-1/4" }, NULL,
	  "refresher: --shard must be I/N with 0 <= I < N <= 65536 (got '-1/4')" HINT },
	{ { "refresher", "--shard-count", "0" }, "0",
	  "refresher: --shard-count must be an integer from 1 to 65536 (got '0')" HINT },
	{ { "refresher", "--shard-count", "65537" }, "0",
	  "refresher: --shard-count must be an integer from 1 to 65536 (got '65537')" HINT },
	{ { "refresher", "--shard-count", "4" }, NULL,
	  "refresher: --shard-count needs JOB_COMPLETION_INDEX in the environment (set by a "
	  "Kubernetes Indexed Job)" HINT },
	{ { "refresher", "--shard-count", "4" }, "",
	  "refresher: --shard-count needs JOB_COMPLETION_INDEX in the environment (set by a "
	  "Kubernetes Indexed Job)" HINT },
	{ { "refresher", "--shard-count", "4" }, "4",
	  "refresher: JOB_COMPLETION_INDEX must be an integer from 0 to 3 for --shard-count 4 "
	  "(got '4')" HINT },
	{ { "refresher", "--shard-count", "4" }, "-1",
	  "refresher: JOB_COMPLETION_INDEX must be an integer from 0 to 3 for --shard-count 4 "
	  "(got '-1')" HINT },
	{ { "refresher", "--shard-count", "4" }, "x",
	  "refresher: JOB_COMPLETION_INDEX must be an integer from 0 to 3 for --shard-count 4 "
	  "(got 'x')" HINT },
	{ { "refresher", "--shard", "0/2", "--shard-count", "2" }, "1",
	  "refresher: --shard and --shard-count cannot be used together" HINT },
	{ { "refresher", "--log-format", "xml" }, NULL,
	  "refresher: --log-format must be text or json (got 'xml')" HINT },
	{ { "refresher", "-v", "-q" }, NULL, "refresher: -v and -q cannot be used together" HINT },
	{ { "refresher", "--email", "" }, NULL,
	  "refresher: --email needs an address of 1 to 255 printable bytes" HINT },
	{ { "refresher", "--email", "a@b\n" }, NULL,
	  "refresher: --email needs an address of 1 to 255 printable bytes" HINT },
	{ { "refresher", "--limit",
	    "1111111111222222222233333333334444444444555555555566666666667777777777" }, NULL,
	  "refresher: --limit must be an integer >= 1 (got "
	  "'1111111111222222222233333333334444444444555555555566666666667...')" HINT },
};

START_TEST(test_cli_errors)
{
	struct cli cli;
	char err[1024];

	set_env("JOB_COMPLETION_INDEX", error_cases[_i].job_index);
	ck_assert_int_eq(run(error_cases[_i].args, &cli, err, sizeof err), -1);
	ck_assert_str_eq(err, error_cases[_i].want);
}
END_TEST

START_TEST(test_cli_email_too_long)
{
	char email[MAX_EMAIL_BYTES + 2], err[1024];
	const char *args[] = { "refresher", "--email", email, NULL };
	struct cli cli;

	memset(email, 'a', MAX_EMAIL_BYTES);
	email[MAX_EMAIL_BYTES] = '\0';
	ck_assert_int_eq(run(args, &cli, err, sizeof err), 0);
	ck_assert_uint_eq(strlen(cli.email), MAX_EMAIL_BYTES);
	email[MAX_EMAIL_BYTES] = 'a';
	email[MAX_EMAIL_BYTES + 1] = '\0';
	ck_assert_int_eq(run(args, &cli, err, sizeof err), -1);
}
END_TEST

/* getopt keeps state between calls: a parse that failed mid-bundle must not
 * leak into the next one. */
START_TEST(test_cli_repeatable)
{
	const char *bad[] = { "refresher", "-nxv", NULL };
	const char *good[] = { "refresher", "-q", NULL };
	const char *none[] = { "refresher", NULL };
	struct cli cli;
	char err[1024];

	ck_assert_int_eq(run(bad, &cli, err, sizeof err), -1);
	ck_assert_int_eq(run(good, &cli, err, sizeof err), 0);
	ck_assert_int_eq(cli.dry_run, 0);
	ck_assert_int_eq(cli.verbosity, -1);
	ck_assert_int_eq(run(none, &cli, err, sizeof err), 0);
	ck_assert_int_eq(cli.verbosity, 0);
	ck_assert_int_eq(run(none, &cli, err, sizeof err), 0);
}
END_TEST

START_TEST(test_cli_no_argv)
{
	char *argv[] = { NULL };
	struct cli cli;

	ck_assert_int_eq(cli_parse(0, argv, &cli), 0);
	ck_assert_str_eq(cli.config_path, DEFAULT_CONFIG_PATH);
}
END_TEST

static const struct {
	struct cli cli;
	int concurrency;
	long stale_after_ms;
	enum log_format format;
	enum log_level level;
} apply_cases[] = {
	{ { BASE }, 32, 15 * 60 * 1000, LOG_FORMAT_TEXT, LOG_LEVEL_INFO },
	{ { DEF_PATH, NO_STALE, NO_FORMAT, .concurrency = 7 }, 7, 15 * 60 * 1000, LOG_FORMAT_TEXT, LOG_LEVEL_INFO },
	{ { DEF_PATH, NO_FORMAT, .stale_after_ms = 0 }, 32, 0, LOG_FORMAT_TEXT, LOG_LEVEL_INFO },
	{ { DEF_PATH, NO_FORMAT, .stale_after_ms = 1000 }, 32, 1000, LOG_FORMAT_TEXT, LOG_LEVEL_INFO },
	{ { DEF_PATH, NO_STALE, .log_format = LOG_FORMAT_JSON }, 32, 15 * 60 * 1000, LOG_FORMAT_JSON, LOG_LEVEL_INFO },
	{ { DEF_PATH, NO_STALE, NO_FORMAT, .verbosity = 1 }, 32, 15 * 60 * 1000, LOG_FORMAT_TEXT, LOG_LEVEL_DEBUG },
	{ { DEF_PATH, NO_STALE, NO_FORMAT, .verbosity = -1 }, 32, 15 * 60 * 1000, LOG_FORMAT_TEXT, LOG_LEVEL_WARN },
	{ { DEF_PATH, NO_STALE, NO_FORMAT, .dry_run = 1, .limit = 5, .shard_count = 2 }, 32, 15 * 60 * 1000, LOG_FORMAT_TEXT,
	  LOG_LEVEL_INFO },
};

START_TEST(test_cli_apply)
{
	struct config *cfg = config_new();

	ck_assert_ptr_nonnull(cfg);
	cli_apply(&apply_cases[_i].cli, cfg);
	ck_assert_int_eq(cfg->refresh.concurrency, apply_cases[_i].concurrency);
	ck_assert_int_eq(cfg->refresh.stale_after_ms, apply_cases[_i].stale_after_ms);
	ck_assert_int_eq(cfg->log.format, apply_cases[_i].format);
	ck_assert_int_eq(cfg->log.level, apply_cases[_i].level);
	config_free(cfg);
}
END_TEST

/* Every flag has its line, and every exit code is explained. */
static const char *const usage_lines[] = {
	"Usage: refresher [OPTION]...\n",
	"  -c, --config FILE ",
	"  -n, --dry-run ",
	"      --check-config ",
	"      --email ADDR ",
	"      --limit N ",
	"      --concurrency N ",
	"      --stale-after DURATION ",
	"      --shard I/N ",
	"      --shard-count N ",
	"      --log-format text|json ",
	"  -v, --verbose ",
	"  -q, --quiet ",
	"  -h, --help ",
	"  -V, --version ",
	"\n  0  all claimed rows refreshed",
	"\n  1  at least one row failed",
	"\n  2  usage or config error",
	"\n  3  database unreachable or schema missing",
	"\n  4  stopped by SIGTERM/SIGINT",
};

START_TEST(test_cli_usage)
{
	char text[4096];
	FILE *tmp = tmpfile();
	size_t n;

	ck_assert_ptr_nonnull(tmp);
	cli_usage(tmp);
	rewind(tmp);
	n = fread(text, 1, sizeof text - 1, tmp);
	text[n] = '\0';
	ck_assert_int_eq(fclose(tmp), 0);
	ck_assert_msg(strstr(text, usage_lines[_i]) != NULL, "help lacks '%s'", usage_lines[_i]);
	/* No line wider than a terminal. */
	for (char *line = text, *end; *line != '\0'; line = end + 1) {
		end = strchr(line, '\n');
		ck_assert_ptr_nonnull(end);
		ck_assert_int_le(end - line, 80);
	}
}
END_TEST

Suite *cli_suite(void)
{
	Suite *s = suite_create("cli");
	TCase *tc = tcase_create("tables");

	tcase_add_checked_fixture(tc, env_setup, env_teardown);
	tcase_add_loop_test(tc, test_cli_ok, 0, N(ok_cases));
	tcase_add_loop_test(tc, test_cli_errors, 0, N(error_cases));
	tcase_add_test(tc, test_cli_email_too_long);
	tcase_add_test(tc, test_cli_repeatable);
	tcase_add_test(tc, test_cli_no_argv);
	tcase_add_loop_test(tc, test_cli_apply, 0, N(apply_cases));
	tcase_add_loop_test(tc, test_cli_usage, 0, N(usage_lines));
	suite_add_tcase(s, tc);
	return s;
}
