/* schema.c: the events table's schema in SQLite: its rules, the checks that a table is ours, creation and migration. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store.h"
#include "store_int.h"

/*
 * The schema.  The comments are kept by SQLite in sqlite_master, so a person
 * running `.schema events` in the sqlite3 shell sees the rules.  The CHECKs
 * are named so that a refused INSERT says which rule it broke ("CHECK
 * constraint failed: channel_valid").  Note that length() stops at a NUL
 * byte and GLOB does too, hence the instr(..., char(0)) tests.
 */
static const char store_schema_table[] =
    "CREATE TABLE IF NOT EXISTS events (\n"
    "  id INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused\n"
    "  -- channel: 1..64 of [A-Za-z0-9_.:-]\n"
    "  channel TEXT NOT NULL DEFAULT 'default'\n"
    "    CONSTRAINT channel_valid CHECK (typeof(channel) = 'text'\n"
    "      AND length(channel) BETWEEN 1 AND 64\n"
    "      AND channel NOT GLOB '*[^A-Za-z0-9_.:-]*'\n"
    "      AND instr(channel, char(0)) = 0),\n"
    "  -- event: the SSE event name, NULL for a message;\n"
    "  -- 1..64 bytes without CR, LF or NUL\n"
    "  event TEXT\n"
    "    CONSTRAINT event_valid CHECK (event IS NULL OR (\n"
    "      typeof(event) = 'text'\n"
    "      AND length(CAST(event AS BLOB)) BETWEEN 1 AND 64\n"
    "      AND instr(event, char(10)) = 0 AND instr(event, char(13)) = 0\n"
    "      AND instr(event, char(0)) = 0)),\n"
    "  -- data: any text, newlines allowed\n"
    "  data TEXT NOT NULL DEFAULT ''\n"
    "    CONSTRAINT data_is_text CHECK (typeof(data) = 'text'),\n"
    "  -- created: unix time in ms\n"
    "  created INTEGER NOT NULL\n"
    "    DEFAULT (CAST(round((julianday('now') - 2440587.5) * 86400000)\n"
    "      AS INTEGER))\n"
    "    CONSTRAINT created_is_integer CHECK (typeof(created) = 'integer')\n"
    ")";
static const char store_schema_index[] =
    "CREATE INDEX IF NOT EXISTS events_channel_id ON events(channel, id)";

/*
 * Schema 2: the rules that came after the table (event names the protocol
 * uses itself, ids that JavaScript reads exactly) and what lets a reader
 * notice any DELETE or UPDATE, and how far the log was pruned.
 *
 * The rules are triggers rather than CHECKs of the table, so that a schema
 * 1 database gets them without rebuilding its table, and a new database
 * gets the very same ones (it is made as schema 1, then migrated).  They
 * raise the message a CHECK would, so a publisher reads the same
 * "CHECK constraint failed: NAME" either way.  Note that the id rule is an
 * AFTER trigger: before the insert an automatic id is not known yet.
 *
 * litepush_meta is one row.  Every DELETE or UPDATE of events bumps
 * `edits`, so a reader that sees data_version change learns with one small
 * read whether what it holds in memory may be stale.  `pruned` is how far
 * the log was pruned: every id up to it that ever existed is gone.  A row
 * deleted with nothing older left moves it up to just below the oldest row
 * that remains (or to the newest id ever given, when none remains), so
 * `litepush prune` and a plain DELETE of the oldest rows are both
 * recorded, in any deletion order, while deleting a row in the middle
 * (a moderator removing a message) is not a prune.  The cost is one
 * index probe per deleted row and none per insert beyond the two WHENs.
 */
#define STORE_ID_MAX_TEXT "9007199254740991"
static const char *const store_schema_v2[] = {
    "CREATE TABLE IF NOT EXISTS litepush_meta (\n"
    "  -- one row: what readers need to know of the log besides its rows\n"
    "  id INTEGER PRIMARY KEY CHECK (id = 1),\n"
    "  -- bumped by every DELETE or UPDATE of events\n"
    "  edits INTEGER NOT NULL DEFAULT 0,\n"
    "  -- every id up to this one that ever existed has been pruned\n"
    "  pruned INTEGER NOT NULL DEFAULT 0\n"
    ")",
    /* A database pruned before schema 2: everything below its oldest row. */
    "INSERT OR IGNORE INTO litepush_meta (id, pruned) VALUES (1,"
    " coalesce((SELECT min(id) - 1 FROM events),"
    " (SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0))",
    "CREATE TRIGGER IF NOT EXISTS events_event_not_reserved\n"
    "  BEFORE INSERT ON events WHEN NEW.event IN ('pause', 'reset')\n"
    "  -- the protocol's own event names\n"
    "  BEGIN SELECT RAISE(ABORT,"
    " 'CHECK constraint failed: event_not_reserved'); END",
    "CREATE TRIGGER IF NOT EXISTS events_event_not_reserved_update\n"
    "  BEFORE UPDATE OF event ON events WHEN NEW.event IN ('pause', 'reset')\n"
    "  BEGIN SELECT RAISE(ABORT,"
    " 'CHECK constraint failed: event_not_reserved'); END",
    "CREATE TRIGGER IF NOT EXISTS events_id_in_range\n"
    "  AFTER INSERT ON events\n"
    "  WHEN NEW.id < 1 OR NEW.id > " STORE_ID_MAX_TEXT "\n"
    "  -- ids from 1 to 2^53 - 1, which JavaScript reads exactly\n"
    "  BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: id_in_range'); END",
    "CREATE TRIGGER IF NOT EXISTS events_id_in_range_update\n"
    "  AFTER UPDATE OF id ON events\n"
    "  WHEN NEW.id < 1 OR NEW.id > " STORE_ID_MAX_TEXT "\n"
    "  BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: id_in_range'); END",
    "CREATE TRIGGER IF NOT EXISTS events_edited AFTER UPDATE ON events\n"
    "  BEGIN UPDATE litepush_meta SET edits = edits + 1; END",
    "CREATE TRIGGER IF NOT EXISTS events_deleted AFTER DELETE ON events\n"
    "  BEGIN UPDATE litepush_meta SET edits = edits + 1,\n"
    "    pruned = CASE WHEN EXISTS (SELECT 1 FROM events WHERE id < OLD.id)\n"
    "      THEN pruned\n"
    "      ELSE max(pruned, coalesce((SELECT min(id) - 1 FROM events),\n"
    "        (SELECT seq FROM sqlite_sequence WHERE name = 'events'),\n"
    "        OLD.id)) END;\n"
    "  END",
};

/* The objects schema 2 adds: a table and six triggers. */
static const char store_schema_v2_count[] =
    "SELECT count(*) FROM sqlite_master WHERE name IN ('litepush_meta',"
    " 'events_event_not_reserved', 'events_event_not_reserved_update',"
    " 'events_id_in_range', 'events_id_in_range_update', 'events_edited',"
    " 'events_deleted')";
#define STORE_SCHEMA_V2_OBJECTS 7

/*
 * Schema 3: who published a row, when a daemon knows (the login of a
 * WebSocket client, or a grant's sub), so that a page shows names the
 * server vouches for.  NULL for rows from anyone else: a publisher's own
 * INSERT may set it, as the application vouches then.  An added column,
 * so a schema 2 table gets it without being rebuilt; its rule is a CHECK
 * like the first columns' (SQLite checks it on every INSERT and UPDATE).
 * The name is not "user": PostgreSQL reserves that word, and the same
 * INSERT should work on both engines.
 */
static const char store_schema_v3[] =
    "ALTER TABLE events ADD COLUMN\n"
    "  -- sender: who published it, as the server vouches (NULL: unknown);\n"
    "  -- 1..128 bytes without CR, LF or NUL\n"
    "  sender TEXT\n"
    "    CONSTRAINT sender_valid CHECK (sender IS NULL OR (\n"
    "      typeof(sender) = 'text'\n"
    "      AND length(CAST(sender AS BLOB)) BETWEEN 1 AND 128\n"
    "      AND instr(sender, char(10)) = 0 AND instr(sender, char(13)) = 0\n"
    "      AND instr(sender, char(0)) = 0))";
static const char store_schema_v3_count[] =
    "SELECT count(*) FROM pragma_table_info('events') WHERE name = 'sender'";

/* The columns an events table must have to be ours. */
static const char *const store_columns[] = {
    "id", "channel", "event", "data", "created"};

/*
 * Checks that the events table, if there is one, is ours: a table with our
 * columns and id as its INTEGER PRIMARY KEY.  Sets *existsp.
 */
static int
store_schema_check_table(struct store *store, int *existsp)
{
	sqlite3_stmt *stmt;
	const char   *name, *type;
	char          kind[32];
	unsigned int  found = 0;
	int           id_is_key = 0, rc, error;
	size_t        i;

	*existsp = 0;
	error = store_query(store,
	    "SELECT type FROM sqlite_master"
	    " WHERE name = 'events' COLLATE NOCASE",
	    kind, sizeof kind, NULL);
	if (error != 0)
		return error;
	if (kind[0] == '\0')
		return 0;
	if (strcmp(kind, "table") != 0) {
		store_set_error(
		    store, "events is a %s, not a litepush event log", kind);
		return STORE_FOREIGN;
	}

	rc = sqlite3_prepare_v2(store->db,
	    "SELECT name, type, pk FROM pragma_table_info('events')", -1, &stmt,
	    NULL);
	if (rc != SQLITE_OK)
		return store_sqlite_error(store, rc);
	store->statements++;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		name = (const char *)sqlite3_column_text(stmt, 0);
		type = (const char *)sqlite3_column_text(stmt, 1);
		if (name == NULL)
			continue;
		for (i = 0; i < nitems(store_columns); i++) {
			if (strcasecmp(name, store_columns[i]) == 0)
				found |= 1U << i;
		}
		if (strcasecmp(name, "id") == 0 && type != NULL &&
		    strcasecmp(type, "INTEGER") == 0 &&
		    sqlite3_column_int(stmt, 2) == 1)
			id_is_key = 1;
	}
	error = rc == SQLITE_DONE ? 0 : store_sqlite_error(store, rc);
	sqlite3_finalize(stmt);
	if (error != 0)
		return error;

	for (i = 0; i < nitems(store_columns); i++) {
		if (~found & (1U << i)) {
			store_set_error(store,
			    "table events exists but is not a litepush event"
			    " log (missing column %s)",
			    store_columns[i]);
			return STORE_FOREIGN;
		}
	}
	if (!id_is_key) {
		store_set_error(store,
		    "table events exists but is not a litepush event log"
		    " (id is not its INTEGER PRIMARY KEY)");
		return STORE_FOREIGN;
	}
	*existsp = 1;
	return 0;
}

/*
 * Looks at what schema the database has.  Sets *completep when there is
 * nothing to create or migrate; fails when the database is not ours or too
 * new.  Only reads.
 */
static int
store_schema_inspect(struct store *store, int *completep, int *has_tablep)
{
	const char *relation;
	int64_t     version, has_index, v2_objects, v3_column = 0;
	int         error;

	*completep = *has_tablep = 0;
	/* The first read: this is where a file that is not a database fails. */
	error = store_query(store, "PRAGMA user_version", NULL, 0, &version);
	if (error != 0)
		return error;
	if ((error = store_schema_check_table(store, has_tablep)) != 0)
		return error;
	if (version < 0 || version > STORE_SCHEMA_VERSION) {
		/* user_version belongs to whoever owns the database. */
		if (!*has_tablep) {
			store_set_error(store,
			    "not a litepush database (user_version is %lld"
			    " and there is no events table)",
			    (long long)version);
			return STORE_FOREIGN;
		}
		relation = version > STORE_SCHEMA_VERSION ? "newer than"
		                                          : "not one of";
		store_set_error(store,
		    "schema version %lld is %s this litepush's (%d)",
		    (long long)version, relation, STORE_SCHEMA_VERSION);
		return STORE_ERROR;
	}
	store->version = (int)version;
	error = store_query(store,
	    "SELECT count(*) FROM sqlite_master"
	    " WHERE type = 'index' AND name = 'events_channel_id'",
	    NULL, 0, &has_index);
	if (error == 0)
		error = store_query(
		    store, store_schema_v2_count, NULL, 0, &v2_objects);
	if (error == 0 && *has_tablep)
		error = store_query(
		    store, store_schema_v3_count, NULL, 0, &v3_column);
	if (error != 0)
		return error;
	/* A database open read-only reads by what it has. */
	if (store->version >= 3 && !v3_column)
		store->version = 2;
	*completep = version == STORE_SCHEMA_VERSION && *has_tablep &&
	             has_index && v2_objects == STORE_SCHEMA_V2_OBJECTS &&
	             v3_column;
	return 0;
}

/*
 * Switches the database to WAL, so that readers never block the writer.  The
 * mode is stored in the file, so this writes only the first time.
 */
static int
store_schema_wal(struct store *store)
{
	char mode[32];
	int  waited_ms = 0, error;

	for (;;) {
		error = store_query(
		    store, "PRAGMA journal_mode", mode, sizeof mode, NULL);
		if (error == 0 && strcasecmp(mode, "wal") == 0)
			return 0;
		if (error == 0)
			error = store_query(store, "PRAGMA journal_mode = WAL",
			    mode, sizeof mode, NULL);
		if (error != STORE_BUSY || waited_ms >= store->busy_ms)
			break;
		/*
		 * Note that SQLite returns BUSY at once, without the busy
		 * handler, when waiting could deadlock: two processes that
		 * both read the new file and then both switch it.  Retry
		 * while the busy timeout lasts; the winner's switch shows.
		 */
		usleep(STORE_RETRY_MS * 1000);
		waited_ms += STORE_RETRY_MS;
	}
	if (error != 0)
		return error;
	/* An in-memory database has no WAL and needs none. */
	if (strcasecmp(mode, "wal") != 0 && strcasecmp(mode, "memory") != 0) {
		store_set_error(store,
		    "cannot switch to WAL mode (journal mode stays %s)", mode);
		return STORE_ERROR;
	}
	return 0;
}

/*
 * Creates what is missing of the schema, and migrates schema 1 or 2 to 3.
 * BEGIN IMMEDIATE takes the write lock first, so of several processes
 * opening a new (or older) database at once one does the work and the
 * others, waiting on the lock, then find it done.
 */
static int
store_schema_create(struct store *store)
{
	char    sql[64];
	int64_t v3_column;
	int     complete, has_table, error;
	size_t  i;

	if ((error = store_exec(store, "BEGIN IMMEDIATE")) != 0)
		return error;
	/* Look again: another process may have created it meanwhile. */
	if ((error = store_schema_inspect(store, &complete, &has_table)) != 0)
		goto fail;
	if (!complete) {
		/* The version is 0..ours here: inspect refused any other. */
		if ((error = store_exec(store, store_schema_table)) != 0 ||
		    (error = store_exec(store, store_schema_index)) != 0)
			goto fail;
		for (i = 0; i < nitems(store_schema_v2); i++)
			if ((error = store_exec(store, store_schema_v2[i])) !=
			    0)
				goto fail;
		if ((error = store_query(store, store_schema_v3_count, NULL, 0,
		         &v3_column)) != 0 ||
		    (!v3_column &&
		        (error = store_exec(store, store_schema_v3)) != 0))
			goto fail;
		snprintf(sql, sizeof sql, "PRAGMA user_version = %d",
		    STORE_SCHEMA_VERSION);
		if ((error = store_exec(store, sql)) != 0)
			goto fail;
	}
	if ((error = store_exec(store, "COMMIT")) != 0)
		goto fail;
	store->version = STORE_SCHEMA_VERSION;
	return 0;

fail:
	store_rollback(store);
	return error;
}

/* Checks the schema and creates what is missing unless read-only. */
int
store_schema_open(struct store *store)
{
	int complete, has_table, error;

	/* Look first, so a complete schema costs no write lock. */
	if ((error = store_schema_inspect(store, &complete, &has_table)) != 0)
		return error;
	if (store->readonly) {
		if (!has_table) {
			store_set_error(store,
			    "no events table (open the database once for"
			    " writing to create it)");
			return STORE_ERROR;
		}
		return 0;
	}
	/* After the checks, so a database that is not ours is left alone. */
	if ((error = store_schema_wal(store)) != 0)
		return error;
	if (complete)
		return 0;
	return store_schema_create(store);
}
