/* main.c - refresher: load the config, open the database, run one sweep, report, exit with a code. */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "cli.h"
#include "config.h"
#include "db.h"
#include "defaults.h"
#include "log.h"
#include "metrics.h"
#include "notify.h"
#include "profile.h"
#include "report.h"
#include "sweep.h"

/*
 * The config file is not there: says where refresher looked, how to name
 * another, and where the installed example is (beside the binary, in
 * ../share/refresher/, when there is one).
 */
static void say_where_config(const struct cli *cli)
{
	char exe[PATH_MAX], example[PATH_MAX + 64];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	fprintf(stderr, "refresher: no config file %s (%s); name one with -c FILE or"
			" REFRESHER_CONFIG=FILE\n", cli->config_path,
	    cli->config_from == CONFIG_FROM_ENV	      ? "from REFRESHER_CONFIG"
	    : cli->config_from == CONFIG_FROM_DEFAULT ? "the default: refresher.yaml in the current directory"
						      : "from -c");
	if (n > 0) {
		exe[n] = '\0';
		char *slash = strrchr(exe, '/');
		if (slash != NULL) {
			*slash = '\0';
			snprintf(example, sizeof(example), "%s/../share/refresher/refresher.yaml", exe);
			char real[PATH_MAX];
			if (realpath(example, real) != NULL)
				fprintf(stderr, "refresher: a commented example with every key: %s\n", real);
		}
	}
}

/* Loads and validates the config; prints every error. Returns the config or NULL. */
static struct config *load_config(const struct cli *cli)
{
	struct errlist errs = { NULL, 0 };
	struct config *cfg = NULL;
	if (config_load(cli->config_path, &cfg, &errs) != 0) {
		/* Lines for humans; with --log-format json, log events like every other line. */
		if (cli->log_format == LOG_FORMAT_JSON) {
			log_init(LOG_FORMAT_JSON, LOG_LEVEL_ERROR);
			for (size_t i = 0; i < errs.n; i++)
				log_error("config", "%s", errs.msgs[i]);
			log_error("config", "%zu error%s in the configuration; nothing was touched", errs.n,
			    errs.n == 1 ? "" : "s");
			errlist_clear(&errs);
			return NULL;
		}
		for (size_t i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.msgs[i]);
		if (access(cli->config_path, F_OK) != 0)
			say_where_config(cli);
		else
			fprintf(stderr, "refresher: %zu error%s in the configuration; nothing was touched\n",
			    errs.n, errs.n == 1 ? "" : "s");
		errlist_clear(&errs);
		return NULL;
	}
	errlist_clear(&errs);
	return cfg;
}

/*
 * What every run that got as far as the database leaves behind: the metrics
 * file and, on a non-zero exit, the webhook. Neither changes the exit code.
 */
static void after_run(const struct config *cfg, const struct sweep_stats *st, int rc)
{
	if (cfg->metrics.textfile[0] != '\0' && metrics_write(cfg->metrics.textfile, st, rc) != 0)
		log_debug("metrics", "metrics file not written; the exit code stays %d", rc);
	if (rc != EXIT_OK && cfg->notify.webhook_url[0] != '\0')
		(void)notify_send(cfg->notify.webhook_url, st, rc);
}

static int run(const struct cli *cli, struct config *cfg)
{
	char err[2048];
	struct db_filter filter = { cli->email, cli->shard_index, cli->shard_count,
		cfg->refresh.stale_after_ms, cli->dry_run };
	struct sweep_stats st;
	enum db_open_status why;
	int rc;
	memset(&st, 0, sizeof(st));
	struct db *db = db_open(cfg, &filter, &why, err, sizeof(err));
	if (db == NULL) {
		rc = why == DB_OPEN_CONFIG ? EXIT_CONFIG : EXIT_DATABASE;
		log_error(why == DB_OPEN_CONFIG ? "config" : "db", "%s", err);
		if (why == DB_OPEN_CONFIG)
			log_error("config", "the database rejects the configuration; nothing was touched");
		if (!cli->dry_run)
			after_run(cfg, &st, rc);
		return rc;
	}
	if (cli->dry_run) {
		long n = db_list_due(db, cli->limit);
		db_close(db);
		if (n < 0)
			return EXIT_DATABASE;
		log_info("dry-run", "%ld row%s due; nothing claimed, called or written", n, n == 1 ? "" : "s");
		return EXIT_OK;
	}
	sweep_install_signals();
	rc = sweep_run(cfg, db, cli->limit, &st);
	report_summary(&st, rc);
	db_close(db);
	after_run(cfg, &st, rc);
	return rc;
}

int main(int argc, char **argv)
{
	struct cli cli;
	int rc;
	/*
	 * Large, short-lived buffers (a write's array literals, a claim's result)
	 * come from mmap and go back when freed. glibc would otherwise raise this
	 * threshold after the first such free and serve the next ones from the
	 * heap, which then stays at its high-water mark (peak RSS).
	 */
	(void)mallopt(M_MMAP_THRESHOLD, MALLOC_MMAP_THRESHOLD);
	if (cli_parse(argc, argv, &cli) != 0)
		return EXIT_CONFIG;
	if (cli.help) {
		cli_usage(stdout);
		return EXIT_OK;
	}
	if (cli.version) {
		printf("refresher %s\n", REFRESHER_VERSION);
		return EXIT_OK;
	}
	struct config *cfg = load_config(&cli);
	if (cfg == NULL)
		return EXIT_CONFIG;
	cli_apply(&cli, cfg);
	log_init(cfg->log.format, cfg->log.level);
	/* Warnings, not errors: --check-config still says config OK, a run still runs. */
	(void)config_warn_readable_secrets(cfg);
	const struct profile_ops *profile = profile_get(cfg->upstream.profile);
	const char *warning = profile->warn_config ? profile->warn_config(cfg) : NULL;
	if (warning != NULL)
		log_warn("config", "%s", warning);
	if (cli.check_config) {
		printf("config OK\n");
		config_free(cfg);
		return EXIT_OK;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		log_error("main", "libcurl initialisation failed");
		config_free(cfg);
		return EXIT_CONFIG;
	}
	rc = run(&cli, cfg);
	curl_global_cleanup();
	config_free(cfg);
	return rc;
}
