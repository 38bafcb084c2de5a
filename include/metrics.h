/* metrics.h - the run's figures as a Prometheus text file, for node_exporter's textfile collector. */
#ifndef REFRESHER_METRICS_H
#define REFRESHER_METRICS_H

#include <stddef.h>
#include "sweep.h"

/*
 * Formats the metrics of a run that ended at `now` (Unix seconds) with
 * exit_code into buf. last_success is the Unix time of the last run that
 * exited 0 (this one, when exit_code is 0; 0 = never). Returns the length,
 * or -1 when buf is too small.
 */
int metrics_format(char *buf, size_t size, const struct sweep_stats *st, int exit_code,
    double now, double last_success);

/*
 * Reads refresher_last_success_timestamp_seconds from an earlier metrics
 * file at path; 0 when there is none or it cannot be read.
 */
double metrics_last_success(const char *path);

/*
 * Writes the metrics to path atomically: a temporary file in the same
 * directory, fsync, rename. Returns 0, or -1 (logged; the run's exit code
 * does not change).
 */
int metrics_write(const char *path, const struct sweep_stats *st, int exit_code)
    __attribute__((warn_unused_result));

#endif
