/* fakeup.c - fake upstream (tokenUpdate, OAuth 2.0, JSON refresh API) for integration tests. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <microhttpd.h>

/* Request bodies larger than this are answered 413. */
#define MAX_BODY (1024 * 1024)
/* Connections served at once; the refresher may run thousands in flight. */
#define CONN_LIMIT 8192
/* Stack per connection thread; handlers keep big buffers on the heap. */
#define THREAD_STACK (256 * 1024)
/* Distinct tokens remembered for flaky/flaky2/ratelimit; later ones answer ok. */
#define SEEN_CAP 200000
#define SEEN_BUCKETS 4096
/* The huge answer is this big, well over the refresher's 64 KiB default cap. */
#define HUGE_BYTES (200 * 1024)
/* A waiting handler checks that its client is still there this often. */
#define CLIENT_CHECK_US 250000
/* The release file is looked for this often. */
#define RELEASE_POLL_MS 10
/* hang gives up after this long even if the server is not stopped. */
#define HANG_MAX_MS (10L * 60 * 1000)
#define DEFAULT_SLOW_MS 1500L
/* trickle sends one byte of its answer this often (--trickle-ms). */
#define DEFAULT_TRICKLE_MS 200L
/* Size of an issued token as the log records it (ok-<32 hex>, jesc-q"b\s/A-<32 hex>, NUL). */
#define ISSUED_MAX 64
/* The JSON refresh API: flat answers, and the same answers nested under data.tokens. */
#define JSON_PATH "/api/auth/refresh"
#define JSON_NESTED_PATH "/api/v2/refresh"
/* Deepest nesting of a JSON request body the fake reads; deeper is a 400. */
#define JSON_MAX_DEPTH 64
/* bighdr: one header line of this many bytes, curl's own per-header limit (CURL_MAX_HTTP_HEADER). */
#define BIG_HEADER_BYTES (100 * 1024)
/* manyhdr and manycookie send this many header lines. */
#define MANY_HEADERS 5000
/* garbage: this many random bytes. */
#define GARBAGE_BYTES 512
/* evilcookie: the overlong Set-Cookie value, over the refresher's 8 KiB line limit. */
#define OVERLONG_COOKIE_BYTES 10000
/* A raw answer gives up on a client that reads nothing for this long. */
#define RAW_SEND_TIMEOUT_MS 10000
/* Longest value of a --*-ms option (1 hour). */
#define MAX_OPT_MS 3600000L
/* Largest PEM file --tls-cert / --tls-key read. */
#define MAX_PEM_BYTES (1024 * 1024)

/* What a tokenUpdate answer was: its HTTP status (0: none sent), whether it was written raw to
 * the socket (then MHD closes the connection, but the answer went out), and the token it issued
 * (ok-..., "" when none), which the resp log line records. */
struct reply {
	unsigned status;
	bool raw;
	char issued[ISSUED_MAX];
};

struct seen {
	struct seen *next;
	unsigned count;
	char token[];
};

/* Per-request state: the body read so far. Made on the first call, freed by on_done(). */
struct req {
	char *body;
	size_t len;
	bool too_big;
};

static struct {
	FILE *log;
	const char *control;
	/* PEM text of --tls-cert and --tls-key (both NULL: plain HTTP); MHD borrows them. */
	char *tls_cert, *tls_key;
	long latency_ms, jitter_ms, slow_ms, trickle_ms;
	/* --client-id/--client-secret: the oauth token endpoint checks them (else any client). */
	const char *client_id, *client_secret;
	pthread_mutex_t log_mu, seen_mu;
	struct seen *seen[SEEN_BUCKETS];
	size_t seen_n;
	/* Waiting handlers sleep on wait_cv (CLOCK_MONOTONIC); it is broadcast when the server
	 * stops and when the release file appears. */
	pthread_mutex_t wait_mu;
	pthread_cond_t wait_cv;
	atomic_bool stop, released;
	atomic_long requests, in_flight, peak;
	/* The daemon, set before the port file is written (so before any request). */
	struct MHD_Daemon *daemon;
} g = {
	.slow_ms = DEFAULT_SLOW_MS,
	.trickle_ms = DEFAULT_TRICKLE_MS,
	.log_mu = PTHREAD_MUTEX_INITIALIZER,
	.seen_mu = PTHREAD_MUTEX_INITIALIZER,
	.wait_mu = PTHREAD_MUTEX_INITIALIZER,
};

/* Prints a message and exits 2. */
static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("fakeup: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

/* Returns CLOCK_MONOTONIC in microseconds. */
static int64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Returns a uniformly random number in [0, n]; n >= 0. */
static long
rand_upto(long n)
{
	uint64_t r = 0;

	if (n <= 0)
		return 0;
	if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
		r = (uint64_t)now_us();
	return (long)(r % ((uint64_t)n + 1));
}

/* Fills out[0..2n] with n random bytes as lowercase hex, NUL-terminated. */
static void
rand_hex(char *out, size_t n)
{
	unsigned char b[64];
	size_t i;

	if (n > sizeof(b))
		n = sizeof(b);
	if (getrandom(b, n, 0) != (ssize_t)n)
		for (i = 0; i < n; i++)
			b[i] = (unsigned char)rand_upto(255);
	for (i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
	out[2 * n] = '\0';
}

/* Returns true when the client of conn closed its end (or conn is NULL: never). */
static bool
client_gone(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci;
	struct pollfd p;

	if (conn == NULL ||
	    (ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD)) == NULL)
		return false;
	p.fd = ci->connect_fd;
	p.events = POLLRDHUP;
	p.revents = 0;
	return poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

/* Sets stop (when stop) or released = r (otherwise), then wakes every waiting handler. */
static void
wake_all(bool stop, bool r)
{
	pthread_mutex_lock(&g.wait_mu);
	if (stop)
		atomic_store(&g.stop, true);
	else
		atomic_store(&g.released, r);
	pthread_cond_broadcast(&g.wait_cv);
	pthread_mutex_unlock(&g.wait_mu);
}

/* Thread: looks for the release file (arg, owned) every RELEASE_POLL_MS until the server stops;
 * wakes the waiters when it appears. One poller instead of one per held request, so thousands
 * of held requests cost nothing while they wait. */
static void *
release_watch(void *arg)
{
	char *path = arg;

	while (!atomic_load(&g.stop)) {
		bool r = access(path, F_OK) == 0;
		struct timespec ts = { 0, RELEASE_POLL_MS * 1000000L };

		if (r != atomic_load(&g.released))
			wake_all(false, r);
		nanosleep(&ts, NULL);
	}
	free(path);
	return NULL;
}

/* Waits ms milliseconds (ms < 0: without limit) or, with for_release, until the release file
 * exists. Returns true when the wait ended that way, false when the server stops or the client
 * of conn hangs up first (a real server would stop working for it too). */
static bool
await(struct MHD_Connection *conn, long ms, bool for_release)
{
	int64_t deadline = ms >= 0 ? now_us() + (int64_t)ms * 1000 : INT64_MAX;
	bool done = false;

	pthread_mutex_lock(&g.wait_mu);
	while (!atomic_load(&g.stop)) {
		int64_t now = now_us(), until;
		struct timespec ts;
		bool gone;

		if (for_release ? atomic_load(&g.released) : now >= deadline) {
			done = true;
			break;
		}
		until = deadline - now < CLIENT_CHECK_US ? deadline : now + CLIENT_CHECK_US;
		/* The cond clock is CLOCK_MONOTONIC, the clock now_us() reads. */
		ts.tv_sec = (time_t)(until / 1000000);
		ts.tv_nsec = (long)(until % 1000000) * 1000;
		(void)pthread_cond_timedwait(&g.wait_cv, &g.wait_mu, &ts);
		pthread_mutex_unlock(&g.wait_mu);
		gone = client_gone(conn);
		pthread_mutex_lock(&g.wait_mu);
		if (gone)
			break;
	}
	pthread_mutex_unlock(&g.wait_mu);
	return done;
}

/* Writes s[0..len) to f as a JSON string literal; invalid UTF-8 bytes become U+FFFD. */
static void
json_str(FILE *f, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;

	fputc('"', f);
	while (p < end) {
		unsigned char c = *p;
		size_t n = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 :
		    (c & 0xf8) == 0xf0 ? 4 : 0;
		size_t i;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\u%04x", c);
		else if (n == 1)
			fputc(c, f);
		else {
			for (i = 1; n > 1 && i < n; i++)
				if (p + i >= end || (p[i] & 0xc0) != 0x80)
					n = 0;
			if (n < 2 || (c == 0xc0 || c == 0xc1) || c > 0xf4) {
				fputs("\\ufffd", f);
				n = 1;
			} else
				fwrite(p, 1, n, f);
			p += n;
			continue;
		}
		p++;
	}
	fputc('"', f);
}

/* Writes an optional string to f as JSON (NULL writes ""). */
static void
json_opt(FILE *f, const char *s)
{
	json_str(f, s ? s : "", s ? strlen(s) : 0);
}

/* Returns the value of hex digit c, or -1. */
static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes application/x-www-form-urlencoded s[0..len) into a new string; caller frees. */
static char *
form_decode(const char *s, size_t len)
{
	char *out = malloc(len + 1), *o = out;
	size_t i;

	if (out == NULL)
		die("out of memory");
	for (i = 0; i < len; i++) {
		int hi, lo;

		if (s[i] == '+')
			*o++ = ' ';
		else if (s[i] == '%' && i + 2 < len && (hi = hexval(s[i + 1])) >= 0 &&
		    (lo = hexval(s[i + 2])) >= 0) {
			*o++ = (char)(hi << 4 | lo);
			i += 2;
		} else
			*o++ = s[i];
	}
	*o = '\0';
	return out;
}

/* Returns the decoded value of field name in form body[0..len), or NULL; caller frees. */
static char *
form_get(const char *body, size_t len, const char *name)
{
	const char *p = body, *end = body + len;
	size_t nlen = strlen(name);

	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *pe = amp ? amp : end;
		const char *eq = memchr(p, '=', (size_t)(pe - p));
		const char *ke = eq ? eq : pe;
		char *key = form_decode(p, (size_t)(ke - p));
		bool hit = strlen(key) == nlen && memcmp(key, name, nlen) == 0;

		free(key);
		if (hit)
			return eq ? form_decode(eq + 1, (size_t)(pe - eq - 1)) : form_decode("", 0);
		p = pe + 1;
	}
	return NULL;
}

/*
 * A strict JSON reader (RFC 8259) for request bodies, written here rather than linked so that
 * the fake's reading of what the refresher sends does not share a parser with the refresher
 * (json-c): literals, numbers, strings with every escape (surrogate pairs joined, a lone one
 * refused), arrays and objects at most JSON_MAX_DEPTH deep. Raw bytes >= 0x80 pass as they are.
 */
struct jr {
	const char *p, *end;
	int depth;
};

static bool jr_value(struct jr *j);

/* Skips JSON whitespace. */
static void
jr_ws(struct jr *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

/* Returns true when *p is an ASCII digit and p is before end. */
static bool
jr_digit(const char *p, const char *end)
{
	return p < end && *p >= '0' && *p <= '9';
}

/* Reads the literal lit (true, false, null). */
static bool
jr_lit(struct jr *j, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(j->end - j->p) < n || memcmp(j->p, lit, n) != 0)
		return false;
	j->p += n;
	return true;
}

/* Reads a number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static bool
jr_number(struct jr *j)
{
	const char *p = j->p, *end = j->end;

	if (p < end && *p == '-')
		p++;
	if (p < end && *p == '0')
		p++;
	else if (jr_digit(p, end))
		while (jr_digit(p, end))
			p++;
	else
		return false;
	if (p < end && *p == '.') {
		if (!jr_digit(++p, end))
			return false;
		while (jr_digit(p, end))
			p++;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if (!jr_digit(p, end))
			return false;
		while (jr_digit(p, end))
			p++;
	}
	j->p = p;
	return true;
}

/* Returns the value of the 4 hex digits at p (before end), or -1. */
static long
jr_hex4(const char *p, const char *end)
{
	long v = 0;
	int i, h;

	if (end - p < 4)
		return -1;
	for (i = 0; i < 4; i++) {
		if ((h = hexval(p[i])) < 0)
			return -1;
		v = v << 4 | h;
	}
	return v;
}

/* Appends code point cp (<= 0x10ffff, not a surrogate) to o as UTF-8; returns the new end. */
static char *
utf8_put(char *o, long cp)
{
	if (cp < 0x80) {
		*o++ = (char)cp;
	} else if (cp < 0x800) {
		*o++ = (char)(0xc0 | cp >> 6);
		*o++ = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		*o++ = (char)(0xe0 | cp >> 12);
		*o++ = (char)(0x80 | (cp >> 6 & 0x3f));
		*o++ = (char)(0x80 | (cp & 0x3f));
	} else {
		*o++ = (char)(0xf0 | cp >> 18);
		*o++ = (char)(0x80 | (cp >> 12 & 0x3f));
		*o++ = (char)(0x80 | (cp >> 6 & 0x3f));
		*o++ = (char)(0x80 | (cp & 0x3f));
	}
	return o;
}

/*
 * Reads a string. With out, stores its decoded bytes in a new NUL-terminated buffer (*out,
 * caller frees; it may hold NULs, *len says how many bytes). Raw control bytes, unknown escapes
 * and lone surrogates are refused. The decoded text is never longer than the literal, so a
 * buffer of the literal's size is enough.
 */
static bool
jr_string(struct jr *j, char **out, size_t *len)
{
	const char *p = j->p, *end = j->end;
	char *buf = NULL, *o = NULL;

	if (p >= end || *p != '"')
		return false;
	p++;
	if (out != NULL) {
		if ((buf = malloc((size_t)(end - p) + 1)) == NULL)
			die("out of memory");
		o = buf;
	}
	for (;;) {
		unsigned char c;
		long cp, lo;
		char e;

		if (p >= end)
			goto bad;
		c = (unsigned char)*p++;
		if (c == '"')
			break;
		if (c < 0x20)
			goto bad;
		if (c != '\\') {
			if (o)
				*o++ = (char)c;
			continue;
		}
		if (p >= end)
			goto bad;
		switch ((e = *p++)) {
		case '"': case '\\': case '/':
			cp = e;
			break;
		case 'b': cp = '\b'; break;
		case 'f': cp = '\f'; break;
		case 'n': cp = '\n'; break;
		case 'r': cp = '\r'; break;
		case 't': cp = '\t'; break;
		case 'u':
			if ((cp = jr_hex4(p, end)) < 0)
				goto bad;
			p += 4;
			if (cp >= 0xdc00 && cp <= 0xdfff)
				goto bad; /* a low surrogate first */
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (end - p < 6 || p[0] != '\\' || p[1] != 'u' ||
				    (lo = jr_hex4(p + 2, end)) < 0xdc00 || lo > 0xdfff)
					goto bad; /* a high surrogate alone */
				p += 6;
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			}
			break;
		default:
			goto bad;
		}
		if (o)
			o = utf8_put(o, cp);
	}
	j->p = p;
	if (out != NULL) {
		*o = '\0';
		*out = buf;
		*len = (size_t)(o - buf);
	}
	return true;
bad:
	free(buf);
	return false;
}

/* Reads the members of an object after its '{' up to and including its '}'. When name is set,
 * the string value of member name (the last one when repeated) goes to *val / *vlen (caller
 * frees) and *wrong_type is set when that member's value is not a string. */
static bool
jr_members(struct jr *j, const char *name, char **val, size_t *vlen, bool *wrong_type)
{
	jr_ws(j);
	if (j->p < j->end && *j->p == '}') {
		j->p++;
		return true;
	}
	for (;;) {
		char *key;
		size_t klen;
		bool hit;

		jr_ws(j);
		if (!jr_string(j, &key, &klen))
			return false;
		hit = name != NULL && klen == strlen(name) && memcmp(key, name, klen) == 0;
		free(key);
		jr_ws(j);
		if (j->p >= j->end || *j->p != ':')
			return false;
		j->p++;
		jr_ws(j);
		if (hit && j->p < j->end && *j->p == '"') {
			free(*val);
			*val = NULL;
			*wrong_type = false;
			if (!jr_string(j, val, vlen))
				return false;
		} else {
			if (hit) {
				free(*val);
				*val = NULL;
				*wrong_type = true;
			}
			if (!jr_value(j))
				return false;
		}
		jr_ws(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			continue;
		}
		if (j->p < j->end && *j->p == '}') {
			j->p++;
			return true;
		}
		return false;
	}
}

/* Reads any value (with the whitespace before it). */
static bool
jr_value(struct jr *j)
{
	bool ok;

	jr_ws(j);
	if (j->p >= j->end)
		return false;
	switch (*j->p) {
	case '"':
		return jr_string(j, NULL, NULL);
	case 't':
		return jr_lit(j, "true");
	case 'f':
		return jr_lit(j, "false");
	case 'n':
		return jr_lit(j, "null");
	case '{':
	case '[':
		break;
	default:
		return jr_number(j);
	}
	if (++j->depth > JSON_MAX_DEPTH)
		return false;
	if (*j->p++ == '{') {
		ok = jr_members(j, NULL, NULL, NULL, NULL);
	} else {
		jr_ws(j);
		ok = true;
		if (j->p < j->end && *j->p == ']')
			j->p++;
		else
			for (;;) {
				if (!(ok = jr_value(j)))
					break;
				jr_ws(j);
				if (j->p < j->end && *j->p == ',') {
					j->p++;
					continue;
				}
				ok = j->p < j->end && *j->p++ == ']';
				break;
			}
	}
	j->depth--;
	return ok;
}

/*
 * Reads body[0..len) as one JSON object and nothing after it but whitespace, and the string
 * member name of it into *val (a new string, caller frees) and *vlen. Returns NULL when that
 * worked, else what is wrong (for a 400 and the log; *val is then NULL).
 */
static const char *
json_body_member(const char *body, size_t len, const char *name, char **val, size_t *vlen)
{
	struct jr j = { body, body + len, 1 };
	bool wrong_type = false;

	*val = NULL;
	*vlen = 0;
	jr_ws(&j);
	if (j.p >= j.end || *j.p != '{') {
		struct jr any = { body, body + len, 0 };

		return jr_value(&any) && (jr_ws(&any), any.p == any.end) ? "body is not a JSON object"
									 : "body is not JSON";
	}
	j.p++;
	if (!jr_members(&j, name, val, vlen, &wrong_type) || (jr_ws(&j), j.p != j.end)) {
		free(*val);
		*val = NULL;
		return "body is not JSON";
	}
	if (wrong_type)
		return "member is not a string";
	if (*val == NULL)
		return "member missing";
	if (strlen(*val) != *vlen) {
		free(*val);
		*val = NULL;
		return "member holds a NUL";
	}
	return NULL;
}

/* Returns true when Content-Type ct is application/json (any case, parameters allowed). */
static bool
ctype_is_json(const char *ct)
{
	static const char json[] = "application/json";

	if (ct == NULL)
		return false;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	return strncasecmp(ct, json, sizeof(json) - 1) == 0 &&
	    strchr(" \t;", ct[sizeof(json) - 1]) != NULL; /* strchr finds the NUL too */
}

/* Counts one more sighting of token; returns how many times it was seen before. */
static unsigned
seen_bump(const char *token)
{
	uint64_t h = 1469598103934665603ULL;
	const char *c;
	struct seen *s;
	unsigned before = UINT_MAX;
	size_t b;

	for (c = token; *c; c++)
		h = (h ^ (unsigned char)*c) * 1099511628211ULL;
	b = (size_t)(h % SEEN_BUCKETS);
	pthread_mutex_lock(&g.seen_mu);
	for (s = g.seen[b]; s; s = s->next)
		if (strcmp(s->token, token) == 0)
			break;
	if (s == NULL && g.seen_n < SEEN_CAP &&
	    (s = calloc(1, sizeof(*s) + strlen(token) + 1)) != NULL) {
		strcpy(s->token, token);
		s->next = g.seen[b];
		g.seen[b] = s;
		g.seen_n++;
	}
	if (s != NULL)
		before = s->count++;
	pthread_mutex_unlock(&g.seen_mu);
	return before;
}

/* Forgets every token seen; the caller holds seen_mu or is the only thread left. */
static void
seen_clear(void)
{
	size_t b;

	for (b = 0; b < SEEN_BUCKETS; b++) {
		while (g.seen[b]) {
			struct seen *next = g.seen[b]->next;

			free(g.seen[b]);
			g.seen[b] = next;
		}
	}
	g.seen_n = 0;
}

/* Queues an answer with a malloc'd body (taken: freed by MHD) and optional headers
 * given as name, value pairs ending with NULL. Returns the MHD result. */
/*
 * Queues resp (NULL: the response could not be made) with Content-Type ctype (NULL: none) and
 * drops our reference to it.
 */
static enum MHD_Result
send_response(struct MHD_Connection *conn, unsigned status, const char *ctype,
    struct MHD_Response *resp)
{
	enum MHD_Result ret;

	if (resp == NULL)
		return MHD_NO;
	if (ctype != NULL)
		(void)MHD_add_response_header(resp, "Content-Type", ctype);
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result
answer(struct MHD_Connection *conn, unsigned status, const char *ctype, char *body, ...)
{
	struct MHD_Response *resp;
	const char *name;
	va_list ap;

	resp = MHD_create_response_from_buffer_with_free_callback(strlen(body), body, free);
	if (resp == NULL) {
		free(body);
		return MHD_NO;
	}
	va_start(ap, body);
	while ((name = va_arg(ap, const char *)) != NULL)
		(void)MHD_add_response_header(resp, name, va_arg(ap, const char *));
	va_end(ap);
	return send_response(conn, status, ctype, resp);
}

/* Returns a new malloc'd string built like printf; exits on out of memory. */
static char *
fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *
fmt(const char *f, ...)
{
	va_list ap;
	char *s;

	va_start(ap, f);
	if (vasprintf(&s, f, ap) < 0)
		die("out of memory");
	va_end(ap);
	return s;
}

/* Draws a fresh token's hex part (32 hex) into hex and records the token, ok-<hex>, in issued
 * (ISSUED_MAX bytes), which the resp log line reports. */
static void
issue(char *hex, char *issued)
{
	rand_hex(hex, 16);
	snprintf(issued, ISSUED_MAX, "ok-%s", hex);
}

/* Answers 200 with a fresh ok- token and the AWS load-balancer cookies. Both cookies carry the
 * token's hex part, so a test can tell that a row's token and cookies came from one answer. */
static enum MHD_Result
answer_ok(struct MHD_Connection *conn, char *issued)
{
	char tok[33];
	char *c1, *c2;
	enum MHD_Result ret;

	issue(tok, issued);
	c1 = fmt("AWSALB=%s; Expires=Tue, 01 Dec 2099 00:00:00 GMT; Path=/", tok);
	c2 = fmt("AWSALBCORS=%s; Expires=Tue, 01 Dec 2099 00:00:00 GMT; Path=/; "
	    "SameSite=None; Secure", tok);
	ret = answer(conn, 200, "application/json", fmt("{\"newToken\":\"%s\"}", issued),
	    "Set-Cookie", c1, "Set-Cookie", c2,
	    "Set-Cookie", "PHPSESSID=fake-not-captured; Path=/", (const char *)NULL);
	free(c1);
	free(c2);
	return ret;
}

/* Answers the huge body: a valid token padded to HUGE_BYTES. */
static enum MHD_Result
answer_huge(struct MHD_Connection *conn, char *issued)
{
	char tok[33];
	char *body = malloc(HUGE_BYTES + 1);
	int head;

	if (body == NULL)
		die("out of memory");
	issue(tok, issued);
	head = snprintf(body, HUGE_BYTES, "{\"newToken\":\"%s\",\"pad\":\"", issued);
	memset(body + head, 'x', (size_t)(HUGE_BYTES - head - 2));
	memcpy(body + HUGE_BYTES - 2, "\"}", 3);
	return answer(conn, 200, "application/json", body, (const char *)NULL);
}

/* State of a trickle answer: its body, sent one byte per --trickle-ms by trickle_read. */
struct trickle {
	struct MHD_Connection *conn;
	size_t len;
	char body[];
};

/* MHD content reader of trickle: waits --trickle-ms, then gives one byte. Ends the answer with
 * an error when the client leaves or the server stops. */
static ssize_t
trickle_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct trickle *t = cls;

	if (pos >= t->len)
		return MHD_CONTENT_READER_END_OF_STREAM;
	if (max < 1 || !await(t->conn, g.trickle_ms, false))
		return MHD_CONTENT_READER_END_WITH_ERROR;
	buf[0] = t->body[pos];
	return 1;
}

/* Answers 200 with an ok token whose body (Content-Length known) arrives a byte at a time. */
static enum MHD_Result
answer_trickle(struct MHD_Connection *conn, char *issued)
{
	char tok[33];
	struct MHD_Response *resp;
	struct trickle *t;
	char *body;

	issue(tok, issued);
	body = fmt("{\"newToken\":\"%s\"}", issued);
	if ((t = malloc(sizeof(*t) + strlen(body) + 1)) == NULL)
		die("out of memory");
	t->conn = conn;
	t->len = strlen(body);
	memcpy(t->body, body, t->len + 1);
	free(body);
	resp = MHD_create_response_from_callback(t->len, 1, trickle_read, t, free);
	if (resp == NULL)
		free(t);
	return send_response(conn, 200, "application/json", resp);
}

/*
 * Writes buf[0..len) straight to the connection's socket, bypassing MHD (which refuses the
 * hostile header bytes and sizes these answers need), then returns MHD_NO so that MHD closes
 * the connection without sending anything of its own. Plain HTTP only.
 */
static enum MHD_Result
raw_answer(struct MHD_Connection *conn, const char *buf, size_t len)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	int64_t deadline = now_us() + (int64_t)RAW_SEND_TIMEOUT_MS * 1000;
	size_t off = 0;

	if (ci == NULL)
		return MHD_NO;
	while (off < len && !atomic_load(&g.stop) && now_us() < deadline) {
		/* MHD's sockets are non-blocking: wait until this one takes more. */
		struct pollfd p = { .fd = ci->connect_fd, .events = POLLOUT };
		ssize_t n = send(ci->connect_fd, buf + off, len - off, MSG_NOSIGNAL);

		if (n > 0)
			off += (size_t)n;
		else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			(void)poll(&p, 1, 100);
		else
			break;
	}
	return MHD_NO;
}

/* Sends a raw 200 answer: status line, the header lines in hdrs (each ending CRLF, any bytes,
 * hdrlen of them), the ok body of issued, Connection: close. */
static enum MHD_Result
raw_ok(struct MHD_Connection *conn, const char *hdrs, size_t hdrlen, const char *issued)
{
	char *body = fmt("{\"newToken\":\"%s\"}", issued);
	char *head = fmt("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
			 "Content-Length: %zu\r\nConnection: close\r\n", strlen(body));
	size_t hl = strlen(head), bl = strlen(body);
	char *all = malloc(hl + hdrlen + 2 + bl);
	enum MHD_Result ret;

	if (all == NULL)
		die("out of memory");
	memcpy(all, head, hl);
	memcpy(all + hl, hdrs, hdrlen);
	memcpy(all + hl + hdrlen, "\r\n", 2);
	memcpy(all + hl + hdrlen + 2, body, bl);
	ret = raw_answer(conn, all, hl + hdrlen + 2 + bl);
	free(all);
	free(head);
	free(body);
	return ret;
}

/* A growable buffer of raw header bytes (open_memstream). */
struct hbuf {
	FILE *f;
	char *p;
	size_t len;
};

static void
hbuf_open(struct hbuf *h)
{
	h->p = NULL;
	h->len = 0;
	if ((h->f = open_memstream(&h->p, &h->len)) == NULL)
		die("out of memory");
}

/* Closes the stream; h->p then holds h->len bytes (caller frees). */
static void
hbuf_close(struct hbuf *h)
{
	if (fclose(h->f) != 0)
		die("out of memory");
}

/*
 * The raw, hostile header answers, all with a fresh ok token (in issued) in a well-formed body:
 *   bighdr      one 100 KiB header line, then the ok cookies
 *   manyhdr     MANY_HEADERS junk header lines, then the ok cookies
 *   manycookie  the ok cookies, then MANY_HEADERS Set-Cookie lines of other names
 *   manycookielast  MANY_HEADERS Set-Cookie lines of other names, then the ok cookies
 *   evilcookie  hostile Set-Cookie lines (see below), then the ok cookies last
 */
static enum MHD_Result
answer_raw_mode(struct MHD_Connection *conn, const char *mode, char *issued)
{
	char tok[33];
	struct hbuf h;
	enum MHD_Result ret;
	int i;

	issue(tok, issued);
	hbuf_open(&h);
	if (strcmp(mode, "bighdr") == 0) {
		fputs("X-Pad: ", h.f);
		for (i = 0; i < BIG_HEADER_BYTES; i++)
			fputc('a' + i % 26, h.f);
		fputs("\r\n", h.f);
	} else if (strcmp(mode, "manyhdr") == 0) {
		for (i = 0; i < MANY_HEADERS; i++)
			fprintf(h.f, "X-Junk-%d: value-%d\r\n", i, i);
	} else if (strcmp(mode, "evilcookie") == 0) {
		/*
		 * Hostile lines for AWSALB, AWSALBCORS and EVIL. What a careful client keeps: from
		 * EVIL only the ';'-injection line's first pair (EVIL="}],"name":"x); AWSALB and
		 * AWSALBCORS come last, well-formed, and win. Nothing else is a cookie.
		 */
		fputs("Set-Cookie: AWSALB=semi; AWSALBCORS=injected; Path=/\r\n", h.f);
		/* a bare CR inside the value, in the name */
		fputs("Set-Cookie: AWSALBCORS=cr\rX-Injected: 1; Path=/\r\n", h.f);
		fputs("Set-Cookie: EVIL=cr\rX-Injected: 1; Path=/\r\n", h.f);
		fputs("Set-Cookie: EVIL\r=name-cr; Path=/\r\n", h.f);
		/* a bare LF: ends the header line early; the rest is a header line of its own */
		fputs("Set-Cookie: AWSALB=lf\nX-Injected: 2\r\n", h.f);
		fputs("Set-Cookie: EVIL=lf\nX-Injected: 3\r\n", h.f);
		/* control bytes and a tab in the value, a control byte in the name */
		fputs("Set-Cookie: AWSALB=ctl\x01\x7f; Path=/\r\n", h.f);
		fputs("Set-Cookie: AWS\x01" "ALB=name-ctl; Path=/\r\n", h.f);
		/* ';' injection and a JSON-looking value: EVIL is `"}],"name":"x` */
		fputs("Set-Cookie: EVIL=\"}],\"name\":\"x; AWSALBCORS=injected; Path=/\r\n", h.f);
		fputs("Set-Cookie: EVIL=tab\there; Path=/\r\n", h.f);
		/* invalid UTF-8 in the value, then in the name */
		fputs("Set-Cookie: AWSALB=\xff\xfe\xc3\x28; Path=/\r\n", h.f);
		fputs("Set-Cookie: EVIL=\xed\xa0\x80; Path=/\r\n", h.f);
		fputs("Set-Cookie: AWSALB\xc3\x28=badname; Path=/\r\n", h.f);
		/* empty name, no '=', nothing at all */
		fputs("Set-Cookie: =emptyname; Path=/\r\n", h.f);
		fputs("Set-Cookie: AWSALB\r\n", h.f);
		fputs("Set-Cookie: \r\n", h.f);
		/* an overlong value */
		fputs("Set-Cookie: EVIL=", h.f);
		for (i = 0; i < OVERLONG_COOKIE_BYTES; i++)
			fputc('x', h.f);
		fputs("; Path=/\r\n", h.f);
	} else if (strcmp(mode, "manycookielast") == 0) {
		for (i = 0; i < MANY_HEADERS; i++)
			fprintf(h.f, "Set-Cookie: junk%d=v%d; Path=/\r\n", i, i);
	} else if (strcmp(mode, "manycookie") != 0) {
		die("answer_raw_mode: unknown mode %s", mode);
	}
	/* The good cookies of this answer: last, so they win (manycookie: first, see below). */
	fprintf(h.f, "Set-Cookie: AWSALB=%s; Path=/\r\nSet-Cookie: AWSALBCORS=%s; Path=/\r\n",
	    tok, tok);
	if (strcmp(mode, "manycookie") == 0)
		for (i = 0; i < MANY_HEADERS; i++)
			fprintf(h.f, "Set-Cookie: junk%d=v%d; Path=/\r\n", i, i);
	hbuf_close(&h);
	ret = raw_ok(conn, h.p, h.len, issued);
	free(h.p);
	return ret;
}

/* Answers garbage: GARBAGE_BYTES random bytes (NUL, invalid UTF-8...) said to be JSON. */
static enum MHD_Result
answer_garbage(struct MHD_Connection *conn)
{
	unsigned char *b = malloc(GARBAGE_BYTES);
	struct MHD_Response *resp;

	if (b == NULL)
		die("out of memory");
	if (getrandom(b, GARBAGE_BYTES, 0) != GARBAGE_BYTES)
		for (size_t i = 0; i < GARBAGE_BYTES; i++)
			b[i] = (unsigned char)rand_upto(255);
	resp = MHD_create_response_from_buffer_with_free_callback(GARBAGE_BYTES, b, free);
	if (resp == NULL)
		free(b);
	return send_response(conn, 200, "application/json", resp);
}

/* Sends a raw 200 whose Content-Length promises more than the body that comes before the
 * connection closes. */
static enum MHD_Result
answer_partial(struct MHD_Connection *conn)
{
	static const char raw[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
				  "Content-Length: 200\r\nConnection: close\r\n\r\n{\"newToken\":\"ok-";

	return raw_answer(conn, raw, sizeof(raw) - 1);
}

/* Chooses and queues (or sends raw) the answer for a token; fills *rp and returns the MHD
 * result. */
static enum MHD_Result
respond_token(struct MHD_Connection *conn, const char *token, struct reply *rp)
{
	unsigned *status = &rp->status;
	char *issued = rp->issued;

	size_t plen = strcspn(token, "-");
	char prefix[32] = "";

#define IS(p) (strcmp(prefix, (p)) == 0)
	if (plen < sizeof(prefix))
		memcpy(prefix, token, plen), prefix[plen] = '\0';
	*status = 200;
	if (IS("logout"))
		return answer(conn, 200, "application/json", fmt("{\"logout\":1}"), (const char *)NULL);
	if (IS("holdlogout")) {
		if (!await(conn, -1, true)) {
			*status = 0; /* the server is stopping or the client left */
			return MHD_NO;
		}
		return answer(conn, 200, "application/json", fmt("{\"logout\":1}"), (const char *)NULL);
	}
	if (IS("logoutnull")) {
		char tok[33];

		issue(tok, issued);
		return answer(conn, 200, "application/json",
		    fmt("{\"logout\":null,\"newToken\":\"%s\"}", issued), (const char *)NULL);
	}
	if ((IS("flaky") && seen_bump(token) < 1) || (IS("flaky2") && seen_bump(token) < 2))
		return answer(conn, *status = 503, "application/json",
		    fmt("{\"error\":\"unavailable\"}"), (const char *)NULL);
	if (IS("down"))
		return answer(conn, *status = 500, "application/json",
		    fmt("{\"error\":\"down\"}"), (const char *)NULL);
	if (IS("chaos") && rand_upto(1) == 0) {
		static const unsigned five[] = { 500, 502, 503, 504 };

		return answer(conn, *status = five[rand_upto(3)], "application/json",
		    fmt("{\"error\":\"chaos\"}"), (const char *)NULL);
	}
	if (IS("reset")) {
		*status = 0;
		return MHD_NO;
	}
	/* A thread serves one connection (MHD_USE_THREAD_PER_CONNECTION): this counts its
	 * token requests. */
	static _Thread_local unsigned conn_served;
	unsigned before = conn_served++;
	if ((IS("resetreused") && before > 0 && seen_bump(token) < 1) ||
	    (IS("reusedreset") && before > 0)) {
		*status = 0;
		return MHD_NO;
	}
	if (IS("partial")) {
		rp->raw = true;
		return answer_partial(conn);
	}
	if (IS("ratelimit") && seen_bump(token) < 1)
		return answer(conn, *status = 429, "application/json",
		    fmt("{\"error\":\"slow down\"}"), "Retry-After", "1", (const char *)NULL);
	if (IS("bad"))
		return answer(conn, *status = 400, "application/json", fmt("{\"error\":\"bad\"}"),
		    (const char *)NULL);
	if (IS("redirect"))
		return answer(conn, *status = 302, "text/html", fmt("moved"),
		    "Location", "/elsewhere", (const char *)NULL);
	if (IS("nonjson"))
		return answer(conn, 200, "text/html", fmt("<html>oops</html>"), (const char *)NULL);
	if (IS("garbage"))
		return answer_garbage(conn);
	if (IS("badutf8"))
		return answer(conn, 200, "application/json",
		    fmt("{\"newToken\":\"ok-\xc3\x28\xff\xfe\xed\xa0\x80\"}"), (const char *)NULL);
	if (IS("empty"))
		return answer(conn, 200, "application/json", fmt("{}"), (const char *)NULL);
	if (IS("badtoken"))
		return answer(conn, 200, "application/json", fmt("{\"newToken\":\"has\\u007fDEL\"}"),
		    (const char *)NULL);
	if (IS("spacetoken")) {
		char tok[33];

		issue(tok, issued);
		memcpy(issued, "ok ", 3); /* "ok HEX": printable ASCII with a space, a valid token */
		return answer(conn, 200, "application/json", fmt("{\"newToken\":\"%s\"}", issued),
		    (const char *)NULL);
	}
	if (IS("huge"))
		return answer_huge(conn, issued);
	if (IS("trickle"))
		return answer_trickle(conn, issued);
	if (IS("bighdr") || IS("manyhdr") || IS("manycookie") || IS("manycookielast") ||
	    IS("evilcookie")) {
		rp->raw = true;
		return answer_raw_mode(conn, prefix, issued);
	}
	if (IS("hang")) {
		(void)await(conn, HANG_MAX_MS, false);
		*status = 0;
		return MHD_NO;
	}
	if ((IS("slow") && !await(conn, g.slow_ms, false)) || (IS("hold") && !await(conn, -1, true))) {
		*status = 0; /* the server is stopping or the client left */
		return MHD_NO;
	}
#undef IS
	return answer_ok(conn, issued);
}

/* Standard or URL-safe base64 of n bytes (url: '-' '_' and no padding). Caller frees. */
static char *
b64_encode(const unsigned char *in, size_t n, bool url)
{
	const char *a = url ? "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
			    : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *out = malloc((n + 2) / 3 * 4 + 1), *o = out;

	if (out == NULL)
		die("out of memory");
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0) |
		    (i + 2 < n ? in[i + 2] : 0);

		*o++ = a[v >> 18 & 63];
		*o++ = a[v >> 12 & 63];
		if (i + 1 < n || !url)
			*o++ = i + 1 < n ? a[v >> 6 & 63] : '=';
		if (i + 2 < n || !url)
			*o++ = i + 2 < n ? a[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

/* Decodes standard base64 (padding optional) into a new NUL-terminated string, or NULL. */
static char *
b64_decode(const char *s)
{
	size_t n = strlen(s), o = 0;
	char *out = malloc(n + 1);
	uint32_t acc = 0;
	int bits = 0;

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < n && s[i] != '='; i++) {
		const char *a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
		const char *p = strchr(a, s[i]);

		if (p == NULL || s[i] == '\0') {
			free(out);
			return NULL;
		}
		acc = acc << 6 | (uint32_t)(p - a);
		if ((bits += 6) >= 8)
			out[o++] = (char)(acc >> (bits -= 8));
	}
	out[o] = '\0';
	return out;
}

/* An unsigned JWT whose payload is {"sub":"fake","exp":EXP}. Caller frees. */
static char *
make_jwt(long long exp)
{
	char *payload = fmt("{\"sub\":\"fake\",\"exp\":%lld}", exp);
	char *p64 = b64_encode((const unsigned char *)payload, strlen(payload), true);
	char sig[17];
	char *jwt;

	rand_hex(sig, 8);
	/* base64url of {"alg":"none","typ":"JWT"} */
	jwt = fmt("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.%s.%s", p64, sig);
	free(payload);
	free(p64);
	return jwt;
}

/*
 * How the client authenticated to the token endpoint: "basic" (Authorization header),
 * "form" (client_id in the body) or "" (none), and whether the credentials match
 * --client-id/--client-secret (always true when those are not set).
 */
static const char *
client_auth(const char *authz, const struct req *r, bool *ok)
{
	const char *body = r->body ? r->body : "";
	const char *via = "";
	char *id = NULL, *secret = NULL;

	if (authz != NULL && strncmp(authz, "Basic ", 6) == 0) {
		char *pair = b64_decode(authz + 6), *colon = pair ? strchr(pair, ':') : NULL;

		via = "basic";
		if (colon != NULL) {
			id = form_decode(pair, (size_t)(colon - pair));
			secret = form_decode(colon + 1, strlen(colon + 1));
		}
		free(pair);
	} else if ((id = form_get(body, r->len, "client_id")) != NULL) {
		via = "form";
		secret = form_get(body, r->len, "client_secret");
	}
	*ok = g.client_id == NULL ||
	    (id != NULL && secret != NULL && strcmp(id, g.client_id) == 0 &&
		strcmp(secret, g.client_secret ? g.client_secret : "") == 0);
	free(id);
	free(secret);
	return via;
}

/*
 * Answers a refresh-token grant by the refresh token's prefix: rt (default) rotates and
 * gives expires_in 3600 and a JWT; rtkeep no rotation, expires_in 600; rtjwt only the JWT's
 * exp (now + 1800); rtnoexp no expiry at all; dead 400 invalid_grant; rlimit 429 once;
 * hold waits for the release file; eunauth, egrant, escope, ereq 400 unauthorized_client,
 * unsupported_grant_type, invalid_scope, invalid_request; eclient 401 invalid_client; e401
 * 401 with a text body. Bad client credentials: 401 invalid_client.
 */
static enum MHD_Result
respond_oauth(struct MHD_Connection *conn, const char *token, bool client_ok, unsigned *status)
{
	/* Refusals of the client, whatever its credentials: a run must stop at them. */
	static const struct {
		const char *prefix, *code;
		unsigned status;
	} refusals[] = {
		{ "eunauth", "unauthorized_client", 400 },
		{ "egrant", "unsupported_grant_type", 400 },
		{ "escope", "invalid_scope", 400 },
		{ "ereq", "invalid_request", 400 },
		{ "eclient", "invalid_client", 401 },
	};
	size_t plen = strcspn(token, "-");
	char prefix[32] = "", hex[33];
	long long now = (long long)time(NULL);
	enum MHD_Result ret;
	char *jwt;

	if (plen < sizeof(prefix))
		memcpy(prefix, token, plen), prefix[plen] = '\0';
	*status = 200;
	rand_hex(hex, 16);
	if (!client_ok)
		return answer(conn, *status = 401, "application/json",
		    fmt("{\"error\":\"invalid_client\"}"), (const char *)NULL);
	for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++)
		if (strcmp(prefix, refusals[i].prefix) == 0)
			return answer(conn, *status = refusals[i].status, "application/json",
			    fmt("{\"error\":\"%s\",\"error_description\":\"refused\"}", refusals[i].code),
			    (const char *)NULL);
	if (strcmp(prefix, "e401") == 0)
		return answer(conn, *status = 401, "text/plain", fmt("Unauthorized"),
		    (const char *)NULL);
	if (strcmp(prefix, "dead") == 0)
		return answer(conn, *status = 400, "application/json",
		    fmt("{\"error\":\"invalid_grant\",\"error_description\":\"expired\"}"),
		    (const char *)NULL);
	if (strcmp(prefix, "rlimit") == 0 && seen_bump(token) < 1)
		return answer(conn, *status = 429, "application/json",
		    fmt("{\"error\":\"slow down\"}"), "Retry-After", "1", (const char *)NULL);
	if (strcmp(prefix, "hold") == 0 && !await(conn, -1, true)) {
		*status = 0;
		return MHD_NO;
	}
	if (strcmp(prefix, "rtkeep") == 0)
		return answer(conn, 200, "application/json",
		    fmt("{\"access_token\":\"at-%s\",\"token_type\":\"Bearer\",\"expires_in\":600}", hex),
		    (const char *)NULL);
	if (strcmp(prefix, "rtnoexp") == 0)
		return answer(conn, 200, "application/json",
		    fmt("{\"access_token\":\"at-%s\",\"token_type\":\"Bearer\"}", hex),
		    (const char *)NULL);
	if (strcmp(prefix, "rtjwt") == 0) {
		jwt = make_jwt(now + 1800);
		ret = answer(conn, 200, "application/json",
		    fmt("{\"access_token\":\"%s\",\"token_type\":\"Bearer\"}", jwt), (const char *)NULL);
		free(jwt);
		return ret;
	}
	jwt = make_jwt(now + 3600);
	ret = answer(conn, 200, "application/json",
	    fmt("{\"access_token\":\"%s\",\"token_type\":\"Bearer\",\"expires_in\":3600,"
		"\"refresh_token\":\"rt-%s\"}", jwt, hex),
	    (const char *)NULL);
	free(jwt);
	return ret;
}

/* Formats unix time t as RFC 3339: in the zone off_min minutes east of UTC ("+02:00",
 * "-05:30"), or with zulu_ms as JavaScript's toISOString() does ("...T12:00:00.123Z").
 * Caller frees. */
static char *
rfc3339(long long t, int off_min, bool zulu_ms)
{
	time_t local = (time_t)(t + (long long)off_min * 60);
	int a = off_min < 0 ? -off_min : off_min;
	struct tm tm;
	char buf[32];

	if (gmtime_r(&local, &tm) == NULL || strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		die("cannot format a time");
	if (zulu_ms)
		return fmt("%s.123Z", buf);
	return fmt("%s%c%02d:%02d", buf, off_min < 0 ? '-' : '+', a / 60, a % 60);
}

/*
 * Answers a JSON refresh request (Kush.Observer style: POST {"refreshToken": ...}) by the
 * refresh token's prefix; with nested (POST /api/v2/refresh) every 2xx object answer comes
 * wrapped as {"data":{"tokens":ANSWER},"success":true}. bearer is what handle_token_update
 * found in Authorization ("ok": exactly "Bearer at-<token>"). Fills *rp (issued: the rotated
 * token, decoded) and returns the MHD result. The modes are listed in USAGE.
 */
static enum MHD_Result
respond_json(struct MHD_Connection *conn, const char *token, bool nested, const char *bearer,
    struct reply *rp)
{
	size_t plen = strcspn(token, "-");
	char prefix[32] = "", hex[33];
	long long now = (long long)time(NULL);
	char *inner = NULL, *jwt = NULL, *ts = NULL, *body;
	enum MHD_Result ret;

	if (plen < sizeof(prefix))
		memcpy(prefix, token, plen), prefix[plen] = '\0';
#define IS(p) (strcmp(prefix, (p)) == 0)
#define ERR(st, text) answer(conn, rp->status = (st), "application/json", fmt("%s", text), \
    (const char *)NULL)
	rand_hex(hex, 16);
	rp->status = 200;
	if ((IS("jhold") || IS("jholdlogout")) && !await(conn, -1, true)) {
		rp->status = 0; /* the server is stopping or the client left */
		return MHD_NO;
	}
	if (IS("jhuge") || IS("jhuge401") || IS("jhuge503")) { /* over max_response_bytes */
		unsigned st = IS("jhuge") ? 200 : IS("jhuge401") ? 401 : 503;
		char *pad = malloc(HUGE_BYTES + 1);

		if (pad == NULL)
			die("out of memory");
		memset(pad, 'x', HUGE_BYTES);
		pad[HUGE_BYTES] = '\0';
		if (st == 200)
			snprintf(rp->issued, ISSUED_MAX, "jr-%s", hex);
		body = st == 200 ? fmt("{\"accessToken\":\"at-%s\",\"refreshToken\":\"%s\","
					"\"expiresIn\":900,\"pad\":\"%s\"}", hex, rp->issued, pad) :
				   fmt("{\"error\":\"%u\",\"pad\":\"%s\"}", st, pad);
		free(pad);
		return answer(conn, rp->status = st, "application/json", body, (const char *)NULL);
	}
	if (IS("jlogout") || IS("jholdlogout"))
		return ERR(401, "{\"error\":\"Unauthorized\",\"message\":\"refresh token expired\"}");
	if (IS("jforbid"))
		return ERR(403, "{\"error\":\"Forbidden\",\"message\":\"account suspended\"}");
	if (IS("jdown"))
		return ERR(500, "{\"error\":\"Internal Server Error\"}");
	if (IS("jflaky") && seen_bump(token) < 1)
		return ERR(503, "{\"error\":\"Service Unavailable\"}");
	if (IS("jlimit") && seen_bump(token) < 1)
		return answer(conn, rp->status = 429, "application/json",
		    fmt("{\"error\":\"Too Many Requests\"}"), "Retry-After", "1", (const char *)NULL);
	if (IS("jbearer") && strcmp(bearer, "ok") != 0)
		return ERR(401, "{\"error\":\"Unauthorized\",\"message\":\"bad access token\"}");
	/* 2xx that are not a JSON object */
	if (IS("jarray"))
		return ERR(200, "[{\"accessToken\":\"at-in-an-array\",\"expiresIn\":900}]");
	if (IS("jstring"))
		return ERR(200, "\"ok\"");
	if (IS("jnull"))
		return ERR(200, "null");
	if (IS("jempty"))
		return ERR(200, "");
	if (IS("jnonjson"))
		return answer(conn, 200, "text/html", fmt("<html>Signed in</html>"), (const char *)NULL);

	/* 2xx objects: expiry forms */
	if (IS("jkeep")) { /* no rotation; expiresIn wins over the JWT's exp */
		jwt = make_jwt(now + 3000);
		inner = fmt("{\"accessToken\":\"%s\",\"expiresIn\":600}", jwt);
	} else if (IS("jjwt")) { /* the JWT's exp only */
		jwt = make_jwt(now + 1800);
		inner = fmt("{\"accessToken\":\"%s\"}", jwt);
	} else if (IS("jstrin")) { /* expiresIn as a string of digits */
		snprintf(rp->issued, ISSUED_MAX, "jstrin-%s", hex);
		inner = fmt("{\"accessToken\":\"at-%s\",\"refreshToken\":\"%s\",\"expiresIn\":\"1200\"}",
		    hex, rp->issued);
	} else if (IS("jat")) { /* expiresAt in unix seconds wins over the JWT's exp */
		jwt = make_jwt(now + 1800);
		inner = fmt("{\"accessToken\":\"%s\",\"expiresAt\":%lld}", jwt, now + 2700);
	} else if (IS("jrfc") || IS("jrfcneg") || IS("jrfcz")) { /* RFC 3339 */
		ts = IS("jrfc") ? rfc3339(now + 3600, 120, false) :
		    IS("jrfcneg") ? rfc3339(now + 5400, -330, false) : rfc3339(now + 4500, 0, true);
		inner = fmt("{\"accessToken\":\"at-%s\",\"expiresAt\":\"%s\"}", hex, ts);
	} else if (IS("jboth")) { /* expiresIn wins over expiresAt */
		inner = fmt("{\"accessToken\":\"at-%s\",\"expiresIn\":900,\"expiresAt\":%lld}", hex,
		    now + 2700);
	} else if (IS("jnoexp")) {
		inner = fmt("{\"accessToken\":\"at-%s\",\"refreshToken\":\"jnoexp-%s\"}", hex, hex);
	/* 2xx objects whose values are wrong */
	} else if (IS("jexpbad")) {
		inner = fmt("{\"accessToken\":\"at-%s\",\"expiresAt\":\"tomorrow\"}", hex);
	} else if (IS("jexpobj")) {
		inner = fmt("{\"accessToken\":\"at-%s\",\"refreshToken\":\"jexpobj-%s\","
			    "\"expiresIn\":{\"seconds\":900}}", hex, hex);
	} else if (IS("jatnum")) {
		inner = fmt("{\"accessToken\":12345,\"refreshToken\":\"jatnum-%s\",\"expiresIn\":900}",
		    hex);
	} else if (IS("jatempty")) {
		inner = fmt("{\"accessToken\":\"\",\"refreshToken\":\"jatempty-%s\",\"expiresIn\":900}",
		    hex);
	} else if (IS("jatctl")) {
		inner = fmt("{\"accessToken\":\"at\\u0001%s\",\"expiresIn\":900}", hex);
	} else if (IS("jnoat")) {
		inner = fmt("{\"refreshToken\":\"jnoat-%s\",\"expiresIn\":900}", hex);
	} else if (IS("jrtempty")) {
		inner = fmt("{\"accessToken\":\"at-%s\",\"refreshToken\":\"\",\"expiresIn\":900}", hex);
	} else if (IS("jrtnum")) {
		inner = fmt("{\"accessToken\":\"at-%s\",\"refreshToken\":42,\"expiresIn\":900}", hex);
	/* rotation variants */
	} else if (IS("jrtnull")) { /* null: not rotated */
		inner = fmt("{\"accessToken\":\"at-%s\",\"refreshToken\":null,\"expiresIn\":900}", hex);
	} else if (IS("jesc")) {
		/* rotated tokens written with escapes: jesc-q"b\s/A-HEX and at-<that> (the jbearer
		 * convention, so the next request's Authorization can be checked too) */
		snprintf(rp->issued, ISSUED_MAX, "jesc-q\"b\\s/A-%s", hex);
		inner = fmt("{\"accessToken\":\"at-jesc-q\\\"b\\\\s\\/\\u0041-%s\","
			    "\"refreshToken\":\"jesc-q\\\"b\\\\s\\/\\u0041-%s\",\"expiresIn\":900}", hex, hex);
	} else if (IS("jbearer")) { /* keeps the at-<token> convention for the next request */
		snprintf(rp->issued, ISSUED_MAX, "jbearer-%s", hex);
		inner = fmt("{\"accessToken\":\"at-%s\",\"refreshToken\":\"%s\",\"expiresIn\":900}",
		    rp->issued, rp->issued);
	} else { /* jr and every other prefix: rotation */
		snprintf(rp->issued, ISSUED_MAX, "jr-%s", hex);
		jwt = make_jwt(now + 900);
		inner = fmt("{\"accessToken\":\"%s\",\"refreshToken\":\"%s\",\"expiresIn\":900}", jwt,
		    rp->issued);
	}
#undef ERR
#undef IS
	body = nested ? fmt("{\"data\":{\"tokens\":%s},\"success\":true}", inner) : fmt("%s", inner);
	ret = answer(conn, 200, "application/json", body, (const char *)NULL);
	free(inner);
	free(jwt);
	free(ts);
	return ret;
}

/* Handles one complete tokenUpdate POST: logs it, waits the latency, answers, logs the answer. */
static enum MHD_Result
handle_token_update(struct MHD_Connection *conn, const char *url, struct req *r)
{
	const char *cookie = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Cookie");
	const char *ua = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "User-Agent");
	const char *ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
	const char *authz = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
	const char *xkey = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Api-Key");
	const char *body = r->body ? r->body : "";
	/* POST /oauth/token is the OAuth 2.0 token endpoint, JSON_PATH and JSON_NESTED_PATH the
	 * JSON refresh API; every other POST is tokenUpdate. */
	bool oauth = url != NULL && strcmp(url, "/oauth/token") == 0;
	bool nested = url != NULL && strcmp(url, JSON_NESTED_PATH) == 0;
	bool json = nested || (url != NULL && strcmp(url, JSON_PATH) == 0);
	bool client_ok = true;
	const char *via = oauth ? client_auth(authz, r, &client_ok) : "";
	/* JSON API: what is wrong with the request ("" nothing) and the status that says so. */
	const char *jproblem = "", *bearer = "";
	unsigned jstatus = 0;
	size_t tlen = 0;
	char *token = NULL, *fp = NULL;
	long in, peak;

	if (json) {
		const char *why = json_body_member(body, r->len, "refreshToken", &token, &tlen);

		if (!ctype_is_json(ct))
			jproblem = "content type is not application/json", jstatus = 415;
		else if (why != NULL)
			jproblem = why, jstatus = 400;
		/* The access token is the row's by convention: at-<refresh token>. */
		if (authz != NULL)
			bearer = token != NULL && strncmp(authz, "Bearer at-", 10) == 0 &&
			    strcmp(authz + 10, token) == 0 ? "ok" : "wrong";
	} else {
		token = form_get(body, r->len, oauth ? "refresh_token" : "token");
		fp = form_get(body, r->len, "fingerprint");
	}
	struct reply rp = { .status = 0 };
	enum MHD_Result ret;

	atomic_fetch_add(&g.requests, 1);
	in = atomic_fetch_add(&g.in_flight, 1) + 1;
	peak = atomic_load(&g.peak);
	while (in > peak && !atomic_compare_exchange_weak(&g.peak, &peak, in))
		;
	pthread_mutex_lock(&g.log_mu);
	fprintf(g.log, "{\"ev\":\"req\",\"t_us\":%" PRId64 ",\"path\":", now_us());
	json_opt(g.log, url);
	fputs(",\"token\":", g.log);
	json_str(g.log, token ? token : "", token ? (json ? tlen : strlen(token)) : 0);
	fputs(",\"fingerprint\":", g.log);
	json_opt(g.log, fp);
	fputs(",\"form\":", g.log);
	json_str(g.log, body, r->len);
	fputs(",\"cookie\":", g.log);
	json_opt(g.log, cookie);
	fputs(",\"ua\":", g.log);
	json_opt(g.log, ua);
	fputs(",\"ct\":", g.log);
	json_opt(g.log, ct);
	fprintf(g.log, ",\"auth\":\"%s\",\"client_via\":\"%s\",\"client_ok\":%s",
	    authz == NULL ? "" : strncmp(authz, "Basic ", 6) == 0 ? "basic" :
	    strncmp(authz, "Bearer ", 7) == 0 ? "bearer" : "other", via,
	    client_ok ? "true" : "false");
	fprintf(g.log, ",\"bearer\":\"%s\",\"json\":\"%s\",\"xkey\":", bearer, jproblem);
	json_opt(g.log, xkey);
	fprintf(g.log, ",\"in_flight\":%ld}\n", in);
	fflush(g.log);
	pthread_mutex_unlock(&g.log_mu);

	if (r->too_big) {
		rp.status = 413;
		ret = answer(conn, 413, "application/json", fmt("{\"error\":\"too big\"}"),
		    (const char *)NULL);
	} else if (!await(conn, g.latency_ms + rand_upto(g.jitter_ms), false))
		ret = MHD_NO;
	else if (oauth)
		ret = respond_oauth(conn, token ? token : "", client_ok, &rp.status);
	else if (jstatus != 0)
		ret = answer(conn, rp.status = jstatus, "application/json",
		    fmt("{\"error\":\"%s\"}", jproblem), (const char *)NULL);
	else if (json)
		ret = respond_json(conn, token, nested, bearer, &rp);
	else
		ret = respond_token(conn, token ? token : "", &rp);

	pthread_mutex_lock(&g.log_mu);
	fprintf(g.log, "{\"ev\":\"resp\",\"t_us\":%" PRId64 ",\"token\":", now_us());
	json_opt(g.log, token);
	fprintf(g.log, ",\"status\":%u", ret == MHD_YES || rp.raw ? rp.status : 0);
	if (rp.issued[0] != '\0' && (ret == MHD_YES || rp.raw)) {
		fputs(",\"issued\":", g.log);
		json_opt(g.log, rp.issued);
	}
	fputs("}\n", g.log);
	fflush(g.log);
	pthread_mutex_unlock(&g.log_mu);
	/* Only now: a test that waits for in_flight 0 then finds every answer logged. */
	atomic_fetch_sub(&g.in_flight, 1);
	free(token);
	free(fp);
	return ret;
}

/* MHD access handler: collects the body, then routes GET /stats, POST /reset-stats,
 * and every other POST to the tokenUpdate fake. */
static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
    const char *version, const char *upload, size_t *upload_size, void **req_cls)
{
	struct req *r = *req_cls;

	(void)cls;
	(void)version;
	if (r == NULL) {
		if ((r = calloc(1, sizeof(*r))) == NULL)
			return MHD_NO;
		*req_cls = r;
		return MHD_YES;
	}
	if (*upload_size > 0) {
		if (!r->too_big && r->len + *upload_size <= MAX_BODY) {
			char *nb = realloc(r->body, r->len + *upload_size + 1);

			if (nb == NULL)
				return MHD_NO;
			r->body = nb;
			memcpy(r->body + r->len, upload, *upload_size);
			r->len += *upload_size;
			r->body[r->len] = '\0';
		} else
			r->too_big = true;
		*upload_size = 0;
		return MHD_YES;
	}
	if (strcmp(method, "GET") == 0 && strcmp(url, "/stats") == 0) {
		/* connections counts this one too: 1 means no client but the asker is connected. */
		const union MHD_DaemonInfo *di =
		    MHD_get_daemon_info(g.daemon, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);

		return answer(conn, 200, "application/json",
		    fmt("{\"requests\":%ld,\"peak_in_flight\":%ld,\"in_flight\":%ld,"
			"\"connections\":%u}",
			atomic_load(&g.requests), atomic_load(&g.peak), atomic_load(&g.in_flight),
			di != NULL ? di->num_connections : 0U),
		    (const char *)NULL);
	}
	if (strcmp(method, "POST") == 0 && strcmp(url, "/reset-stats") == 0) {
		pthread_mutex_lock(&g.seen_mu);
		seen_clear();
		pthread_mutex_unlock(&g.seen_mu);
		atomic_store(&g.requests, 0);
		/* Handlers still running stay counted, so in_flight never goes negative. */
		atomic_store(&g.peak, atomic_load(&g.in_flight));
		return answer(conn, 200, "application/json", fmt("{\"reset\":true}"),
		    (const char *)NULL);
	}
	if (strcmp(method, "POST") == 0)
		return handle_token_update(conn, url, r);
	return answer(conn, 404, "application/json", fmt("{\"error\":\"not found\"}"),
	    (const char *)NULL);
}

/* MHD completion callback: frees the per-request state. */
static void
on_done(void *cls, struct MHD_Connection *conn, void **req_cls, enum MHD_RequestTerminationCode toe)
{
	struct req *r = *req_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (r != NULL) {
		free(r->body);
		free(r);
		*req_cls = NULL;
	}
}

/* MHD connection callback, HTTPS only: logs every accepted connection as {"ev":"conn"} before
 * its TLS handshake, so a test can count the handshakes a client tried (a failed one sends no
 * request to log). */
static void
on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
    enum MHD_ConnectionNotificationCode toe)
{
	(void)cls;
	(void)conn;
	(void)socket_context;
	if (toe != MHD_CONNECTION_NOTIFY_STARTED)
		return;
	pthread_mutex_lock(&g.log_mu);
	fprintf(g.log, "{\"ev\":\"conn\",\"t_us\":%" PRId64 "}\n", now_us());
	fflush(g.log);
	pthread_mutex_unlock(&g.log_mu);
}

/* Parses a non-negative millisecond option value or dies. */
static long
parse_ms(const char *opt, const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 0 || v > MAX_OPT_MS)
		die("%s: want 0..%ld, got '%s'", opt, MAX_OPT_MS, s);
	return v;
}

/* Writes the port to path atomically (tmp file then rename); dies on failure. */
static void
write_port(const char *path, unsigned port)
{
	char *tmp = fmt("%s.tmp", path);
	FILE *f = fopen(tmp, "w");

	if (f == NULL)
		die("%s: %s", tmp, strerror(errno));
	fprintf(f, "%u\n", port);
	if (fclose(f) != 0 || rename(tmp, path) != 0)
		die("%s: %s", path, strerror(errno));
	free(tmp);
}

/* Reads the PEM file path (at most MAX_PEM_BYTES) into a new NUL-terminated string; dies on
 * failure. Caller frees. */
static char *
read_pem(const char *opt, const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	size_t n;

	if (f == NULL)
		die("%s %s: %s", opt, path, strerror(errno));
	if ((buf = malloc(MAX_PEM_BYTES + 1)) == NULL)
		die("out of memory");
	n = fread(buf, 1, MAX_PEM_BYTES + 1, f);
	if (ferror(f) || n > MAX_PEM_BYTES)
		die("%s %s: unreadable or over %d bytes", opt, path, MAX_PEM_BYTES);
	(void)fclose(f);
	buf[n] = '\0';
	if (n == 0 || strstr(buf, "-----BEGIN ") == NULL)
		die("%s %s: not a PEM file", opt, path);
	return buf;
}

/* Raises the open-file limit to its hard maximum so thousands of connections fit. */
static void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* Starts the HTTP daemon on 127.0.0.1, ephemeral port (HTTPS when g.tls_cert is set); dies on
 * failure. Caller stops it. */
static struct MHD_Daemon *
daemon_start(void)
{
	struct sockaddr_in sin;
	struct MHD_Daemon *d;
	unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
	    MHD_USE_POLL | MHD_USE_ERROR_LOG;
	/* Without TLS the first item ends the list (MHD stops at the first END): plain HTTP
	 * serves exactly as before. */
	struct MHD_OptionItem tls_opts[] = {
		{ MHD_OPTION_HTTPS_MEM_CERT, 0, g.tls_cert },
		{ MHD_OPTION_HTTPS_MEM_KEY, 0, g.tls_key },
		{ MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)on_connection, NULL },
		{ MHD_OPTION_END, 0, NULL },
	};

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = 0; /* ephemeral: the port file tells the tests which */
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (g.tls_cert != NULL) {
		if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
			die("--tls-cert: this libmicrohttpd is built without TLS");
		flags |= MHD_USE_TLS;
	} else
		tls_opts[0].option = MHD_OPTION_END;
	/* One thread per connection: handlers may block (latency, slow, hold, hang).
	 * poll() instead of select() so descriptors above FD_SETSIZE work. */
	d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, NULL,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)CONN_LIMIT,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, 0U,
	    MHD_OPTION_LISTEN_BACKLOG_SIZE, 4096U,
	    MHD_OPTION_THREAD_STACK_SIZE, (size_t)THREAD_STACK,
	    MHD_OPTION_NOTIFY_COMPLETED, on_done, NULL,
	    MHD_OPTION_ARRAY, tls_opts,
	    MHD_OPTION_END);
	if (d == NULL)
		die("cannot start the HTTP%s daemon on 127.0.0.1", g.tls_cert ? "S" : "");
	return d;
}

/* The usage text: options, then the answer of each token prefix (the part before the first '-'). */
static const char USAGE[] =
    "usage: fakeup --port-file FILE --log FILE [--latency-ms N] [--jitter-ms N] [--control DIR]\n"
    "              [--slow-ms N] [--trickle-ms N] [--tls-cert PEM --tls-key PEM]\n"
    "              [--client-id ID --client-secret S]\n"
    "POST /api/tokenUpdate answers by the prefix of the token field:\n"
    "  ok (any other)  200 {\"newToken\":\"ok-HEX\"}, Set-Cookie AWSALB=HEX and AWSALBCORS=HEX\n"
    "                  (the token's own HEX), PHPSESSID (not for capture)\n"
    "  logout          200 {\"logout\":1}\n"
    "  logoutnull      200 {\"logout\":null,\"newToken\":...}\n"
    "  flaky, flaky2   503 for the first 1 (2) requests of each token, then ok\n"
    "  ratelimit       429 with Retry-After: 1 the first time, then ok\n"
    "  down            500 every time\n"
    "  chaos           one of 500/502/503/504 with probability 1/2 per request, else ok\n"
    "  reset           connection closed without an answer\n"
    "  resetreused     the first time, if the connection carried a request before: closed\n"
    "                  without an answer; otherwise ok\n"
    "  reusedreset     closed without an answer whenever the connection carried a request\n"
    "                  before; ok on a new connection\n"
    "  partial         raw 200 whose body stops short of its Content-Length, then close\n"
    "  hang            no answer until the client leaves (at most 10 minutes)\n"
    "  slow            ok after --slow-ms (default 1500)\n"
    "  hold            ok once the file CONTROL/release exists\n"
    "  holdlogout      200 {\"logout\":1} once the file CONTROL/release exists\n"
    "  trickle         ok, its body sent one byte per --trickle-ms (default 200)\n"
    "  bad             400          redirect   302 to /elsewhere\n"
    "  nonjson         200 HTML     empty      200 {}\n"
    "  badtoken        200 with a newToken holding a DEL byte (0x7F, not printable)\n"
    "  spacetoken      200 {\"newToken\":\"ok HEX\"} (a space: printable ASCII, valid)\n"
    "  badutf8         200 with a newToken holding invalid UTF-8\n"
    "  garbage         200 with 512 random bytes as application/json\n"
    "  huge            200 with a 200 KiB body around an ok token\n"
    "  bighdr          raw ok answer with a 100 KiB header line\n"
    "  manyhdr         raw ok answer with 5000 junk header lines\n"
    "  manycookie      raw ok answer: the ok cookies, then 5000 Set-Cookie lines of other names\n"
    "  manycookielast  raw ok answer: 5000 Set-Cookie lines of other names, then the ok cookies\n"
    "  evilcookie      raw ok answer: hostile Set-Cookie lines (CR, LF, ';', control bytes,\n"
    "                  invalid UTF-8, empty name, 10 KB value) for AWSALB, AWSALBCORS and\n"
    "                  EVIL, then the ok cookies last; the one good EVIL is `\"}],\"name\":\"x`\n"
    "POST /oauth/token: OAuth 2.0 refresh-token grant (see respond_oauth).\n"
    "POST /api/auth/refresh: JSON refresh API, {\"refreshToken\": TOKEN} (415 unless the\n"
    "  Content-Type is application/json, 400 unless the body is a JSON object with that string\n"
    "  member); /api/v2/refresh: the same, 2xx objects nested in {\"data\":{\"tokens\":...}}.\n"
    "  jr (any other)  200 {accessToken: JWT, refreshToken: jr-HEX, expiresIn: 900}\n"
    "  jkeep           no refreshToken, expiresIn 600 (the JWT says 3000)\n"
    "  jjwt            only a JWT with exp now+1800     jstrin  expiresIn \"1200\" (a string)\n"
    "  jat             expiresAt now+2700 (unix seconds; the JWT says 1800)\n"
    "  jrfc, jrfcneg   expiresAt RFC 3339: now+3600 at +02:00, now+5400 at -05:30\n"
    "  jrfcz           expiresAt now+4500 as ...T..:..:...123Z     jboth  expiresIn 900 and expiresAt\n"
    "  jnoexp          no expiry at all   jrtnull  refreshToken null   jesc  rotates to\n"
    "                  jesc-q\"b\\s/A-HEX, accessToken at-<that>, written with escapes\n"
    "                  (\\\" \\\\ \\/ \\u0041)\n"
    "  jlogout 401  jforbid 403  jdown 500  jflaky 503 once  jlimit 429 once, Retry-After: 1\n"
    "  jbearer         401 unless Authorization is \"Bearer at-TOKEN\"; rotates to jbearer-HEX\n"
    "                  with accessToken at-jbearer-HEX\n"
    "  jhuge, jhuge401, jhuge503  200 (rotation), 401, 503 with a 200 KiB body\n"
    "  jhold           rotation once the file CONTROL/release exists\n"
    "  jholdlogout     401 once the file CONTROL/release exists\n"
    "  jarray jstring jnull jempty jnonjson         200 bodies that are not a JSON object\n"
    "  jexpbad jexpobj jatnum jatempty jatctl jnoat jrtempty jrtnum  200 with a wrong value\n"
    "GET /stats: {requests, peak_in_flight, in_flight, connections}; POST /reset-stats.\n"
    "The --log file gets one JSON line per request (ev req: path, token, form (the raw body),\n"
    "ct, ua, auth, bearer (ok/wrong), json (what was wrong with a JSON request), xkey (the\n"
    "X-Api-Key header)...) and per answer (ev resp, with status, and issued: the token the\n"
    "answer carried).";

/* Parses options, serves until SIGTERM or SIGINT, exits 0 (2 on bad usage or start-up failure). */
int
main(int argc, char **argv)
{
	const char *port_file = NULL, *log_path = NULL;
	const union MHD_DaemonInfo *info;
	struct MHD_Daemon *d;
	pthread_condattr_t ca;
	pthread_t watcher;
	bool watching = false;
	sigset_t sigs;
	int i, sig;

	for (i = 1; i < argc; i += 2) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (v == NULL)
			die("%s", USAGE);
		if (strcmp(a, "--port-file") == 0)
			port_file = v;
		else if (strcmp(a, "--log") == 0)
			log_path = v;
		else if (strcmp(a, "--control") == 0)
			g.control = v;
		else if (strcmp(a, "--latency-ms") == 0)
			g.latency_ms = parse_ms(a, v);
		else if (strcmp(a, "--jitter-ms") == 0)
			g.jitter_ms = parse_ms(a, v);
		else if (strcmp(a, "--slow-ms") == 0)
			g.slow_ms = parse_ms(a, v);
		else if (strcmp(a, "--trickle-ms") == 0)
			g.trickle_ms = parse_ms(a, v);
		else if (strcmp(a, "--client-id") == 0)
			g.client_id = v;
		else if (strcmp(a, "--client-secret") == 0)
			g.client_secret = v;
		else if (strcmp(a, "--tls-cert") == 0) {
			free(g.tls_cert);
			g.tls_cert = read_pem(a, v);
		} else if (strcmp(a, "--tls-key") == 0) {
			free(g.tls_key);
			g.tls_key = read_pem(a, v);
		}
		else
			die("unknown option '%s'\n%s", a, USAGE);
	}
	if (port_file == NULL || log_path == NULL)
		die("--port-file and --log are required");
	if ((g.tls_cert == NULL) != (g.tls_key == NULL))
		die("--tls-cert and --tls-key go together");
	if ((g.log = fopen(log_path, "a")) == NULL)
		die("%s: %s", log_path, strerror(errno));
	raise_nofile();
	if (pthread_condattr_init(&ca) != 0 ||
	    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
	    pthread_cond_init(&g.wait_cv, &ca) != 0)
		die("cannot set up a condition variable");
	(void)pthread_condattr_destroy(&ca);

	/* Every thread inherits this mask; only sigwait() below sees the signals. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	/* Without --control, hold is never released (it waits until the client or server leaves). */
	if (g.control != NULL) {
		if (pthread_create(&watcher, NULL, release_watch, fmt("%s/release", g.control)) != 0)
			die("cannot start the release watcher");
		watching = true;
	}
	d = g.daemon = daemon_start();
	info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	if (info == NULL || info->port == 0)
		die("cannot read the bound port");
	write_port(port_file, info->port);

	while (sigwait(&sigs, &sig) == 0 && sig != SIGTERM && sig != SIGINT)
		;
	wake_all(true, false);
	MHD_stop_daemon(d);
	if (watching)
		(void)pthread_join(watcher, NULL);
	(void)pthread_cond_destroy(&g.wait_cv);
	seen_clear();
	free(g.tls_cert);
	free(g.tls_key);
	if (fclose(g.log) != 0)
		die("%s: %s", log_path, strerror(errno));
	return 0;
}
