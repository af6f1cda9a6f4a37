/* tail.c: `litepush tail`: a channel's events as they arrive, through the daemons' own feed and cursor. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "feed.h"
#include "litepush.h"
#include "loop.h"
#include "options.h"
#include "proc.h"
#include "sse.h"
#include "store.h"

/* The state of `tail` while its loop runs. */
struct litepush_tail {
	struct loop        *loop;
	struct feed        *feed;
	struct feed_cursor *cursor;
	struct loop_async   stop;
	struct buf          out;
	int                 nomem;  /* the encoder ran out of memory */
	int                 status; /* exit status once the loop stops */
};

/* The async the signal handler sends; NULL outside the loop. */
static struct loop_async *volatile litepush_tail_stop_async;

/* Handles SIGINT and SIGTERM by waking the loop to stop it. */
static void
litepush_tail_signal(int sig)
{
	struct loop_async *async = litepush_tail_stop_async;
	int                saved_errno = errno;

	(void)sig;
	if (async != NULL)
		loop_async_send(async);
	errno = saved_errno;
}

/* Stops the loop, on the loop thread, after a signal. */
static void
litepush_tail_stop(struct loop_async *async)
{
	struct litepush_tail *tail = async->arg;

	loop_stop(tail->loop);
}

/* Encodes one event into the output buffer. */
static int
litepush_tail_event(const struct store_event *ev, void *arg)
{
	struct litepush_tail *tail = arg;

	if (sse_encode_event(&tail->out, ev->id, ev->event, ev->sender,
	        ev->data, ev->data_len) != 0) {
		tail->nomem = 1;
		return -1; /* not consumed */
	}
	return 0;
}

/*
 * Writes the output buffer to standard output; returns 0 or -1.  Note that
 * the write blocks: a slow reader of a terminal or pipe holds `tail` back,
 * which is what a command-line tool should do.
 */
static int
litepush_tail_flush(struct litepush_tail *tail)
{
	if (buf_flush(&tail->out, STDOUT_FILENO) < 0 ||
	    buf_pending_len(&tail->out) > 0)
		return -1;
	return 0;
}

/* Returns why the feed's last read failed, in one line. */
static const char *
litepush_tail_reason(struct litepush_tail *tail)
{
	const char   *reason = feed_store_error(tail->feed);
	struct store *store;

	if (reason != NULL)
		return reason;
	if ((store = feed_store(tail->feed)) != NULL)
		return store_errmsg(store);
	return "the store is not available";
}

/* Ends the loop with an error status. */
static void
litepush_tail_fail(struct litepush_tail *tail)
{
	tail->status = LITEPUSH_EXIT_ERROR;
	loop_stop(tail->loop);
}

/*
 * Pulls and prints the cursor's events, one write per batch, until it has
 * caught up.  A store error is reported and tail goes on: the feed makes the
 * cursor ready again after its next good poll.
 */
static void
litepush_tail_drain(struct litepush_tail *tail)
{
	int n;

	for (;;) {
		n = feed_cursor_pull(tail->cursor, LITEPUSH_TAIL_PULL_BYTES,
		    litepush_tail_event, tail);
		if (litepush_tail_flush(tail) != 0) {
			litepush_error(
			    "tail: standard output: %s", strerror(errno));
			litepush_tail_fail(tail);
			return;
		}
		if (tail->nomem) {
			litepush_error("tail: out of memory");
			litepush_tail_fail(tail);
			return;
		}
		if (n == 0)
			return;
		if (n < 0) {
			litepush_error("tail: %s", litepush_tail_reason(tail));
			return;
		}
	}
}

/* Called by the feed when the cursor has new events. */
static void
litepush_tail_ready(struct feed_cursor *cursor, void *arg)
{
	(void)cursor;
	litepush_tail_drain(arg);
}

/* The options of `tail`. */
struct litepush_tail_options {
	int64_t from;    /* -1 = start after the newest event */
	int64_t poll_ms; /* 0 = the feed's default */
};

/* Takes one option of `tail`. */
static void
litepush_tail_option(
    const char *command, int option, const char *value, void *state)
{
	struct litepush_tail_options *options = state;

	switch (option) {
	case LITEPUSH_OPTION_FROM:
		if (options_number(value, 0, INT64_MAX, &options->from) != 0)
			litepush_usage_error(
			    command, "bad --from ID '%s'", value);
		break;
	case LITEPUSH_OPTION_POLL_MS:
		if (options_number(
		        value, 1, 24 * 60 * 60 * 1000, &options->poll_ms) != 0)
			litepush_usage_error(command,
			    "bad --poll-ms MS '%s' (1..86400000)", value);
		break;
	}
}

/*
 * `litepush tail DB [CHANNEL...] [--from ID] [--poll-ms MS]`: prints the
 * events of the channels as they arrive, through the same feed and cursor
 * the daemons use, until SIGINT or SIGTERM; then exits 0.
 */
int
litepush_tail(int argc, char **argv)
{
	static const struct option options[] = {
	    {"from", required_argument, NULL, LITEPUSH_OPTION_FROM},
	    {"poll-ms", required_argument, NULL, LITEPUSH_OPTION_POLL_MS},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	static const char *const names[] = {"DB"};
	static const char *const default_channel[] = {LITEPUSH_DEFAULT_CHANNEL};
	struct litepush_tail_options tail_options = {-1, 0};
	struct litepush_tail         tail;
	struct litepush_args         args;
	struct feed_options          feed_options;
	const char *const           *channels;
	struct store                *store;
	const char                  *path;
	char                         errbuf[512];
	size_t                       nchannels;
	int64_t                      after;

	litepush_parse("tail", argc, argv, options, litepush_tail_option,
	    &tail_options, &args);
	litepush_expect(&args, 1, 1 + LITEPUSH_TAIL_CHANNELS, names);
	path = args.positional[0];
	if (args.count == 1) {
		channels = default_channel;
		nchannels = 1;
	} else {
		channels = (const char *const *)args.positional + 1;
		nchannels = (size_t)args.count - 1;
	}
	for (size_t i = 0; i < nchannels; i++) {
		if (!channel_valid(channels[i], strlen(channels[i])))
			litepush_usage_error(
			    "tail", "bad channel '%s'", channels[i]);
	}

	/*
	 * Open the store once here, waiting out a lock, so that a missing or
	 * foreign database is an error at once (the feed would wait for it to
	 * appear) and the start is the newest id as the command runs.  A feed
	 * that fails to open it a moment later retries on its own; the first
	 * pull then reports why.
	 */
	if (litepush_open(path, 0, &store) != 0) {
		free(args.positional);
		return LITEPUSH_EXIT_ERROR;
	}
	after = tail_options.from;
	if (after < 0 && store_last_id(store, &after) != 0) {
		litepush_error("%s: %s", path, store_errmsg(store));
		store_close(store);
		free(args.positional);
		return LITEPUSH_EXIT_ERROR;
	}
	store_close(store);

	memset(&tail, 0, sizeof tail);
	tail.status = LITEPUSH_EXIT_OK;
	if ((tail.loop = loop_create()) == NULL) {
		litepush_error(
		    "tail: cannot create the event loop: %s", strerror(errno));
		free(args.positional);
		return LITEPUSH_EXIT_ERROR;
	}
	loop_async_init(tail.loop, &tail.stop, litepush_tail_stop, &tail);
	litepush_tail_stop_async = &tail.stop;
	proc_on_stop(litepush_tail_signal);

	memset(&feed_options, 0, sizeof feed_options);
	feed_options.db_path = path;
	feed_options.poll_ms = (int)tail_options.poll_ms;
	errbuf[0] = '\0';
	tail.feed =
	    feed_create(tail.loop, &feed_options, errbuf, sizeof errbuf);
	if (tail.feed == NULL) {
		tail.status = litepush_error("tail: %s",
		    errbuf[0] != '\0' ? errbuf : "cannot create the feed");
		goto out;
	}
	tail.cursor = feed_cursor_create(
	    tail.feed, channels, nchannels, after, litepush_tail_ready, &tail);
	if (tail.cursor == NULL) {
		tail.status = litepush_error("tail: out of memory");
		goto out;
	}

	litepush_tail_drain(&tail);
	if (tail.status == LITEPUSH_EXIT_OK && loop_run(tail.loop) != 0)
		tail.status = litepush_error(
		    "tail: event loop failed: %s", strerror(errno));

out:
	proc_on_stop(SIG_DFL);
	litepush_tail_stop_async = NULL;
	feed_cursor_free(tail.cursor);
	feed_free(tail.feed);
	loop_free(tail.loop);
	buf_free(&tail.out);
	free(args.positional);
	return tail.status;
}
