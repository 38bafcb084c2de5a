/* rusage.c - runs a command and writes its wall time, peak RSS and CPU times to a file (bench). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/*
 * Usage: bench-rusage OUTFILE COMMAND [ARG...]
 * Runs COMMAND (stdin, stdout, stderr inherited), waits for it, and writes one line to OUTFILE:
 *   wall_s=S maxrss_kib=K user_s=S sys_s=S status=N start_real_us=U start_mono_us=U
 * (start_*: the fork, on CLOCK_REALTIME and CLOCK_MONOTONIC, to time the command's first steps
 * against its log and the fake upstream's)
 * (the child's own getrusage through wait4, so only that process is measured, not the shell
 * around it). Exits with the command's status (128+signal when killed). /usr/bin/time -f %M
 * does the same but is not on every Debian system.
 */
int main(int argc, char **argv)
{
	struct timespec t0, t1, r0;
	struct rusage ru;
	int status = 0, code;
	pid_t pid;
	FILE *out;

	if (argc < 3) {
		fprintf(stderr, "usage: bench-rusage OUTFILE COMMAND [ARG...]\n");
		return 2;
	}
	clock_gettime(CLOCK_REALTIME, &r0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid = fork();
	if (pid < 0) {
		perror("bench-rusage: fork");
		return 2;
	}
	if (pid == 0) {
		execvp(argv[2], argv + 2);
		fprintf(stderr, "bench-rusage: %s: %s\n", argv[2], strerror(errno));
		_exit(127);
	}
	/* Ctrl-C reaches the whole process group: the command drains on it, we stay to report. */
	signal(SIGINT, SIG_IGN);
	while (wait4(pid, &status, 0, &ru) < 0) {
		if (errno != EINTR) {
			perror("bench-rusage: wait4");
			return 2;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	out = fopen(argv[1], "w");
	if (out == NULL) {
		perror(argv[1]);
		return 2;
	}
	fprintf(out, "wall_s=%.3f maxrss_kib=%ld user_s=%.3f sys_s=%.3f status=%d start_real_us=%lld"
	    " start_mono_us=%lld\n",
	    (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9, ru.ru_maxrss,
	    (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6,
	    (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6, code,
	    (long long)r0.tv_sec * 1000000 + r0.tv_nsec / 1000,
	    (long long)t0.tv_sec * 1000000 + t0.tv_nsec / 1000);
	if (fclose(out) != 0) {
		perror(argv[1]);
		return 2;
	}
	return code;
}
