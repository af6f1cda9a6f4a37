/* feed.c: one change watcher and ring of recent events per process, read by cursors. */
#include "config.h"

#include <sys/queue.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feed.h"
#include "feed_int.h"
#include "loop.h"
#include "watch.h"

/*
 * How it fits together.  The watcher (watch.c) lives in the loop's thread
 * and says when another connection committed; then one SELECT reads every
 * new row for the whole process into the ring.  Keeping the watcher in the
 * loop (rather than in a thread of its own that signals the loop) means the
 * ring needs no lock and a cursor can read it in place: nothing changes the
 * ring while a pull runs.  The price is that the loop runs the feed's SELECT
 * itself; it is bounded (FEED_CHUNK rows per iteration) and SQLite in WAL
 * mode never makes a reader wait for a writer.
 *
 * The ring holds every event with floor < id <= last_id.  A cursor at or
 * past floor reads the ring; one before it reads SQLite, one chunk per pull,
 * until it reaches floor.  Channels are interned so that matching an event
 * to a cursor is a pointer comparison, and each channel keeps the list of
 * cursors waiting on it, so a new event wakes exactly its subscribers.
 */

#define FEED_CHUNK           1024 /* rows per SELECT of the feed itself */
#define FEED_DEFAULT_POLL    1000
#define FEED_DEFAULT_EVENTS  4096
#define FEED_DEFAULT_BYTES   (16u * 1024 * 1024)
#define FEED_DEFAULT_CATCHUP 256
/* Short: a WAL reader rarely waits, and the loop must not stall on a lock. */
#define FEED_BUSY_MS 50

/* FNV-1a over a channel name. */
static unsigned int
feed_hash(const char *name, size_t len)
{
	unsigned int h = 2166136261u;
	size_t       i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)name[i];
		h *= 16777619u;
	}
	return h;
}

/*
 * Returns a fingerprint of a row: its creation time, channel and event
 * name.  It tells the newest row the feed read from a row of a different
 * log that happens to have the same id.  Note that the data is left out on
 * purpose: a moderator's UPDATE of a message's text is an edit, not a new
 * log.
 */
static uint64_t
feed_fingerprint(const struct store_event *row)
{
	uint64_t h = (uint64_t)row->created * 1099511628211u;

	h ^= feed_hash(row->channel, strlen(row->channel));
	h = h * 1099511628211u ^
	    feed_hash(row->event != NULL ? row->event : "",
	        row->event != NULL ? strlen(row->event) : 0);
	h = h * 1099511628211u ^
	    feed_hash(row->sender != NULL ? row->sender : "",
	        row->sender != NULL ? strlen(row->sender) : 0);
	return h;
}

/* The row feed_row_print() looks for. */
struct feed_print_query {
	int64_t  id;
	int      found;
	uint64_t print;
};

/* Remembers the fingerprint of the row, if it is the one (a read callback). */
static int
feed_print_row(const struct store_event *row, void *arg)
{
	struct feed_print_query *q = arg;

	if (row->id == q->id) {
		q->found = 1;
		q->print = feed_fingerprint(row);
	}
	return 0;
}

/*
 * Reads the fingerprint of the row with id from store.  Returns 1 with
 * *print, 0 if there is no such row, or < 0 on an error.
 */
static int
feed_row_print(struct store *store, int64_t id, uint64_t *print)
{
	struct feed_print_query q = {id, 0, 0};
	int                     rc;

	rc = store_read_after(store, id - 1, NULL, 0, 1, feed_print_row, &q);
	if (rc < 0)
		return rc;
	*print = q.print;
	return q.found;
}

/* Doubles the channel table when it gets crowded. */
static void
feed_channel_grow(struct feed *feed)
{
	struct feed_channel **table, *ch, *next;
	size_t                buckets = feed->channel_buckets * 2, i;

	table = calloc(buckets, sizeof *table);
	if (table == NULL)
		return; /* keep the longer chains; still correct */
	for (i = 0; i < feed->channel_buckets; i++) {
		for (ch = feed->channels[i]; ch != NULL; ch = next) {
			next = ch->hash_next;
			ch->hash_next = table[ch->hash & (buckets - 1)];
			table[ch->hash & (buckets - 1)] = ch;
		}
	}
	free(feed->channels);
	feed->channels = table;
	feed->channel_buckets = buckets;
}

/* Returns the interned channel for name with one more reference, or NULL. */
struct feed_channel *
feed_channel_get(struct feed *feed, const char *name, size_t len)
{
	struct feed_channel *ch;
	unsigned int         h;

	if (len > CHANNEL_MAX)
		return NULL;
	h = feed_hash(name, len);
	for (ch = feed->channels[h & (feed->channel_buckets - 1)]; ch != NULL;
	     ch = ch->hash_next) {
		if (ch->hash == h && strncmp(ch->name, name, len) == 0 &&
		    ch->name[len] == '\0') {
			ch->refs++;
			return ch;
		}
	}
	ch = calloc(1, sizeof *ch);
	if (ch == NULL)
		return NULL;
	memcpy(ch->name, name, len);
	ch->name[len] = '\0';
	ch->hash = h;
	ch->refs = 1;
	LIST_INIT(&ch->waiters);
	ch->hash_next = feed->channels[h & (feed->channel_buckets - 1)];
	feed->channels[h & (feed->channel_buckets - 1)] = ch;
	if (++feed->channel_count > feed->channel_buckets * 2)
		feed_channel_grow(feed);
	return ch;
}

/* Drops one reference; frees the channel when nothing uses it. */
void
feed_channel_put(struct feed *feed, struct feed_channel *ch)
{
	struct feed_channel **pp;

	if (ch == NULL || --ch->refs > 0)
		return;
	pp = &feed->channels[ch->hash & (feed->channel_buckets - 1)];
	while (*pp != ch)
		pp = &(*pp)->hash_next;
	*pp = ch->hash_next;
	feed->channel_count--;
	free(ch);
}

/* Returns the ring's i-th oldest event. */
struct feed_event *
feed_ring_at(const struct feed *feed, size_t i)
{
	return feed->ring[(feed->ring_head + i) % feed->ring_cap];
}

/* Drops the oldest event of the ring; floor moves up to its id. */
static void
feed_ring_evict(struct feed *feed)
{
	struct feed_event *ev = feed->ring[feed->ring_head];

	feed->ring[feed->ring_head] = NULL;
	feed->ring_head = (feed->ring_head + 1) % feed->ring_cap;
	feed->ring_count--;
	feed->ring_bytes -= ev->data_len;
	feed->floor_id = ev->id;
	feed_channel_put(feed, ev->channel);
	free(ev);
}

/* Empties the ring; everything up to last_id is then read from SQLite. */
static void
feed_ring_clear(struct feed *feed)
{
	while (feed->ring_count > 0)
		feed_ring_evict(feed);
	feed->floor_id = feed->last_id;
}

/* Returns the index of the first ring event with id > after. */
size_t
feed_ring_search(const struct feed *feed, int64_t after)
{
	size_t lo = 0, hi = feed->ring_count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (feed_ring_at(feed, mid)->id <= after)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Takes the cursor off its wait lists and onto the ready queue. */
static void
feed_cursor_ready(struct feed *feed, struct feed_cursor *cursor)
{
	feed_cursor_unwait(cursor);
	if (!cursor->queued) {
		cursor->queued = 1;
		TAILQ_INSERT_TAIL(&feed->ready, cursor, ready_entry);
	}
}

/* Moves every cursor waiting on ch to the ready queue. */
static void
feed_wake_channel(struct feed *feed, struct feed_channel *ch)
{
	struct feed_link *link;

	while ((link = LIST_FIRST(&ch->waiters)) != NULL)
		feed_cursor_ready(feed, link->cursor);
}

/*
 * Appends one row read by the feed to the ring and wakes its channel's
 * waiters.  Note that an event too big for the ring's byte budget is not
 * kept: the ring is emptied and floor set to its id, so cursors read it (and
 * anything before) straight from SQLite and memory stays bounded.
 */
static int
feed_ring_push(const struct store_event *row, void *arg)
{
	struct feed         *feed = arg;
	struct feed_event   *ev;
	struct feed_channel *ch;
	size_t               event_len = row->event ? strlen(row->event) : 0;
	size_t               sender_len = row->sender ? strlen(row->sender) : 0;
	char                *tail;

	feed->last_id = row->id;
	feed->last_print = feed_fingerprint(row);
	feed->stats.events++;
	ch = feed_channel_get(feed, row->channel, strlen(row->channel));
	if (ch == NULL || row->data_len > feed->ring_max_bytes / 2 ||
	    (ev = malloc(sizeof *ev + row->data_len + 1 + event_len + 1 +
	                 sender_len + 1)) == NULL) {
		if (ch != NULL) {
			feed_wake_channel(feed, ch);
			feed_channel_put(feed, ch);
		} else {
			size_t i;

			/* Unknown to us (or no memory): wake everyone. */
			for (i = 0; i < feed->channel_buckets; i++) {
				struct feed_channel *c;

				for (c = feed->channels[i]; c != NULL;
				     c = c->hash_next)
					feed_wake_channel(feed, c);
			}
		}
		feed_ring_clear(feed);
		return 0;
	}
	ev->id = row->id;
	ev->created = row->created;
	ev->channel = ch;
	ev->data_len = row->data_len;
	memcpy(ev->data, row->data, row->data_len);
	ev->data[row->data_len] = '\0';
	tail = ev->data + row->data_len + 1;
	ev->event = NULL;
	if (row->event != NULL) {
		memcpy(tail, row->event, event_len + 1);
		ev->event = tail;
		tail += event_len + 1;
	}
	ev->sender = NULL;
	if (row->sender != NULL) {
		memcpy(tail, row->sender, sender_len + 1);
		ev->sender = tail;
	}

	while (feed->ring_count > 0 &&
	       (feed->ring_count == feed->ring_cap ||
	           feed->ring_bytes + ev->data_len > feed->ring_max_bytes))
		feed_ring_evict(feed);
	feed->ring[(feed->ring_head + feed->ring_count) % feed->ring_cap] = ev;
	feed->ring_count++;
	feed->ring_bytes += ev->data_len;
	feed_wake_channel(feed, ch);
	return 0;
}

/* Calls ready for every queued cursor; a callback may free its cursor. */
static void
feed_run_ready(struct feed *feed)
{
	struct feed_cursor *cursor;

	while ((cursor = TAILQ_FIRST(&feed->ready)) != NULL) {
		TAILQ_REMOVE(&feed->ready, cursor, ready_entry);
		cursor->queued = 0;
		cursor->ready(cursor, cursor->arg);
	}
}

/*
 * Starts over on a new log: the ring is dropped and the generation bumped,
 * so every cursor starts again from the beginning of the new log rather
 * than waiting for ids it already passed (a new event is never silently
 * withheld).
 */
static void
feed_restart_log(struct feed *feed)
{
	feed->last_id = 0;
	feed_ring_clear(feed);
	feed->generation++;
	feed->more_pending = 1;
}

/*
 * Compares the log with what the feed holds, after another connection
 * committed (or the store was opened again).  The log is a new one when
 * the newest id ever given went down (its rows deleted and sqlite_sequence
 * lowered, or the file recreated), or when the newest row the feed read is
 * now another row with the same id.  Otherwise, when rows were deleted or
 * edited (store_log's edits moved), the ring is dropped: cursors then read
 * those ids from SQLite, which holds the truth, and the ring fills again
 * with what comes next.  The cost is one small read per commit for the
 * process, whatever the number of subscribers.
 */
static int
feed_check_log(struct feed *feed)
{
	struct store_log state;
	uint64_t         print = 0;
	int              rc;

	if ((rc = store_log_state(watch_store(feed->watch), &state)) != 0)
		return rc;
	if (state.newest < feed->last_id)
		feed_restart_log(feed);
	else if (state.edits != feed->edits || feed->log_unknown) {
		rc = feed->last_id > 0
		         ? feed_row_print(
		               watch_store(feed->watch), feed->last_id, &print)
		         : 0;
		if (rc < 0)
			return rc;
		if (rc == 1 && print != feed->last_print)
			feed_restart_log(feed);
		else
			feed_ring_clear(feed);
	}
	feed->edits = state.edits;
	feed->log_unknown = 0;
	return 0;
}

/*
 * Takes a connection the watcher has just opened.  The first time, the feed
 * starts at the newest event; after that, the store may come back as
 * another log (feed_check_log() tells), and whatever was committed
 * meanwhile is read on the next check.
 */
static int
feed_adopt(struct feed *feed)
{
	struct store    *store = watch_store(feed->watch);
	struct store_log state;
	int64_t          last;
	uint64_t         print = 0;
	int              rc;

	if (feed->generation != 0) {
		feed->log_unknown = 1;
		if ((rc = feed_check_log(feed)) != 0)
			return rc;
		feed->more_pending = 1; /* read what came while we were away */
		return 0;
	}
	if ((rc = store_last_id(store, &last)) != 0 ||
	    (rc = store_log_state(store, &state)) != 0 ||
	    (last > 0 && (rc = feed_row_print(store, last, &print)) < 0))
		return rc;
	feed->generation = 1;
	feed->last_id = feed->floor_id = last;
	feed->last_print = print;
	feed->edits = state.edits;
	return 0;
}

/* Has the watcher open the store if it is not open; returns 0 or < 0. */
static int
feed_connect(struct feed *feed)
{
	int opened, rc;

	if ((rc = watch_open(feed->watch, &opened)) != 0 || !opened)
		return rc;
	if ((rc = feed_adopt(feed)) != 0)
		watch_lost(feed->watch, store_errmsg(watch_store(feed->watch)));
	return rc;
}

/* Moves the cursors whose last pull failed to the ready queue. */
static void
feed_retry_failed(struct feed *feed)
{
	struct feed_cursor *cursor;

	while ((cursor = TAILQ_FIRST(&feed->retry)) != NULL) {
		TAILQ_REMOVE(&feed->retry, cursor, retry_entry);
		cursor->failed = 0;
		feed_cursor_ready(feed, cursor);
	}
}

/* Checks for new events without waking anybody; returns the count or < 0. */
static int
feed_check_store(struct feed *feed)
{
	unsigned what;
	int      rc;

	if ((rc = watch_poll(feed->watch, &what)) != 0)
		return rc;
	if ((what & WATCH_OPENED) && (rc = feed_adopt(feed)) != 0)
		goto lost;
	/* A commit by another connection: it may have deleted or edited rows.
	 */
	if (what & WATCH_COMMITTED)
		feed->log_check = 1;
	if (!feed->log_check && !feed->more_pending)
		return 0;
	if (feed->log_check) {
		if ((rc = feed_check_log(feed)) != 0)
			goto fail;
		feed->log_check = 0;
	}
	feed->more_pending = 0;
	feed->stats.feed_queries++;
	rc = store_read_after(watch_store(feed->watch), feed->last_id, NULL, 0,
	    FEED_CHUNK, feed_ring_push, feed);
	if (rc < 0) {
		feed->more_pending = 1;
		goto fail;
	}
	if (rc == FEED_CHUNK) {
		/* More are waiting: read them on the next iteration. */
		feed->more_pending = 1;
		loop_timer_start(feed->loop, &feed->more_timer, 0);
	}
	return rc;

fail:
	if (rc == STORE_BUSY)
		return rc;
lost:
	watch_lost(feed->watch, store_errmsg(watch_store(feed->watch)));
	return rc;
}

/* Wakes the cursors of a restarted log. */
static void
feed_wake_all(struct feed *feed)
{
	size_t i;

	for (i = 0; i < feed->channel_buckets; i++) {
		struct feed_channel *ch;

		for (ch = feed->channels[i]; ch != NULL; ch = ch->hash_next)
			feed_wake_channel(feed, ch);
	}
}

/* Checks for new events now and makes their cursors ready. */
int
feed_check(struct feed *feed)
{
	uint64_t generation = feed->generation;
	int      rc;

	rc = feed_check_store(feed);
	if (generation != 0 && generation != feed->generation)
		feed_wake_all(feed);
	if (rc >= 0)
		feed_retry_failed(feed);
	feed_run_ready(feed);
	return rc;
}

/* Continues a SELECT that stopped at FEED_CHUNK rows. */
static void
feed_more_timer(struct loop_timer *timer)
{
	feed_check(timer->arg);
}

/* The watcher says the store may have changed: checks it. */
static int
feed_changed(void *arg)
{
	return feed_check(arg);
}

/* Creates the feed on loop and opens the store. */
struct feed *
feed_create(struct loop *loop, const struct feed_options *opts, char *errbuf,
    size_t errlen)
{
	struct feed *feed;

	struct watch_options wopts;

	if (opts == NULL || opts->db_path == NULL || *opts->db_path == '\0') {
		snprintf(errbuf, errlen, "no database path");
		return NULL;
	}
	feed = calloc(1, sizeof *feed);
	if (feed == NULL)
		goto nomem;
	feed->loop = loop;
	feed->catchup_rows =
	    opts->catchup_rows > 0 ? opts->catchup_rows : FEED_DEFAULT_CATCHUP;
	feed->ring_cap =
	    opts->ring_events > 0 ? opts->ring_events : FEED_DEFAULT_EVENTS;
	feed->ring_max_bytes =
	    opts->ring_bytes > 0 ? opts->ring_bytes : FEED_DEFAULT_BYTES;
	feed->channel_buckets = 64;
	TAILQ_INIT(&feed->ready);
	TAILQ_INIT(&feed->retry);
	feed->ring = calloc(feed->ring_cap, sizeof *feed->ring);
	feed->channels = calloc(feed->channel_buckets, sizeof *feed->channels);
	if (feed->ring == NULL || feed->channels == NULL)
		goto nomem;
	loop_timer_init(&feed->more_timer, feed_more_timer, feed);
	wopts.path = opts->db_path;
	wopts.poll_ms = opts->poll_ms > 0 ? opts->poll_ms : FEED_DEFAULT_POLL;
	wopts.busy_ms = FEED_BUSY_MS;
	feed->watch =
	    watch_create(loop, &wopts, feed_changed, feed, errbuf, errlen);
	if (feed->watch == NULL) {
		feed_free(feed);
		return NULL;
	}
	feed_connect(feed);
	return feed;

nomem:
	snprintf(errbuf, errlen, "out of memory");
	feed_free(feed);
	return NULL;
}

/* Returns NULL while the store is usable, else why it is not. */
const char *
feed_store_error(const struct feed *feed)
{
	return watch_error(feed->watch);
}

/* Returns the newest id the feed has seen. */
int64_t
feed_last_id(const struct feed *feed)
{
	return feed->last_id;
}

/* Returns the feed's store connection, or NULL while it is unavailable. */
struct store *
feed_store(struct feed *feed)
{
	feed_connect(feed);
	return watch_store(feed->watch);
}

/*
 * Works out whether a resume point is still in the log; sets start->reset
 * when it is not.  Two small reads, and a third only for a resume point
 * behind the pruned log: what they ask changes with every prune, so it is
 * asked as the subscriber arrives rather than kept.
 */
static int
feed_start_resume(struct feed *feed, int64_t resume, struct feed_start *start)
{
	struct store_log state;
	int              rc;

	start->after = resume;
	if ((rc = store_log_state(watch_store(feed->watch), &state)) != 0)
		return rc;
	if (resume <= state.newest && resume >= state.pruned)
		return 0;
	if ((rc = store_oldest_id(watch_store(feed->watch), &start->oldest)) !=
	    0)
		return rc;
	if (resume > state.newest)
		start->after = 0; /* from another log: all of this one */
	else if (resume + 1 >= start->oldest)
		return 0; /* nothing after it is gone (the log was reset) */
	start->reset = 1;
	start->newest = state.newest;
	return 0;
}

/* Works out where a new subscriber starts. */
int
feed_start_after(struct feed *feed, const char *const *channels,
    size_t nchannels, int64_t resume, int64_t backlog, int64_t backlog_max,
    struct feed_start *start, char *why, size_t whylen)
{
	struct store *store = watch_store(feed->watch);
	int           rc = 0;

	memset(start, 0, sizeof *start);
	if (store == NULL) {
		snprintf(why, whylen, "event store unavailable: %s",
		    feed_store_error(feed));
		return STORE_ERROR;
	}
	if (resume >= 0)
		rc = feed_start_resume(feed, resume, start);
	else if (backlog <= 0)
		start->after = feed->last_id;
	else
		rc = store_backlog_start(store, channels, nchannels,
		    (size_t)(backlog < backlog_max ? backlog : backlog_max),
		    &start->after);
	if (rc != 0)
		snprintf(why, whylen, "event store unavailable: %s",
		    store_errmsg(store));
	return rc;
}

/* Fills *stats. */
void
feed_get_stats(const struct feed *feed, struct feed_stats *stats)
{
	*stats = feed->stats;
	stats->ring_count = feed->ring_count;
	stats->cursors = feed->cursors;
	stats->polls = watch_polls(feed->watch);
	stats->statements = watch_store(feed->watch) != NULL
	                        ? store_statements(watch_store(feed->watch))
	                        : 0;
}

/* Writes the counters as one JSON object. */
void
feed_format_stats(const struct feed *feed, char *out, size_t len)
{
	struct feed_stats st;

	feed_get_stats(feed, &st);
	snprintf(out, len,
	    "{\"feed_stats\":1,\"polls\":%llu,\"feed_queries\":%llu,"
	    "\"catchup_queries\":%llu,\"events\":%llu,\"statements\":%llu,"
	    "\"ring_count\":%zu,\"cursors\":%zu}",
	    (unsigned long long)st.polls, (unsigned long long)st.feed_queries,
	    (unsigned long long)st.catchup_queries,
	    (unsigned long long)st.events, (unsigned long long)st.statements,
	    st.ring_count, st.cursors);
}

/* Frees the feed. */
void
feed_free(struct feed *feed)
{
	size_t i;

	if (feed == NULL)
		return;
	if (feed->loop != NULL)
		loop_timer_stop(feed->loop, &feed->more_timer);
	watch_free(feed->watch);
	if (feed->ring != NULL)
		while (feed->ring_count > 0)
			feed_ring_evict(feed);
	if (feed->channels != NULL) {
		for (i = 0; i < feed->channel_buckets; i++) {
			struct feed_channel *ch, *next;

			for (ch = feed->channels[i]; ch != NULL; ch = next) {
				next = ch->hash_next;
				free(ch);
			}
		}
	}
	free(feed->channels);
	free(feed->ring);
	free(feed);
}
