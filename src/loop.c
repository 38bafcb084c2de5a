/* loop.c - the run's one event loop: epoll, timers, one cached clock per turn. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>

#include "defaults.h"
#include "log.h"
#include "loop.h"

/* What a watched socket is for; indexed by fd (sockets are small numbers). */
struct watch {
	loop_io_fn fn; /* NULL = not watched */
	void *ctx;
	unsigned events;
};

struct loop {
	int epfd;
	long long now_us; /* the clock at the start of this turn */
	unsigned long turn; /* turns so far: a timer fires at most once per turn */
	struct watch *watch; /* by fd */
	size_t nwatch; /* slots in watch */
	struct loop_timer *timers; /* armed, unordered (a run has a handful) */
};

static long long clock_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

struct loop *loop_new(void)
{
	struct loop *lp = calloc(1, sizeof(*lp));
	if (lp == NULL)
		return NULL;
	lp->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (lp->epfd < 0) {
		log_error("loop", "epoll_create1: %s", strerror(errno));
		free(lp);
		return NULL;
	}
	lp->now_us = clock_us();
	return lp;
}

void loop_free(struct loop *lp)
{
	if (lp == NULL)
		return;
	(void)close(lp->epfd);
	free(lp->watch);
	free(lp);
}

long long loop_now(const struct loop *lp)
{
	return lp->now_us / 1000;
}

long long loop_now_us(const struct loop *lp)
{
	return lp->now_us;
}

void loop_update_time(struct loop *lp)
{
	lp->now_us = clock_us();
}

static uint32_t epoll_bits(unsigned events)
{
	uint32_t bits = 0;
	if (events & LOOP_IN)
		bits |= EPOLLIN;
	if (events & LOOP_OUT)
		bits |= EPOLLOUT;
	return bits;
}

/* Makes room for fd in the watch table; 0 or -1. */
static int watch_reserve(struct loop *lp, int fd)
{
	if ((size_t)fd < lp->nwatch)
		return 0;
	size_t n = lp->nwatch ? lp->nwatch : 64;
	while (n <= (size_t)fd)
		n *= 2;
	struct watch *w = realloc(lp->watch, n * sizeof(*w));
	if (w == NULL) {
		errno = ENOMEM;
		return -1;
	}
	memset(w + lp->nwatch, 0, (n - lp->nwatch) * sizeof(*w));
	lp->watch = w;
	lp->nwatch = n;
	return 0;
}

int loop_watch(struct loop *lp, int fd, unsigned events, loop_io_fn fn, void *ctx)
{
	if (fd < 0 || fn == NULL) {
		errno = EINVAL;
		return -1;
	}
	events &= LOOP_IN | LOOP_OUT;
	if (events == 0) {
		loop_unwatch(lp, fd, (size_t)fd < lp->nwatch ? lp->watch[fd].ctx : NULL);
		return 0;
	}
	if (watch_reserve(lp, fd) != 0)
		return -1;
	struct watch *w = &lp->watch[fd];
	struct epoll_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.events = epoll_bits(events);
	ev.data.fd = fd;
	/*
	 * The table may be stale (a socket closed without unwatch left epoll on
	 * its own, and its number came back): try the other operation on ENOENT
	 * or EEXIST. Owners call this on changes only, so the syscall is cheap.
	 */
	int op = w->fn != NULL ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
	if (epoll_ctl(lp->epfd, op, fd, &ev) != 0) {
		int retry = op == EPOLL_CTL_MOD ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
		if ((errno != ENOENT && errno != EEXIST) || epoll_ctl(lp->epfd, retry, fd, &ev) != 0)
			return -1;
	}
	w->fn = fn;
	w->ctx = ctx;
	w->events = events;
	return 0;
}

void loop_unwatch(struct loop *lp, int fd, const void *ctx)
{
	if (fd < 0)
		return;
	if ((size_t)fd < lp->nwatch && lp->watch[fd].fn != NULL) {
		if (lp->watch[fd].ctx != ctx)
			return; /* another owner's now */
		memset(&lp->watch[fd], 0, sizeof(lp->watch[fd]));
	}
	/* A socket closed already left epoll on its own: the error is expected. */
	(void)epoll_ctl(lp->epfd, EPOLL_CTL_DEL, fd, NULL);
}

void loop_timer_init(struct loop_timer *t, loop_timer_fn fn, void *ctx)
{
	memset(t, 0, sizeof(*t));
	t->at = -1;
	t->fn = fn;
	t->ctx = ctx;
}

void loop_timer_disarm(struct loop *lp, struct loop_timer *t)
{
	if (t->at < 0)
		return;
	for (struct loop_timer **p = &lp->timers; *p != NULL; p = &(*p)->next) {
		if (*p == t) {
			*p = t->next;
			break;
		}
	}
	t->next = NULL;
	t->at = -1;
}

void loop_timer_arm(struct loop *lp, struct loop_timer *t, long long at)
{
	loop_timer_disarm(lp, t);
	t->at = at < 0 ? 0 : at;
	t->turn = lp->turn;
	t->next = lp->timers;
	lp->timers = t;
}

/* ms until the first armed timer is due (0 when one is), capped at limit; limit < 0 = none. */
static long timers_wait(const struct loop *lp, long limit)
{
	long long now = loop_now(lp);
	for (const struct loop_timer *t = lp->timers; t != NULL; t = t->next) {
		long long in = t->at - now;
		if (in < 0)
			in = 0;
		if (limit < 0 || in < limit)
			limit = (long)in;
	}
	return limit;
}

/* Fires each timer that is due and was armed before this turn; a re-armed one waits a turn. */
static void timers_fire(struct loop *lp)
{
	long long now = loop_now(lp);
	for (;;) {
		struct loop_timer *due = NULL;
		for (struct loop_timer *t = lp->timers; t != NULL; t = t->next) {
			if (t->at <= now && t->turn < lp->turn) {
				due = t;
				break;
			}
		}
		if (due == NULL)
			return;
		loop_timer_disarm(lp, due);
		due->fn(due->ctx);
	}
}

int loop_once(struct loop *lp, long timeout_ms)
{
	struct epoll_event evs[LOOP_EPOLL_EVENTS];
	lp->turn++;
	loop_update_time(lp);
	long wait = timers_wait(lp, timeout_ms < 0 ? 0 : timeout_ms);
	int k = epoll_wait(lp->epfd, evs, LOOP_EPOLL_EVENTS, (int)wait);
	loop_update_time(lp);
	if (k < 0) {
		if (errno != EINTR) {
			log_error("loop", "epoll_wait: %s", strerror(errno));
			return -1;
		}
		k = 0;
	}
	int handed = 0;
	for (int i = 0; i < k; i++) {
		int fd = evs[i].data.fd;
		/* A handler earlier in this turn may have stopped watching it. */
		if ((size_t)fd >= lp->nwatch || lp->watch[fd].fn == NULL)
			continue;
		unsigned ready = 0;
		if (evs[i].events & EPOLLIN)
			ready |= LOOP_IN;
		if (evs[i].events & EPOLLOUT)
			ready |= LOOP_OUT;
		if (evs[i].events & (EPOLLERR | EPOLLHUP))
			ready |= LOOP_ERR;
		lp->watch[fd].fn(lp->watch[fd].ctx, fd, ready);
		handed++;
	}
	timers_fire(lp);
	return handed;
}
