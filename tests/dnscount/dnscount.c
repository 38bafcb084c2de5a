/*
 * dnscount.c - LD_PRELOAD shim for t_47: logs every getaddrinfo() name to $DNSCOUNT_FILE, and
 * answers $DNSCOUNT_NAME with 127.0.0.1 (a test host name no resolver knows; libcurl answers
 * "localhost" itself, without getaddrinfo). Other names resolve as usual.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef int (*gai_fn)(const char *, const char *, const struct addrinfo *, struct addrinfo **);

int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
    struct addrinfo **res)
{
	static gai_fn real;
	const char *path = getenv("DNSCOUNT_FILE");
	if (real == NULL)
		real = (gai_fn)dlsym(RTLD_NEXT, "getaddrinfo");
	if (path != NULL && node != NULL) {
		/* One write per line with O_APPEND: whole lines even from libcurl's resolver threads. */
		int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
		if (fd >= 0) {
			size_t n = strlen(node);
			char line[256];
			if (n > sizeof(line) - 2)
				n = sizeof(line) - 2;
			memcpy(line, node, n);
			line[n] = '\n';
			(void)!write(fd, line, n + 1);
			(void)close(fd);
		}
	}
	if (real == NULL)
		return EAI_SYSTEM;
	const char *name = getenv("DNSCOUNT_NAME");
	if (name != NULL && node != NULL && strcmp(node, name) == 0)
		node = "127.0.0.1";
	return real(node, service, hints, res);
}
