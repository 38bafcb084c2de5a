/* loop.h - the run's one event loop: epoll, timers, one cached clock per turn. */
#ifndef REFRESHER_LOOP_H
#define REFRESHER_LOOP_H

/*
 * One owner for waiting. Modules register the sockets they need watched
 * (libcurl's through upstream.c, the database channels through db.c) with a
 * handler; loop_once waits on all of them at once and hands each ready socket
 * to its handler, then fires the timers that are due. The clock is read once
 * per turn (PgBouncer's time cache): everything in a turn sees the same now.
 */

/* What a socket is watched for, and what a handler is told it is ready for. */
#define LOOP_IN 1u
#define LOOP_OUT 2u
#define LOOP_ERR 4u /* error or hang-up: always reported, never asked for */

struct loop;

/* Called with a watched socket that is ready (events: LOOP_* bits). */
typedef void (*loop_io_fn)(void *ctx, int fd, unsigned events);
/* Called once when a timer is due; the timer is disarmed first, so it may re-arm itself. */
typedef void (*loop_timer_fn)(void *ctx);

/* A timer the owner embeds and arms; the loop keeps a pointer while it is armed. */
struct loop_timer {
	long long at; /* loop ms it is due; -1 = disarmed */
	loop_timer_fn fn;
	void *ctx;
	unsigned long turn; /* the loop's turn when it was armed: it fires in a later one */
	struct loop_timer *next; /* in the loop's armed list */
};

/* Creates a loop; NULL when epoll cannot be had. Free with loop_free. */
struct loop *loop_new(void);
void loop_free(struct loop *lp);

/* Monotonic ms (and µs) read at the start of the current turn. */
long long loop_now(const struct loop *lp);
long long loop_now_us(const struct loop *lp);
/* Reads the clock again (after work that took long; loop_once does it each turn). */
void loop_update_time(struct loop *lp);

/*
 * Watches fd for events (LOOP_IN, LOOP_OUT, or both) and calls fn(ctx, fd,
 * ready) when it is ready; called again for a watched fd it changes what is
 * watched and the handler (and the owner). events 0 stops watching it.
 * Returns 0, or -1 (errno set).
 */
int loop_watch(struct loop *lp, int fd, unsigned events, loop_io_fn fn, void *ctx)
    __attribute__((warn_unused_result));
/*
 * Stops watching fd if ctx is what it is watched for (a socket closed behind
 * its owner's back may have come back as another owner's: that watch stays).
 * A socket already closed is fine.
 */
void loop_unwatch(struct loop *lp, int fd, const void *ctx);

/* Arms t (fn and ctx set by the owner) to fire at loop time at (ms); re-arming moves it. */
void loop_timer_arm(struct loop *lp, struct loop_timer *t, long long at);
void loop_timer_disarm(struct loop *lp, struct loop_timer *t);
/* Initialises a timer, disarmed. */
void loop_timer_init(struct loop_timer *t, loop_timer_fn fn, void *ctx);

/*
 * One turn: waits at most timeout_ms (less when a timer is due sooner; 0
 * polls) for a watched socket, hands each ready one to its handler, reads
 * the clock, and fires the timers that are due. Returns the number of
 * sockets handed out, or -1 when waiting failed (logged; EINTR is not a
 * failure: a signal ends the wait early and returns 0).
 */
int loop_once(struct loop *lp, long timeout_ms);

#endif
