/* store.c: the event log in SQLite: open, append, read, prune (the schema is schema.c's). */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store.h"
#include "store_int.h"

/*
 * One struct store is one SQLite connection with its prepared statements.
 * It is not shared between threads.  Every statement runs in autocommit mode
 * and is reset as soon as its last row is read, so no read transaction stays
 * open between calls and WAL checkpoints are never held back by us.
 */

/* sqlite3_changes64() is 3.37+, but configure accepts 3.24. */
#if SQLITE_VERSION_NUMBER < 3037000
#define sqlite3_changes64 sqlite3_changes
#endif

/*
 * The statements a store runs more than once, prepared on first use and kept
 * until store_close().
 *
 * Channel filters bind the channels as one JSON array and test
 * `channel IN (SELECT value FROM json_each(?))`, so one statement serves any
 * number of channels.  SQLite then searches the (channel, id) index once per
 * channel and, with a LIMIT, stops each search once the sorter holds enough
 * rows; so a chunked catch-up costs O(channels * limit) rows per chunk, not a
 * scan of the whole channel.  An IN list also makes duplicate channels
 * harmless.
 */

#define STORE_COLUMNS "id, channel, event, data, created, sender"
/* A database of schema 2 or older, open read-only: no sender column. */
#define STORE_COLUMNS_V2 "id, channel, event, data, created, NULL"
#define STORE_READ_ALL   " FROM events WHERE id > ?1 ORDER BY id LIMIT ?2"
#define STORE_READ_CHANNELS                                                    \
	" FROM events"                                                         \
	" WHERE channel IN (SELECT value FROM json_each(?3)) AND id > ?1"      \
	" ORDER BY id LIMIT ?2"

static const char *const store_sql_text[STORE_SQL_COUNT] = {
    [STORE_SQL_APPEND] = "INSERT INTO events (channel, event, data, sender)"
                         " VALUES (?1, ?2, ?3, ?4)",
    [STORE_SQL_READ_ALL] = "SELECT " STORE_COLUMNS       STORE_READ_ALL,
    [STORE_SQL_READ_CHANNELS] = "SELECT " STORE_COLUMNS  STORE_READ_CHANNELS,
    [STORE_SQL_READ_ALL_V2] = "SELECT " STORE_COLUMNS_V2 STORE_READ_ALL,
    [STORE_SQL_READ_CHANNELS_V2] =
        "SELECT " STORE_COLUMNS_V2 STORE_READ_CHANNELS,
    [STORE_SQL_BACKLOG_ALL] =
        "SELECT id FROM events ORDER BY id DESC LIMIT 1 OFFSET ?1",
    [STORE_SQL_BACKLOG_CHANNELS] =
        "SELECT id FROM events"
        " WHERE channel IN (SELECT value FROM json_each(?2))"
        " ORDER BY id DESC LIMIT 1 OFFSET ?1",
    [STORE_SQL_LAST_ID] = "SELECT coalesce(max(id), 0) FROM events",
    [STORE_SQL_DATA_VERSION] = "PRAGMA data_version",
    [STORE_SQL_PRUNE_KEEP_LAST] =
        "DELETE FROM events WHERE id <= "
        "(SELECT id FROM events ORDER BY id DESC LIMIT 1 OFFSET ?1)",
    /*
     * A full scan: an index on created would cost every INSERT, and
     * pruning is rare.
     */
    [STORE_SQL_PRUNE_BEFORE] = "DELETE FROM events WHERE created < ?1",
    [STORE_SQL_STATS] =
        "SELECT count(*), coalesce(min(id), 0), coalesce(max(id), 0)"
        " FROM events",
    [STORE_SQL_STATS_CHANNELS] = "SELECT channel, count(*) FROM events"
                                 " GROUP BY channel ORDER BY channel",
    [STORE_SQL_BEGIN] = "BEGIN",
    [STORE_SQL_COMMIT] = "COMMIT",
    [STORE_SQL_LOG_STATE] =
        "SELECT edits, pruned,"
        " coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0)"
        " FROM litepush_meta",
    /* A schema 1 database opened read-only: no edits or prunes recorded. */
    [STORE_SQL_LOG_STATE_V1] =
        "SELECT 0, 0,"
        " coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0)",
    [STORE_SQL_OLDEST_ID] =
        "SELECT coalesce((SELECT min(id) FROM events),"
        " (SELECT seq FROM sqlite_sequence WHERE name = 'events') + 1, 1)",
};

/* Sets the store's error message. */
void
store_set_error(struct store *store, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(store->errmsg, sizeof store->errmsg, fmt, ap);
	va_end(ap);
}

/*
 * Records the connection's last SQLite error and returns the STORE_ error
 * for rc.  Note that it must be called before anything else touches the
 * connection, or SQLite's message is gone.
 */
int
store_sqlite_error(struct store *store, int rc)
{
	const char *reason = sqlite3_errmsg(store->db);

	if (reason == NULL || strcmp(reason, "not an error") == 0)
		reason = sqlite3_errstr(rc);
	store_set_error(store, "%s", reason);
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return STORE_BUSY;
	case SQLITE_NOTADB:
		return STORE_NOTDB;
	case SQLITE_CONSTRAINT:
		return STORE_CONSTRAINT;
	case SQLITE_NOMEM:
		return STORE_NOMEM;
	default:
		return STORE_ERROR;
	}
}

/*
 * Returns the cached statement for which, prepared on first use, and counts
 * one statement run: every caller steps what it gets.  NULL on error.
 */
static sqlite3_stmt *
store_statement(struct store *store, enum store_sql which)
{
	int rc;

	if (store->stmts[which] == NULL) {
		rc = sqlite3_prepare_v3(store->db, store_sql_text[which], -1,
		    SQLITE_PREPARE_PERSISTENT, &store->stmts[which], NULL);
		if (rc != SQLITE_OK) {
			store_sqlite_error(store, rc);
			return NULL;
		}
	}
	store->statements++;
	return store->stmts[which];
}

/* Steps stmt to its end and resets it; returns 0 or a STORE_ error. */
static int
store_run(struct store *store, sqlite3_stmt *stmt)
{
	int rc, error = 0;

	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		;
	if (rc != SQLITE_DONE)
		error = store_sqlite_error(store, rc);
	sqlite3_reset(stmt);
	return error;
}

/* Runs one cached statement that takes no parameters and returns no rows. */
static int
store_run_cached(struct store *store, enum store_sql which)
{
	sqlite3_stmt *stmt;

	if ((stmt = store_statement(store, which)) == NULL)
		return STORE_ERROR;
	return store_run(store, stmt);
}

/*
 * Runs a one-off statement and keeps the first column of its first row as
 * text and/or integer (empty and 0 when there is no row).  For the few
 * statements of store_open(), which are not worth caching.
 */
int
store_query(struct store *store, const char *sql, char *text, size_t len,
    int64_t *valuep)
{
	sqlite3_stmt        *stmt;
	const unsigned char *value;
	int                  rc, error;

	if (text != NULL && len > 0)
		text[0] = '\0';
	if (valuep != NULL)
		*valuep = 0;
	rc = sqlite3_prepare_v2(store->db, sql, -1, &stmt, NULL);
	if (rc != SQLITE_OK)
		return store_sqlite_error(store, rc);
	store->statements++;
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		if (valuep != NULL)
			*valuep = sqlite3_column_int64(stmt, 0);
		value = sqlite3_column_text(stmt, 0);
		if (text != NULL && len > 0 && value != NULL)
			snprintf(text, len, "%s", (const char *)value);
		while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
			;
	}
	error = rc == SQLITE_DONE ? 0 : store_sqlite_error(store, rc);
	sqlite3_finalize(stmt);
	return error;
}

/* Runs a one-off statement that returns nothing of interest. */
int
store_exec(struct store *store, const char *sql)
{
	return store_query(store, sql, NULL, 0, NULL);
}

/*
 * Ends a failed transaction unless SQLite already did.  The message of the
 * error that caused it is kept.
 */
void
store_rollback(struct store *store)
{
	if (!sqlite3_get_autocommit(store->db)) {
		store->statements++;
		sqlite3_exec(store->db, "ROLLBACK", NULL, NULL, NULL);
	}
}

/* Opens the SQLite connection; on failure errmsg says why. */
static int
store_open_connection(struct store *store, int flags, int busy_ms)
{
	struct stat sb;
	int         open_flags, rc, error, system_errno;

	/*
	 * Say plainly that the file is missing or is a directory, rather than
	 * SQLite's "unable to open database file".
	 */
	if (strcmp(store->path, ":memory:") != 0) {
		if (stat(store->path, &sb) == 0) {
			if (S_ISDIR(sb.st_mode)) {
				store_set_error(store, "is a directory");
				return STORE_ERROR;
			}
		} else if (errno != ENOENT || store->readonly ||
		           (~flags & STORE_OPEN_CREATE)) {
			store_set_error(store, "%s", strerror(errno));
			return STORE_ERROR;
		}
	}

	if (store->readonly)
		open_flags = SQLITE_OPEN_READONLY;
	else if (flags & STORE_OPEN_CREATE)
		open_flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	else
		open_flags = SQLITE_OPEN_READWRITE;
	rc = sqlite3_open_v2(store->path, &store->db, open_flags, NULL);
	if (rc != SQLITE_OK) {
		if (store->db == NULL) {
			store_set_error(store, "out of memory");
			return STORE_NOMEM;
		}
		error = store_sqlite_error(store, rc);
		if ((system_errno = sqlite3_system_errno(store->db)) != 0)
			store_set_error(store, "%s", strerror(system_errno));
		return error;
	}
	store->busy_ms = busy_ms > 0 ? busy_ms : 0;
	sqlite3_busy_timeout(store->db, store->busy_ms);
	return 0;
}

/* Opens the store and checks or creates its schema. */
int
store_open(const char *path, int flags, int busy_ms, struct store **storep,
    char *errbuf, size_t errlen)
{
	struct store *store;
	int           error;

	*storep = NULL;
	if (errbuf != NULL && errlen > 0)
		errbuf[0] = '\0';
	if (path == NULL || *path == '\0') {
		if (errbuf != NULL && errlen > 0)
			snprintf(errbuf, errlen, "no database path");
		return STORE_ERROR;
	}
	if ((store = calloc(1, sizeof *store)) == NULL ||
	    (store->path = strdup(path)) == NULL) {
		free(store);
		if (errbuf != NULL && errlen > 0)
			snprintf(errbuf, errlen, "%s: out of memory", path);
		return STORE_NOMEM;
	}
	store->readonly = (flags & STORE_OPEN_READONLY) != 0;

	if ((error = store_open_connection(store, flags, busy_ms)) == 0)
		error = store_schema_open(store);
	if (error != 0) {
		/* The reasons above do not name the file; this one does. */
		if (errbuf != NULL && errlen > 0)
			snprintf(errbuf, errlen, "%s: %s", path, store->errmsg);
		store_close(store);
		return error;
	}
	*storep = store;
	return 0;
}

/* Returns the last error message. */
const char *
store_errmsg(const struct store *store)
{
	return store->errmsg;
}

/* Returns the path of the database. */
const char *
store_path(const struct store *store)
{
	return store->path;
}

/* Appends one event of no recorded sender and returns its id. */
int
store_append(struct store *store, const char *channel, const char *event,
    const char *data, size_t data_len, int64_t *idp)
{
	return store_append_by(
	    store, channel, event, NULL, data, data_len, idp);
}

/* Appends one event and its sender, and returns its id. */
int
store_append_by(struct store *store, const char *channel, const char *event,
    const char *sender, const char *data, size_t data_len, int64_t *idp)
{
	sqlite3_stmt *stmt;
	int           rc, error;

	if ((stmt = store_statement(store, STORE_SQL_APPEND)) == NULL)
		return STORE_ERROR;
	/* A NULL channel or event is bound as NULL: the schema judges it. */
	if (channel != NULL)
		sqlite3_bind_text(stmt, 1, channel, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(stmt, 1);
	if (event != NULL)
		sqlite3_bind_text(stmt, 2, event, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(stmt, 2);
	if (sender != NULL)
		sqlite3_bind_text(stmt, 4, sender, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(stmt, 4);
	/* As text with its length, so NUL bytes in data are kept. */
	rc = sqlite3_bind_text64(stmt, 3, data != NULL ? data : "",
	    data != NULL ? data_len : 0, SQLITE_STATIC, SQLITE_UTF8);
	if (rc != SQLITE_OK) {
		error = store_sqlite_error(store, rc);
		sqlite3_reset(stmt);
		return error;
	}
	rc = sqlite3_step(stmt);
	if (rc != SQLITE_DONE) {
		error = store_sqlite_error(store, rc);
		sqlite3_reset(stmt);
		return error;
	}
	if (idp != NULL)
		*idp = sqlite3_last_insert_rowid(store->db);
	sqlite3_reset(stmt);
	return 0;
}

/*
 * Writes the channels as a JSON array to the store's scratch buffer.  Names
 * that are not valid channels are left out: no row can have them, and so no
 * name ever needs JSON escaping.
 */
static const char *
store_channels_json(
    struct store *store, const char *const *channels, size_t nchannels)
{
	size_t need, used, len, i;
	char  *json;

	if (nchannels > (SIZE_MAX - 3) / (CHANNEL_MAX + 3)) {
		store_set_error(store, "too many channels");
		return NULL;
	}
	need = 3 + nchannels * (CHANNEL_MAX + 3);
	if (need > store->json_size) {
		if ((json = realloc(store->json, need)) == NULL) {
			store_set_error(store, "out of memory");
			return NULL;
		}
		store->json = json;
		store->json_size = need;
	}

	json = store->json;
	used = 0;
	json[used++] = '[';
	for (i = 0; i < nchannels; i++) {
		if (channels[i] == NULL)
			continue;
		len = strlen(channels[i]);
		if (!channel_valid(channels[i], len))
			continue;
		if (used > 1)
			json[used++] = ',';
		json[used++] = '"';
		memcpy(json + used, channels[i], len);
		used += len;
		json[used++] = '"';
	}
	json[used++] = ']';
	json[used] = '\0';
	return json;
}

/* Calls fn for the events after an id, in id order. */
int
store_read_after(struct store *store, int64_t after,
    const char *const *channels, size_t nchannels, size_t limit,
    store_event_fn fn, void *arg)
{
	struct store_event ev;
	sqlite3_stmt      *stmt;
	const char        *json = NULL;
	enum store_sql     which;
	int64_t            max_rows;
	int                rc, count = 0, error = 0;

	/* The one statement is in use: a nested read would restart it. */
	if (store->reading) {
		store_set_error(
		    store, "store_read_after called from its own callback");
		return STORE_ERROR;
	}
	if (nchannels > 0 &&
	    (json = store_channels_json(store, channels, nchannels)) == NULL)
		return STORE_NOMEM;
	if (store->version >= 3)
		which = nchannels > 0 ? STORE_SQL_READ_CHANNELS
		                      : STORE_SQL_READ_ALL;
	else
		which = nchannels > 0 ? STORE_SQL_READ_CHANNELS_V2
		                      : STORE_SQL_READ_ALL_V2;
	stmt = store_statement(store, which);
	if (stmt == NULL)
		return STORE_ERROR;
	/* The count is an int, so at most INT_MAX rows; -1 is no limit. */
	if (limit == 0)
		max_rows = -1;
	else
		max_rows = limit > INT_MAX ? INT_MAX : (int64_t)limit;
	sqlite3_bind_int64(stmt, 1, after);
	sqlite3_bind_int64(stmt, 2, max_rows);
	if (json != NULL)
		sqlite3_bind_text(stmt, 3, json, -1, SQLITE_TRANSIENT);

	store->reading = 1;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		ev.id = sqlite3_column_int64(stmt, 0);
		ev.channel = (const char *)sqlite3_column_text(stmt, 1);
		if (ev.channel == NULL)
			ev.channel = "";
		if (sqlite3_column_type(stmt, 2) == SQLITE_NULL)
			ev.event = NULL;
		else
			ev.event = (const char *)sqlite3_column_text(stmt, 2);
		/*
		 * Text rather than blob: the bytes are the same (NULs
		 * included, the length is column_bytes), but an empty value
		 * is "" and not NULL, and the view is NUL-terminated anyway.
		 */
		ev.data = (const char *)sqlite3_column_text(stmt, 3);
		ev.data_len = (size_t)sqlite3_column_bytes(stmt, 3);
		if (ev.data == NULL) {
			ev.data = "";
			ev.data_len = 0;
		}
		ev.created = sqlite3_column_int64(stmt, 4);
		ev.sender = (const char *)sqlite3_column_text(stmt, 5);
		count++;
		if ((fn != NULL && fn(&ev, arg) != 0) || count == INT_MAX)
			break;
	}
	store->reading = 0;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		error = store_sqlite_error(store, rc);
	/* Also on an early stop: this ends the read transaction. */
	sqlite3_reset(stmt);
	return error != 0 ? error : count;
}

/* Finds the id after which the last count events of the channels start. */
int
store_backlog_start(struct store *store, const char *const *channels,
    size_t nchannels, size_t count, int64_t *afterp)
{
	sqlite3_stmt *stmt;
	const char   *json = NULL;
	int           rc, error = 0;

	*afterp = 0;
	/* No backlog: start after the newest event, whatever its channel. */
	if (count == 0)
		return store_last_id(store, afterp);
	if (nchannels > 0 &&
	    (json = store_channels_json(store, channels, nchannels)) == NULL)
		return STORE_NOMEM;
	stmt = store_statement(store,
	    nchannels > 0 ? STORE_SQL_BACKLOG_CHANNELS : STORE_SQL_BACKLOG_ALL);
	if (stmt == NULL)
		return STORE_ERROR;
	/* The (count+1)-th newest event: reading after it yields count. */
	sqlite3_bind_int64(
	    stmt, 1, count > INT64_MAX ? INT64_MAX : (int64_t)count);
	if (json != NULL)
		sqlite3_bind_text(stmt, 2, json, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		*afterp = sqlite3_column_int64(stmt, 0);
	else if (rc != SQLITE_DONE)
		error = store_sqlite_error(store, rc);
	sqlite3_reset(stmt);
	return error;
}

/*
 * Runs a cached one-row query and writes its first ncolumns columns to
 * values (zeros when there is no row).
 */
static int
store_query_cached(
    struct store *store, enum store_sql which, int64_t *values, int ncolumns)
{
	sqlite3_stmt *stmt;
	int           rc, i, error = 0;

	for (i = 0; i < ncolumns; i++)
		values[i] = 0;
	if ((stmt = store_statement(store, which)) == NULL)
		return STORE_ERROR;
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		for (i = 0; i < ncolumns; i++)
			values[i] = sqlite3_column_int64(stmt, i);
	} else if (rc != SQLITE_DONE)
		error = store_sqlite_error(store, rc);
	sqlite3_reset(stmt);
	return error;
}

/* Writes the newest id to *idp. */
int
store_last_id(struct store *store, int64_t *idp)
{
	return store_query_cached(store, STORE_SQL_LAST_ID, idp, 1);
}

/* Writes PRAGMA data_version to *versionp. */
int
store_data_version(struct store *store, int64_t *versionp)
{
	return store_query_cached(store, STORE_SQL_DATA_VERSION, versionp, 1);
}

/* Reads what the log holds besides its rows. */
int
store_log_state(struct store *store, struct store_log *state)
{
	int64_t values[3];
	int     error;

	error = store_query_cached(store,
	    store->version >= 2 ? STORE_SQL_LOG_STATE : STORE_SQL_LOG_STATE_V1,
	    values, 3);
	state->edits = values[0];
	state->pruned = values[1];
	state->newest = values[2];
	return error;
}

/* Writes the oldest id kept (the next id to come when the log is empty). */
int
store_oldest_id(struct store *store, int64_t *idp)
{
	return store_query_cached(store, STORE_SQL_OLDEST_ID, idp, 1);
}

/*
 * Returns non-zero if the file open is no longer the one at the path.
 * SQLite compares the inode of its open descriptor with the path's, so a
 * file replaced at any moment, even while it was being opened, is seen.
 */
int
store_moved(struct store *store)
{
	int moved = 0;

	if (sqlite3_file_control(
	        store->db, "main", SQLITE_FCNTL_HAS_MOVED, &moved) != SQLITE_OK)
		return 0; /* an in-memory database cannot move */
	return moved != 0;
}

/* Returns non-zero if name is an event name the protocol keeps for itself. */
int
store_event_reserved(const char *name)
{
	return name != NULL &&
	       (strcmp(name, "pause") == 0 || strcmp(name, "reset") == 0);
}

/* Runs a cached DELETE with one integer parameter; counts the rows. */
static int
store_delete(
    struct store *store, enum store_sql which, int64_t value, int64_t *deletedp)
{
	sqlite3_stmt *stmt;
	int           error;

	if (deletedp != NULL)
		*deletedp = 0;
	if ((stmt = store_statement(store, which)) == NULL)
		return STORE_ERROR;
	sqlite3_bind_int64(stmt, 1, value);
	if ((error = store_run(store, stmt)) != 0)
		return error;
	if (deletedp != NULL)
		*deletedp = sqlite3_changes64(store->db);
	return 0;
}

/* Deletes all but the newest keep events. */
int
store_prune_keep_last(struct store *store, int64_t keep, int64_t *deletedp)
{
	if (keep < 0) {
		if (deletedp != NULL)
			*deletedp = 0;
		store_set_error(
		    store, "cannot keep %lld events", (long long)keep);
		return STORE_ERROR;
	}
	return store_delete(store, STORE_SQL_PRUNE_KEEP_LAST, keep, deletedp);
}

/* Deletes the events created before cutoff_ms. */
int
store_prune_before(struct store *store, int64_t cutoff_ms, int64_t *deletedp)
{
	return store_delete(store, STORE_SQL_PRUNE_BEFORE, cutoff_ms, deletedp);
}

/* Reads the totals and the per-channel counts; inside a read transaction. */
static int
store_stats_read(struct store *store, struct store_stats *stats,
    store_channel_fn fn, void *arg)
{
	sqlite3_stmt *stmt;
	const char   *channel;
	int           rc, error = 0;

	if ((stmt = store_statement(store, STORE_SQL_STATS)) == NULL)
		return STORE_ERROR;
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		stats->events = sqlite3_column_int64(stmt, 0);
		stats->first_id = sqlite3_column_int64(stmt, 1);
		stats->last_id = sqlite3_column_int64(stmt, 2);
	} else
		error = store_sqlite_error(store, rc);
	sqlite3_reset(stmt);
	if (error != 0 || fn == NULL)
		return error;

	if ((stmt = store_statement(store, STORE_SQL_STATS_CHANNELS)) == NULL)
		return STORE_ERROR;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		channel = (const char *)sqlite3_column_text(stmt, 0);
		if (fn(channel != NULL ? channel : "",
		        sqlite3_column_int64(stmt, 1), arg) != 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		error = store_sqlite_error(store, rc);
	sqlite3_reset(stmt);
	return error;
}

/*
 * Fills *stats and reports every channel.  Note that count(*) reads the whole
 * (channel, id) index: fine for `litepush stats`, not for a hot path.
 */
int
store_stats(struct store *store, struct store_stats *stats, store_channel_fn fn,
    void *arg)
{
	struct stat sb;
	int         error;

	memset(stats, 0, sizeof *stats);
	stats->file_size =
	    stat(store->path, &sb) == 0 ? (int64_t)sb.st_size : -1;
	/* One transaction, so the totals and the channels agree. */
	if ((error = store_run_cached(store, STORE_SQL_BEGIN)) != 0)
		return error;
	if ((error = store_stats_read(store, stats, fn, arg)) != 0 ||
	    (error = store_run_cached(store, STORE_SQL_COMMIT)) != 0)
		store_rollback(store);
	return error;
}

/* Returns the number of statements run on this connection. */
uint64_t
store_statements(const struct store *store)
{
	return store->statements;
}

/* Closes the connection and frees the store. */
void
store_close(struct store *store)
{
	size_t i;

	if (store == NULL)
		return;
	for (i = 0; i < STORE_SQL_COUNT; i++)
		sqlite3_finalize(store->stmts[i]);
	sqlite3_close(store->db);
	free(store->json);
	free(store->path);
	free(store);
}
