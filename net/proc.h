/* proc.h: what every litepush program does the same: signals, logging, usage errors, the daemons' shutdown. */
#ifndef LITEPUSH_PROC_H
#define LITEPUSH_PROC_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct loop;

/*
 * Names the program in the lines proc_log() and proc_usage_error() write
 * ("litepush-sse: ..."); the default is the name it was run under.
 */
void proc_set_name(const char *name);

/* Writes "NAME: message" as one line on standard error (the daemons' log). */
void proc_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Writes "NAME: message" and "Try 'NAME --help'." on standard error and
 * exits with status 2.
 */
void proc_usage_error(const char *fmt, ...)
    __attribute__((noreturn, format(printf, 1, 2)));

/*
 * Returns the value of option --name, a whole number in [min, max], or
 * exits through proc_usage_error() saying what was expected.
 */
int64_t proc_number_option(
    const char *name, const char *value, int64_t min, int64_t max);

/*
 * Returns value when it is an address --listen takes (unix:PATH or
 * HOST:PORT), or exits through proc_usage_error() saying so.
 */
const char *proc_listen_option(const char *value);

/*
 * Adds the values of a list option (--origin, --publish, --private: one or
 * more, separated by commas or white space, which value is cut at) to
 * list[*count]; exits through proc_usage_error() beyond max values.
 */
void proc_list_option(const char *name, char *value, const char **list,
    size_t *count, size_t max);

/*
 * proc_list_option() with each value checked by valid(value, reason,
 * len), which returns 0 or -1 with the reason; a bad one exits through
 * proc_usage_error() as "--NAME: "VALUE": REASON".
 */
void proc_checked_list_option(const char *name, char *value, const char **list,
    size_t *count, size_t max,
    int (*valid)(const char *value, char *reason, size_t len));

/*
 * proc_checked_list_option() for --private: the rules ({user} patterns,
 * access.h).
 */
void proc_private_option(
    char *value, const char **list, size_t *count, size_t max);

/*
 * The end of a program's getopt_long() switch: 'h' writes usage to
 * standard output and exits 0, 'V' writes "NAME VERSION" and exits 0, and
 * anything else (getopt_long() has said what was wrong) points to --help
 * and exits 2.
 */
void proc_last_option(int c, void (*usage)(FILE *out))
    __attribute__((noreturn));

/*
 * After the options: exits through proc_usage_error() when an argument is
 * left (args[optind] of nargs) or db_path, the --db every daemon needs, is
 * NULL.
 */
void proc_options_done(int nargs, char *const *args, const char *db_path);

/*
 * Installs handler for SIGTERM, SIGINT and SIGUSR1 (SA_RESTART), ignores
 * SIGPIPE (a client gone is seen as EPIPE), answers SIGHUP with a line on
 * standard error and nothing else (the daemons log to standard error, so
 * there is no log file to reopen, and their options are read once: a
 * SIGHUP from logrotate or a closing terminal must not end them), and
 * unblocks the four signals: Apache's threaded MPMs start CGI children
 * with SIGTERM blocked.
 */
void proc_signals(void (*handler)(int));

/*
 * Installs handler for SIGTERM and SIGINT only (SA_RESTART; SIG_DFL
 * restores them) and unblocks them: for the command-line tool, which
 * leaves SIGPIPE and SIGHUP alone so that `litepush tail | head` and a
 * closed terminal end it as they end any filter.
 */
void proc_on_stop(void (*handler)(int));

/* Raises the soft limit of open files to the hard one: a client is a file. */
void proc_raise_nofile(void);

/*
 * Makes memory freed in large blocks go back to the system at once (glibc's
 * mmap threshold fixed at PROC_MMAP_THRESHOLD instead of rising after the
 * first large free).  A daemon calls it once, before it allocates much.
 */
#define PROC_MMAP_THRESHOLD (128 * 1024)
void proc_memory_returns(void);

/* How long a daemon's shutdown waits for its clients to finish. */
#define PROC_EXIT_MS 1500

/* What a daemon does on its signals, on its loop. */
struct proc_daemon_hooks {
	/*
	 * After the first SIGTERM or SIGINT: ends every client (a pause, a
	 * close with 1001).  The loop stops when the daemon calls
	 * proc_daemon_done() with no client left, or after PROC_EXIT_MS.
	 */
	void (*shutdown)(void *arg);
	/* After SIGUSR1: writes the counters, one line, NUL-terminated. */
	void (*stats)(char *out, size_t len, void *arg);
	void *arg;
};

/*
 * Installs a daemon's signals (proc_signals()): until proc_daemon_start()
 * has run, SIGTERM and SIGINT end the process at once as they would by
 * default, and SIGUSR1 is ignored.  Note that litepush-sse must call it
 * before FCGX_Init(): libfcgi installs its own handlers only where the
 * disposition is still the default.
 */
void proc_daemon_signals(void);

/* From now on the signals act on loop through hooks (copied). */
void proc_daemon_start(
    struct loop *loop, const struct proc_daemon_hooks *hooks);

/* Returns non-zero once the shutdown has begun. */
int proc_daemon_ending(void);

/* The daemon's last client has gone: during a shutdown, stops the loop. */
void proc_daemon_done(void);

/* Stops the shutdown's deadline; call before freeing the loop. */
void proc_daemon_stop(void);

#endif
