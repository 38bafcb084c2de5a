/* cli.c - the command line: flags, --help, --version, overrides onto the config. */
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "confdiag.h"
#include "defaults.h"
#include "log.h"
#include "parse.h"

/* Values of the long-only options, above every char. */
enum {
	OPT_CHECK_CONFIG = 256,
	OPT_EMAIL,
	OPT_LIMIT,
	OPT_CONCURRENCY,
	OPT_STALE_AFTER,
	OPT_SHARD,
	OPT_SHARD_COUNT,
	OPT_LOG_FORMAT,
};

static const struct option long_options[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "dry-run", no_argument, NULL, 'n' },
	{ "check-config", no_argument, NULL, OPT_CHECK_CONFIG },
	{ "email", required_argument, NULL, OPT_EMAIL },
	{ "limit", required_argument, NULL, OPT_LIMIT },
	{ "concurrency", required_argument, NULL, OPT_CONCURRENCY },
	{ "stale-after", required_argument, NULL, OPT_STALE_AFTER },
	{ "shard", required_argument, NULL, OPT_SHARD },
	{ "shard-count", required_argument, NULL, OPT_SHARD_COUNT },
	{ "log-format", required_argument, NULL, OPT_LOG_FORMAT },
	{ "verbose", no_argument, NULL, 'v' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

/* '+': stop at the first operand (no argv permutation), so it is reported;
 * ':': a missing argument returns ':' and getopt prints nothing. */
static const char short_options[] = "+:c:nvqhV";

/* An argv fragment is echoed in a message up to CONFIG_ECHO_MAX bytes. */
#define ARG_ECHO_MAX CONFIG_ECHO_MAX

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints "refresher: problem" and the --help hint to stderr. Returns -1. */
static int usage_error(const char *fmt, ...)
{
	va_list ap;

	(void)fputs("refresher: ", stderr);
	va_start(ap, fmt);
	(void)vfprintf(stderr, fmt, ap);
	va_end(ap);
	(void)fputs("\nTry 'refresher --help'.\n", stderr);
	return -1;
}

/*
 * Copies the first n bytes of untrusted s into buf as printable ASCII
 * (other bytes as \xNN), cut with "..." past ARG_ECHO_MAX. Returns buf.
 */
static char *shown(char buf[ARG_ECHO_MAX + 8], const char *s, size_t n)
{
	size_t j = 0;

	for (size_t i = 0; i < n && s[i] != '\0'; i++) {
		unsigned char c = (unsigned char)s[i];
		if (j + 4 > ARG_ECHO_MAX) {
			memcpy(buf + j, "...", 3);
			j += 3;
			break;
		}
		if (c < 0x20 || c >= 0x7f)
			j += (size_t)snprintf(buf + j, 5, "\\x%02x", c);
		else
			buf[j++] = (char)c;
	}
	buf[j] = '\0';
	return buf;
}

/* "--name" of the option whose val is v, or NULL. */
static const char *long_name(int v)
{
	for (const struct option *o = long_options; o->name != NULL; o++)
		if (o->val == v)
			return o->name;
	return NULL;
}

/* Reports the option getopt refused with '?'; arg is argv[optind - 1]. */
static int bad_option(const char *arg)
{
	char buf[ARG_ECHO_MAX + 8], cands[256] = "";
	const char *name;
	size_t nlen, used = 0;
	int matches = 0;

	if (optopt != 0 && long_name(optopt) != NULL)
		return usage_error("option '--%s' does not take an argument", long_name(optopt));
	if (optopt != 0) {
		char ch = (char)optopt;
		return usage_error("unknown option '-%s'", shown(buf, &ch, 1));
	}
	/* An unknown or ambiguous long option; never echo what follows '='. */
	name = arg != NULL && strncmp(arg, "--", 2) == 0 ? arg + 2 : "";
	nlen = strcspn(name, "=");
	for (const struct option *o = long_options; o->name != NULL && nlen > 0; o++) {
		if (strncmp(o->name, name, nlen) != 0)
			continue;
		int w = snprintf(cands + used, sizeof cands - used, "%s--%s", matches ? ", " : "",
		    o->name);
		if (w > 0 && (size_t)w < sizeof cands - used)
			used += (size_t)w;
		matches++;
	}
	if (matches > 1)
		return usage_error("ambiguous option '--%s' (could be %s)", shown(buf, name, nlen),
		    cands);
	/* A typo of a long option, as config keys get: the nearest name within 2 edits. */
	char typed[64];
	size_t best_d = 3;
	const char *best = NULL;
	snprintf(typed, sizeof typed, "%.*s", (int)(nlen < sizeof typed ? nlen : sizeof typed - 1), name);
	for (const struct option *o = long_options; o->name != NULL && nlen > 0; o++) {
		size_t d = confdiag_edit_distance(typed, o->name);
		if (d < best_d) {
			best_d = d;
			best = o->name;
		}
	}
	if (best != NULL)
		return usage_error("unknown option '--%s' (did you mean '--%s'?)", shown(buf, name, nlen),
		    best);
	return usage_error("unknown option '--%s'", shown(buf, name, nlen));
}

/* Reads the shard index of a Kubernetes Indexed Job for --shard-count n. */
static int shard_from_env(struct cli *cli, long n)
{
	const char *env = getenv("JOB_COMPLETION_INDEX");
	char buf[ARG_ECHO_MAX + 8];
	long i;

	if (env == NULL || *env == '\0')
		return usage_error("--shard-count needs JOB_COMPLETION_INDEX in the environment "
				   "(set by a Kubernetes Indexed Job)");
	if (parse_long(env, 0, n - 1, &i) != 0)
		return usage_error("JOB_COMPLETION_INDEX must be an integer from 0 to %ld for "
				   "--shard-count %ld (got '%s')",
		    n - 1, n, shown(buf, env, strlen(env)));
	cli->shard_index = (int)i;
	cli->shard_count = (int)n;
	return 0;
}

/* An address for --email: non-empty, at most MAX_EMAIL_BYTES, no control bytes. */
static int email_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > MAX_EMAIL_BYTES)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f)
			return 0;
	return 1;
}

int cli_parse(int argc, char **argv, struct cli *cli)
{
	char buf[ARG_ECHO_MAX + 8];
	long shard_count_arg = 0, v;
	int shard_given = 0, verbose = 0, quiet = 0, c;

	memset(cli, 0, sizeof *cli);
	cli->stale_after_ms = -1;
	cli->log_format = -1;
	/* glibc: optind = 0 also resets getopt's hidden state (a half-read
	 * "-nv" bundle), so cli_parse can run more than once per process. */
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, short_options, long_options, NULL)) != -1) {
		switch (c) {
		case 'c':
			if (*optarg == '\0')
				return usage_error("--config needs a file name");
			cli->config_path = optarg;
			break;
		case 'n':
			cli->dry_run = 1;
			break;
		case OPT_CHECK_CONFIG:
			cli->check_config = 1;
			break;
		case OPT_EMAIL:
			if (!email_ok(optarg))
				return usage_error("--email needs an address of 1 to %d printable bytes",
				    MAX_EMAIL_BYTES);
			cli->email = optarg;
			break;
		case OPT_LIMIT:
			if (parse_long(optarg, 1, LONG_MAX, &v) != 0)
				return usage_error("--limit must be an integer >= 1 (got '%s')",
				    shown(buf, optarg, strlen(optarg)));
			cli->limit = v;
			break;
		case OPT_CONCURRENCY:
			if (parse_long(optarg, 1, MAX_CONCURRENCY, &v) != 0)
				return usage_error("--concurrency must be an integer from 1 to %d (got '%s')",
				    MAX_CONCURRENCY, shown(buf, optarg, strlen(optarg)));
			cli->concurrency = (int)v;
			break;
		case OPT_STALE_AFTER:
			if (parse_duration_ms(optarg, &v) != 0)
				return usage_error("--stale-after: bad duration '%s' (use e.g. 0, 500ms, "
						   "15s, 15m, 1h30m)",
				    shown(buf, optarg, strlen(optarg)));
			cli->stale_after_ms = v;
			break;
		case OPT_SHARD:
			if (parse_shard(optarg, &cli->shard_index, &cli->shard_count) != 0)
				return usage_error("--shard must be I/N with 0 <= I < N <= %d (got '%s')",
				    MAX_SHARD_COUNT, shown(buf, optarg, strlen(optarg)));
			shard_given = 1;
			break;
		case OPT_SHARD_COUNT:
			if (parse_long(optarg, 1, MAX_SHARD_COUNT, &shard_count_arg) != 0)
				return usage_error("--shard-count must be an integer from 1 to %d (got '%s')",
				    MAX_SHARD_COUNT, shown(buf, optarg, strlen(optarg)));
			break;
		case OPT_LOG_FORMAT:
			if (parse_name(optarg, log_format_names, &cli->log_format) != 0)
				return usage_error("--log-format must be text or json (got '%s')",
				    shown(buf, optarg, strlen(optarg)));
			break;
		case 'v':
			verbose = 1;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'h':
			cli->help = 1;
			break;
		case 'V':
			cli->version = 1;
			break;
		case ':':
			return usage_error("option '--%s' needs an argument",
			    long_name(optopt) ? long_name(optopt) : "?");
		default:
			return bad_option(optind > 0 && optind <= argc ? argv[optind - 1] : NULL);
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'",
		    shown(buf, argv[optind], strlen(argv[optind])));
	if (verbose && quiet)
		return usage_error("-v and -q cannot be used together");
	cli->verbosity = verbose ? 1 : quiet ? -1 : 0;
	if (shard_given && shard_count_arg != 0)
		return usage_error("--shard and --shard-count cannot be used together");
	if (shard_count_arg != 0 && shard_from_env(cli, shard_count_arg) != 0)
		return -1;
	if (cli->config_path == NULL) {
		const char *env = getenv("REFRESHER_CONFIG");
		cli->config_path = env != NULL && *env != '\0' ? env : DEFAULT_CONFIG_PATH;
		cli->config_from = env != NULL && *env != '\0' ? CONFIG_FROM_ENV : CONFIG_FROM_DEFAULT;
	}
	return 0;
}

void cli_usage(FILE *out)
{
	(void)fprintf(out,
	    "Usage: refresher [OPTION]...\n"
	    "Refreshes the due upstream session tokens stored in PostgreSQL, once.\n"
	    "\n"
	    "  -c, --config FILE           config file [$REFRESHER_CONFIG or %s]\n"
	    "  -n, --dry-run               list due rows; claim, call and write nothing\n"
	    "      --check-config          check the config: print 'config OK' or the errors\n"
	    "      --email ADDR            only this user's rows\n"
	    "      --limit N               at most N rows this run (N >= 1)\n"
	    "      --concurrency N         requests in flight, 1 to %d (overrides config)\n"
	    "      --stale-after DURATION  due after this long unrefreshed: 0, 500ms, 1h30m\n"
	    "      --shard I/N             only shard I of N (0 <= I < N <= %d)\n"
	    "      --shard-count N         N shards, I from $JOB_COMPLETION_INDEX\n"
	    "      --log-format text|json  log line format on stderr (overrides config)\n"
	    "  -v, --verbose               log debug events too\n"
	    "  -q, --quiet                 log only warnings, errors and the summary\n"
	    "  -h, --help                  print this help and exit\n"
	    "  -V, --version               print the version and exit\n"
	    "\n"
	    "Exit status:\n"
	    "  0  all claimed rows refreshed, logged out or superseded, or none was due\n"
	    "  1  at least one row failed (it stays due for the next run)\n"
	    "  2  usage or config error; nothing was touched\n"
	    "  3  database unreachable or schema missing\n"
	    "  4  stopped by SIGTERM/SIGINT after draining\n",
	    DEFAULT_CONFIG_PATH, MAX_CONCURRENCY, MAX_SHARD_COUNT);
}

void cli_apply(const struct cli *cli, struct config *cfg)
{
	if (cli->concurrency > 0)
		cfg->refresh.concurrency = cli->concurrency;
	if (cli->stale_after_ms >= 0)
		cfg->refresh.stale_after_ms = cli->stale_after_ms;
	if (cli->log_format >= 0)
		cfg->log.format = (enum log_format)cli->log_format;
	if (cli->verbosity > 0)
		cfg->log.level = LOG_LEVEL_DEBUG;
	else if (cli->verbosity < 0)
		cfg->log.level = LOG_LEVEL_WARN;
}
