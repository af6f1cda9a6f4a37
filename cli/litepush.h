/* litepush.h: inside the tool only: what litepush.c and tail.c share. */
#ifndef LITEPUSH_CLI_LITEPUSH_H
#define LITEPUSH_CLI_LITEPUSH_H

#include <getopt.h>

#include "store.h"

/*
 * Every command is a function that gets its own argv (argv[0] is the command
 * name) and returns the exit status.  Usage errors exit 2 from wherever they
 * are found; errors of the store or the system return 1.
 */
#define LITEPUSH_EXIT_OK    0
#define LITEPUSH_EXIT_ERROR 1
#define LITEPUSH_EXIT_USAGE 2

/* The tool waits this long for a locked database before giving up. */
#define LITEPUSH_BUSY_MS 5000

/* The most channels one feed cursor can follow. */
#define LITEPUSH_TAIL_CHANNELS 32

/* About this many data bytes are written to standard output per batch. */
#define LITEPUSH_TAIL_PULL_BYTES 65536

/* The channel `tail` follows when none is given, as the SSE endpoint does. */
#define LITEPUSH_DEFAULT_CHANNEL "default"

/* Long options without a short form; values past any character. */
enum {
	LITEPUSH_OPTION_EVENT = 256,
	LITEPUSH_OPTION_SENDER,
	LITEPUSH_OPTION_FROM,
	LITEPUSH_OPTION_POLL_MS,
	LITEPUSH_OPTION_KEEP_LAST,
	LITEPUSH_OPTION_OLDER_THAN,
};

/* A command's arguments once its options have been taken out. */
struct litepush_args {
	const char *command;
	char      **positional;
	int         count;
};

/* Called with each option of a command other than --help. */
typedef void (*litepush_option_fn)(
    const char *command, int option, const char *value, void *state);

/* Prints a usage error for command (NULL for none) and exits 2. */
void litepush_usage_error(const char *command, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));

/* Prints "litepush: " and a one-line error; returns the error exit status. */
int litepush_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Splits a command's argv into options, passed to fn, and positional
 * arguments, kept in order in args; exits on a usage error or --help.
 */
void litepush_parse(const char *command, int argc, char **argv,
    const struct option *options, litepush_option_fn fn, void *state,
    struct litepush_args *args);

/*
 * Exits with a usage error unless args has min..max positional arguments
 * (names[i] names the i-th) and the first, the DB path, is not empty.
 */
void litepush_expect(const struct litepush_args *args, int min, int max,
    const char *const *names);

/* Opens the store at path; prints the reason and returns -1 on failure. */
int litepush_open(const char *path, int flags, struct store **storep);

/* tail.c: `litepush tail DB [CHANNEL...] [--from ID] [--poll-ms MS]`. */
int litepush_tail(int argc, char **argv);

#endif
