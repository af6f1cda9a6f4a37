/* proc.c: what every litepush program does the same: signals, logging, usage errors, the daemons' shutdown. */
#include "config.h"

#include <sys/resource.h>

#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "access.h"
#include "listen.h"
#include "loop.h"
#include "options.h"
#include "proc.h"

/* The name in every line; NULL until proc_set_name(). */
static const char *proc_name;

/* Names the program in its lines. */
void
proc_set_name(const char *name)
{
	proc_name = name;
}

/* Returns the program's name for its lines. */
static const char *
proc_program(void)
{
	return proc_name != NULL ? proc_name : program_invocation_short_name;
}

/* Writes "NAME: message" on standard error. */
void
proc_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "%s: ", proc_program());
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* Writes a usage error and exits with status 2. */
void
proc_usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "%s: ", proc_program());
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\nTry '%s --help'.\n", proc_program());
	va_end(ap);
	exit(2);
}

/* Returns a whole-number option's value or exits. */
int64_t
proc_number_option(
    const char *name, const char *value, int64_t min, int64_t max)
{
	int64_t n;

	if (options_number(value, min, max, &n) != 0)
		proc_usage_error("--%s: expected a whole number from %lld to "
		                 "%lld, got \"%s\"",
		    name, (long long)min, (long long)max, value);
	return n;
}

/* Returns a --listen address or exits. */
const char *
proc_listen_option(const char *value)
{
	if (!listen_valid(value))
		proc_usage_error("--listen: bad address \"%s\" "
		                 "(expected unix:PATH or HOST:PORT)",
		    value);
	return value;
}

/* Adds a list option's values to list. */
void
proc_list_option(
    const char *name, char *value, const char **list, size_t *count, size_t max)
{
	char *item, *save = NULL;

	for (item = strtok_r(value, ", \t\n", &save); item != NULL;
	     item = strtok_r(NULL, ", \t\n", &save)) {
		if (*count == max)
			proc_usage_error(
			    "--%s: more than %zu values", name, max);
		list[(*count)++] = item;
	}
}

/* Takes a list option whose values valid() checks. */
void
proc_checked_list_option(const char *name, char *value, const char **list,
    size_t *count, size_t max,
    int (*valid)(const char *value, char *reason, size_t len))
{
	size_t first = *count, i;
	char   reason[200];

	proc_list_option(name, value, list, count, max);
	for (i = first; i < *count; i++)
		if (valid(list[i], reason, sizeof reason) != 0)
			proc_usage_error(
			    "--%s: \"%s\": %s", name, list[i], reason);
}

/* Takes --private rules, each checked. */
void
proc_private_option(char *value, const char **list, size_t *count, size_t max)
{
	proc_checked_list_option(
	    "private", value, list, count, max, access_pattern_valid);
}

/* The end of a getopt_long() switch: --help, --version or a bad option. */
void
proc_last_option(int c, void (*usage)(FILE *out))
{
	if (c == 'h') {
		usage(stdout);
		exit(0);
	}
	if (c == 'V') {
		printf("%s %s\n", proc_program(), PACKAGE_VERSION);
		exit(0);
	}
	fprintf(stderr, "Try '%s --help'.\n", proc_program());
	exit(2);
}

/* Refuses arguments left after the options, and a missing --db. */
void
proc_options_done(int nargs, char *const *args, const char *db_path)
{
	if (optind < nargs)
		proc_usage_error("unexpected argument \"%s\"", args[optind]);
	if (db_path == NULL)
		proc_usage_error("--db PATH is required (or LITEPUSH_DB)");
}

/* SIGHUP's line, made before any signal can come. */
static char   proc_hangup_note[160];
static size_t proc_hangup_len;

/* SIGHUP: says so in one write and carries on (async-signal-safe). */
static void
proc_hangup(int sig)
{
	int saved = errno;

	(void)sig;
	if (write(STDERR_FILENO, proc_hangup_note, proc_hangup_len) < 0) {
		/* nobody to tell */
	}
	errno = saved;
}

/* Installs handler for SIGTERM and SIGINT (or restores them with SIG_DFL). */
void
proc_on_stop(void (*handler)(int))
{
	struct sigaction sa;
	sigset_t         set;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = handler;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
}

/* Installs handler for SIGTERM, SIGINT and SIGUSR1, SIGHUP's note, and ignores
 * SIGPIPE. */
void
proc_signals(void (*handler)(int))
{
	struct sigaction sa;
	sigset_t         set;

	snprintf(proc_hangup_note, sizeof proc_hangup_note,
	    "%s: SIGHUP: "
	    "nothing to reload or reopen (logs go to standard error); still "
	    "running\n",
	    proc_program());
	proc_hangup_len = strlen(proc_hangup_note);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = handler;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	proc_on_stop(handler);
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = proc_hangup;
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
}

/* Raises the soft limit of open files to the hard one. */
void
proc_raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/*
 * Note why: glibc serves a block of 128 KiB or more with its own mmap()
 * and unmaps it on free(), but after the first such free it raises the
 * threshold to that block's size (up to 32 MiB), so that the next buffers
 * of a megabyte come from the heap, whose free pages below its top are
 * only given back by malloc_trim().  50 stalled readers of 1 MB rows left
 * litepush-ws at 80 MB after they had gone.  Setting the threshold turns
 * the adjustment off: every large buffer is its own mapping, given back
 * when freed; small ones stay in the heap as before.
 */
void
proc_memory_returns(void)
{
	mallopt(M_MMAP_THRESHOLD, PROC_MMAP_THRESHOLD);
}

/*
 * The daemon's shutdown and counters.  A signal handler only wakes the
 * loop (loop_async_send() is async-signal-safe); the rest runs there.
 */
static struct proc_daemon_hooks proc_hooks;
static struct loop             *proc_loop;
static struct loop_async        proc_shutdown_async;
static struct loop_async        proc_stats_async;
static struct loop_timer        proc_exit_timer;
static volatile sig_atomic_t    proc_started; /* the asyncs exist */
static int                      proc_ending;

/* SIGTERM, SIGINT and SIGUSR1 of a daemon. */
static void
proc_daemon_signal(int sig)
{
	int saved = errno;

	if (proc_started)
		loop_async_send(
		    sig == SIGUSR1 ? &proc_stats_async : &proc_shutdown_async);
	else if (sig != SIGUSR1) {
		signal(
		    sig, SIG_DFL); /* too early to end cleanly: as by default */
		raise(sig);
	}
	errno = saved;
}

/* The shutdown's deadline: whoever has not finished by now is cut. */
static void
proc_exit_deadline(struct loop_timer *timer)
{
	(void)timer;
	loop_stop(proc_loop);
}

/* On the loop, after SIGTERM or SIGINT. */
static void
proc_shutdown(struct loop_async *async)
{
	(void)async;
	if (proc_ending)
		return;
	proc_ending = 1;
	loop_timer_start(proc_loop, &proc_exit_timer, PROC_EXIT_MS);
	proc_hooks.shutdown(proc_hooks.arg);
}

/* On the loop, after SIGUSR1: the counters, one line on standard error. */
static void
proc_stats(struct loop_async *async)
{
	char line[512];

	(void)async;
	if (proc_hooks.stats == NULL)
		return;
	proc_hooks.stats(line, sizeof line, proc_hooks.arg);
	fprintf(stderr, "%s: %s\n", proc_program(), line);
}

/* Installs a daemon's signals. */
void
proc_daemon_signals(void)
{
	proc_signals(proc_daemon_signal);
}

/* Lets the signals act on loop through hooks. */
void
proc_daemon_start(struct loop *loop, const struct proc_daemon_hooks *hooks)
{
	proc_loop = loop;
	proc_hooks = *hooks;
	loop_timer_init(&proc_exit_timer, proc_exit_deadline, NULL);
	loop_async_init(loop, &proc_shutdown_async, proc_shutdown, NULL);
	loop_async_init(loop, &proc_stats_async, proc_stats, NULL);
	proc_started = 1;
}

/* Returns non-zero once the shutdown has begun. */
int
proc_daemon_ending(void)
{
	return proc_ending;
}

/* The last client has gone: during a shutdown, stops the loop. */
void
proc_daemon_done(void)
{
	if (proc_ending)
		loop_stop(proc_loop);
}

/* Stops the shutdown's deadline. */
void
proc_daemon_stop(void)
{
	if (proc_loop != NULL)
		loop_timer_stop(proc_loop, &proc_exit_timer);
	proc_started = 0;
}
