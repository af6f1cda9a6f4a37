/* feed.h: one change watcher and ring of recent events per process, read by cursors. */
#ifndef LITEPUSH_FEED_H
#define LITEPUSH_FEED_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

struct loop;

/*
 * The feed turns "a row was committed" into "the subscribers of its channel
 * are told", with database work that grows with the number of events, not
 * of subscribers:
 *
 *   INSERT -> WAL -> inotify (hint) -> PRAGMA data_version (truth) -> one
 *   SELECT ... WHERE id > last for the whole process -> ring of recent
 *   events -> the cursors waiting on those channels are made ready.
 *
 * A cursor is a subscriber's position (last id passed on) and its channels.
 * It reads the ring in place; one that has fallen behind the ring reads
 * from SQLite in bounded chunks until it is back.  The feed lives in the
 * loop's thread and every function here must be called from it.
 */
struct feed;
struct feed_cursor;

struct feed_options {
	const char *db_path;
	int         poll_ms;     /* fallback poll; 0 = 1000 */
	size_t      ring_events; /* ring capacity in events; 0 = 4096 */
	size_t      ring_bytes;  /* ring capacity in data bytes; 0 = 16 MiB */
	size_t catchup_rows;     /* rows per SQLite read of a cursor; 0 = 256 */
};

/* Counters for tests and the benchmark. */
struct feed_stats {
	uint64_t polls;           /* data_version checks */
	uint64_t feed_queries;    /* SELECTs run to fill the ring */
	uint64_t catchup_queries; /* SELECTs run for cursors behind the ring */
	uint64_t events;          /* events taken into the ring */
	uint64_t statements;      /* every statement of the feed's connection */
	size_t   ring_count;      /* events in the ring now */
	size_t   cursors;         /* live cursors */
};

/*
 * Creates the feed on loop and opens the store (without creating the file).
 * A store that cannot be opened yet is not an error: the feed retries on
 * every poll and feed_store_error() says why until it succeeds.  Returns
 * NULL only when memory or inotify/timers fail, with a reason in errbuf.
 */
struct feed *feed_create(struct loop *loop, const struct feed_options *opts,
    char *errbuf, size_t errlen);

/*
 * Returns NULL while the store is open and readable, else a one-line reason
 * (for a 503).
 */
const char *feed_store_error(const struct feed *feed);

/* Returns the newest id the feed has seen. */
int64_t feed_last_id(const struct feed *feed);

/* Returns the feed's store connection (for backlog look-ups), or NULL. */
struct store *feed_store(struct feed *feed);

/*
 * Checks for new events now (as the watcher does when woken) and makes the
 * cursors of their channels ready.  Returns the number of new events or a
 * negative store error.
 */
int feed_check(struct feed *feed);

/* Where a new subscriber starts, from feed_start_after(). */
struct feed_start {
	int64_t after;  /* the cursor starts after this id */
	int     reset;  /* the resume point is gone: tell the client first */
	int64_t oldest; /* with reset: the oldest id kept */
	int64_t newest; /* with reset: the newest id given */
};

/*
 * Works out where a new subscriber starts, into *start: at resume when it
 * is >= 0 (a Last-Event-ID), else before the last min(backlog, backlog_max)
 * events of its channels when backlog > 0, else at the newest event.  A
 * resume point older than the pruned log (some ids after it are gone), or
 * newer than the newest id (it is from a log that was reset or recreated
 * since; the subscriber then starts at the beginning of this one), sets
 * reset with the log's oldest and newest ids: the daemon tells the client
 * before the first event.  A backlog or fresh start never gets a reset.
 * Returns 0, or a negative store error when the store is not open or could
 * not be read, with a one-line reason for the 503 in why.
 */
int feed_start_after(struct feed *feed, const char *const *channels,
    size_t nchannels, int64_t resume, int64_t backlog, int64_t backlog_max,
    struct feed_start *start, char *why, size_t whylen);

/* Fills *stats. */
void feed_get_stats(const struct feed *feed, struct feed_stats *stats);

/*
 * Writes the counters as one JSON object ({"feed_stats":1,"polls":...}) to
 * out, NUL-terminated and cut to len; for the daemons' SIGUSR1 and bench/.
 */
void feed_format_stats(const struct feed *feed, char *out, size_t len);

/* Called on the loop thread when a waiting cursor has events to pull. */
typedef void (*feed_ready_fn)(struct feed_cursor *cursor, void *arg);

/*
 * Creates a cursor positioned after id `after` on nchannels channels (copied;
 * 1..32 of them).  It starts waiting: call feed_cursor_pull() to get what is
 * already there.  ready is called (never from inside feed_cursor_pull) each
 * time new events of its channels arrive while it waits.  Returns NULL when
 * memory ran out.  A position past the newest event in the store (an id from
 * before the log was recreated) starts at the newest event instead, so that
 * new events are never withheld.
 */
struct feed_cursor *feed_cursor_create(struct feed *feed,
    const char *const *channels, size_t nchannels, int64_t after,
    feed_ready_fn ready, void *arg);

/* feed_cursor_pull(): fn refused the cursor's next event; it is not waiting. */
#define FEED_REFUSED (-100)

/*
 * Passes the cursor's next events to fn in id order, each exactly once, and
 * advances past each event fn accepts (returns 0); a non-zero return stops
 * without consuming that event.  Stops after about max_bytes of data (at
 * least one event) or one SQLite chunk.  Events are borrowed: valid during
 * fn only.  Returns the number of events consumed (the cursor is not
 * waiting: pull again); 0 when the cursor has caught up (it then waits,
 * and ready will be called); FEED_REFUSED when fn refused the first event
 * (the cursor does not wait: nothing will call ready, so pull again when
 * fn can take it, or free the cursor); or a negative store error (the
 * cursor then waits and is made ready after the next good poll).
 */
int feed_cursor_pull(
    struct feed_cursor *cursor, size_t max_bytes, store_event_fn fn, void *arg);

/*
 * Returns the cursor's position: every event of its channels with an id up
 * to it has been passed on (events of other channels are skipped over, so
 * this may be past the last event fn saw).
 */
int64_t feed_cursor_last_id(const struct feed_cursor *cursor);

/* Frees a cursor; NULL is ignored. */
void feed_cursor_free(struct feed_cursor *cursor);

/* Frees the feed; every cursor must have been freed.  NULL is ignored. */
void feed_free(struct feed *feed);

#endif
