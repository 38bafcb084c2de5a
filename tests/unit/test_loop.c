/* test_loop.c - the event loop: readiness handed to the right handler, timers, the cached clock. */
#include <unistd.h>

#include "loop.h"
#include "suites.h"

/* What a handler saw. */
struct seen {
	int calls;
	int fd;
	unsigned events;
	struct loop *lp;
	int unwatch_fd; /* a socket this handler stops watching, or -1 */
	void *other; /* what unwatch_fd is watched for */
};

static void on_io(void *ctx, int fd, unsigned events)
{
	struct seen *s = ctx;
	s->calls++;
	s->fd = fd;
	s->events = events;
	if (s->unwatch_fd >= 0)
		loop_unwatch(s->lp, s->unwatch_fd, s->other);
}

static struct loop *new_loop(void)
{
	struct loop *lp = loop_new();
	ck_assert_ptr_nonnull(lp);
	return lp;
}

START_TEST(test_readable_socket_goes_to_its_handler)
{
	struct loop *lp = new_loop();
	int p[2], q[2];
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(pipe(q), 0);
	struct seen a = { 0, -1, 0, lp, -1, NULL }, b = { 0, -1, 0, lp, -1, NULL };
	ck_assert_int_eq(loop_watch(lp, p[0], LOOP_IN, on_io, &a), 0);
	ck_assert_int_eq(loop_watch(lp, q[0], LOOP_IN, on_io, &b), 0);
	ck_assert_int_eq(loop_once(lp, 0), 0); /* nothing ready */
	ck_assert_int_eq(a.calls + b.calls, 0);
	ck_assert_int_eq(write(q[1], "x", 1), 1);
	ck_assert_int_eq(loop_once(lp, 1000), 1);
	ck_assert_int_eq(a.calls, 0);
	ck_assert_int_eq(b.calls, 1);
	ck_assert_int_eq(b.fd, q[0]);
	ck_assert_uint_eq(b.events & LOOP_IN, LOOP_IN);
	/* Still readable: level-triggered, handed out again. */
	ck_assert_int_eq(loop_once(lp, 0), 1);
	ck_assert_int_eq(b.calls, 2);
	/* Unwatched: no longer handed out, though readable. */
	loop_unwatch(lp, q[0], &a); /* not its owner: still watched */
	ck_assert_int_eq(loop_once(lp, 0), 1);
	ck_assert_int_eq(b.calls, 3);
	loop_unwatch(lp, q[0], &b);
	ck_assert_int_eq(loop_once(lp, 0), 0);
	ck_assert_int_eq(b.calls, 3);
	close(p[0]), close(p[1]), close(q[0]), close(q[1]);
	loop_free(lp);
}
END_TEST

START_TEST(test_watch_changes_events)
{
	struct loop *lp = new_loop();
	int p[2];
	ck_assert_int_eq(pipe(p), 0);
	struct seen w = { 0, -1, 0, lp, -1, NULL };
	ck_assert_int_eq(loop_watch(lp, p[1], LOOP_IN, on_io, &w), 0);
	ck_assert_int_eq(loop_once(lp, 0), 0); /* a pipe's write end is never readable */
	ck_assert_int_eq(loop_watch(lp, p[1], LOOP_OUT, on_io, &w), 0);
	ck_assert_int_eq(loop_once(lp, 0), 1);
	ck_assert_uint_eq(w.events & LOOP_OUT, LOOP_OUT);
	/* events 0 is unwatch */
	ck_assert_int_eq(loop_watch(lp, p[1], 0, on_io, &w), 0);
	ck_assert_int_eq(loop_once(lp, 0), 0);
	ck_assert_int_eq(w.calls, 1);
	close(p[0]), close(p[1]);
	loop_free(lp);
}
END_TEST

/* A socket closed without unwatch, whose number comes back: watching it again works. */
START_TEST(test_reused_fd_number)
{
	struct loop *lp = new_loop();
	int p[2];
	ck_assert_int_eq(pipe(p), 0);
	struct seen w = { 0, -1, 0, lp, -1, NULL };
	ck_assert_int_eq(loop_watch(lp, p[0], LOOP_IN, on_io, &w), 0);
	int old = p[0];
	close(p[0]), close(p[1]);
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(p[0], old);
	struct seen w2 = { 0, -1, 0, lp, -1, NULL };
	ck_assert_int_eq(loop_watch(lp, p[0], LOOP_IN, on_io, &w2), 0);
	ck_assert_int_eq(write(p[1], "x", 1), 1);
	ck_assert_int_eq(loop_once(lp, 1000), 1);
	ck_assert_int_eq(w2.calls, 1);
	/* The first owner, late, unwatches "its" socket: the new owner's watch stays. */
	loop_unwatch(lp, p[0], &w);
	ck_assert_int_eq(loop_once(lp, 1000), 1);
	ck_assert_int_eq(w2.calls, 2);
	ck_assert_int_eq(w.calls, 0);
	close(p[0]), close(p[1]);
	loop_free(lp);
}
END_TEST

/* A handler that stops watching another ready socket: that one is not handed out this turn. */
START_TEST(test_unwatch_from_a_handler)
{
	struct loop *lp = new_loop();
	int p[2], q[2];
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(pipe(q), 0);
	struct seen a = { 0, -1, 0, lp, q[0], NULL }, b = { 0, -1, 0, lp, p[0], NULL };
	a.other = &b;
	b.other = &a;
	ck_assert_int_eq(loop_watch(lp, p[0], LOOP_IN, on_io, &a), 0);
	ck_assert_int_eq(loop_watch(lp, q[0], LOOP_IN, on_io, &b), 0);
	ck_assert_int_eq(write(p[1], "x", 1), 1);
	ck_assert_int_eq(write(q[1], "x", 1), 1);
	ck_assert_int_eq(loop_once(lp, 1000), 1);
	ck_assert_int_eq(a.calls + b.calls, 1);
	close(p[0]), close(p[1]), close(q[0]), close(q[1]);
	loop_free(lp);
}
END_TEST

START_TEST(test_bad_arguments)
{
	struct loop *lp = new_loop();
	struct seen w = { 0, -1, 0, lp, -1, NULL };
	ck_assert_int_eq(loop_watch(lp, -1, LOOP_IN, on_io, &w), -1);
	ck_assert_int_eq(loop_watch(lp, 0, LOOP_IN, NULL, &w), -1);
	loop_unwatch(lp, -1, &w); /* harmless */
	loop_unwatch(lp, 1000, &w); /* never watched: harmless */
	loop_free(lp);
	loop_free(NULL);
}
END_TEST

struct ticks {
	int fired;
	struct loop *lp;
	struct loop_timer *t;
	long long rearm_in; /* >= 0: re-arm this far ahead when fired */
};

static void on_tick(void *ctx)
{
	struct ticks *k = ctx;
	k->fired++;
	ck_assert_int_eq(k->t->at, -1); /* disarmed before its handler runs */
	if (k->rearm_in >= 0)
		loop_timer_arm(k->lp, k->t, loop_now(k->lp) + k->rearm_in);
}

START_TEST(test_timer_fires_once_when_due)
{
	struct loop *lp = new_loop();
	struct loop_timer t;
	struct ticks k = { 0, lp, &t, -1 };
	loop_timer_init(&t, on_tick, &k);
	ck_assert_int_eq(t.at, -1);
	loop_timer_arm(lp, &t, loop_now(lp) + 30);
	long long before = loop_now(lp);
	/* The wait is cut short by the timer, not by the 10 s timeout. */
	ck_assert_int_eq(loop_once(lp, 10000), 0);
	ck_assert_int_eq(k.fired, 1);
	ck_assert_int_ge(loop_now(lp) - before, 29);
	ck_assert_int_lt(loop_now(lp) - before, 5000);
	ck_assert_int_eq(loop_once(lp, 0), 0);
	ck_assert_int_eq(k.fired, 1);
	loop_free(lp);
}
END_TEST

/* A timer that re-arms itself for now fires once per turn, never in a tight loop. */
START_TEST(test_timer_rearmed_fires_next_turn)
{
	struct loop *lp = new_loop();
	struct loop_timer t;
	struct ticks k = { 0, lp, &t, 0 };
	loop_timer_init(&t, on_tick, &k);
	loop_timer_arm(lp, &t, loop_now(lp));
	ck_assert_int_eq(loop_once(lp, 0), 0);
	ck_assert_int_eq(k.fired, 1);
	ck_assert_int_ge(t.at, 0); /* armed again */
	ck_assert_int_eq(loop_once(lp, 0), 0);
	ck_assert_int_eq(k.fired, 2);
	loop_timer_disarm(lp, &t);
	loop_timer_disarm(lp, &t); /* twice is harmless */
	ck_assert_int_eq(loop_once(lp, 0), 0);
	ck_assert_int_eq(k.fired, 2);
	loop_free(lp);
}
END_TEST

/* Several timers: only the due ones fire; a disarmed one never does; arming again moves it. */
START_TEST(test_timers_several)
{
	struct loop *lp = new_loop();
	struct loop_timer t1, t2, t3;
	struct ticks k1 = { 0, lp, &t1, -1 }, k2 = { 0, lp, &t2, -1 }, k3 = { 0, lp, &t3, -1 };
	loop_timer_init(&t1, on_tick, &k1);
	loop_timer_init(&t2, on_tick, &k2);
	loop_timer_init(&t3, on_tick, &k3);
	long long now = loop_now(lp);
	loop_timer_arm(lp, &t1, now - 5); /* overdue */
	loop_timer_arm(lp, &t2, now + 600000);
	loop_timer_arm(lp, &t3, now);
	loop_timer_disarm(lp, &t3);
	ck_assert_int_eq(loop_once(lp, 0), 0);
	ck_assert_int_eq(k1.fired, 1);
	ck_assert_int_eq(k2.fired, 0);
	ck_assert_int_eq(k3.fired, 0);
	loop_timer_arm(lp, &t2, loop_now(lp)); /* moved forward */
	ck_assert_int_eq(loop_once(lp, 0), 0);
	ck_assert_int_eq(k2.fired, 1);
	loop_free(lp);
}
END_TEST

/* The clock is read once per turn: a turn's work sees one now. */
START_TEST(test_cached_clock)
{
	struct loop *lp = new_loop();
	long long a = loop_now_us(lp);
	usleep(3000);
	ck_assert_int_eq(loop_now_us(lp), a);
	ck_assert_int_eq(loop_now(lp), a / 1000);
	ck_assert_int_eq(loop_once(lp, 0), 0);
	ck_assert_int_ge(loop_now_us(lp) - a, 3000);
	long long b = loop_now_us(lp);
	usleep(2000);
	loop_update_time(lp);
	ck_assert_int_ge(loop_now_us(lp) - b, 2000);
	loop_free(lp);
}
END_TEST

Suite *loop_suite(void)
{
	Suite *s = suite_create("loop");
	TCase *tc = tcase_create("loop");
	tcase_add_test(tc, test_readable_socket_goes_to_its_handler);
	tcase_add_test(tc, test_watch_changes_events);
	tcase_add_test(tc, test_reused_fd_number);
	tcase_add_test(tc, test_unwatch_from_a_handler);
	tcase_add_test(tc, test_bad_arguments);
	tcase_add_test(tc, test_timer_fires_once_when_due);
	tcase_add_test(tc, test_timer_rearmed_fires_next_turn);
	tcase_add_test(tc, test_timers_several);
	tcase_add_test(tc, test_cached_clock);
	suite_add_tcase(s, tc);
	return s;
}
