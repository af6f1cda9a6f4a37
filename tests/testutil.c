/* testutil.c: helpers the Check suites share. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "loop.h"
#include "testutil.h"

/* How often testutil_loop_await() looks at its condition, in ms. */
#define TESTUTIL_TICK_MS 5

static char testutil_dir[256];

/* Creates a fresh temporary directory and returns its path. */
const char *
testutil_tmpdir_create(void)
{
	const char *base = getenv("TMPDIR");

	if (base == NULL || *base == '\0')
		base = "/tmp";
	snprintf(
	    testutil_dir, sizeof testutil_dir, "%s/litepush-test.XXXXXX", base);
	if (mkdtemp(testutil_dir) == NULL) {
		perror("mkdtemp");
		abort();
	}
	return testutil_dir;
}

/* Removes the temporary directory and its contents. */
void
testutil_tmpdir_remove(void)
{
	char cmd[300];

	if (testutil_dir[0] == '\0')
		return;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", testutil_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", testutil_dir);
	testutil_dir[0] = '\0';
}

/* Writes the path of name inside the temporary directory to out. */
char *
testutil_path(char *out, size_t len, const char *name)
{
	snprintf(out, len, "%s/%s", testutil_dir, name);
	return out;
}

/* Runs the sqlite3 shell with sql on its standard input. */
int
testutil_sqlite3(const char *db, const char *sql, char *output, size_t len)
{
	char  cmd[512];
	FILE *pipe;
	int   status;

	snprintf(cmd, sizeof cmd, "sqlite3 -bail '%s' >'%s/.sqlite3.out' 2>&1",
	    db, testutil_dir);
	pipe = popen(cmd, "w");
	if (pipe == NULL)
		return -1;
	fputs(sql, pipe);
	status = pclose(pipe);
	if (output != NULL && len > 0) {
		char   path[300];
		FILE  *f;
		size_t n = 0;

		snprintf(path, sizeof path, "%s/.sqlite3.out", testutil_dir);
		f = fopen(path, "r");
		if (f != NULL) {
			n = fread(output, 1, len - 1, f);
			fclose(f);
		}
		output[n] = '\0';
	}
	if (status == -1 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* Returns a monotonic clock in ms. */
uint64_t
testutil_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Returns the wall clock in unix ms. */
int64_t
testutil_unix_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Runs one non-blocking iteration of the loop. */
void
testutil_loop_step(struct loop *loop)
{
	loop_stop(loop);
	ck_assert_int_eq(loop_run(loop), 0);
}

/* A wait in testutil_loop_await(): its loop and whether time ran out. */
struct testutil_wait {
	struct loop *loop;
	int          expired;
};

/* The wait's deadline passed. */
static void
testutil_wait_deadline(struct loop_timer *timer)
{
	struct testutil_wait *wait = timer->arg;

	wait->expired = 1;
	loop_stop(wait->loop);
}

/* Time to look at the condition again. */
static void
testutil_wait_tick(struct loop_timer *timer)
{
	struct testutil_wait *wait = timer->arg;

	loop_stop(wait->loop);
}

/* The wait's descriptor became readable: look at the condition again. */
static void
testutil_wait_readable(struct loop_io *io, uint32_t events)
{
	struct testutil_wait *wait = io->arg;

	(void)events;
	loop_stop(wait->loop);
}

/* Runs the loop until cond(arg) holds or timeout_ms have passed. */
int
testutil_loop_await(
    struct loop *loop, int (*cond)(void *), void *arg, int fd, int timeout_ms)
{
	struct testutil_wait wait = {loop, 0};
	struct loop_timer    deadline, tick;

	loop_update_time(loop);
	loop_timer_init(&deadline, testutil_wait_deadline, &wait);
	loop_timer_init(&tick, testutil_wait_tick, &wait);
	ck_assert_int_eq(
	    loop_timer_start(loop, &deadline, (uint64_t)timeout_ms), 0);
	while (!cond(arg) && !wait.expired) {
		struct loop_io io;

		memset(&io, 0, sizeof io);
		if (fd >= 0)
			ck_assert_int_eq(
			    loop_io_start(loop, &io, fd, EPOLLIN | EPOLLRDHUP,
			        testutil_wait_readable, &wait),
			    0);
		ck_assert_int_eq(
		    loop_timer_start(loop, &tick, TESTUTIL_TICK_MS), 0);
		ck_assert_int_eq(loop_run(loop), 0);
		if (fd >= 0)
			loop_io_stop(loop, &io);
	}
	loop_timer_stop(loop, &tick);
	loop_timer_stop(loop, &deadline);
	return cond(arg);
}

/* A condition that never holds: an await that just runs the loop. */
static int
testutil_never(void *arg)
{
	(void)arg;
	return 0;
}

/* Runs the loop for about ms. */
void
testutil_loop_run_for(struct loop *loop, int ms)
{
	testutil_loop_await(loop, testutil_never, NULL, -1, ms);
}
