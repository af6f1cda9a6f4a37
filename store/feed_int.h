/* feed_int.h: inside the feed only: the structs feed.c and cursor.c share, and the helpers cursors use. */
#ifndef LITEPUSH_FEED_INT_H
#define LITEPUSH_FEED_INT_H

#include <sys/queue.h>

#include <stddef.h>
#include <stdint.h>

#include "feed.h"
#include "loop.h"
#include "store.h"

#define FEED_MAX_CHANNELS 32

struct feed_cursor;

/* A link of one cursor into one channel's list of waiting cursors. */
struct feed_link {
	struct feed_cursor   *cursor;
	struct feed_channel  *channel;
	LIST_ENTRY(feed_link) entry;
};
LIST_HEAD(feed_link_list, feed_link);

/* An interned channel name, shared by the ring's events and the cursors. */
struct feed_channel {
	struct feed_channel  *hash_next;
	unsigned int          hash;
	size_t                refs;
	struct feed_link_list waiters;
	char                  name[CHANNEL_MAX + 1];
};

/* One event in the ring; data, event name and sender follow the struct. */
struct feed_event {
	int64_t              id;
	int64_t              created;
	struct feed_channel *channel;
	const char          *event;  /* NULL, or points into storage */
	const char          *sender; /* NULL, or points into storage */
	size_t               data_len;
	char data[]; /* data, NUL, then the event name and sender, each
	                NUL-ended */
};

struct feed_cursor {
	struct feed             *feed;
	int64_t                  position; /* every event <= this is passed */
	uint64_t                 generation;
	feed_ready_fn            ready;
	void                    *arg;
	int                      waiting;
	int                      queued; /* on the feed's ready queue */
	int                      failed; /* on the feed's retry list */
	TAILQ_ENTRY(feed_cursor) ready_entry;
	TAILQ_ENTRY(feed_cursor) retry_entry;
	size_t                   nchannels;
	const char              *names[FEED_MAX_CHANNELS];
	struct feed_link         links[]; /* one per channel */
};
TAILQ_HEAD(feed_cursor_queue, feed_cursor);

struct feed {
	struct loop  *loop;
	struct watch *watch;
	size_t        catchup_rows;

	int more_pending; /* last SELECT hit FEED_CHUNK */
	int log_check;    /* a commit not yet compared */

	int64_t  last_id;
	uint64_t last_print;  /* fingerprint of row last_id */
	int64_t  edits;       /* store_log's, when last read */
	int      log_unknown; /* reopened: compare the log */
	int64_t  floor_id;
	uint64_t generation; /* bumped when the log restarts */

	struct feed_event **ring;
	size_t              ring_cap;
	size_t              ring_head;
	size_t              ring_count;
	size_t              ring_bytes;
	size_t              ring_max_bytes;

	struct feed_channel **channels;
	size_t                channel_buckets;
	size_t                channel_count;

	struct feed_cursor_queue ready;
	struct feed_cursor_queue retry;
	size_t                   cursors;

	struct loop_timer more_timer;

	struct feed_stats stats;
};

/* Returns the interned channel name, with a reference; NULL without memory. */
struct feed_channel *feed_channel_get(
    struct feed *feed, const char *name, size_t len);

/* Drops a reference to a channel; the last one frees it. */
void feed_channel_put(struct feed *feed, struct feed_channel *ch);

/* Returns the ring's i-th event, oldest first. */
struct feed_event *feed_ring_at(const struct feed *feed, size_t i);

/* Returns the index of the ring's first event with an id above after. */
size_t feed_ring_search(const struct feed *feed, int64_t after);

/* cursor.c: takes the cursor off its channels' wait lists. */
void feed_cursor_unwait(struct feed_cursor *cursor);

#endif
