/* cursor.c: the feed's cursors: where each subscriber stands, its pulls from the ring or SQLite, its wait. */
#include "config.h"

#include <sys/queue.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "feed.h"
#include "feed_int.h"
#include "watch.h"

/*
 * A cursor is a position and a set of channels.  It waits (linked into
 * each of its channels' waiter lists) from its creation until a pull, and
 * again whenever a pull finds nothing more: a new event of one of its
 * channels moves it to the feed's ready queue, and feed_run_ready() calls
 * its owner back.  A pull reads the ring when the cursor is at or past the
 * ring's floor, and SQLite, one chunk at a time, when it is behind.
 */

/* Takes the cursor off its channels' wait lists. */
void
feed_cursor_unwait(struct feed_cursor *cursor)
{
	size_t i;

	if (!cursor->waiting)
		return;
	for (i = 0; i < cursor->nchannels; i++)
		LIST_REMOVE(&cursor->links[i], entry);
	cursor->waiting = 0;
}

/* Puts the cursor on its channels' wait lists. */
static void
feed_cursor_wait(struct feed_cursor *cursor)
{
	size_t i;

	if (cursor->waiting)
		return;
	for (i = 0; i < cursor->nchannels; i++)
		LIST_INSERT_HEAD(&cursor->links[i].channel->waiters,
		    &cursor->links[i], entry);
	cursor->waiting = 1;
}

/* Creates a cursor after id `after` on the given channels. */
struct feed_cursor *
feed_cursor_create(struct feed *feed, const char *const *channels,
    size_t nchannels, int64_t after, feed_ready_fn ready, void *arg)
{
	struct feed_cursor *cursor;
	size_t              i, j;

	if (nchannels == 0 || nchannels > FEED_MAX_CHANNELS || ready == NULL) {
		errno = EINVAL;
		return NULL;
	}
	for (i = 0; i < nchannels; i++) {
		if (!channel_valid(channels[i], strlen(channels[i]))) {
			errno = EINVAL;
			return NULL;
		}
	}
	cursor =
	    calloc(1, sizeof *cursor + nchannels * sizeof cursor->links[0]);
	if (cursor == NULL)
		return NULL;
	cursor->feed = feed;
	cursor->position = after < 0 ? 0 : after;
	if (cursor->position > feed->last_id &&
	    watch_store(feed->watch) != NULL) {
		int64_t last;

		/*
		 * A resume point past the newest event: either an event the
		 * feed has not read yet, or an id from before the log was
		 * recreated.  Only SQLite can tell; in the second case the
		 * cursor starts at the newest event, so that new events (with
		 * their lower ids) are not withheld from it.
		 */
		if (store_last_id(watch_store(feed->watch), &last) == 0 &&
		    cursor->position > last)
			cursor->position = last;
	}
	cursor->generation = feed->generation;
	cursor->ready = ready;
	cursor->arg = arg;
	for (i = 0; i < nchannels; i++) {
		struct feed_channel *ch;

		ch = feed_channel_get(feed, channels[i], strlen(channels[i]));
		if (ch == NULL) {
			for (j = 0; j < cursor->nchannels; j++)
				feed_channel_put(
				    feed, cursor->links[j].channel);
			free(cursor);
			errno = ENOMEM;
			return NULL;
		}
		/* The same channel twice would be linked twice: skip it. */
		for (j = 0; j < cursor->nchannels; j++)
			if (cursor->links[j].channel == ch)
				break;
		if (j < cursor->nchannels) {
			feed_channel_put(feed, ch);
			continue;
		}
		cursor->links[cursor->nchannels].cursor = cursor;
		cursor->links[cursor->nchannels].channel = ch;
		cursor->names[cursor->nchannels] = ch->name;
		cursor->nchannels++;
	}
	feed->cursors++;
	/*
	 * Waiting from the start: its owner may put the first pull off (a
	 * WebSocket's accept reply still being written), and whatever comes
	 * meanwhile, a new event or a log restart, must still wake it.
	 */
	feed_cursor_wait(cursor);
	return cursor;
}

/* What one pull has done so far. */
struct feed_pull {
	struct feed_cursor *cursor;
	store_event_fn      fn;
	void               *arg;
	size_t              max_bytes;
	size_t              bytes;
	int                 consumed;
	int                 stopped; /* fn refused or the budget ran out */
};

/* Passes one event to the pull's fn; returns non-zero to stop. */
static int
feed_pull_one(const struct store_event *ev, void *arg)
{
	struct feed_pull *pull = arg;

	if (pull->fn(ev, pull->arg) != 0) {
		pull->stopped = 1;
		return 1;
	}
	pull->cursor->position = ev->id;
	pull->consumed++;
	pull->bytes += ev->data_len;
	if (pull->bytes >= pull->max_bytes) {
		pull->stopped = 1;
		return 1;
	}
	return 0;
}

/* Reads one chunk from SQLite for a cursor behind the ring. */
static int
feed_pull_store(struct feed_cursor *cursor, struct feed_pull *pull)
{
	struct feed *feed = cursor->feed;
	int          rc;

	if (feed_store(feed) == NULL)
		return STORE_ERROR;
	feed->stats.catchup_queries++;
	rc = store_read_after(watch_store(feed->watch), cursor->position,
	    cursor->names, cursor->nchannels, feed->catchup_rows, feed_pull_one,
	    pull);
	if (rc < 0)
		return rc;
	/*
	 * A chunk that ended short without being stopped has read everything
	 * of these channels that is committed, which includes every event up
	 * to the feed's floor: the cursor may continue in the ring.
	 */
	if (!pull->stopped && (size_t)rc < feed->catchup_rows &&
	    cursor->position < feed->floor_id)
		cursor->position = feed->floor_id;
	return pull->consumed;
}

/* Scans the ring from the cursor's position. */
static int
feed_pull_ring(struct feed_cursor *cursor, struct feed_pull *pull)
{
	struct feed *feed = cursor->feed;
	size_t       i, j;

	for (i = feed_ring_search(feed, cursor->position); i < feed->ring_count;
	     i++) {
		const struct feed_event *ev = feed_ring_at(feed, i);
		struct store_event       view;

		for (j = 0; j < cursor->nchannels; j++)
			if (cursor->links[j].channel == ev->channel)
				break;
		if (j == cursor->nchannels) {
			cursor->position = ev->id;
			continue;
		}
		view.id = ev->id;
		view.channel = ev->channel->name;
		view.event = ev->event;
		view.sender = ev->sender;
		view.data = ev->data;
		view.data_len = ev->data_len;
		view.created = ev->created;
		if (feed_pull_one(&view, pull) != 0)
			return pull->consumed;
	}
	if (cursor->position < feed->last_id)
		cursor->position = feed->last_id;
	return pull->consumed;
}

/* Passes the cursor's next events to fn. */
int
feed_cursor_pull(
    struct feed_cursor *cursor, size_t max_bytes, store_event_fn fn, void *arg)
{
	struct feed     *feed = cursor->feed;
	struct feed_pull pull = {cursor, fn, arg, max_bytes, 0, 0, 0};
	int              rc;

	feed_cursor_unwait(cursor);
	if (cursor->queued) {
		TAILQ_REMOVE(&feed->ready, cursor, ready_entry);
		cursor->queued = 0;
	}
	if (cursor->generation != feed->generation) {
		/* The log restarted (or had not opened yet at creation). */
		if (cursor->generation != 0)
			cursor->position = 0;
		cursor->generation = feed->generation;
	}
	if (cursor->position < feed->floor_id) {
		rc = feed_pull_store(cursor, &pull);
		if (rc < 0) {
			if (!cursor->failed) {
				cursor->failed = 1;
				TAILQ_INSERT_TAIL(
				    &feed->retry, cursor, retry_entry);
			}
			feed_cursor_wait(cursor);
			return rc;
		}
		if (rc > 0 || cursor->position < feed->floor_id)
			return rc == 0 ? FEED_REFUSED : rc;
	}
	rc = feed_pull_ring(cursor, &pull);
	if (rc == 0 && pull.stopped)
		return FEED_REFUSED;
	if (rc == 0)
		feed_cursor_wait(cursor);
	return rc;
}

/* Returns the cursor's position: every event of its channels up to it is
 * passed. */
int64_t
feed_cursor_last_id(const struct feed_cursor *cursor)
{
	return cursor->position;
}

/* Frees a cursor. */
void
feed_cursor_free(struct feed_cursor *cursor)
{
	struct feed *feed;
	size_t       i;

	if (cursor == NULL)
		return;
	feed = cursor->feed;
	feed_cursor_unwait(cursor);
	if (cursor->queued)
		TAILQ_REMOVE(&feed->ready, cursor, ready_entry);
	if (cursor->failed)
		TAILQ_REMOVE(&feed->retry, cursor, retry_entry);
	for (i = 0; i < cursor->nchannels; i++)
		feed_channel_put(feed, cursor->links[i].channel);
	feed->cursors--;
	free(cursor);
}
