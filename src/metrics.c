/* metrics.c - the run's figures as a Prometheus text file, written atomically. */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "exitcode.h"
#include "log.h"
#include "metrics.h"

/* Room for every metric line; the text is a few hundred bytes. */
#define METRICS_MAX 4096

/* Appends printf output to buf at *off; returns -1 when it does not fit. */
static int put(char *buf, size_t size, size_t *off, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int put(char *buf, size_t size, size_t *off, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf + *off, size - *off, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size - *off)
		return -1;
	*off += (size_t)n;
	return 0;
}

int metrics_format(char *buf, size_t size, const struct sweep_stats *st, int exit_code,
    double now, double last_success)
{
	size_t off = 0;
	int bad = 0;
	bad |= put(buf, size, &off,
	    "# HELP refresher_last_run_sessions Sessions handled by the last run, by outcome.\n"
	    "# TYPE refresher_last_run_sessions gauge\n");
	for (int o = 0; o < OUTCOME_COUNT; o++)
		bad |= put(buf, size, &off, "refresher_last_run_sessions{outcome=\"%s\"} %ld\n",
		    outcome_name((enum outcome)o), st->count[o]);
	bad |= put(buf, size, &off,
	    "# HELP refresher_last_run_due_sessions Sessions claimed by the last run.\n"
	    "# TYPE refresher_last_run_due_sessions gauge\n"
	    "refresher_last_run_due_sessions %ld\n"
	    "# HELP refresher_last_run_retries Requests after the first per session in the last run.\n"
	    "# TYPE refresher_last_run_retries gauge\n"
	    "refresher_last_run_retries %ld\n"
	    "# HELP refresher_last_run_throttle_waits Request starts delayed by refresh.max_rate in the last run.\n"
	    "# TYPE refresher_last_run_throttle_waits gauge\n"
	    "refresher_last_run_throttle_waits %ld\n"
	    "# HELP refresher_last_run_breaker_open 1 when the circuit breaker stopped the last run.\n"
	    "# TYPE refresher_last_run_breaker_open gauge\n"
	    "refresher_last_run_breaker_open %d\n"
	    "# HELP refresher_last_run_mass_logout 1 when the last run's logouts looked like a mistake and none was deleted.\n"
	    "# TYPE refresher_last_run_mass_logout gauge\n"
	    "refresher_last_run_mass_logout %d\n"
	    "# HELP refresher_last_run_kept_logouts Logout rows the last run kept as refresh.keep_when says.\n"
	    "# TYPE refresher_last_run_kept_logouts gauge\n"
	    "refresher_last_run_kept_logouts %ld\n"
	    "# HELP refresher_last_run_unwritten_tokens Issued tokens the last run could not write.\n"
	    "# TYPE refresher_last_run_unwritten_tokens gauge\n"
	    "refresher_last_run_unwritten_tokens %ld\n"
	    "# HELP refresher_last_run_duration_seconds Wall time of the last run.\n"
	    "# TYPE refresher_last_run_duration_seconds gauge\n"
	    "refresher_last_run_duration_seconds %.3f\n"
	    "# HELP refresher_last_run_exit_code Exit code of the last run (%d %s, %d %s, %d %s, %d %s).\n"
	    "# TYPE refresher_last_run_exit_code gauge\n"
	    "refresher_last_run_exit_code %d\n"
	    "# HELP refresher_last_run_timestamp_seconds Unix time the last run ended.\n"
	    "# TYPE refresher_last_run_timestamp_seconds gauge\n"
	    "refresher_last_run_timestamp_seconds %.3f\n"
	    "# HELP refresher_last_success_timestamp_seconds Unix time the last run that exited 0 ended.\n"
	    "# TYPE refresher_last_success_timestamp_seconds gauge\n"
	    "refresher_last_success_timestamp_seconds %.3f\n",
	    st->due, st->retries, st->throttle_waits, st->breaker_open, st->mass_logout,
	    st->kept_by_rule, st->unwritten,
	    (double)st->duration_ms / 1000.0, EXIT_OK, exit_code_word(EXIT_OK), EXIT_FAILED_ROWS,
	    exit_code_word(EXIT_FAILED_ROWS), EXIT_DATABASE, exit_code_word(EXIT_DATABASE), EXIT_SIGNAL,
	    exit_code_word(EXIT_SIGNAL), exit_code, now, exit_code == 0 ? now : last_success);
	return bad ? -1 : (int)off;
}

double metrics_last_success(const char *path)
{
	static const char key[] = "refresher_last_success_timestamp_seconds ";
	char line[256];
	double v = 0;
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, key, sizeof(key) - 1) != 0)
			continue;
		char *end = NULL;
		double d = strtod(line + sizeof(key) - 1, &end);
		if (end != line + sizeof(key) - 1 && d > 0 && d < 1e11)
			v = d;
	}
	(void)fclose(f); /* read-only: nothing to lose */
	return v;
}

int metrics_write(const char *path, const struct sweep_stats *st, int exit_code)
{
	char buf[METRICS_MAX], *tmp = NULL;
	struct timespec ts;
	int fd = -1, rc = -1;
	clock_gettime(CLOCK_REALTIME, &ts);
	double now = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	int n = metrics_format(buf, sizeof(buf), st, exit_code, now, metrics_last_success(path));
	if (n < 0 || asprintf(&tmp, "%s.tmp.%ld", path, (long)getpid()) < 0) {
		tmp = NULL;
		goto out;
	}
	/* The collector must never read a half-written file: write aside, then rename. */
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		goto out;
	for (size_t done = 0; done < (size_t)n;) {
		ssize_t w = write(fd, buf + done, (size_t)n - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			goto out;
		done += (size_t)w;
	}
	if (fsync(fd) != 0)
		goto out;
	int cfd = fd;
	fd = -1;
	if (close(cfd) != 0 || rename(tmp, path) != 0)
		goto out;
	rc = 0;
out:
	if (rc != 0) {
		log_warn("metrics", "cannot write %s: %s", path, strerror(errno));
		if (fd >= 0)
			(void)close(fd);
		if (tmp != NULL)
			(void)unlink(tmp);
	}
	free(tmp);
	return rc;
}
