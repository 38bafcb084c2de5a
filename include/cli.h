/* cli.h - the command line: flags, --help, --version, overrides onto the config. */
#ifndef REFRESHER_CLI_H
#define REFRESHER_CLI_H

#include <stdio.h>

#include "config.h"

struct cli {
	const char *config_path; /* -c, else $REFRESHER_CONFIG, else DEFAULT_CONFIG_PATH */
	enum { CONFIG_FROM_FLAG, CONFIG_FROM_ENV, CONFIG_FROM_DEFAULT } config_from;
	int dry_run;
	int check_config;
	const char *email; /* NULL = all */
	long limit; /* 0 = no limit */
	int concurrency; /* 0 = from config */
	long stale_after_ms; /* -1 = from config */
	int shard_index, shard_count; /* shard_count 0 = no sharding */
	int log_format; /* -1 = from config, else enum log_format */
	int verbosity; /* 0 normal, 1 -v (debug), -1 -q (warn) */
	int help, version;
};

/*
 * Parses argv into *cli (pointers borrow from argv/environ). Reads
 * JOB_COMPLETION_INDEX when --shard-count is given without --shard.
 * Returns 0, or -1 after printing "refresher: problem" and a usage hint to stderr.
 */
int cli_parse(int argc, char **argv, struct cli *cli)
    __attribute__((warn_unused_result));

void cli_usage(FILE *out);
/* Applies command line overrides (concurrency, stale_after, log format, verbosity) to cfg. */
void cli_apply(const struct cli *cli, struct config *cfg);

#endif
