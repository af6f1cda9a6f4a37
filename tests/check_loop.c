/* check_loop.c: unit tests for the event loop (loop.c) and listen.c. */
#include "config.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "listen.h"
#include "loop.h"
#include "testutil.h"

/* Seconds after which a hung test fails instead of hanging. */
#define CHECK_LOOP_ALARM 10

static struct loop *loop;

/* Creates the loop each loop test runs, with a safety alarm. */
static void
check_loop_setup(void)
{
	loop = loop_create();
	ck_assert_ptr_nonnull(loop);
	alarm(CHECK_LOOP_ALARM);
}

/* Frees the loop. */
static void
check_loop_teardown(void)
{
	alarm(0);
	loop_free(loop);
	loop = NULL;
}

/* Makes a socketpair with one byte waiting to be read on sv[0]. */
static void
check_loop_readable_pair(int sv[2])
{
	ck_assert_int_eq(
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	ck_assert_int_eq(write(sv[1], "x", 1), 1);
}

/* A timer callback that stops the loop. */
static void
check_loop_stop_cb(struct loop_timer *timer)
{
	(void)timer;
	loop_stop(loop);
}

/* --- I/O ---------------------------------------------------------------- */

static int io_calls;

/* Reads the byte, records the call and stops the loop. */
static void
check_loop_read_cb(struct loop_io *io, uint32_t events)
{
	char c;

	ck_assert(events & EPOLLIN);
	ck_assert_int_eq(read(io->fd, &c, 1), 1);
	ck_assert_int_eq(c, 'x');
	ck_assert_ptr_eq(io->arg, &io_calls);
	io_calls++;
	loop_stop(loop);
}

START_TEST(test_loop_io_readable)
{
	struct loop_io io = {0};
	int            sv[2];

	check_loop_readable_pair(sv);
	io_calls = 0;
	ck_assert_int_eq(loop_io_start(loop, &io, sv[0], EPOLLIN,
	                     check_loop_read_cb, &io_calls),
	    0);
	ck_assert_int_eq(loop_run(loop), 0);
	ck_assert_int_eq(io_calls, 1);
	loop_io_stop(loop, &io);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

static int self_stop_timer_runs;

/* Stops and frees its own io, leaving the byte unread. */
static void
check_loop_self_stop_cb(struct loop_io *io, uint32_t events)
{
	(void)events;
	io_calls++;
	loop_io_stop(loop, io);
	free(io);
}

/* Keeps the loop turning for a few iterations, then stops it. */
static void
check_loop_spin_cb(struct loop_timer *timer)
{
	if (++self_stop_timer_runs < 5)
		ck_assert_int_eq(loop_timer_start(loop, timer, 0), 0);
	else
		loop_stop(loop);
}

START_TEST(test_loop_io_stop_in_own_callback)
{
	struct loop_io   *io;
	struct loop_timer timer;
	int               sv[2];

	/* Level-triggered: were it still watched, it would fire again. */
	check_loop_readable_pair(sv);
	io = calloc(1, sizeof *io);
	ck_assert_ptr_nonnull(io);
	io_calls = self_stop_timer_runs = 0;
	ck_assert_int_eq(loop_io_start(loop, io, sv[0], EPOLLIN,
	                     check_loop_self_stop_cb, NULL),
	    0);
	loop_timer_init(&timer, check_loop_spin_cb, NULL);
	ck_assert_int_eq(loop_timer_start(loop, &timer, 0), 0);
	ck_assert_int_eq(loop_run(loop), 0);
	ck_assert_int_eq(io_calls, 1);
	ck_assert_int_eq(self_stop_timer_runs, 5);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

/* Two connections whose ios are both ready in the same batch. */
struct check_loop_conn {
	struct loop_io          io;
	struct check_loop_conn *other;
	int                     calls;
};

/* Stops and frees the other connection, as a server closing a peer would. */
static void
check_loop_kill_other_cb(struct loop_io *io, uint32_t events)
{
	struct check_loop_conn *conn = io->arg;

	(void)events;
	conn->calls++;
	io_calls++;
	if (conn->other != NULL) {
		loop_io_stop(loop, &conn->other->io);
		free(conn->other);
		conn->other = NULL;
	}
	loop_io_stop(loop, io);
	loop_stop(loop);
}

START_TEST(test_loop_io_stop_other_in_batch)
{
	struct check_loop_conn *a, *b, *survivor;
	int                     sv_a[2], sv_b[2];

	check_loop_readable_pair(sv_a);
	check_loop_readable_pair(sv_b);
	a = calloc(1, sizeof *a);
	b = calloc(1, sizeof *b);
	ck_assert(a != NULL && b != NULL);
	a->other = b;
	b->other = a;
	io_calls = 0;
	ck_assert_int_eq(loop_io_start(loop, &a->io, sv_a[0], EPOLLIN,
	                     check_loop_kill_other_cb, a),
	    0);
	ck_assert_int_eq(loop_io_start(loop, &b->io, sv_b[0], EPOLLIN,
	                     check_loop_kill_other_cb, b),
	    0);

	/* Both are readable, so one epoll_wait() returns both. */
	ck_assert_int_eq(loop_run(loop), 0);
	ck_assert_int_eq(io_calls, 1);
	survivor = a->other == NULL ? a : b;
	ck_assert_ptr_null(survivor->other);
	ck_assert_int_eq(survivor->calls, 1);
	free(survivor);
	close(sv_a[0]);
	close(sv_a[1]);
	close(sv_b[0]);
	close(sv_b[1]);
}
END_TEST

static uint32_t seen_events;

/* Records the events and stops watching. */
static void
check_loop_events_cb(struct loop_io *io, uint32_t events)
{
	seen_events |= events;
	io_calls++;
	loop_io_stop(loop, io);
	loop_stop(loop);
}

START_TEST(test_loop_io_modify_to_write)
{
	struct loop_io io = {0};
	int            sv[2];

	ck_assert_int_eq(
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	io_calls = 0;
	seen_events = 0;
	/* Nothing to read, so only the change to EPOLLOUT can fire. */
	ck_assert_int_eq(loop_io_start(loop, &io, sv[0], EPOLLIN,
	                     check_loop_events_cb, NULL),
	    0);
	ck_assert_int_eq(loop_io_modify(loop, &io, EPOLLOUT), 0);
	ck_assert_uint_eq(io.events, EPOLLOUT);
	ck_assert_int_eq(loop_run(loop), 0);
	ck_assert_int_eq(io_calls, 1);
	ck_assert(seen_events & EPOLLOUT);
	ck_assert(!(seen_events & EPOLLIN));
	close(sv[0]);
	close(sv[1]);
}
END_TEST

/* Turns both ios of the pair to EPOLLIN, on sockets with nothing to read. */
static void
check_loop_mute_both_cb(struct loop_io *io, uint32_t events)
{
	struct check_loop_conn *conn = io->arg;

	ck_assert(events & EPOLLOUT);
	conn->calls++;
	io_calls++;
	ck_assert_int_eq(loop_io_modify(loop, &conn->other->io, EPOLLIN), 0);
	ck_assert_int_eq(loop_io_modify(loop, io, EPOLLIN), 0);
	loop_stop(loop);
}

START_TEST(test_loop_io_modify_in_batch)
{
	struct check_loop_conn a = {0}, b = {0};
	int                    sv_a[2], sv_b[2];

	ck_assert_int_eq(
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv_a), 0);
	ck_assert_int_eq(
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv_b), 0);
	a.other = &b;
	b.other = &a;
	io_calls = 0;
	ck_assert_int_eq(loop_io_start(loop, &a.io, sv_a[0], EPOLLOUT,
	                     check_loop_mute_both_cb, &a),
	    0);
	ck_assert_int_eq(loop_io_start(loop, &b.io, sv_b[0], EPOLLOUT,
	                     check_loop_mute_both_cb, &b),
	    0);

	/* Both are writable; the first turns EPOLLOUT off for the other. */
	ck_assert_int_eq(loop_run(loop), 0);
	ck_assert_int_eq(io_calls, 1);
	ck_assert_int_eq(a.calls + b.calls, 1);
	loop_io_stop(loop, &a.io);
	loop_io_stop(loop, &b.io);
	close(sv_a[0]);
	close(sv_a[1]);
	close(sv_b[0]);
	close(sv_b[1]);
}
END_TEST

START_TEST(test_loop_io_errors)
{
	struct loop_io io = {0};

	/* A zeroed io is stopped: stop ignores it, modify refuses it. */
	loop_io_stop(loop, &io);
	errno = 0;
	ck_assert_int_eq(loop_io_modify(loop, &io, EPOLLIN), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(
	    loop_io_start(loop, &io, -1, EPOLLIN, check_loop_events_cb, NULL),
	    -1);
	ck_assert_int_eq(errno, EBADF);
	ck_assert_int_eq(io.started, 0);
}
END_TEST

/* --- timers ------------------------------------------------------------- */

#define CHECK_LOOP_MAX_FIRED 1000

static int      fired[CHECK_LOOP_MAX_FIRED];
static uint64_t fired_due[CHECK_LOOP_MAX_FIRED];
static int      fired_count;
static int      expected_fires;

/* Records which timer fired (its arg is an index) and when it was due. */
static void
check_loop_record_cb(struct loop_timer *timer)
{
	ck_assert_int_lt(fired_count, CHECK_LOOP_MAX_FIRED);
	ck_assert_int_eq(loop_timer_active(timer), 0);
	ck_assert_uint_ge(loop_now(loop), timer->due_ms);
	fired_due[fired_count] = timer->due_ms;
	fired[fired_count++] = (int)(intptr_t)timer->arg;
	if (fired_count == expected_fires)
		loop_stop(loop);
}

/* Resets the record of fired timers. */
static void
check_loop_timer_setup(void)
{
	check_loop_setup();
	fired_count = 0;
	expected_fires = -1;
}

START_TEST(test_loop_timer_due_order)
{
	static const uint64_t delays[] = {30, 10, 20, 0, 5, 15};
	static const int      order[] = {3, 4, 1, 5, 2, 0};
	struct loop_timer     timers[6];
	size_t                i;

	for (i = 0; i < 6; i++) {
		loop_timer_init(
		    &timers[i], check_loop_record_cb, (void *)(intptr_t)i);
		ck_assert_int_eq(loop_timer_active(&timers[i]), 0);
		ck_assert_int_eq(
		    loop_timer_start(loop, &timers[i], delays[i]), 0);
		ck_assert_int_ne(loop_timer_active(&timers[i]), 0);
	}
	expected_fires = 6;
	ck_assert_int_eq(loop_run(loop), 0);
	ck_assert_int_eq(fired_count, 6);
	for (i = 0; i < 6; i++)
		ck_assert_int_eq(fired[i], order[i]);
}
END_TEST

START_TEST(test_loop_timer_same_due_in_start_order)
{
	struct loop_timer timers[5];
	int               i;

	/* Same cached clock, same delay: the same due_ms for all. */
	for (i = 0; i < 5; i++) {
		loop_timer_init(
		    &timers[i], check_loop_record_cb, (void *)(intptr_t)i);
		ck_assert_int_eq(loop_timer_start(loop, &timers[i], 3), 0);
	}
	/* Re-arming moves a timer behind the others. */
	ck_assert_int_eq(loop_timer_start(loop, &timers[1], 3), 0);
	expected_fires = 5;
	ck_assert_int_eq(loop_run(loop), 0);
	ck_assert_int_eq(fired[0], 0);
	ck_assert_int_eq(fired[1], 2);
	ck_assert_int_eq(fired[2], 3);
	ck_assert_int_eq(fired[3], 4);
	ck_assert_int_eq(fired[4], 1);
}
END_TEST

static int rearm_runs;

/* Re-arms itself twice, then stops the loop. */
static void
check_loop_rearm_cb(struct loop_timer *timer)
{
	uint64_t before = timer->due_ms;

	rearm_runs++;
	if (rearm_runs < 3) {
		ck_assert_int_eq(loop_timer_start(loop, timer, 2), 0);
		ck_assert_uint_gt(timer->due_ms, before);
		ck_assert_int_ne(loop_timer_active(timer), 0);
	} else
		loop_stop(loop);
}

START_TEST(test_loop_timer_rearm_from_callback)
{
	struct loop_timer timer;

	rearm_runs = 0;
	loop_timer_init(&timer, check_loop_rearm_cb, NULL);
	ck_assert_int_eq(loop_timer_start(loop, &timer, 1), 0);
	ck_assert_int_eq(loop_run(loop), 0);
	ck_assert_int_eq(rearm_runs, 3);
	ck_assert_int_eq(loop_timer_active(&timer), 0);
}
END_TEST

/* Stops the timer passed as arg, which is due later. */
static void
check_loop_stop_other_cb(struct loop_timer *timer)
{
	loop_timer_stop(loop, timer->arg);
	check_loop_record_cb(timer);
}

START_TEST(test_loop_timer_stop_before_due)
{
	struct loop_timer early, victim, stopped, last;

	/* Stopped right away, stopped by another timer, and the end. */
	loop_timer_init(&stopped, check_loop_record_cb, (void *)(intptr_t)1);
	ck_assert_int_eq(loop_timer_start(loop, &stopped, 1), 0);
	loop_timer_stop(loop, &stopped);
	ck_assert_int_eq(loop_timer_active(&stopped), 0);
	loop_timer_stop(loop, &stopped); /* not armed: ignored */

	loop_timer_init(&victim, check_loop_record_cb, (void *)(intptr_t)2);
	ck_assert_int_eq(loop_timer_start(loop, &victim, 5), 0);
	loop_timer_init(&early, check_loop_stop_other_cb, &victim);
	ck_assert_int_eq(loop_timer_start(loop, &early, 0), 0);
	loop_timer_init(&last, check_loop_stop_cb, NULL);
	ck_assert_int_eq(loop_timer_start(loop, &last, 10), 0);

	ck_assert_int_eq(loop_run(loop), 0);
	ck_assert_int_eq(fired_count, 1); /* only early */
	ck_assert_int_eq(loop_timer_active(&victim), 0);
	ck_assert_int_eq(loop_timer_active(&last), 0);
}
END_TEST

/* Stops and frees its own (heap-allocated) timer. */
static void
check_loop_free_self_cb(struct loop_timer *timer)
{
	loop_timer_stop(loop, timer); /* already disarmed: ignored */
	free(timer);
	fired[fired_count++] = 1;
}

START_TEST(test_loop_timer_free_in_callback)
{
	struct loop_timer *timer, last;

	timer = malloc(sizeof *timer);
	ck_assert_ptr_nonnull(timer);
	loop_timer_init(timer, check_loop_free_self_cb, NULL);
	ck_assert_int_eq(loop_timer_start(loop, timer, 0), 0);
	loop_timer_init(&last, check_loop_stop_cb, NULL);
	ck_assert_int_eq(loop_timer_start(loop, &last, 1), 0);
	ck_assert_int_eq(loop_run(loop), 0);
	ck_assert_int_eq(fired_count, 1);
}
END_TEST

static int io_iterations;
static int io_seen_by_timer[5];
static int zero_timer_runs;

/* Counts iterations: the byte is never read, so this runs every time. */
static void
check_loop_count_io_cb(struct loop_io *io, uint32_t events)
{
	(void)io;
	(void)events;
	io_iterations++;
}

/* Re-arms itself with 0 ms and notes how much I/O ran in between. */
static void
check_loop_zero_rearm_cb(struct loop_timer *timer)
{
	io_seen_by_timer[zero_timer_runs++] = io_iterations;
	if (zero_timer_runs < 5)
		ck_assert_int_eq(loop_timer_start(loop, timer, 0), 0);
	else
		loop_stop(loop);
}

START_TEST(test_loop_timer_zero_rearm_yields_to_io)
{
	struct loop_timer timer;
	struct loop_io    io = {0};
	int               sv[2], i;

	check_loop_readable_pair(sv);
	io_iterations = zero_timer_runs = 0;
	ck_assert_int_eq(loop_io_start(loop, &io, sv[0], EPOLLIN,
	                     check_loop_count_io_cb, NULL),
	    0);
	loop_timer_init(&timer, check_loop_zero_rearm_cb, NULL);
	ck_assert_int_eq(loop_timer_start(loop, &timer, 0), 0);
	ck_assert_int_eq(loop_run(loop), 0);

	/* Each run is one iteration, after that iteration's I/O. */
	ck_assert_int_eq(zero_timer_runs, 5);
	for (i = 0; i < 5; i++)
		ck_assert_int_eq(io_seen_by_timer[i], i + 1);
	loop_io_stop(loop, &io);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(test_loop_timer_heap_random)
{
	enum { N = 1000 };
	struct loop_timer *timers;
	int                stopped[N] = {0};
	int                i, j, live = 0, seen[N] = {0};

	timers = calloc(N, sizeof *timers);
	ck_assert_ptr_nonnull(timers);
	srandom(4242);
	for (i = 0; i < N; i++) {
		loop_timer_init(
		    &timers[i], check_loop_record_cb, (void *)(intptr_t)i);
		ck_assert_int_eq(loop_timer_start(loop, &timers[i],
		                     (uint64_t)(random() % 40)),
		    0);
	}
	/* Re-arm some and stop some, to exercise the middle of the heap. */
	for (i = 0; i < N / 4; i++) {
		j = (int)(random() % N);
		ck_assert_int_eq(loop_timer_start(loop, &timers[j],
		                     (uint64_t)(random() % 40)),
		    0);
		stopped[j] = 0;
		j = (int)(random() % N);
		loop_timer_stop(loop, &timers[j]);
		stopped[j] = 1;
	}
	for (i = 0; i < N; i++) {
		ck_assert_int_eq(loop_timer_active(&timers[i]), !stopped[i]);
		live += !stopped[i];
	}

	expected_fires = live;
	ck_assert_int_eq(loop_run(loop), 0);
	ck_assert_int_eq(fired_count, live);
	for (i = 0; i < fired_count; i++) {
		if (i > 0)
			ck_assert_uint_le(fired_due[i - 1], fired_due[i]);
		ck_assert_int_eq(stopped[fired[i]], 0);
		ck_assert_int_eq(seen[fired[i]], 0);
		seen[fired[i]] = 1;
	}
	for (i = 0; i < N; i++)
		ck_assert_int_eq(loop_timer_active(&timers[i]), 0);
	free(timers);
}
END_TEST

static uint64_t last_now;
static int      now_checks;

/* Checks that loop_now() never goes back, then re-arms a few times. */
static void
check_loop_now_cb(struct loop_timer *timer)
{
	ck_assert_uint_ge(loop_now(loop), last_now);
	ck_assert_uint_ge(loop_now(loop), timer->due_ms);
	last_now = loop_now(loop);
	if (++now_checks < 10)
		ck_assert_int_eq(loop_timer_start(loop, timer, 1), 0);
	else
		loop_stop(loop);
}

START_TEST(test_loop_now_monotonic)
{
	struct loop_timer timer;
	uint64_t          now, updated;

	now = loop_now(loop);
	updated = loop_update_time(loop);
	ck_assert_uint_ge(updated, now);
	ck_assert_uint_eq(loop_now(loop), updated);

	last_now = updated;
	now_checks = 0;
	loop_timer_init(&timer, check_loop_now_cb, NULL);
	ck_assert_int_eq(loop_timer_start(loop, &timer, 1), 0);
	ck_assert_uint_eq(timer.due_ms, updated + 1);
	ck_assert_int_eq(loop_run(loop), 0);
	ck_assert_int_eq(now_checks, 10);
	ck_assert_uint_ge(loop_now(loop), last_now);
}
END_TEST

/* Records the wall clock when it fires, and stops the loop. */
static int64_t fired_unix_ms;

static void
check_loop_unix_cb(struct loop_timer *timer)
{
	(void)timer;
	fired_unix_ms = loop_unix_ms();
	loop_stop(loop);
}

/*
 * A timer for a unix time (a grant's exp) never ends before it, even when
 * the loop's cached clock is a long turn old: the delay counts from a
 * clock read when it is computed.
 */
START_TEST(test_loop_delay_until_not_early)
{
	struct loop_timer timer;
	struct timespec   pause = {0, 60 * 1000 * 1000};
	int64_t           target;

	loop_update_time(loop);
	/* A turn's long work: the cached clock is now 60 ms behind. */
	nanosleep(&pause, NULL);
	target = loop_unix_ms() + 40;
	loop_timer_init(&timer, check_loop_unix_cb, NULL);
	ck_assert_int_eq(
	    loop_timer_start(loop, &timer, loop_delay_until(loop, target)), 0);
	ck_assert_int_eq(loop_run(loop), 0);
	ck_assert_int_ge(fired_unix_ms, target);
	ck_assert_uint_eq(loop_delay_until(loop, loop_unix_ms() - 5), 0);
}
END_TEST

START_TEST(test_loop_stop_before_run)
{
	/* Nothing to wait for, yet loop_run() does one iteration and returns.
	 */
	loop_stop(loop);
	ck_assert_int_eq(loop_run(loop), 0);
}
END_TEST

/* --- async -------------------------------------------------------------- */

static int       async_calls;
static pthread_t loop_thread;

/* Counts the call, checks it runs on the loop thread and stops the loop. */
static void
check_loop_async_stop_cb(struct loop_async *async)
{
	ck_assert(pthread_equal(pthread_self(), loop_thread));
	ck_assert_ptr_eq(async->arg, &async_calls);
	async_calls++;
	loop_stop(loop);
}

/* What the sending thread needs. */
struct check_loop_sender {
	struct loop_async *async;
	pid_t              loop_tid;
};

/* Returns non-zero once thread tid is asleep (in epoll_wait, here). */
static int
check_loop_thread_sleeping(pid_t tid)
{
	char  path[64], stat[512], *p;
	FILE *f;
	int   sleeping = 0;

	snprintf(path, sizeof path, "/proc/self/task/%d/stat", (int)tid);
	f = fopen(path, "r");
	if (f == NULL)
		return 1; /* no /proc: just send */
	if (fgets(stat, sizeof stat, f) != NULL) {
		p = strrchr(stat, ')');
		sleeping = p != NULL && p[1] == ' ' && p[2] == 'S';
	}
	fclose(f);
	return sleeping;
}

/* Waits until the loop thread blocks, then wakes it with one send. */
static void *
check_loop_sender_main(void *arg)
{
	struct check_loop_sender *sender = arg;
	int                       tries;

	/* Observing, not sleeping: the send works whatever this finds. */
	for (tries = 0; tries < 1000000; tries++) {
		if (check_loop_thread_sleeping(sender->loop_tid))
			break;
		sched_yield();
	}
	loop_async_send(sender->async);
	return NULL;
}

START_TEST(test_loop_async_from_thread)
{
	struct loop_async        async;
	struct check_loop_sender sender;
	pthread_t                thread;

	loop_thread = pthread_self();
	async_calls = 0;
	loop_async_init(loop, &async, check_loop_async_stop_cb, &async_calls);
	ck_assert_ptr_eq(async.loop, loop);
	sender.async = &async;
	sender.loop_tid = (pid_t)syscall(SYS_gettid);
	ck_assert_int_eq(
	    pthread_create(&thread, NULL, check_loop_sender_main, &sender), 0);

	/* No timers and no io: only the async can end this. */
	ck_assert_int_eq(loop_run(loop), 0);
	ck_assert_int_eq(pthread_join(thread, NULL), 0);
	ck_assert_int_eq(async_calls, 1);
	ck_assert_int_eq(async.pending, 0);
}
END_TEST

static int other_calls;

/* Counts calls of an async that is never sent. */
static void
check_loop_async_count_cb(struct loop_async *async)
{
	(void)async;
	other_calls++;
}

/* Counts calls without stopping the loop. */
static void
check_loop_async_tally_cb(struct loop_async *async)
{
	(void)async;
	async_calls++;
}

START_TEST(test_loop_async_coalesce)
{
	struct loop_async async, other;
	struct loop_timer timer;

	loop_thread = pthread_self();
	async_calls = other_calls = 0;
	loop_async_init(loop, &other, check_loop_async_count_cb, NULL);
	loop_async_init(loop, &async, check_loop_async_tally_cb, &async_calls);
	loop_async_send(&async);
	loop_async_send(&async);
	loop_async_send(&async);
	ck_assert_int_eq(async.pending, 1);

	/* Let the loop turn a few times before it stops. */
	loop_timer_init(&timer, check_loop_stop_cb, NULL);
	ck_assert_int_eq(loop_timer_start(loop, &timer, 5), 0);
	ck_assert_int_eq(loop_run(loop), 0);
	ck_assert_int_eq(async_calls, 1);
	ck_assert_int_eq(other_calls, 0);

	/* A later send is a new call. */
	loop_async_send(&async);
	ck_assert_int_eq(loop_timer_start(loop, &timer, 1), 0);
	ck_assert_int_eq(loop_run(loop), 0);
	ck_assert_int_eq(async_calls, 2);
	ck_assert_int_eq(other_calls, 0);
}
END_TEST

static struct loop_async *signal_async;

/* The signal handler: only loop_async_send(), which is signal-safe. */
static void
check_loop_signal_handler(int signo)
{
	(void)signo;
	loop_async_send(signal_async);
}

/* Raises SIGUSR1 from inside the running loop. */
static void
check_loop_raise_cb(struct loop_timer *timer)
{
	(void)timer;
	ck_assert_int_eq(raise(SIGUSR1), 0);
}

START_TEST(test_loop_async_from_signal)
{
	struct loop_async async;
	struct loop_timer timer;
	struct sigaction  sa;

	loop_thread = pthread_self();
	async_calls = 0;
	loop_async_init(loop, &async, check_loop_async_stop_cb, &async_calls);
	signal_async = &async;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = check_loop_signal_handler;
	sigemptyset(&sa.sa_mask);
	ck_assert_int_eq(sigaction(SIGUSR1, &sa, NULL), 0);

	loop_timer_init(&timer, check_loop_raise_cb, NULL);
	ck_assert_int_eq(loop_timer_start(loop, &timer, 0), 0);
	ck_assert_int_eq(loop_run(loop), 0);
	ck_assert_int_eq(async_calls, 1);
	signal(SIGUSR1, SIG_DFL);
}
END_TEST

/* --- listen ------------------------------------------------------------- */

/* Makes the temporary directory for unix socket paths. */
static void
check_listen_setup(void)
{
	testutil_tmpdir_create();
}

/* Removes the temporary directory. */
static void
check_listen_teardown(void)
{
	testutil_tmpdir_remove();
}

/* Checks that fd is a non-blocking, close-on-exec listening socket. */
static void
check_listen_flags(int fd)
{
	int       value;
	socklen_t len = sizeof value;

	ck_assert_int_ne(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
	ck_assert_int_ne(fcntl(fd, F_GETFD) & FD_CLOEXEC, 0);
	ck_assert_int_eq(
	    getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &value, &len), 0);
	ck_assert_int_ne(value, 0);
}

/* Connects a blocking client to the TCP listener fd and accepts it. */
static void
check_listen_tcp_connect(int fd, int family)
{
	struct sockaddr_storage ss;
	socklen_t               len = sizeof ss;
	int                     client, server;

	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	ck_assert_int_eq(ss.ss_family, family);
	if (family == AF_INET)
		ck_assert_int_ne(((struct sockaddr_in *)&ss)->sin_port, 0);
	else
		ck_assert_int_ne(((struct sockaddr_in6 *)&ss)->sin6_port, 0);

	client = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(client, 0);
	ck_assert_int_eq(connect(client, (struct sockaddr *)&ss, len), 0);
	server = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
	ck_assert_int_ge(server, 0);
	ck_assert_int_eq(write(client, "hi", 2), 2);
	close(server);
	close(client);
}

START_TEST(test_listen_tcp_ephemeral)
{
	struct sockaddr_in sin;
	socklen_t          len = sizeof sin;
	char               err[256];
	int                fd, value;

	fd = listen_open("127.0.0.1:0", 16, err, sizeof err);
	ck_assert_msg(fd >= 0, "listen_open: %s", err);
	check_listen_flags(fd);
	len = sizeof value;
	ck_assert_int_eq(
	    getsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &value, &len), 0);
	ck_assert_int_ne(value, 0);
	check_listen_tcp_connect(fd, AF_INET);
	close(fd);

	/* ":PORT" and a bare "PORT" mean loopback. */
	fd = listen_open(":0", 0, err, sizeof err);
	ck_assert_msg(fd >= 0, "listen_open: %s", err);
	len = sizeof sin;
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	ck_assert_uint_eq(ntohl(sin.sin_addr.s_addr), INADDR_LOOPBACK);
	check_listen_tcp_connect(fd, AF_INET);
	close(fd);

	fd = listen_open("0", 0, err, sizeof err);
	ck_assert_msg(fd >= 0, "listen_open: %s", err);
	len = sizeof sin;
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	ck_assert_uint_eq(ntohl(sin.sin_addr.s_addr), INADDR_LOOPBACK);
	close(fd);
}
END_TEST

START_TEST(test_listen_tcp_ipv6)
{
	char err[256];
	int  fd, probe;

	/* Skip quietly where the host has no IPv6 loopback. */
	probe = socket(AF_INET6, SOCK_STREAM, 0);
	if (probe == -1)
		return;
	close(probe);
	fd = listen_open("[::1]:0", 4, err, sizeof err);
	if (fd == -1 && strstr(err, "Cannot assign") != NULL)
		return;
	ck_assert_msg(fd >= 0, "listen_open: %s", err);
	check_listen_flags(fd);
	check_listen_tcp_connect(fd, AF_INET6);
	close(fd);
}
END_TEST

START_TEST(test_listen_tcp_port_in_use)
{
	struct sockaddr_in sin;
	socklen_t          len = sizeof sin;
	char               addr[64], err[256];
	int                fd, fd2;

	fd = listen_open("127.0.0.1:0", 4, err, sizeof err);
	ck_assert_msg(fd >= 0, "listen_open: %s", err);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	snprintf(addr, sizeof addr, "127.0.0.1:%u", ntohs(sin.sin_port));
	fd2 = listen_open(addr, 4, err, sizeof err);
	ck_assert_int_eq(fd2, -1);
	ck_assert_ptr_nonnull(strstr(err, addr));
	ck_assert_ptr_nonnull(strstr(err, strerror(EADDRINUSE)));
	ck_assert_ptr_null(strchr(err, '\n'));
	close(fd);

	/* An address this host does not have. */
	ck_assert_int_eq(listen_open("192.0.2.1:0", 4, err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "192.0.2.1:0"));
	ck_assert_ptr_nonnull(strstr(err, "bind"));
}
END_TEST

/* Fills sa with the unix socket address of path. */
static void
check_listen_sockaddr(struct sockaddr_un *sa, const char *path)
{
	ck_assert_uint_lt(strlen(path), sizeof sa->sun_path);
	memset(sa, 0, sizeof *sa);
	sa->sun_family = AF_UNIX;
	memcpy(sa->sun_path, path, strlen(path) + 1);
}

/* Connects to the unix socket at path; returns the client fd or -1. */
static int
check_listen_unix_connect(const char *path)
{
	struct sockaddr_un sa;
	int                fd;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	check_listen_sockaddr(&sa, path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

START_TEST(test_listen_unix_create)
{
	struct stat sb;
	char        path[256], addr[300], err[256];
	int         fd, client, server;

	testutil_path(path, sizeof path, "s.sock");
	snprintf(addr, sizeof addr, "unix:%s", path);
	ck_assert(listen_valid(addr));
	fd = listen_open(addr, 4, err, sizeof err);
	ck_assert_msg(fd >= 0, "listen_open: %s", err);
	check_listen_flags(fd);
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert(S_ISSOCK(sb.st_mode));

	client = check_listen_unix_connect(path);
	ck_assert_int_ge(client, 0);
	server = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
	ck_assert_int_ge(server, 0);
	close(server);
	close(client);
	close(fd);
}
END_TEST

START_TEST(test_listen_unix_stale_replaced)
{
	struct sockaddr_un sa;
	char               path[256], addr[300], err[256];
	int                fd, client;

	/* A socket file left by a server that died without unlinking it. */
	testutil_path(path, sizeof path, "stale.sock");
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_ge(fd, 0);
	check_listen_sockaddr(&sa, path);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	close(fd);
	ck_assert_int_eq(check_listen_unix_connect(path), -1);

	snprintf(addr, sizeof addr, "unix:%s", path);
	fd = listen_open(addr, 4, err, sizeof err);
	ck_assert_msg(fd >= 0, "listen_open: %s", err);
	client = check_listen_unix_connect(path);
	ck_assert_int_ge(client, 0);
	close(client);
	close(fd);
}
END_TEST

START_TEST(test_listen_unix_live_refused)
{
	char path[256], addr[300], err[256], want[300];
	int  fd, client, server;

	testutil_path(path, sizeof path, "live.sock");
	snprintf(addr, sizeof addr, "unix:%s", path);
	fd = listen_open(addr, 4, err, sizeof err);
	ck_assert_msg(fd >= 0, "listen_open: %s", err);

	ck_assert_int_eq(listen_open(addr, 4, err, sizeof err), -1);
	snprintf(want, sizeof want, "%s: address in use", path);
	ck_assert_str_eq(err, want);

	/* The first server still has its socket. */
	client = check_listen_unix_connect(path);
	ck_assert_int_ge(client, 0);
	server = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
	ck_assert_int_ge(server, 0);
	close(server);
	close(client);
	close(fd);
}
END_TEST

START_TEST(test_listen_unix_not_socket_refused)
{
	struct stat sb;
	char        path[256], addr[300], err[256];
	FILE       *f;

	testutil_path(path, sizeof path, "events.db");
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("precious", f);
	fclose(f);

	snprintf(addr, sizeof addr, "unix:%s", path);
	ck_assert_int_eq(listen_open(addr, 4, err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, path));
	ck_assert_ptr_nonnull(strstr(err, "not a socket"));
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert(S_ISREG(sb.st_mode));
	ck_assert_int_eq(sb.st_size, 8);
}
END_TEST

START_TEST(test_listen_unix_path_too_long)
{
	char addr[300], err[256];

	memset(addr, 0, sizeof addr);
	memcpy(addr, "unix:/tmp/", 10);
	memset(addr + 10, 'a', 200);
	ck_assert(!listen_valid(addr));
	ck_assert_int_eq(listen_open(addr, 4, err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "too long"));
	ck_assert_ptr_nonnull(strstr(err, "/tmp/aaaa"));

	/* A missing directory fails at bind, naming the path. */
	ck_assert_int_eq(
	    listen_open("unix:/nonexistent-dir/x.sock", 4, err, sizeof err),
	    -1);
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent-dir/x.sock"));
	ck_assert_ptr_nonnull(strstr(err, strerror(ENOENT)));
}
END_TEST

START_TEST(test_listen_bad_addresses)
{
	static const char *bad[] = {
	    "",
	    "unix:",
	    "unix",
	    "localhost",
	    "host:",
	    "1.2.3.4:99999",
	    "1.2.3.4:65536",
	    "1.2.3.4:abc",
	    "1.2.3.4:-1",
	    "1.2.3.4:+80",
	    "[::1",
	    "[::1]",
	    "[::1]80",
	    "[]:80",
	    "::1:80",
	    ":",
	    "-1",
	    "123456",
	    "80x",
	    "1.2.3.4: 80",
	};
	static const char *good[] = {
	    "unix:/run/litepush.sock",
	    "unix:rel.sock",
	    "127.0.0.1:8131",
	    "localhost:80",
	    "[::1]:8131",
	    "[::]:0",
	    ":8131",
	    "8131",
	    "0",
	    "0.0.0.0:65535",
	};
	char   err[256];
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		ck_assert_msg(!listen_valid(bad[i]), "valid: \"%s\"", bad[i]);
		err[0] = '\0';
		ck_assert_int_eq(listen_open(bad[i], 4, err, sizeof err), -1);
		ck_assert_msg(err[0] != '\0', "no message for \"%s\"", bad[i]);
		ck_assert_ptr_null(strchr(err, '\n'));
	}
	for (i = 0; i < sizeof good / sizeof good[0]; i++)
		ck_assert_msg(
		    listen_valid(good[i]), "invalid: \"%s\"", good[i]);
	ck_assert(!listen_valid(NULL));

	/* The message names the address; a NULL errbuf is allowed. */
	ck_assert_int_eq(listen_open("nonsense", 4, err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "nonsense"));
	ck_assert_int_eq(listen_open("1.2.3.4:99999", 4, err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "99999"));
	ck_assert_int_eq(listen_open("nonsense", 4, NULL, 0), -1);
}
END_TEST

/* Builds the suite: one TCase per concern. */
static Suite *
check_loop_suite(void)
{
	Suite *s = suite_create("loop");
	TCase *tc;

	tc = tcase_create("io");
	tcase_add_checked_fixture(tc, check_loop_setup, check_loop_teardown);
	tcase_add_test(tc, test_loop_io_readable);
	tcase_add_test(tc, test_loop_io_stop_in_own_callback);
	tcase_add_test(tc, test_loop_io_stop_other_in_batch);
	tcase_add_test(tc, test_loop_io_modify_to_write);
	tcase_add_test(tc, test_loop_io_modify_in_batch);
	tcase_add_test(tc, test_loop_io_errors);
	suite_add_tcase(s, tc);

	tc = tcase_create("timers");
	tcase_add_checked_fixture(
	    tc, check_loop_timer_setup, check_loop_teardown);
	tcase_add_test(tc, test_loop_timer_due_order);
	tcase_add_test(tc, test_loop_timer_same_due_in_start_order);
	tcase_add_test(tc, test_loop_timer_rearm_from_callback);
	tcase_add_test(tc, test_loop_timer_stop_before_due);
	tcase_add_test(tc, test_loop_timer_free_in_callback);
	tcase_add_test(tc, test_loop_timer_zero_rearm_yields_to_io);
	tcase_add_test(tc, test_loop_timer_heap_random);
	suite_add_tcase(s, tc);

	tc = tcase_create("clock");
	tcase_add_checked_fixture(tc, check_loop_setup, check_loop_teardown);
	tcase_add_test(tc, test_loop_now_monotonic);
	tcase_add_test(tc, test_loop_delay_until_not_early);
	tcase_add_test(tc, test_loop_stop_before_run);
	suite_add_tcase(s, tc);

	tc = tcase_create("async");
	tcase_add_checked_fixture(tc, check_loop_setup, check_loop_teardown);
	tcase_add_test(tc, test_loop_async_from_thread);
	tcase_add_test(tc, test_loop_async_coalesce);
	tcase_add_test(tc, test_loop_async_from_signal);
	suite_add_tcase(s, tc);

	tc = tcase_create("listen_tcp");
	tcase_add_test(tc, test_listen_tcp_ephemeral);
	tcase_add_test(tc, test_listen_tcp_ipv6);
	tcase_add_test(tc, test_listen_tcp_port_in_use);
	suite_add_tcase(s, tc);

	tc = tcase_create("listen_unix");
	tcase_add_checked_fixture(
	    tc, check_listen_setup, check_listen_teardown);
	tcase_add_test(tc, test_listen_unix_create);
	tcase_add_test(tc, test_listen_unix_stale_replaced);
	tcase_add_test(tc, test_listen_unix_live_refused);
	tcase_add_test(tc, test_listen_unix_not_socket_refused);
	tcase_add_test(tc, test_listen_unix_path_too_long);
	suite_add_tcase(s, tc);

	tc = tcase_create("listen_errors");
	tcase_add_test(tc, test_listen_bad_addresses);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(check_loop_suite());
	int      failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
