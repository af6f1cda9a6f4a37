/* store.h: the event log, one SQLite table that publishers INSERT into. */
#ifndef LITEPUSH_STORE_H
#define LITEPUSH_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "channel.h"

/*
 * Errors.  Every function returns 0 (or a count) on success and one of these
 * on failure; store_errmsg() then says why in one line.  STORE_BUSY means
 * "try again later" (the database was locked past the busy timeout); the
 * others are hard errors for this call.
 */
#define STORE_ERROR      (-1) /* any other SQLite or I/O error */
#define STORE_BUSY       (-2) /* locked: try again */
#define STORE_NOTDB      (-3) /* the file is not an SQLite database */
#define STORE_FOREIGN    (-4) /* an `events` table that is not ours */
#define STORE_CONSTRAINT (-5) /* a row refused by the schema's CHECKs */
#define STORE_NOMEM      (-6)

/* The schema version written to PRAGMA user_version. */
#define STORE_SCHEMA_VERSION 3

/* Event name rule of the schema: no CR or LF, at most 64 bytes. */
#define STORE_EVENT_MAX 64

/* Sender rule of the schema (3): no CR, LF or NUL, 1 to 128 bytes. */
#define STORE_SENDER_MAX 128

struct store;

/* One row.  Pointers are borrowed: valid only during the callback. */
struct store_event {
	int64_t     id;
	const char *channel;
	const char *event;  /* NULL when the row has no event name */
	const char *sender; /* who published it, as the server vouches; NULL */
	const char *data;   /* not NUL-terminated inside the callback's view */
	size_t      data_len;
	int64_t     created; /* unix time in ms */
};

/* Called once per row; return 0 to go on, non-zero to stop early. */
typedef int (*store_event_fn)(const struct store_event *ev, void *arg);

#define STORE_OPEN_CREATE   0x1 /* create the file and schema if missing */
#define STORE_OPEN_READONLY 0x2 /* never write (the schema must exist) */

/*
 * Opens the store at path and creates or checks the schema (idempotent).
 * busy_ms is the busy timeout of the connection.  On success *storep holds a
 * new store that store_close() frees; on failure *storep is NULL, a negative
 * error is returned and, when errbuf is not NULL, a one-line reason is
 * written to it ("PATH: reason"; store_errmsg() reasons do not name the path).
 */
int store_open(const char *path, int flags, int busy_ms, struct store **storep,
    char *errbuf, size_t errlen);

/* Returns the last error message of this connection (never NULL). */
const char *store_errmsg(const struct store *store);

/* Returns the path the store was opened with. */
const char *store_path(const struct store *store);

/*
 * Appends one event; event may be NULL.  On success writes the new id to
 * *idp.  A row refused by the schema returns STORE_CONSTRAINT with SQLite's
 * reason in store_errmsg().
 */
int store_append(struct store *store, const char *channel, const char *event,
    const char *data, size_t data_len, int64_t *idp);

/*
 * The same, recording sender (NULL for none) as who published it: the
 * login a daemon authenticated.  A database of schema 2 open read-only
 * has no such column: STORE_ERROR.
 */
int store_append_by(struct store *store, const char *channel, const char *event,
    const char *sender, const char *data, size_t data_len, int64_t *idp);

/*
 * Calls fn for every event with id > after whose channel is one of the
 * nchannels channels (all channels when nchannels is 0), in id order, at most
 * limit rows (no limit when limit is 0).  Returns the number of rows passed
 * to fn or a negative error.  No read transaction stays open afterwards.
 * fn must not call store_read_after() on the same store (STORE_ERROR).
 */
int store_read_after(struct store *store, int64_t after,
    const char *const *channels, size_t nchannels, size_t limit,
    store_event_fn fn, void *arg);

/*
 * Writes to *afterp the id after which the last count events of the given
 * channels start (0 when there are fewer), so that reading after it yields
 * exactly those events.
 */
int store_backlog_start(struct store *store, const char *const *channels,
    size_t nchannels, size_t count, int64_t *afterp);

/* Writes the newest id (0 for an empty log) to *idp. */
int store_last_id(struct store *store, int64_t *idp);

/*
 * Writes SQLite's PRAGMA data_version to *versionp: it changes when another
 * connection commits.  One statement, no table read.  Note that commits
 * made through this same store do not change it.
 */
int store_data_version(struct store *store, int64_t *versionp);

/*
 * What the log holds besides its rows (schema 2's litepush_meta): edits
 * changes with every DELETE or UPDATE of events; every id up to pruned
 * that ever existed was pruned; newest is the newest id ever given (it
 * goes down only when the log was reset: its rows deleted and
 * sqlite_sequence lowered).  A schema 1 database open read-only reports
 * edits and pruned as 0.
 */
struct store_log {
	int64_t edits;
	int64_t pruned;
	int64_t newest;
};

/* Fills *state with one small read. */
int store_log_state(struct store *store, struct store_log *state);

/*
 * Writes the oldest id kept to *idp: the smallest id, or when the log is
 * empty the id the next event will get.
 */
int store_oldest_id(struct store *store, int64_t *idp);

/*
 * Returns non-zero if the database file open is no longer the one at the
 * store's path (removed, or replaced by another file, even while it was
 * being opened).  Nothing outside the store needs to stat() the file.
 */
int store_moved(struct store *store);

/* The largest id the schema takes: 2^53 - 1, which JavaScript reads exactly. */
#define STORE_ID_MAX INT64_C(9007199254740991)

/*
 * Returns non-zero if name is an event name the protocol uses itself
 * ("pause", "reset"): the schema refuses rows with them.
 */
int store_event_reserved(const char *name);

/* Deletes all but the newest keep events; writes the count to *deletedp. */
int store_prune_keep_last(struct store *store, int64_t keep, int64_t *deletedp);

/* Deletes events created before cutoff_ms (unix ms); count to *deletedp. */
int store_prune_before(
    struct store *store, int64_t cutoff_ms, int64_t *deletedp);

/* Totals for `litepush stats`. */
struct store_stats {
	int64_t events;
	int64_t first_id;  /* 0 when empty */
	int64_t last_id;   /* 0 when empty */
	int64_t file_size; /* bytes of the database file, -1 if unknown */
};

/* Called once per channel with its event count, in channel order. */
typedef int (*store_channel_fn)(const char *channel, int64_t count, void *arg);

/* Fills *stats and calls fn (may be NULL) for every channel. */
int store_stats(struct store *store, struct store_stats *stats,
    store_channel_fn fn, void *arg);

/* Returns how many SQL statements this connection has run (for tests/bench). */
uint64_t store_statements(const struct store *store);

/* Closes the connection and frees the store; NULL is ignored. */
void store_close(struct store *store);

#endif
