/* check_proc.c: unit tests of the process set-up every program shares: signals, logging, usage errors, the daemons' shutdown. */
#include "config.h"

#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "loop.h"
#include "proc.h"
#include "testutil.h"

/*
 * Signal dispositions, the signal mask, the open-file limit and malloc's
 * settings belong to the process: every test runs in a process of its own
 * (the suite forces Check's fork mode), and what must end a process runs
 * in a child of the test's, whose status and standard error are checked.
 * Signals are raised in-process: raise() runs the handler before it
 * returns, so there is nothing to wait for; what a handler hands to the
 * loop is awaited by running the loop, bounded by a deadline.
 */

/* How long a test waits for something that should happen at once. */
#define WAIT_MS 3000

/* The signals the test handler has seen, one counter per signal. */
static volatile sig_atomic_t seen[NSIG];

/* A handler that counts. */
static void
count_signal(int sig)
{
	seen[sig]++;
}

/* Returns the current disposition of sig. */
static struct sigaction
disposition(int sig)
{
	struct sigaction sa;

	ck_assert_int_eq(sigaction(sig, NULL, &sa), 0);
	return sa;
}

/* Returns non-zero if sig is blocked now. */
static int
blocked(int sig)
{
	sigset_t set;

	ck_assert_int_eq(sigprocmask(SIG_BLOCK, NULL, &set), 0);
	return sigismember(&set, sig);
}

/* Blocks the four signals a daemon unblocks, as Apache's threaded MPMs do. */
static void
block_all(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGHUP);
	ck_assert_int_eq(sigprocmask(SIG_BLOCK, &set, NULL), 0);
}

/* Standard error redirected into a pipe, to read what was written. */
static int stderr_saved = -1, stderr_pipe = -1;

/* Sends standard error into a pipe (non-blocking to read). */
static void
stderr_capture(void)
{
	int p[2];

	fflush(stderr);
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	ck_assert_int_ne(fcntl(p[0], F_SETFL, O_NONBLOCK), -1);
	stderr_saved = dup(STDERR_FILENO);
	ck_assert_int_ge(stderr_saved, 0);
	ck_assert_int_eq(dup2(p[1], STDERR_FILENO), STDERR_FILENO);
	close(p[1]);
	stderr_pipe = p[0];
}

/* Appends what the pipe holds to out (NUL-terminated, size bytes). */
static void
stderr_read(char *out, size_t size)
{
	size_t  len = strlen(out);
	ssize_t n;

	fflush(stderr);
	while (len + 1 < size &&
	       (n = read(stderr_pipe, out + len, size - 1 - len)) > 0)
		len += (size_t)n;
	out[len] = '\0';
}

/* Puts standard error back. */
static void
stderr_restore(void)
{
	fflush(stderr);
	if (stderr_saved >= 0) {
		dup2(stderr_saved, STDERR_FILENO);
		close(stderr_saved);
	}
	if (stderr_pipe >= 0)
		close(stderr_pipe);
	stderr_saved = stderr_pipe = -1;
}

/*
 * Runs fn in a child process with its standard error in a pipe; returns
 * its wait status, with what it wrote in out.  A child that returns from
 * fn exits with 0.
 */
static int
run_child(void (*fn)(void), char *out, size_t size)
{
	int     p[2], status;
	size_t  len = 0;
	ssize_t n;
	pid_t   pid;

	fflush(stderr);
	ck_assert_int_eq(pipe(p), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(p[1], STDERR_FILENO);
		close(p[0]);
		close(p[1]);
		fn();
		fflush(stderr);
		_exit(0);
	}
	close(p[1]);
	while (
	    len + 1 < size && (n = read(p[0], out + len, size - 1 - len)) > 0)
		len += (size_t)n;
	out[len] = '\0';
	close(p[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return status;
}

/* ----------------------------------------------------------------- log */

START_TEST(test_proc_log_names_the_program)
{
	char out[256] = "";

	stderr_capture();
	proc_log("%s %d", "one line", 1);
	proc_set_name("litepush-test");
	proc_log("and %s", "another");
	stderr_read(out, sizeof out);
	stderr_restore();
	/* Before proc_set_name(): the name the program was run under. */
	ck_assert_str_eq(out + strlen(program_invocation_short_name),
	    ": one line 1\nlitepush-test: and another\n");
	ck_assert_mem_eq(out, program_invocation_short_name,
	    strlen(program_invocation_short_name));
}
END_TEST

/* Children for the usage error tests. */
static void
usage_error_child(void)
{
	proc_set_name("litepush-x");
	proc_usage_error("--listen: bad address \"%s\"", "nowhere");
}

static void
number_option_bad_child(void)
{
	proc_set_name("litepush-x");
	proc_number_option("max-conns", "12x", 0, 100);
}

static void
number_option_range_child(void)
{
	proc_set_name("litepush-x");
	proc_number_option("retry", "101", 0, 100);
}

START_TEST(test_proc_usage_error_exits_2)
{
	char out[512];
	int  status = run_child(usage_error_child, out, sizeof out);

	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 2);
	ck_assert_str_eq(out, "litepush-x: --listen: bad address \"nowhere\"\n"
	                      "Try 'litepush-x --help'.\n");
}
END_TEST

/* A usage text for proc_last_option(). */
static void
child_usage(FILE *out)
{
	fputs("usage: litepush-x\n", out);
}

/* The children below write standard output where run_child() reads. */
static void
last_option_help_child(void)
{
	proc_set_name("litepush-x");
	dup2(STDERR_FILENO, STDOUT_FILENO);
	proc_last_option('h', child_usage);
}

static void
last_option_version_child(void)
{
	proc_set_name("litepush-x");
	dup2(STDERR_FILENO, STDOUT_FILENO);
	proc_last_option('V', child_usage);
}

static void
last_option_bad_child(void)
{
	proc_set_name("litepush-x");
	proc_last_option('?', child_usage);
}

START_TEST(test_proc_last_option)
{
	char out[512];
	int  status;

	status = run_child(last_option_help_child, out, sizeof out);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	ck_assert_str_eq(out, "usage: litepush-x\n");
	status = run_child(last_option_version_child, out, sizeof out);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	ck_assert_str_eq(out, "litepush-x " PACKAGE_VERSION "\n");
	status = run_child(last_option_bad_child, out, sizeof out);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 2);
	ck_assert_str_eq(out, "Try 'litepush-x --help'.\n");
}
END_TEST

static char options_done_prog[] = "litepush-x", options_done_db[] = "--db=x",
            options_done_left[] = "left";
static char *options_done_args[] = {
    options_done_prog, options_done_db, options_done_left, NULL};

static void
options_done_left_child(void)
{
	proc_set_name("litepush-x");
	optind = 2;
	proc_options_done(3, options_done_args, "x");
}

static void
options_done_no_db_child(void)
{
	proc_set_name("litepush-x");
	optind = 1;
	proc_options_done(1, options_done_args, NULL);
}

static void
options_done_fine_child(void)
{
	optind = 2;
	proc_options_done(2, options_done_args, "x");
}

START_TEST(test_proc_options_done)
{
	char out[512];
	int  status;

	status = run_child(options_done_left_child, out, sizeof out);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 2);
	ck_assert_str_eq(out, "litepush-x: unexpected argument \"left\"\n"
	                      "Try 'litepush-x --help'.\n");
	status = run_child(options_done_no_db_child, out, sizeof out);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 2);
	ck_assert_str_eq(out,
	    "litepush-x: --db PATH is required (or LITEPUSH_DB)\n"
	    "Try 'litepush-x --help'.\n");
	status = run_child(options_done_fine_child, out, sizeof out);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	ck_assert_str_eq(out, "");
}
END_TEST

static void
listen_option_bad_child(void)
{
	proc_set_name("litepush-x");
	proc_listen_option("nowhere");
}

START_TEST(test_proc_listen_option)
{
	char out[512];
	int  status;

	ck_assert_str_eq(
	    proc_listen_option("127.0.0.1:8131"), "127.0.0.1:8131");
	ck_assert_str_eq(
	    proc_listen_option("unix:/run/x.sock"), "unix:/run/x.sock");
	status = run_child(listen_option_bad_child, out, sizeof out);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 2);
	ck_assert_str_eq(out, "litepush-x: --listen: bad address \"nowhere\" "
	                      "(expected unix:PATH or HOST:PORT)\n"
	                      "Try 'litepush-x --help'.\n");
}
END_TEST

START_TEST(test_proc_number_option)
{
	char out[512];
	int  status;

	ck_assert_int_eq(proc_number_option("n", "0", 0, 10), 0);
	ck_assert_int_eq(proc_number_option("n", "10", 0, 10), 10);
	ck_assert_int_eq(
	    proc_number_option("n", "9223372036854775807", 1, INT64_MAX),
	    INT64_MAX);
	status = run_child(number_option_bad_child, out, sizeof out);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 2);
	ck_assert_str_eq(out,
	    "litepush-x: --max-conns: expected a whole number "
	    "from 0 to 100, got \"12x\"\n"
	    "Try 'litepush-x --help'.\n");
	status = run_child(number_option_range_child, out, sizeof out);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 2);
	ck_assert_ptr_nonnull(strstr(out, "--retry: expected a whole number "
	                                  "from 0 to 100, got \"101\"\n"));
}
END_TEST

/* ------------------------------------------------------------- signals */

START_TEST(test_proc_signals_handlers)
{
	static const int sigs[] = {SIGTERM, SIGINT, SIGUSR1};
	size_t           i;

	block_all();
	proc_signals(count_signal);
	for (i = 0; i < 3; i++) {
		struct sigaction sa = disposition(sigs[i]);

		ck_assert_ptr_eq(sa.sa_handler, count_signal);
		ck_assert_msg(sa.sa_flags & SA_RESTART, "signal %d", sigs[i]);
		ck_assert_msg(!blocked(sigs[i]), "signal %d blocked", sigs[i]);
		ck_assert_int_eq(raise(sigs[i]), 0);
		ck_assert_int_eq(seen[sigs[i]], 1);
	}
	ck_assert(!blocked(SIGHUP));
	ck_assert_int_eq(seen[SIGHUP], 0);
}
END_TEST

/* SIGPIPE is ignored: a write to a peer gone fails with EPIPE. */
START_TEST(test_proc_signals_ignore_sigpipe)
{
	int sv[2];

	proc_signals(count_signal);
	ck_assert_ptr_eq(disposition(SIGPIPE).sa_handler, SIG_IGN);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	close(sv[1]);
	ck_assert_int_eq(write(sv[0], "x", 1), -1);
	ck_assert_int_eq(errno, EPIPE);
	close(sv[0]);
	ck_assert_int_eq(seen[SIGPIPE], 0);
}
END_TEST

/* SIGHUP: one line on standard error, and the process goes on. */
START_TEST(test_proc_signals_sighup_note)
{
	char out[512] = "";

	proc_set_name("litepush-hup");
	proc_signals(count_signal);
	stderr_capture();
	ck_assert_int_eq(raise(SIGHUP), 0);
	ck_assert_int_eq(raise(SIGHUP), 0);
	stderr_read(out, sizeof out);
	stderr_restore();
	ck_assert_str_eq(out,
	    "litepush-hup: SIGHUP: nothing to reload or reopen (logs go to "
	    "standard error); still running\n"
	    "litepush-hup: SIGHUP: nothing to reload or reopen (logs go to "
	    "standard error); still running\n");
	ck_assert_int_eq(seen[SIGHUP], 0);
	ck_assert_int_eq(seen[SIGTERM], 0);
}
END_TEST

/* The SIGHUP handler keeps errno, even when its write fails. */
START_TEST(test_proc_signals_sighup_keeps_errno)
{
	int saved;

	proc_signals(count_signal);
	saved = dup(STDERR_FILENO);
	ck_assert_int_ge(saved, 0);
	close(STDERR_FILENO); /* the note's write fails with EBADF */
	errno = EDOM;
	raise(SIGHUP);
	ck_assert_int_eq(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	close(saved);
	ck_assert_int_eq(errno, EDOM);
}
END_TEST

/* For the tool: SIGTERM and SIGINT only, and SIG_DFL puts them back. */
START_TEST(test_proc_on_stop)
{
	block_all();
	proc_on_stop(count_signal);
	ck_assert_ptr_eq(disposition(SIGTERM).sa_handler, count_signal);
	ck_assert_ptr_eq(disposition(SIGINT).sa_handler, count_signal);
	ck_assert(disposition(SIGTERM).sa_flags & SA_RESTART);
	ck_assert(!blocked(SIGTERM));
	ck_assert(!blocked(SIGINT));
	ck_assert_int_eq(raise(SIGINT), 0);
	ck_assert_int_eq(seen[SIGINT], 1);
	/* The others are left alone: default, and still blocked. */
	ck_assert_ptr_eq(disposition(SIGPIPE).sa_handler, SIG_DFL);
	ck_assert_ptr_eq(disposition(SIGHUP).sa_handler, SIG_DFL);
	ck_assert_ptr_eq(disposition(SIGUSR1).sa_handler, SIG_DFL);
	ck_assert(blocked(SIGUSR1));
	ck_assert(blocked(SIGHUP));
	proc_on_stop(SIG_DFL);
	ck_assert_ptr_eq(disposition(SIGTERM).sa_handler, SIG_DFL);
	ck_assert_ptr_eq(disposition(SIGINT).sa_handler, SIG_DFL);
}
END_TEST

/* -------------------------------------------------------------- limits */

START_TEST(test_proc_raise_nofile)
{
	struct rlimit rl;

	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	if (rl.rlim_max > 64) {
		rl.rlim_cur = 64;
		ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	}
	proc_raise_nofile();
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	ck_assert_uint_eq(rl.rlim_cur, rl.rlim_max);
	/* Already at the hard limit: nothing changes. */
	proc_raise_nofile();
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	ck_assert_uint_eq(rl.rlim_cur, rl.rlim_max);
}
END_TEST

/*
 * After a free of 1 MiB, glibc would serve the next block of 256 kB from
 * the heap; with the threshold fixed, it is still a mapping of its own,
 * given back when freed.  A sanitizer's allocator does not use glibc's, so
 * only the call itself is checked there.
 */
START_TEST(test_proc_memory_returns)
{
	struct mallinfo2 before, during, after;
	char            *big, *block;
	int              sanitized = 0;

#if defined(__SANITIZE_ADDRESS__)
	sanitized = 1;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
	sanitized = 1;
#endif
#endif
	proc_memory_returns();
	big = malloc(1024 * 1024);
	ck_assert_ptr_nonnull(big);
	memset(big, 1, 1024 * 1024);
	free(big);
	before = mallinfo2();
	block = malloc(256 * 1024);
	ck_assert_ptr_nonnull(block);
	memset(block, 1, 256 * 1024);
	during = mallinfo2();
	free(block);
	after = mallinfo2();
	if (sanitized)
		return;
	ck_assert_uint_eq(during.hblks, before.hblks + 1);
	ck_assert_uint_ge(during.hblkhd, before.hblkhd + 256 * 1024);
	ck_assert_uint_eq(after.hblks, before.hblks);
	ck_assert_uint_eq(after.hblkhd, before.hblkhd);
	/* A small block still comes from the heap. */
	block = malloc(PROC_MMAP_THRESHOLD / 2);
	ck_assert_ptr_nonnull(block);
	during = mallinfo2();
	ck_assert_uint_eq(during.hblks, before.hblks);
	free(block);
}
END_TEST

/* -------------------------------------------------------------- daemon */

static struct loop *loop;
static int          shutdown_calls;

/* A daemon's shutdown hook: counts, and checks its argument. */
static void
hook_shutdown(void *arg)
{
	ck_assert_ptr_eq(arg, &shutdown_calls);
	shutdown_calls++;
}

/* A daemon's counters. */
static void
hook_stats(char *out, size_t len, void *arg)
{
	ck_assert_ptr_eq(arg, &shutdown_calls);
	snprintf(out, len, "{\"streams\":%d}", 42);
}

static const struct proc_daemon_hooks hooks = {
    hook_shutdown, hook_stats, &shutdown_calls};

/* A deadline: sets its flag and stops the loop. */
static void
deadline_fired(struct loop_timer *timer)
{
	*(int *)timer->arg = 1;
	loop_stop(loop);
}

/* A tick: stops the loop so that a wait looks at its condition again. */
static void
tick_fired(struct loop_timer *timer)
{
	(void)timer;
	loop_stop(loop);
}

/* Runs the loop until *flag is non-zero or timeout_ms passed; returns *flag. */
static int
await_flag(const int *flag, int timeout_ms)
{
	struct loop_timer deadline, tick;
	int               expired = 0;

	loop_update_time(loop);
	loop_timer_init(&deadline, deadline_fired, &expired);
	loop_timer_init(&tick, tick_fired, NULL);
	loop_timer_start(loop, &deadline, (uint64_t)timeout_ms);
	while (*flag == 0 && !expired) {
		loop_timer_start(loop, &tick, 5);
		ck_assert_int_eq(loop_run(loop), 0);
	}
	loop_timer_stop(loop, &tick);
	loop_timer_stop(loop, &deadline);
	return *flag;
}

/* Makes the loop of a daemon test. */
static void
daemon_setup(void)
{
	loop = loop_create();
	ck_assert_ptr_nonnull(loop);
	shutdown_calls = 0;
}

/* Frees it, after the shutdown's deadline has been stopped. */
static void
daemon_teardown(void)
{
	proc_daemon_stop();
	loop_free(loop);
	loop = NULL;
}

/* Before proc_daemon_start(), SIGTERM ends the process as by default. */
static void
early_term_child(void)
{
	proc_daemon_signals();
	raise(SIGTERM);
	fputs("still alive\n", stderr);
}

/* Before proc_daemon_start(), SIGUSR1 does nothing. */
static void
early_usr1_child(void)
{
	proc_daemon_signals();
	raise(SIGUSR1);
	fputs("still alive\n", stderr);
}

START_TEST(test_proc_daemon_signals_before_start)
{
	char out[256];
	int  status = run_child(early_term_child, out, sizeof out);

	ck_assert(WIFSIGNALED(status));
	ck_assert_int_eq(WTERMSIG(status), SIGTERM);
	ck_assert_str_eq(out, "");
	status = run_child(early_usr1_child, out, sizeof out);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	ck_assert_str_eq(out, "still alive\n");
	/* They are a daemon's signals (proc_signals()). */
	proc_daemon_signals();
	ck_assert_ptr_eq(disposition(SIGPIPE).sa_handler, SIG_IGN);
	ck_assert(disposition(SIGTERM).sa_flags & SA_RESTART);
}
END_TEST

/* SIGTERM (or SIGINT) starts the shutdown on the loop, once. */
START_TEST(test_proc_daemon_shutdown_on_signal)
{
	ck_assert_int_eq(proc_daemon_ending(), 0);
	proc_daemon_signals();
	proc_daemon_start(loop, &hooks);
	ck_assert_int_eq(raise(SIGTERM), 0);
	/* The handler only wakes the loop: the hook runs there. */
	ck_assert_int_eq(shutdown_calls, 0);
	ck_assert(await_flag(&shutdown_calls, WAIT_MS));
	ck_assert_int_eq(proc_daemon_ending(), 1);
	ck_assert_int_eq(raise(SIGINT), 0);
	ck_assert_int_eq(raise(SIGTERM), 0);
	await_flag(&(int){0}, 50);
	ck_assert_int_eq(shutdown_calls, 1);
}
END_TEST

/* A timer that says the daemon's last client has gone. */
static void
done_fired(struct loop_timer *timer)
{
	(void)timer;
	proc_daemon_done();
}

/* proc_daemon_done() stops the loop during a shutdown, and only then. */
START_TEST(test_proc_daemon_done)
{
	struct loop_timer done, deadline;
	int               expired = 0;

	proc_daemon_signals();
	proc_daemon_start(loop, &hooks);
	loop_timer_init(&done, done_fired, NULL);
	loop_timer_init(&deadline, deadline_fired, &expired);
	/* Not shutting down: the loop goes on to the deadline. */
	loop_timer_start(loop, &done, 0);
	loop_timer_start(loop, &deadline, 100);
	ck_assert_int_eq(loop_run(loop), 0);
	ck_assert_int_eq(expired, 1);
	/* Shutting down: it stops the loop at once. */
	ck_assert_int_eq(raise(SIGINT), 0);
	ck_assert(await_flag(&shutdown_calls, WAIT_MS));
	expired = 0;
	loop_timer_start(loop, &done, 0);
	loop_timer_start(loop, &deadline, WAIT_MS);
	ck_assert_int_eq(loop_run(loop), 0);
	ck_assert_int_eq(expired, 0);
	loop_timer_stop(loop, &deadline);
}
END_TEST

/* A shutdown whose clients never finish ends the loop after PROC_EXIT_MS. */
START_TEST(test_proc_daemon_exit_deadline)
{
	struct loop_timer deadline;
	int               expired = 0;
	uint64_t          start;

	proc_daemon_signals();
	proc_daemon_start(loop, &hooks);
	ck_assert_int_eq(raise(SIGTERM), 0);
	start = testutil_now_ms();
	ck_assert(await_flag(&shutdown_calls, WAIT_MS));
	loop_timer_init(&deadline, deadline_fired, &expired);
	loop_timer_start(loop, &deadline, PROC_EXIT_MS + WAIT_MS);
	ck_assert_int_eq(loop_run(loop), 0);
	ck_assert_int_eq(expired, 0);
	ck_assert_uint_ge(testutil_now_ms() - start, PROC_EXIT_MS - 10);
	loop_timer_stop(loop, &deadline);
}
END_TEST

/* proc_daemon_stop() disarms the deadline: the loop is not stopped by it. */
START_TEST(test_proc_daemon_stop_disarms_deadline)
{
	struct loop_timer deadline;
	int               expired = 0;

	proc_daemon_signals();
	proc_daemon_start(loop, &hooks);
	ck_assert_int_eq(raise(SIGTERM), 0);
	ck_assert(await_flag(&shutdown_calls, WAIT_MS));
	proc_daemon_stop();
	loop_timer_init(&deadline, deadline_fired, &expired);
	loop_timer_start(loop, &deadline, PROC_EXIT_MS + 300);
	ck_assert_int_eq(loop_run(loop), 0);
	ck_assert_int_eq(expired, 1);
}
END_TEST

/* Holds once the captured standard error holds a whole line. */
static char stats_out[512];
static int
stats_line(void)
{
	stderr_read(stats_out, sizeof stats_out);
	return strchr(stats_out, '\n') != NULL;
}

/* SIGUSR1: the hook's counters as one line on standard error, on the loop. */
START_TEST(test_proc_daemon_stats_on_sigusr1)
{
	uint64_t end = testutil_now_ms() + WAIT_MS;

	proc_set_name("litepush-stats");
	proc_daemon_signals();
	proc_daemon_start(loop, &hooks);
	stderr_capture();
	stats_out[0] = '\0';
	ck_assert_int_eq(raise(SIGUSR1), 0);
	while (!stats_line() && testutil_now_ms() < end)
		await_flag(&(int){0}, 10);
	stderr_restore();
	ck_assert_str_eq(stats_out, "litepush-stats: {\"streams\":42}\n");
	ck_assert_int_eq(shutdown_calls, 0);
	ck_assert_int_eq(proc_daemon_ending(), 0);
}
END_TEST

/* Without a stats hook, SIGUSR1 writes nothing and ends nothing. */
START_TEST(test_proc_daemon_stats_without_hook)
{
	struct proc_daemon_hooks quiet = {hook_shutdown, NULL, &shutdown_calls};

	proc_daemon_signals();
	proc_daemon_start(loop, &quiet);
	stderr_capture();
	stats_out[0] = '\0';
	ck_assert_int_eq(raise(SIGUSR1), 0);
	await_flag(&(int){0}, 50);
	stderr_read(stats_out, sizeof stats_out);
	stderr_restore();
	ck_assert_str_eq(stats_out, "");
	ck_assert_int_eq(proc_daemon_ending(), 0);
}
END_TEST

/* Builds the suite: one case per concern. */
static Suite *
check_proc_suite(void)
{
	Suite *s = suite_create("proc");
	TCase *tc;

	tc = tcase_create("log");
	tcase_add_test(tc, test_proc_log_names_the_program);
	tcase_add_test(tc, test_proc_usage_error_exits_2);
	tcase_add_test(tc, test_proc_last_option);
	tcase_add_test(tc, test_proc_listen_option);
	tcase_add_test(tc, test_proc_options_done);
	tcase_add_test(tc, test_proc_number_option);
	suite_add_tcase(s, tc);

	tc = tcase_create("signals");
	tcase_add_test(tc, test_proc_signals_handlers);
	tcase_add_test(tc, test_proc_signals_ignore_sigpipe);
	tcase_add_test(tc, test_proc_signals_sighup_note);
	tcase_add_test(tc, test_proc_signals_sighup_keeps_errno);
	tcase_add_test(tc, test_proc_on_stop);
	suite_add_tcase(s, tc);

	tc = tcase_create("limits");
	tcase_add_test(tc, test_proc_raise_nofile);
	tcase_add_test(tc, test_proc_memory_returns);
	suite_add_tcase(s, tc);

	tc = tcase_create("daemon");
	tcase_add_checked_fixture(tc, daemon_setup, daemon_teardown);
	tcase_add_test(tc, test_proc_daemon_signals_before_start);
	tcase_add_test(tc, test_proc_daemon_shutdown_on_signal);
	tcase_add_test(tc, test_proc_daemon_done);
	tcase_add_test(tc, test_proc_daemon_exit_deadline);
	tcase_add_test(tc, test_proc_daemon_stop_disarms_deadline);
	tcase_add_test(tc, test_proc_daemon_stats_on_sigusr1);
	tcase_add_test(tc, test_proc_daemon_stats_without_hook);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(check_proc_suite());
	int      failed;

	/* Each test changes its process's signals and limits: one process each.
	 */
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
