/* store_int.h: inside the store only: the connection store.c and schema.c share, and their helpers. */
#ifndef LITEPUSH_STORE_INT_H
#define LITEPUSH_STORE_INT_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "store.h"

#define STORE_ERRMSG_SIZE 512

/* How long to sleep between retries that SQLite's busy handler cannot do. */
#define STORE_RETRY_MS 5

#ifndef nitems
#define nitems(a) (sizeof(a) / sizeof(a)[0])
#endif

/* The statements store.c prepares once and keeps (store_sql_text). */
enum store_sql {
	STORE_SQL_APPEND,
	STORE_SQL_READ_ALL,
	STORE_SQL_READ_CHANNELS,
	STORE_SQL_READ_ALL_V2,
	STORE_SQL_READ_CHANNELS_V2,
	STORE_SQL_BACKLOG_ALL,
	STORE_SQL_BACKLOG_CHANNELS,
	STORE_SQL_LAST_ID,
	STORE_SQL_DATA_VERSION,
	STORE_SQL_PRUNE_KEEP_LAST,
	STORE_SQL_PRUNE_BEFORE,
	STORE_SQL_STATS,
	STORE_SQL_STATS_CHANNELS,
	STORE_SQL_BEGIN,
	STORE_SQL_COMMIT,
	STORE_SQL_LOG_STATE,
	STORE_SQL_LOG_STATE_V1,
	STORE_SQL_OLDEST_ID,
	STORE_SQL_COUNT
};

/* One SQLite connection with its prepared statements (store.c says how). */
struct store {
	sqlite3      *db;
	char         *path;
	int           readonly;
	int           version; /* the schema's user_version once open */
	int           busy_ms;
	int           reading; /* inside store_read_after() */
	uint64_t      statements;
	sqlite3_stmt *stmts[STORE_SQL_COUNT];

	char  *json; /* scratch buffer for channel filters */
	size_t json_size;

	char errmsg[STORE_ERRMSG_SIZE];
};

/* Sets the store's error message. */
void store_set_error(struct store *store, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Records the connection's last SQLite error and returns the STORE_ error
 * for rc.  Call it before anything else touches the connection, or
 * SQLite's message is gone.
 */
int store_sqlite_error(struct store *store, int rc);

/*
 * Runs a one-off statement and keeps the first column of its first row as
 * text (cut to len) and/or integer, each optional (empty and 0 when there
 * is no row).  Returns 0 or a STORE_ error.
 */
int store_query(struct store *store, const char *sql, char *text, size_t len,
    int64_t *valuep);

/* Runs a one-off statement that returns nothing of interest. */
int store_exec(struct store *store, const char *sql);

/* Ends a failed transaction unless SQLite already did; keeps the message. */
void store_rollback(struct store *store);

/*
 * schema.c: checks that the database's events table is ours and creates
 * what is missing of the schema (or migrates it) unless read-only.
 * Returns 0 or a STORE_ error with the reason in the store's message.
 */
int store_schema_open(struct store *store);

#endif
