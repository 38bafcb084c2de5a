/* upstream.c - HTTP POSTs on one libcurl multi handle: capped bodies, captured headers, TLS always verified. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <netdb.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include <curl/curl.h>

#include "defaults.h"
#include "log.h"
#include "loop.h"
#include "upstream.h"


/*
 * libcurl is driven through its socket interface (curl_multi_socket_action):
 * libcurl tells us which sockets to watch (on_socket) and when its next
 * timeout is (on_timer); the run's loop (loop.c) watches them and hands
 * libcurl only the sockets that are ready. Its cost per turn follows the
 * sockets with activity, not every transfer in flight, which
 * curl_multi_perform and curl_multi_poll cost (measured: see
 * scripts/bench/README.md).
 */
struct upstream {
	const struct config *cfg;
	CURLM *multi;
	struct loop *lp; /* borrowed: the run's loop */
	struct loop_timer timer; /* libcurl's timeout */
	int in_flight;
	CURLU *url; /* upstream.url, parsed once for every transfer (CURLOPT_CURLU) */
	int ca_fd; /* memfd: system bundle + upstream.ca_file, when ca_file is set; else -1 */
	char ca_path[40]; /* "/proc/self/fd/N" of ca_fd, "" when none */
	struct curl_slist *resolve; /* "host:port:addr,..." resolved once for the run, or NULL */
	/* The run's proxy, read from the environment once (libcurl would read it per transfer). */
	char *proxy; /* "" = none */
	char *noproxy; /* no_proxy's hosts, "" = none */
	/* The headers of a request that has no more of its own, one list per content type. */
	struct curl_slist *form_headers, *json_headers;
	struct transfer *live; /* every transfer on the wire, for teardown */
	struct transfer *spare; /* finished transfers kept for reuse, easy handle configured */
};

/* One request on the wire; owns its easy handle, buffers and headers (curl's per-transfer struct). */
struct transfer {
	CURL *easy;
	struct curl_slist *headers; /* the request's own list, or NULL when it uses a shared one */
	char errbuf[CURL_ERROR_SIZE];
	char *req_body;
	char *body;
	size_t len, cap, max;
	int too_big;
	int sends;      /* times libcurl was about to send this request (its prerequest callback) */
	int resend_cut; /* libcurl wanted to send it again on its own, and was stopped */
	char **set_cookie;
	size_t nset;
	char *retry_after;
	void *owner;
	const struct config *cfg; /* for upstream.capture_cookies */
	struct transfer *prev, *next; /* in upstream.live */
};

/* Frees the n Set-Cookie values of *v and the array; leaves *v NULL and *n 0. */
static void set_cookies_free(char ***v, size_t *n)
{
	for (size_t i = 0; i < *n; i++)
		free((*v)[i]);
	free(*v);
	*v = NULL;
	*n = 0;
}

void upstream_done_clear(struct upstream_done *d)
{
	if (d == NULL)
		return;
	free(d->body);
	set_cookies_free(&d->set_cookie, &d->nset);
	free(d->retry_after);
	memset(d, 0, sizeof(*d));
}

/* Frees a request body: it holds the row's token, so it is wiped first. */
static void free_body(char *b)
{
	if (b != NULL)
		explicit_bzero(b, strlen(b));
	free(b);
}

static void transfer_free(struct transfer *t)
{
	if (t == NULL)
		return;
	if (t->easy)
		curl_easy_cleanup(t->easy);
	curl_slist_free_all(t->headers);
	free_body(t->req_body);
	free(t->body);
	set_cookies_free(&t->set_cookie, &t->nset);
	free(t->retry_after);
	free(t);
}

/* Drops what a finished transfer held for its request; keeps the configured easy handle. */
static void transfer_recycle(struct upstream *up, struct transfer *t)
{
	curl_slist_free_all(t->headers);
	t->headers = NULL;
	free_body(t->req_body);
	t->req_body = NULL;
	free(t->body);
	t->body = NULL;
	t->len = t->cap = 0;
	t->too_big = 0;
	t->sends = 0;
	t->resend_cut = 0;
	set_cookies_free(&t->set_cookie, &t->nset);
	free(t->retry_after);
	t->retry_after = NULL;
	t->owner = NULL;
	t->errbuf[0] = '\0';
	t->prev = NULL;
	t->next = up->spare;
	up->spare = t;
}

/* Writes n bytes of buf to fd. Returns 0, or -1 with errno set. */
static int write_all(int fd, const char *buf, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, buf, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		buf += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Reads a whole file (at most limit bytes) into a new buffer; returns its length or -1. */
static long read_file(const char *path, char **out, long limit)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return -1;
	char *buf = malloc((size_t)limit + 1);
	size_t n = buf ? fread(buf, 1, (size_t)limit + 1, f) : 0;
	int bad = buf == NULL || ferror(f) || n > (size_t)limit;
	if (fclose(f) != 0 || bad) {
		free(buf);
		return -1;
	}
	*out = buf;
	return (long)n;
}

/*
 * upstream.ca_file adds to the trusted roots rather than replacing them:
 * the system bundle libcurl was built with, then the extra file, as one
 * file (a memfd, gone with the process) that every transfer names with
 * CURLOPT_CAINFO. A file, not CURLOPT_CAINFO_BLOB: libcurl shares the
 * certificate store it parsed from a file between the run's TLS connections
 * (its CA cache), while a blob is parsed again for each one (with C=256
 * connections that was 220 MiB and seconds of CPU).
 */
static int load_ca(struct upstream *up)
{
	const char *extra = up->cfg->upstream.ca_file;
	const curl_version_info_data *vi = curl_version_info(CURLVERSION_NOW);
	char *sys = NULL, *add = NULL;
	long nsys = 0, nadd;
	const long limit = CA_BUNDLE_MAX_BYTES;
	int ok;
	if (extra == NULL || extra[0] == '\0')
		return 0;
	nadd = read_file(extra, &add, limit);
	if (nadd < 0) {
		log_error("upstream", "upstream.ca_file: cannot read %s", extra);
		return -1;
	}
	if (vi->cainfo != NULL && (nsys = read_file(vi->cainfo, &sys, limit)) < 0)
		nsys = 0;
	up->ca_fd = memfd_create("refresher-ca", MFD_CLOEXEC);
	ok = up->ca_fd >= 0 && write_all(up->ca_fd, sys, (size_t)nsys) == 0 &&
	    write_all(up->ca_fd, "\n", 1) == 0 && write_all(up->ca_fd, add, (size_t)nadd) == 0;
	free(sys);
	free(add);
	if (!ok) {
		log_error("upstream", "upstream.ca_file: cannot build the CA bundle: %s", strerror(errno));
		return -1;
	}
	(void)snprintf(up->ca_path, sizeof(up->ca_path), "/proc/self/fd/%d", up->ca_fd);
	return 0;
}

/* The loop: a socket libcurl watches is ready. */
static void on_ready(void *ctx, int fd, unsigned events)
{
	struct upstream *up = ctx;
	int running = 0, flags = 0;
	if (events & LOOP_IN)
		flags |= CURL_CSELECT_IN;
	if (events & LOOP_OUT)
		flags |= CURL_CSELECT_OUT;
	if (events & LOOP_ERR)
		flags |= CURL_CSELECT_ERR;
	CURLMcode mc = curl_multi_socket_action(up->multi, fd, flags, &running);
	if (mc != CURLM_OK)
		log_error("upstream", "libcurl: %s", curl_multi_strerror(mc));
}

/* The loop: libcurl's timeout is due. */
static void on_due(void *ctx)
{
	struct upstream *up = ctx;
	int running = 0;
	CURLMcode mc = curl_multi_socket_action(up->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	if (mc != CURLM_OK)
		log_error("upstream", "libcurl: %s", curl_multi_strerror(mc));
}

/* libcurl: watch socket fd for what (or stop watching it). */
static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct upstream *up = userp;
	(void)easy;
	(void)socketp;
	if (what == CURL_POLL_REMOVE) {
		loop_unwatch(up->lp, fd, up);
		return 0;
	}
	unsigned events = 0;
	if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
		events |= LOOP_IN;
	if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
		events |= LOOP_OUT;
	if (loop_watch(up->lp, fd, events, on_ready, up) != 0) {
		log_error("upstream", "cannot watch a socket: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* libcurl: call curl_multi_socket_action(CURL_SOCKET_TIMEOUT) in timeout_ms (-1 = never). */
static int on_timer(CURLM *multi, long timeout_ms, void *userp)
{
	struct upstream *up = userp;
	(void)multi;
	if (timeout_ms < 0)
		loop_timer_disarm(up->lp, &up->timer);
	else
		loop_timer_arm(up->lp, &up->timer, loop_now(up->lp) + timeout_ms);
	return 0;
}

/*
 * Resolves the upstream's host name once, for the whole run, and pins the
 * answer (CURLOPT_RESOLVE): hundreds of transfers starting at once would
 * otherwise each look it up while libcurl's cache is empty, and again every
 * minute. An IP address needs no lookup; a failed lookup is logged and left
 * to libcurl (each request then resolves, and fails as transient). Through a
 * proxy nothing is pinned: the proxy resolves.
 */
static void resolve_once(struct upstream *up)
{
	if (up->proxy[0] != '\0')
		return; /* the proxy looks the name up, not us */
	char *host = NULL, *port = NULL, entry[UPSTREAM_RESOLVE_MAX];
	unsigned char bin[sizeof(struct in6_addr)];
	struct addrinfo hints, *res = NULL;
	CURLU *u = curl_url();
	if (u == NULL || curl_url_set(u, CURLUPART_URL, up->cfg->upstream.url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK)
		goto out;
	if (host[0] == '[' || inet_pton(AF_INET, host, bin) == 1)
		goto out; /* an address already */
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM; /* one entry per address */
	int rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0) {
		log_warn("upstream", "cannot resolve the upstream's host now (%s); libcurl will try per request",
		    gai_strerror(rc));
		goto out;
	}
	int n = snprintf(entry, sizeof(entry), "%s:%s:", host, port), count = 0;
	for (struct addrinfo *a = res; a != NULL && n > 0 && (size_t)n < sizeof(entry); a = a->ai_next) {
		char addr[INET6_ADDRSTRLEN];
		const void *src = a->ai_family == AF_INET6
		    ? (const void *)&((struct sockaddr_in6 *)a->ai_addr)->sin6_addr
		    : (const void *)&((struct sockaddr_in *)a->ai_addr)->sin_addr;
		if (inet_ntop(a->ai_family, src, addr, sizeof(addr)) == NULL)
			continue;
		int k = snprintf(entry + n, sizeof(entry) - (size_t)n, a->ai_family == AF_INET6 ? "%s[%s]" : "%s%s",
		    count ? "," : "", addr);
		if (k < 0 || (size_t)k >= sizeof(entry) - (size_t)n)
			break; /* the addresses that fit are enough */
		n += k;
		count++;
	}
	if (count > 0 && (up->resolve = curl_slist_append(NULL, entry)) != NULL)
		log_debug("upstream", "resolved %s once for the run: %d address(es)", host, count);
out:
	if (res != NULL)
		freeaddrinfo(res);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
}

/* getenv, with "" read as unset (as libcurl's curl_getenv does). */
static const char *env_set(const char *name)
{
	const char *v = getenv(name);
	return v != NULL && v[0] != '\0' ? v : NULL;
}

/*
 * The proxy libcurl would pick from the environment for the upstream's URL,
 * read once: <scheme>_proxy (for http only lower case: HTTP_PROXY may come
 * from a CGI request header), then all_proxy / ALL_PROXY; no_proxy /
 * NO_PROXY. Set on every transfer, they stop libcurl from calling getenv
 * for each one; the proxy rules stay libcurl's. Returns 0, or -1 on OOM.
 */
static int proxy_once(struct upstream *up)
{
	int https = strncasecmp(up->cfg->upstream.url, "https://", 8) == 0;
	const char *proxy = env_set(https ? "https_proxy" : "http_proxy");
	if (proxy == NULL && https)
		proxy = env_set("HTTPS_PROXY");
	if (proxy == NULL)
		proxy = env_set("all_proxy");
	if (proxy == NULL)
		proxy = env_set("ALL_PROXY");
	const char *noproxy = env_set("no_proxy");
	if (noproxy == NULL)
		noproxy = env_set("NO_PROXY");
	up->proxy = strdup(proxy != NULL ? proxy : "");
	up->noproxy = strdup(noproxy != NULL ? noproxy : "");
	if (up->proxy == NULL || up->noproxy == NULL)
		return -1;
	if (proxy != NULL) /* its URL may hold a password: not logged */
		log_debug("upstream", "requests go through the proxy the environment names%s",
		    noproxy != NULL ? " (no_proxy applies)" : "");
	return 0;
}

/* A request's fixed headers for content type ctype: no 100-continue round trip for small bodies. */
static struct curl_slist *fixed_headers(const char *ctype)
{
	struct curl_slist *l = curl_slist_append(NULL, ctype), *h;
	if (l == NULL)
		return NULL;
	if ((h = curl_slist_append(l, "Expect:")) == NULL)
		curl_slist_free_all(l);
	return h;
}

struct upstream *upstream_new(const struct config *cfg, struct loop *lp)
{
	struct upstream *up = calloc(1, sizeof(*up));
	if (up == NULL)
		return NULL;
	up->cfg = cfg;
	up->lp = lp;
	up->ca_fd = -1;
	loop_timer_init(&up->timer, on_due, up);
	up->multi = curl_multi_init();
	up->form_headers = fixed_headers("Content-Type: application/x-www-form-urlencoded");
	up->json_headers = fixed_headers("Content-Type: application/json");
	up->url = curl_url();
	if (up->url != NULL && curl_url_set(up->url, CURLUPART_URL, cfg->upstream.url, 0) != CURLUE_OK) {
		log_error("upstream", "upstream.url: libcurl cannot parse it");
		curl_url_cleanup(up->url);
		up->url = NULL;
	}
	if (up->multi == NULL || up->url == NULL || up->form_headers == NULL || up->json_headers == NULL ||
	    proxy_once(up) != 0 || load_ca(up) != 0) {
		upstream_free(up);
		return NULL;
	}
	resolve_once(up);
	(void)curl_multi_setopt(up->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	(void)curl_multi_setopt(up->multi, CURLMOPT_SOCKETDATA, up);
	(void)curl_multi_setopt(up->multi, CURLMOPT_TIMERFUNCTION, on_timer);
	(void)curl_multi_setopt(up->multi, CURLMOPT_TIMERDATA, up);
	/* Keep a connection per slot for reuse; multiplex when the server speaks HTTP/2. */
	(void)curl_multi_setopt(up->multi, CURLMOPT_MAXCONNECTS, (long)cfg->refresh.concurrency);
	(void)curl_multi_setopt(up->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
	/* Every slot a stream of one HTTP/2 connection (libcurl's default is 100 per connection). */
	(void)curl_multi_setopt(up->multi, CURLMOPT_MAX_CONCURRENT_STREAMS,
	    (long)cfg->refresh.concurrency);
	return up;
}

void upstream_free(struct upstream *up)
{
	if (up == NULL)
		return;
	if (up->multi) {
		while (up->live != NULL) {
			struct transfer *t = up->live;
			up->live = t->next;
			(void)curl_multi_remove_handle(up->multi, t->easy);
			transfer_free(t);
		}
		(void)curl_multi_cleanup(up->multi);
	}
	while (up->spare != NULL) {
		struct transfer *t = up->spare;
		up->spare = t->next;
		transfer_free(t);
	}
	loop_timer_disarm(up->lp, &up->timer);
	curl_slist_free_all(up->resolve);
	curl_url_cleanup(up->url);
	curl_slist_free_all(up->form_headers);
	curl_slist_free_all(up->json_headers);
	free(up->proxy);
	free(up->noproxy);
	if (up->ca_fd >= 0)
		(void)close(up->ca_fd);
	free(up);
}

/* Body sink: keeps at most max bytes, then aborts the transfer (too_big). */
static size_t on_body(char *data, size_t size, size_t nmemb, void *userp)
{
	struct transfer *t = userp;
	size_t n = size * nmemb;
	if (n > t->max - t->len) {
		t->too_big = 1;
		return 0;
	}
	if (t->len + n + 1 > t->cap) {
		size_t cap = t->cap ? t->cap : 1024;
		while (cap < t->len + n + 1)
			cap *= 2;
		if (cap > t->max + 1)
			cap = t->max + 1;
		char *b = realloc(t->body, cap);
		if (b == NULL)
			return 0;
		t->body = b;
		t->cap = cap;
	}
	memcpy(t->body + t->len, data, n);
	t->len += n;
	t->body[t->len] = '\0';
	return n;
}

/* If line is "Name: value", returns value trimmed (a copy), else NULL. */
static char *header_value(const char *line, size_t n, const char *name)
{
	size_t nl = strlen(name);
	if (n <= nl || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
		return NULL;
	const char *v = line + nl + 1, *end = line + n;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
		end--;
	return strndup(v, (size_t)(end - v));
}

/* Whether a Set-Cookie value names one of upstream.capture_cookies. */
static int captured(const struct config *cfg, const char *set_cookie)
{
	const char *p = set_cookie;
	while (*p == ' ' || *p == '\t')
		p++;
	size_t n = strcspn(p, "=;");
	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	for (size_t i = 0; i < cfg->upstream.ncapture; i++) {
		const char *c = cfg->upstream.capture_cookies[i];
		if (strlen(c) == n && memcmp(c, p, n) == 0)
			return 1;
	}
	return 0;
}

/* Header sink: keeps Set-Cookie (bounded count and length) and Retry-After. */
static size_t on_header(char *data, size_t size, size_t nmemb, void *userp)
{
	struct transfer *t = userp;
	size_t n = size * nmemb;
	/* A new status line (e.g. after 100 Continue) starts a new header block. */
	if (n > 5 && strncmp(data, "HTTP/", 5) == 0) {
		set_cookies_free(&t->set_cookie, &t->nset);
		free(t->retry_after);
		t->retry_after = NULL;
		return n;
	}
	if (n > MAX_SET_COOKIE_BYTES + 16)
		return n;
	char *v = header_value(data, n, "Set-Cookie");
	if (v != NULL) {
		/*
		 * Only the cookies the run captures are kept (at most MAX_SET_COOKIES
		 * lines): an answer with thousands of others before AWSALB must not
		 * push it out, nor grow memory.
		 */
		if (t->nset < MAX_SET_COOKIES && captured(t->cfg, v)) {
			if (t->set_cookie == NULL)
				t->set_cookie = calloc(MAX_SET_COOKIES, sizeof(char *));
			if (t->set_cookie != NULL) {
				t->set_cookie[t->nset++] = v;
				v = NULL;
			}
		}
		free(v);
		return n;
	}
	v = header_value(data, n, "Retry-After");
	if (v != NULL) {
		free(t->retry_after);
		t->retry_after = v;
	}
	return n;
}

/* Appends "name: value" to the header list; returns the list or NULL (the old list is then freed). */
static struct curl_slist *add_header(struct curl_slist *list, const char *name, const char *value)
{
	char *line = NULL;
	if (asprintf(&line, "%s: %s", name, value) < 0) {
		curl_slist_free_all(list);
		return NULL;
	}
	struct curl_slist *h = curl_slist_append(list, line);
	explicit_bzero(line, strlen(line)); /* may be a credential */
	free(line);
	if (h == NULL)
		curl_slist_free_all(list);
	return h;
}

/*
 * libcurl's prerequest callback, called each time a request is about to go
 * out. libcurl 7.88 sends a request again by itself, on a fresh connection,
 * when a reused connection closed (or an HTTP/2 server sent GOAWAY) before
 * any answer, although the server may have read and processed it: the bench
 * saw up to 387 tokens of 100k posted twice. Such a re-send would bypass the
 * run's retry count and budget, backoff, max_rate and breaker, so the second
 * call stops the transfer and the sweep retries it as a transient failure:
 * every request the upstream acts on is one the summary counts. (This also
 * stops the re-send of a stream refused by HTTP/2's REFUSED_STREAM, which
 * the server did not act on: a retry is counted that was not needed.)
 *
 * The one re-send let through: an HTTP/2 server that refuses the stream with
 * HTTP_1_1_REQUIRED has not acted on it either, and libcurl's retry over
 * HTTP/1.1 is the request's only way through (our own retry would offer
 * HTTP/2 again). libcurl 7.88 tells that only in the error message of the
 * refused stream: "HTTP/2 stream N was not closed cleanly:
 * HTTP_1_1_REQUIRED (err 13)" (lib/http2.c).
 */
static int on_prereq(void *clientp, char *primary_ip, char *local_ip, int primary_port, int local_port)
{
	struct transfer *t = clientp;
	(void)primary_ip;
	(void)local_ip;
	(void)primary_port;
	(void)local_port;
	if (t->sends++ == 0)
		return CURL_PREREQFUNC_OK;
	if (t->sends == 2 && strstr(t->errbuf, "HTTP_1_1_REQUIRED") != NULL) {
		t->errbuf[0] = '\0';
		return CURL_PREREQFUNC_OK;
	}
	t->resend_cut = 1;
	return CURL_PREREQFUNC_ABORT;
}

/* A new transfer with its easy handle set up for every request of the run. NULL on failure. */
static struct transfer *transfer_new(struct upstream *up)
{
	const struct config *cfg = up->cfg;
	struct transfer *t = calloc(1, sizeof(*t));
	if (t == NULL)
		return NULL;
	t->cfg = cfg;
	t->easy = curl_easy_init();
	CURL *e = t->easy;
	int bad = e == NULL;
	if (bad)
		goto out;
	/* The URL parsed once: libcurl otherwise parses the string again for every transfer. */
	bad |= curl_easy_setopt(e, CURLOPT_CURLU, up->url) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_POST, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_USERAGENT, cfg->upstream.user_agent) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, cfg->upstream.timeout_ms) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, cfg->upstream.connect_timeout_ms) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK;
	/*
	 * Over TLS, a new transfer waits for a connection being set up to say
	 * (ALPN, in its handshake) whether it multiplexes: with an HTTP/2
	 * upstream the whole run shares one connection, one DNS lookup and one
	 * handshake (t_46: 1 connection instead of 24). Not over http://: there
	 * libcurl 7.88 learns that only from the first answer, and transfers
	 * held behind a slow one failed with "Failed to resolve host ... after
	 * 0 ms" (t_20). The multi handle's DNS cache is shared by every transfer
	 * (60 s entries).
	 */
	if (strncasecmp(cfg->upstream.url, "https://", 8) == 0)
		bad |= curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L) != CURLE_OK;
	if (up->resolve != NULL)
		bad |= curl_easy_setopt(e, CURLOPT_RESOLVE, up->resolve) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_PROXY, up->proxy) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_NOPROXY, up->noproxy) != CURLE_OK;
	/* Answers are small: a 1 KiB receive buffer instead of 16 KiB saves 15 KiB per slot. */
	bad |= curl_easy_setopt(e, CURLOPT_BUFFERSIZE, (long)UPSTREAM_RECV_BUFFER) != CURLE_OK;
	/* Verification is never turned off; these are libcurl's defaults, stated. */
	bad |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK;
	/*
	 * Only a CA file, no CA directory: libcurl then keeps the store it parsed
	 * for the whole run (its CA cache) instead of parsing the bundle again
	 * for every TLS connection. Debian's libcurl names both its bundle and
	 * /etc/ssl/certs, which update-ca-certificates fills from the same
	 * certificates.
	 */
	if (up->ca_path[0] != '\0')
		bad |= curl_easy_setopt(e, CURLOPT_CAINFO, up->ca_path) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_CAPATH, NULL) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_WRITEDATA, t) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_HEADERDATA, t) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->errbuf) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)t) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, on_prereq) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_PREREQDATA, t) != CURLE_OK;
out:
	if (bad) {
		transfer_free(t);
		return NULL;
	}
	return t;
}

int upstream_start(struct upstream *up, void *owner, struct request *req)
{
	const struct config *cfg = up->cfg;
	const char *cookie = req->cookie, *authorization = req->authorization;
	int json = req->content_type != NULL && strcmp(req->content_type, "application/json") == 0;
	/* Easy handles are reused: no per-request set-up, no allocator churn. */
	struct transfer *t = up->spare;
	if (t != NULL)
		up->spare = t->next;
	else
		t = transfer_new(up);
	if (t == NULL)
		goto fail;
	t->next = NULL;
	t->owner = owner;
	t->max = (size_t)cfg->upstream.max_response_bytes;
	t->req_body = req->body; /* taken: libcurl reads it until the transfer ends */
	req->body = NULL;
	if (t->req_body == NULL)
		goto fail;
	/*
	 * A request with no headers of its own shares the run's list for its
	 * content type; one with an Authorization or more lines gets its own.
	 * The Cookie header is CURLOPT_COOKIE's (libcurl keeps a copy).
	 */
	struct curl_slist *fixed = json ? up->json_headers : up->form_headers;
	if ((authorization != NULL && authorization[0] != '\0') || req->nheaders > 0) {
		for (struct curl_slist *f = fixed; f != NULL; f = f->next) {
			struct curl_slist *h = curl_slist_append(t->headers, f->data);
			if (h == NULL)
				goto fail;
			t->headers = h;
		}
		if (authorization != NULL && authorization[0] != '\0' &&
		    (t->headers = add_header(t->headers, "Authorization", authorization)) == NULL)
			goto fail;
		for (size_t i = 0; i < req->nheaders; i++) {
			struct curl_slist *h = curl_slist_append(t->headers, req->headers[i]);
			if (h == NULL)
				goto fail;
			t->headers = h;
		}
	}
	CURL *e = t->easy;
	int bad = 0;
	bad |= curl_easy_setopt(e, CURLOPT_POSTFIELDS, t->req_body) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(t->req_body)) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers != NULL ? t->headers : fixed) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_COOKIE, cookie != NULL && cookie[0] != '\0' ? cookie : NULL) !=
	    CURLE_OK;
	if (bad || curl_multi_add_handle(up->multi, e) != CURLM_OK)
		goto fail;
	t->next = up->live;
	if (up->live)
		up->live->prev = t;
	up->live = t;
	up->in_flight++;
	return 0;
fail:
	log_error("upstream", "cannot start a request (out of memory or bad option)");
	transfer_free(t);
	return -1;
}

int upstream_in_flight(const struct upstream *up)
{
	return up->in_flight;
}

void *upstream_cancel(struct upstream *up)
{
	struct transfer *t = up->live;
	if (t == NULL)
		return NULL;
	(void)curl_multi_remove_handle(up->multi, t->easy);
	up->live = t->next;
	if (t->next)
		t->next->prev = NULL;
	up->in_flight--;
	void *owner = t->owner;
	transfer_recycle(up, t);
	return owner;
}

/* Transport failures worth another try: the server may answer next time. */
static int transient_code(CURLcode c)
{
	switch (c) {
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_SSL_CONNECT_ERROR:
		return 1;
	default:
		return 0;
	}
}

int upstream_next(struct upstream *up, struct upstream_done *out)
{
	int left = 0;
	CURLMsg *m;
	memset(out, 0, sizeof(*out));
	while ((m = curl_multi_info_read(up->multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE)
			continue;
		CURL *e = m->easy_handle;
		CURLcode code = m->data.result;
		struct transfer *t = NULL;
		(void)curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&t);
		(void)curl_multi_remove_handle(up->multi, e);
		if (t->prev)
			t->prev->next = t->next;
		else
			up->live = t->next;
		if (t->next)
			t->next->prev = t->prev;
		up->in_flight--;
		out->owner = t->owner;
		(void)curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &out->status);
		out->too_big = t->too_big;
		if (code != CURLE_OK && !t->too_big) {
			const char *msg = t->errbuf[0] ? t->errbuf : curl_easy_strerror(code);
			out->transport_error = 1;
			out->transient = transient_code(code);
			if (code == CURLE_ABORTED_BY_CALLBACK && t->resend_cut) {
				out->transient = 1;
				out->conn_lost = 1;
				msg = "the connection closed before an answer";
			}
			/*
			 * OpenSSL read an answer that is no TLS record: the port speaks plain
			 * HTTP (an https:// URL on an http port). Like a certificate problem,
			 * no retry will change it.
			 */
			if (code == CURLE_SSL_CONNECT_ERROR && strstr(msg, "wrong version number") != NULL) {
				out->transient = 0;
				msg = "TLS handshake failed: the server does not speak TLS on this port"
				      " (an https:// URL pointed at a plain-HTTP port?)";
			}
			log_escape(out->error, sizeof(out->error), msg, strlen(msg), REASON_CAUSE_MAX);
		}
		/* Hand the buffers over: take, then NULL. */
		out->body = t->body ? t->body : strdup("");
		t->body = NULL;
		/* A capped body is reported at the cap: what we kept is all we read. */
		out->len = t->too_big ? t->max : t->len;
		out->set_cookie = t->set_cookie;
		out->nset = t->nset;
		t->set_cookie = NULL;
		t->nset = 0;
		out->retry_after = t->retry_after;
		t->retry_after = NULL;
		/*
		 * A handle whose re-send was stopped is not reused: libcurl counts
		 * its re-sends per handle for the handle's life (at 5 it gives up
		 * with "Connection died, tried 5 times", a cause that would be wrong).
		 */
		if (t->resend_cut)
			transfer_free(t);
		else
			transfer_recycle(up, t);
		if (out->body == NULL) {
			void *owner = out->owner;
			upstream_done_clear(out);
			out->owner = owner;
			out->transport_error = 1;
			snprintf(out->error, sizeof(out->error), "out of memory");
		}
		return 1;
	}
	return 0;
}
