/* litepush.c: the command-line tool: its commands, their arguments, and init, publish, prune, stats (tail is tail.c's). */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "loop.h"
#include "litepush.h"
#include "options.h"
#include "store.h"

static const char litepush_help_text[] =
    "Usage: litepush COMMAND [ARGUMENTS]\n"
    "\n"
    "Commands:\n"
    "  init DB\n"
    "      Create the database and its schema if missing (idempotent) and\n"
    "      print \"DB: ready (N events)\".\n"
    "  publish DB CHANNEL [--event NAME] [--sender NAME] [DATA | -]\n"
    "      Append one event and print its id.  Without DATA, or with -, the\n"
    "      data is all of standard input, byte for byte: a trailing newline\n"
    "      is kept, not stripped.  Creates the database if missing.\n"
    "  tail DB [CHANNEL...] [--from ID] [--poll-ms MS]\n"
    "      Print events as they arrive, in text/event-stream form, until\n"
    "      SIGINT or SIGTERM.  Follows the channel \"default\" when no\n"
    "      CHANNEL is given (at most 32 channels).  Starts after the newest\n"
    "      event, or with --from ID prints every event with an id above ID\n"
    "      first.  --poll-ms sets the fallback poll of the change watcher.\n"
    "  prune DB --keep-last N | --older-than DURATION\n"
    "      Delete all but the newest N events, or the events created more\n"
    "      than DURATION ago: a whole number with a unit s, m, h or d (30s,\n"
    "      15m, 24h, 7d).  Prints \"deleted N events\".\n"
    "  stats DB\n"
    "      Print the number of events, the first and last id, the file size\n"
    "      and the number of events of each channel, one per line.\n"
    "  help\n"
    "      Print this help.\n"
    "\n"
    "Options:\n"
    "  -h, --help     print this help and exit\n"
    "  --version      print the version and exit\n"
    "\n"
    "Options may come before or after the other arguments; put -- before a\n"
    "DATA or CHANNEL that starts with a dash.\n"
    "\n"
    "Exit status: 0 on success, 1 when the database refused the request or\n"
    "failed, 2 on a usage error.\n";

/* Prints a usage error for command (NULL for none) and exits 2. */
void
litepush_usage_error(const char *command, const char *fmt, ...)
{
	va_list ap;

	fputs("litepush: ", stderr);
	if (command != NULL)
		fprintf(stderr, "%s: ", command);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'litepush --help'.\n", stderr);
	exit(LITEPUSH_EXIT_USAGE);
}

/* Prints "litepush: " and a one-line error; returns the error exit status. */
int
litepush_error(const char *fmt, ...)
{
	va_list ap;

	fputs("litepush: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return LITEPUSH_EXIT_ERROR;
}

/* Parses a duration such as 30s, 15m, 24h or 7d into ms; returns 0 or -1. */
static int
litepush_parse_duration(const char *text, int64_t *msp)
{
	char     *end;
	long long value;
	int64_t   unit_ms;

	if (!isdigit((unsigned char)text[0]))
		return -1;
	errno = 0;
	value = strtoll(text, &end, 10);
	if (errno != 0 || end[0] == '\0' || end[1] != '\0')
		return -1;
	switch (end[0]) {
	case 's':
		unit_ms = 1000;
		break;
	case 'm':
		unit_ms = 60 * 1000;
		break;
	case 'h':
		unit_ms = 60 * 60 * 1000;
		break;
	case 'd':
		unit_ms = 24 * 60 * 60 * 1000;
		break;
	default:
		return -1;
	}
	if (value > INT64_MAX / unit_ms)
		return -1;
	*msp = value * unit_ms;
	return 0;
}

/*
 * Splits a command's argv into options, passed to fn, and positional
 * arguments, kept in order in args; exits on a usage error or --help.
 * Note that the leading '-' of the option string makes getopt_long return
 * positional arguments in place (as option 1), so options may come before
 * or after them whatever POSIXLY_CORRECT says; "--" ends the options.
 */
void
litepush_parse(const char *command, int argc, char **argv,
    const struct option *options, litepush_option_fn fn, void *state,
    struct litepush_args *args)
{
	const char *arg;
	int         option;

	args->command = command;
	args->count = 0;
	args->positional = calloc((size_t)argc, sizeof *args->positional);
	if (args->positional == NULL) {
		litepush_error("out of memory");
		exit(LITEPUSH_EXIT_ERROR);
	}

	opterr = 0;
	optind = 1;
	while ((option = getopt_long(argc, argv, "-:h", options, NULL)) != -1) {
		arg = argv[optind - 1];
		switch (option) {
		case 1:
			args->positional[args->count++] = optarg;
			break;
		case 'h':
			fputs(litepush_help_text, stdout);
			exit(LITEPUSH_EXIT_OK);
		case ':':
			litepush_usage_error(
			    command, "option '%s' needs a value", arg);
		case '?':
			if (strncmp(arg, "--", 2) != 0)
				litepush_usage_error(
				    command, "unknown option '-%c'", optopt);
			if (optopt != 0)
				litepush_usage_error(
				    command, "option '%s' takes no value", arg);
			litepush_usage_error(
			    command, "unknown option '%s'", arg);
		default:
			if (fn != NULL)
				fn(command, option, optarg, state);
			break;
		}
	}
	while (optind < argc)
		args->positional[args->count++] = argv[optind++];
}

/* Exits with a usage error unless args has min..max positional arguments. */
void
litepush_expect(const struct litepush_args *args, int min, int max,
    const char *const *names)
{
	if (args->count < min)
		litepush_usage_error(
		    args->command, "missing %s", names[args->count]);
	if (args->count > max)
		litepush_usage_error(args->command, "unexpected argument '%s'",
		    args->positional[max]);
	if (args->positional[0][0] == '\0')
		litepush_usage_error(args->command, "empty DB path");
}

/* The options of a command that has none but --help. */
static const struct option litepush_no_options[] = {
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/*
 * Opens the store at path; prints the reason and returns -1 on failure.
 * Note that the store's reason may name the path already; it is not named
 * twice.
 */
int
litepush_open(const char *path, int flags, struct store **storep)
{
	char   errbuf[512];
	size_t len = strlen(path);

	errbuf[0] = '\0';
	if (store_open(path, flags, LITEPUSH_BUSY_MS, storep, errbuf,
	        sizeof errbuf) == 0)
		return 0;
	if (errbuf[0] == '\0')
		litepush_error("%s: cannot open the store", path);
	else if (strncmp(errbuf, path, len) == 0 && errbuf[len] == ':')
		litepush_error("%s", errbuf);
	else
		litepush_error("%s: %s", path, errbuf);
	return -1;
}

/*
 * The start of a command whose one argument is DB and whose one option is
 * --help: takes its arguments (exiting on a usage error) and opens the
 * store with flags.  Returns the DB path, or NULL when the store did not
 * open (the reason is printed).
 */
static const char *
litepush_db_only(const char *command, int argc, char **argv, int flags,
    struct store **storep)
{
	static const char *const names[] = {"DB"};
	struct litepush_args     args;
	const char              *path;

	litepush_parse(
	    command, argc, argv, litepush_no_options, NULL, NULL, &args);
	litepush_expect(&args, 1, 1, names);
	path = args.positional[0]; /* a pointer into argv */
	free(args.positional);
	return litepush_open(path, flags, storep) == 0 ? path : NULL;
}

/* `litepush init DB`: creates the database and schema, idempotently. */
static int
litepush_init(int argc, char **argv)
{
	struct store      *store;
	struct store_stats stats;
	const char        *path;
	int                status = LITEPUSH_EXIT_OK;

	path = litepush_db_only("init", argc, argv, STORE_OPEN_CREATE, &store);
	if (path == NULL)
		return LITEPUSH_EXIT_ERROR;
	if (store_stats(store, &stats, NULL, NULL) < 0)
		status = litepush_error("%s: %s", path, store_errmsg(store));
	else
		printf("%s: ready (%" PRId64 " events)\n", path, stats.events);
	store_close(store);
	return status;
}

/* Reads all of fd into a new buffer (*datap, freed by the caller). */
static int
litepush_read_all(int fd, char **datap, size_t *lenp)
{
	char   *data = NULL, *bigger;
	size_t  len = 0, cap = 0;
	ssize_t n;

	for (;;) {
		if (cap - len < 4096) {
			cap = cap == 0 ? 65536 : cap * 2;
			if ((bigger = realloc(data, cap)) == NULL) {
				free(data);
				errno = ENOMEM;
				return -1;
			}
			data = bigger;
		}
		n = read(fd, data + len, cap - len);
		if (n == 0)
			break;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			free(data);
			return -1;
		}
		len += (size_t)n;
	}
	*datap = data;
	*lenp = len;
	return 0;
}

/* The options of `publish`. */
struct litepush_publish {
	const char *event;
	const char *sender;
};

/* Takes one option of `publish`. */
static void
litepush_publish_option(
    const char *command, int option, const char *value, void *state)
{
	struct litepush_publish *publish = state;

	(void)command;
	if (option == LITEPUSH_OPTION_EVENT)
		publish->event = value;
	else if (option == LITEPUSH_OPTION_SENDER)
		publish->sender = value;
}

/*
 * `litepush publish DB CHANNEL [--event NAME] [--sender NAME] [DATA | -]`:
 * appends one event and prints its id; --sender records who sent it, as an
 * application that authenticated its user vouches.  The channel and event name
 * are not checked here: the schema's CHECK constraints refuse a bad row, with
 * SQLite's reason, exactly as they would for any other publisher.
 */
static int
litepush_publish(int argc, char **argv)
{
	static const struct option options[] = {
	    {"event", required_argument, NULL, LITEPUSH_OPTION_EVENT},
	    {"sender", required_argument, NULL, LITEPUSH_OPTION_SENDER},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	static const char *const names[] = {"DB", "CHANNEL", "DATA"};
	struct litepush_publish  publish = {NULL, NULL};
	struct litepush_args     args;
	struct store            *store;
	const char              *path, *channel;
	char                    *input = NULL;
	const char              *data;
	size_t                   data_len;
	int64_t                  id;
	int                      status = LITEPUSH_EXIT_OK;

	litepush_parse("publish", argc, argv, options, litepush_publish_option,
	    &publish, &args);
	litepush_expect(&args, 2, 3, names);
	path = args.positional[0];
	channel = args.positional[1];

	/* Read standard input before opening, so no lock waits on a pipe. */
	if (args.count == 2 || strcmp(args.positional[2], "-") == 0) {
		if (litepush_read_all(STDIN_FILENO, &input, &data_len) != 0) {
			status = litepush_error(
			    "publish: standard input: %s", strerror(errno));
			goto out;
		}
		data = input;
	} else {
		data = args.positional[2];
		data_len = strlen(data);
	}

	if (litepush_open(path, STORE_OPEN_CREATE, &store) != 0) {
		status = LITEPUSH_EXIT_ERROR;
		goto out;
	}
	if (store_append_by(store, channel, publish.event, publish.sender, data,
	        data_len, &id) != 0)
		status = litepush_error("%s", store_errmsg(store));
	else
		printf("%" PRId64 "\n", id);
	store_close(store);
out:
	free(input);
	free(args.positional);
	return status;
}

/* The options of `prune`: exactly one of them is given. */
struct litepush_prune {
	int64_t keep_last;  /* -1 when not given */
	int64_t older_than; /* ms; -1 when not given */
};

/* Takes one option of `prune`. */
static void
litepush_prune_option(
    const char *command, int option, const char *value, void *state)
{
	struct litepush_prune *prune = state;

	switch (option) {
	case LITEPUSH_OPTION_KEEP_LAST:
		if (options_number(value, 0, INT64_MAX, &prune->keep_last) != 0)
			litepush_usage_error(
			    command, "bad --keep-last N '%s'", value);
		break;
	case LITEPUSH_OPTION_OLDER_THAN:
		if (litepush_parse_duration(value, &prune->older_than) != 0)
			litepush_usage_error(command,
			    "bad --older-than '%s' (30s, 15m, 24h, 7d)", value);
		break;
	}
}

/* `litepush prune DB (--keep-last N | --older-than DURATION)`. */
static int
litepush_prune(int argc, char **argv)
{
	static const struct option options[] = {
	    {"keep-last", required_argument, NULL, LITEPUSH_OPTION_KEEP_LAST},
	    {"older-than", required_argument, NULL, LITEPUSH_OPTION_OLDER_THAN},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	static const char *const names[] = {"DB"};
	struct litepush_prune    prune = {-1, -1};
	struct litepush_args     args;
	struct store            *store;
	const char              *path;
	int64_t                  deleted;
	int                      error, status = LITEPUSH_EXIT_OK;

	litepush_parse(
	    "prune", argc, argv, options, litepush_prune_option, &prune, &args);
	litepush_expect(&args, 1, 1, names);
	if (prune.keep_last < 0 && prune.older_than < 0)
		litepush_usage_error(
		    "prune", "need --keep-last or --older-than");
	if (prune.keep_last >= 0 && prune.older_than >= 0)
		litepush_usage_error(
		    "prune", "--keep-last and --older-than exclude each other");
	path = args.positional[0];

	if (litepush_open(path, 0, &store) != 0) {
		free(args.positional);
		return LITEPUSH_EXIT_ERROR;
	}
	if (prune.keep_last >= 0)
		error = store_prune_keep_last(store, prune.keep_last, &deleted);
	else {
		error = store_prune_before(
		    store, loop_unix_ms() - prune.older_than, &deleted);
	}
	if (error < 0)
		status = litepush_error("%s: %s", path, store_errmsg(store));
	else
		printf("deleted %" PRId64 " events\n", deleted);
	store_close(store);
	free(args.positional);
	return status;
}

/* Adds one "channel NAME: N" line to the buffer in arg. */
static int
litepush_stats_channel(const char *channel, int64_t count, void *arg)
{
	return buf_printf(arg, "channel %s: %" PRId64 "\n", channel, count);
}

/*
 * `litepush stats DB`: prints the totals, then one line per channel.  The
 * channel lines are gathered first, as store_stats() reports them before the
 * totals are known.
 */
static int
litepush_stats(int argc, char **argv)
{
	struct store      *store;
	struct store_stats stats;
	struct buf         channels;
	const char        *path;
	int                status = LITEPUSH_EXIT_OK;

	path =
	    litepush_db_only("stats", argc, argv, STORE_OPEN_READONLY, &store);
	if (path == NULL)
		return LITEPUSH_EXIT_ERROR;
	memset(&channels, 0, sizeof channels);
	if (store_stats(store, &stats, litepush_stats_channel, &channels) < 0)
		status = litepush_error("%s: %s", path, store_errmsg(store));
	else {
		printf("events: %" PRId64 "\n", stats.events);
		printf("first id: %" PRId64 "\n", stats.first_id);
		printf("last id: %" PRId64 "\n", stats.last_id);
		if (stats.file_size < 0)
			printf("file size: unknown\n");
		else
			printf(
			    "file size: %" PRId64 " bytes\n", stats.file_size);
		fwrite(buf_pending(&channels), 1, buf_pending_len(&channels),
		    stdout);
	}
	buf_free(&channels);
	store_close(store);
	return status;
}

/* The commands, by name. */
static const struct {
	const char *name;
	int (*fn)(int, char **);
} litepush_commands[] = {
    {"init", litepush_init},
    {"publish", litepush_publish},
    {"tail", litepush_tail},
    {"prune", litepush_prune},
    {"stats", litepush_stats},
};

/* Runs the command named by argv[1]. */
int
main(int argc, char **argv)
{
	const char *name;
	size_t      i;
	int         status;

	if (argc < 2)
		litepush_usage_error(NULL, "missing COMMAND");
	name = argv[1];
	if (strcmp(name, "help") == 0 || strcmp(name, "--help") == 0 ||
	    strcmp(name, "-h") == 0) {
		fputs(litepush_help_text, stdout);
		return LITEPUSH_EXIT_OK;
	}
	if (strcmp(name, "--version") == 0) {
		printf("litepush %s\n", PACKAGE_VERSION);
		return LITEPUSH_EXIT_OK;
	}
	if (name[0] == '-')
		litepush_usage_error(NULL, "unknown option '%s'", name);

	for (i = 0; i < sizeof litepush_commands / sizeof *litepush_commands;
	     i++) {
		if (strcmp(name, litepush_commands[i].name) == 0)
			break;
	}
	if (i == sizeof litepush_commands / sizeof *litepush_commands)
		litepush_usage_error(NULL, "unknown command '%s'", name);
	status = litepush_commands[i].fn(argc - 1, argv + 1);

	if (fflush(stdout) != 0 || ferror(stdout)) {
		litepush_error("standard output: %s", strerror(errno));
		return LITEPUSH_EXIT_ERROR;
	}
	return status;
}
