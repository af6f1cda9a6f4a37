/* check_store.c: unit tests of the event log (store/store.c). */
#include "config.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store.h"
#include "testutil.h"

#ifndef nitems
#define nitems(a) (sizeof(a) / sizeof(a)[0])
#endif

#define CHECK_STORE_BUSY_MS 5000
#define CHECK_STORE_ROWS    256

/* The store and database of the running test (a fresh one per test). */
static struct store *store;
static char          db_path[512];
static char          errbuf[512]; /* the reason of the last open_at() */

/* Makes the test's temporary directory; the database is not created. */
static void
setup_dir(void)
{
	testutil_tmpdir_create();
	testutil_path(db_path, sizeof db_path, "events.db");
	store = NULL;
}

/* Opens the store at path, with the reason of a failure in errbuf. */
static int
open_at(const char *path, int flags, struct store **storep)
{
	return store_open(
	    path, flags, CHECK_STORE_BUSY_MS, storep, errbuf, sizeof errbuf);
}

/* Makes the temporary directory and opens a new store in it. */
static void
setup_store(void)
{
	setup_dir();
	ck_assert_msg(open_at(db_path, STORE_OPEN_CREATE, &store) == 0,
	    "store_open: %s", errbuf);
}

/* Closes the store and removes the temporary directory. */
static void
teardown(void)
{
	store_close(store);
	store = NULL;
	testutil_tmpdir_remove();
}

/* Runs sql in the sqlite3 shell on the test database; output to out. */
static int
shell(const char *sql, char *out, size_t len)
{
	return testutil_sqlite3(db_path, sql, out, len);
}

/* Runs sql in the sqlite3 shell and fails the test if it fails. */
static void
shell_ok(const char *sql, char *out, size_t len)
{
	char buf[4096];
	int  status;

	if (out == NULL) {
		out = buf;
		len = sizeof buf;
	}
	status = shell(sql, out, len);
	ck_assert_msg(
	    status == 0, "sqlite3 exited %d on %s: %s", status, sql, out);
}

/* The rows a read passed on, copied. */
struct collected {
	size_t count;
	size_t stop_after; /* return non-zero after this many; 0 = never */
	struct {
		int64_t id;
		char    channel[CHANNEL_MAX + 1];
		char    event[STORE_EVENT_MAX + 1];
		int     has_event;
		char   *data;
		size_t  data_len;
		int64_t created;
		int     has_sender;
		char    sender[STORE_SENDER_MAX + 1];
	} rows[CHECK_STORE_ROWS];
};

/* A store_event_fn that copies each row into a struct collected. */
static int
collect(const struct store_event *ev, void *arg)
{
	struct collected *c = arg;

	ck_assert_uint_lt(c->count, CHECK_STORE_ROWS);
	c->rows[c->count].id = ev->id;
	snprintf(c->rows[c->count].channel, sizeof c->rows[0].channel, "%s",
	    ev->channel);
	c->rows[c->count].has_event = ev->event != NULL;
	snprintf(c->rows[c->count].event, sizeof c->rows[0].event, "%s",
	    ev->event != NULL ? ev->event : "");
	c->rows[c->count].data = malloc(ev->data_len + 1);
	ck_assert(c->rows[c->count].data != NULL);
	memcpy(c->rows[c->count].data, ev->data, ev->data_len);
	c->rows[c->count].data[ev->data_len] = '\0';
	c->rows[c->count].data_len = ev->data_len;
	c->rows[c->count].created = ev->created;
	c->rows[c->count].has_sender = ev->sender != NULL;
	snprintf(c->rows[c->count].sender, sizeof c->rows[0].sender, "%s",
	    ev->sender != NULL ? ev->sender : "");
	c->count++;
	return c->stop_after != 0 && c->count >= c->stop_after;
}

/* Frees what collect() copied and empties c. */
static void
collected_reset(struct collected *c)
{
	size_t i;

	for (i = 0; i < c->count; i++)
		free(c->rows[i].data);
	memset(c, 0, sizeof *c);
}

/* Appends an event with string data and returns its id. */
static int64_t
append(const char *channel, const char *event, const char *data)
{
	int64_t id = 0;
	int     rc;

	rc = store_append(store, channel, event, data, strlen(data), &id);
	ck_assert_msg(rc == 0, "store_append: %s", store_errmsg(store));
	ck_assert_int_gt(id, 0);
	return id;
}

/* Returns the newest id. */
static int64_t
last_id(void)
{
	int64_t id = -1;

	ck_assert_int_eq(store_last_id(store, &id), 0);
	return id;
}

/* Returns the store's PRAGMA data_version. */
static int64_t
data_version(struct store *s)
{
	int64_t version = -1;

	ck_assert_int_eq(store_data_version(s, &version), 0);
	return version;
}

/* Reads every event after `after` of the given channels into c. */
static int
read_channels(
    int64_t after, const char *const *channels, size_t n, struct collected *c)
{
	collected_reset(c);
	return store_read_after(store, after, channels, n, 0, collect, c);
}

/* Returns the size of a file, -1 when it does not exist. */
static off_t
file_size(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 ? sb.st_size : -1;
}

/* Writes len bytes to a new file at path. */
static void
write_file(const char *path, const void *bytes, size_t len)
{
	FILE *f = fopen(path, "wb");

	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	ck_assert_uint_eq(fwrite(bytes, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

/* Opening creates the table, the index, user_version 3 and WAL mode. */
START_TEST(test_store_schema_created)
{
	char out[4096];

	shell_ok("PRAGMA user_version; PRAGMA journal_mode;", out, sizeof out);
	ck_assert_str_eq(out, "3\nwal\n");
	shell_ok("SELECT type, name FROM sqlite_master WHERE name LIKE "
	         "'events%' OR name LIKE 'litepush%' ORDER BY name;",
	    out, sizeof out);
	ck_assert_str_eq(out,
	    "table|events\nindex|events_channel_id\ntrigger|events_deleted\n"
	    "trigger|events_edited\ntrigger|events_event_not_reserved\n"
	    "trigger|events_event_not_reserved_update\n"
	    "trigger|events_id_in_range\ntrigger|events_id_in_range_update\n"
	    "table|litepush_meta\n");
	shell_ok("SELECT group_concat(name, ',') FROM pragma_table_info("
	         "'events');",
	    out, sizeof out);
	ck_assert_str_eq(out, "id,channel,event,data,created,sender\n");
	shell_ok("SELECT group_concat(name, ',') FROM pragma_index_info("
	         "'events_channel_id');",
	    out, sizeof out);
	ck_assert_str_eq(out, "channel,id\n");
	ck_assert_str_eq(store_path(store), db_path);
}
END_TEST

/* A second open of a complete database writes nothing. */
START_TEST(test_store_schema_idempotent)
{
	struct store *second;
	char          before[4096], after[4096];
	int64_t       version;

	shell_ok("SELECT sql FROM sqlite_master ORDER BY name; "
	         "PRAGMA user_version;",
	    before, sizeof before);
	version = data_version(store);

	ck_assert_int_eq(open_at(db_path, STORE_OPEN_CREATE, &second), 0);
	ck_assert_int_eq(data_version(store), version);
	store_close(second);
	ck_assert_int_eq(open_at(db_path, 0, &second), 0);
	ck_assert_int_eq(data_version(store), version);

	shell_ok("SELECT sql FROM sqlite_master ORDER BY name; "
	         "PRAGMA user_version;",
	    after, sizeof after);
	ck_assert_str_eq(after, before);

	/* The check above can fail: a commit by the second store shows. */
	ck_assert_int_eq(store_append(second, "a", NULL, "x", 1, NULL), 0);
	ck_assert_int_ne(data_version(store), version);
	store_close(second);
}
END_TEST

/* Processes creating the same new database at once all succeed. */
START_TEST(test_store_schema_concurrent_create)
{
	struct store      *s;
	struct store_stats stats;
	char               path[512];
	pid_t              pids[6];
	int                status;
	size_t             i;

	testutil_path(path, sizeof path, "race.db");
	for (i = 0; i < nitems(pids); i++) {
		pids[i] = fork();
		ck_assert_int_ge(pids[i], 0);
		if (pids[i] == 0) {
			if (open_at(path, STORE_OPEN_CREATE, &s) != 0) {
				fprintf(stderr, "child: %s\n", errbuf);
				_exit(1);
			}
			if (store_append(s, "race", NULL, "x", 1, NULL) != 0) {
				fprintf(stderr, "child: %s\n", store_errmsg(s));
				_exit(2);
			}
			store_close(s);
			_exit(0);
		}
	}
	for (i = 0; i < nitems(pids); i++) {
		ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		    "child %zu failed (status %d)", i, status);
	}
	ck_assert_int_eq(open_at(path, 0, &s), 0);
	ck_assert_int_eq(store_stats(s, &stats, NULL, NULL), 0);
	ck_assert_int_eq(stats.events, (int64_t)nitems(pids));
	store_close(s);
}
END_TEST

/* Without STORE_OPEN_CREATE, an existing empty file gets the schema. */
START_TEST(test_store_schema_in_empty_file)
{
	char out[256];

	write_file(db_path, "", 0);
	ck_assert_int_eq(open_at(db_path, 0, &store), 0);
	shell_ok("PRAGMA user_version; PRAGMA journal_mode; "
	         "SELECT count(*) FROM events;",
	    out, sizeof out);
	ck_assert_str_eq(out, "3\nwal\n0\n");
}
END_TEST

/* A database with other tables gets ours beside them. */
START_TEST(test_store_schema_beside_other_tables)
{
	char out[256];

	shell_ok(
	    "CREATE TABLE other (x); INSERT INTO other VALUES (42);", NULL, 0);
	ck_assert_int_eq(open_at(db_path, 0, &store), 0);
	append("a", NULL, "x");
	shell_ok("SELECT x FROM other; SELECT count(*) FROM events; "
	         "PRAGMA user_version;",
	    out, sizeof out);
	ck_assert_str_eq(out, "42\n1\n3\n");
}
END_TEST

/* A table made by hand from DESIGN.md (no user_version) is adopted. */
START_TEST(test_store_schema_hand_made_table)
{
	char out[256];

	shell_ok(
	    "CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, "
	    "channel TEXT NOT NULL DEFAULT 'default', event TEXT, "
	    "data TEXT NOT NULL DEFAULT '', created INTEGER NOT NULL "
	    "DEFAULT 0); INSERT INTO events (channel, data) VALUES ('a', 'x');",
	    NULL, 0);
	ck_assert_int_eq(open_at(db_path, 0, &store), 0);
	ck_assert_int_eq(last_id(), 1);
	shell_ok("PRAGMA user_version; SELECT count(*) FROM sqlite_master "
	         "WHERE name = 'events_channel_id';",
	    out, sizeof out);
	ck_assert_str_eq(out, "3\n1\n");
}
END_TEST

/* Events come back in id order with every field as written. */
START_TEST(test_store_append_read_order)
{
	struct collected c = {0};
	int64_t          ids[3], before = testutil_unix_ms();

	ids[0] = append("a", NULL, "first");
	ids[1] = append("b", "add", "second");
	ids[2] = append("a", "del", "third");
	ck_assert_int_lt(ids[0], ids[1]);
	ck_assert_int_lt(ids[1], ids[2]);

	ck_assert_int_eq(read_channels(0, NULL, 0, &c), 3);
	ck_assert_uint_eq(c.count, 3);
	ck_assert_int_eq(c.rows[0].id, ids[0]);
	ck_assert_str_eq(c.rows[0].channel, "a");
	ck_assert_int_eq(c.rows[0].has_event, 0);
	ck_assert_str_eq(c.rows[0].data, "first");
	ck_assert_uint_eq(c.rows[0].data_len, 5);
	ck_assert_int_eq(c.rows[1].id, ids[1]);
	ck_assert_str_eq(c.rows[1].channel, "b");
	ck_assert_int_eq(c.rows[1].has_event, 1);
	ck_assert_str_eq(c.rows[1].event, "add");
	ck_assert_str_eq(c.rows[1].data, "second");
	ck_assert_int_eq(c.rows[2].id, ids[2]);
	ck_assert_str_eq(c.rows[2].event, "del");
	/* created is the unix time in ms, set by the schema's default. */
	ck_assert_int_ge(c.rows[0].created, before - 1000);
	ck_assert_int_le(c.rows[2].created, testutil_unix_ms() + 1000);
	collected_reset(&c);
}
END_TEST

/* Only events with an id greater than `after` are read. */
START_TEST(test_store_read_after_id)
{
	struct collected c = {0};
	int64_t          ids[4];
	size_t           i;

	for (i = 0; i < nitems(ids); i++)
		ids[i] = append("a", NULL, "x");
	ck_assert_int_eq(read_channels(ids[1], NULL, 0, &c), 2);
	ck_assert_int_eq(c.rows[0].id, ids[2]);
	ck_assert_int_eq(c.rows[1].id, ids[3]);
	ck_assert_int_eq(read_channels(ids[3], NULL, 0, &c), 0);
	ck_assert_int_eq(read_channels(ids[3] + 100, NULL, 0, &c), 0);
	ck_assert_int_eq(read_channels(-5, NULL, 0, &c), 4);
	collected_reset(&c);
}
END_TEST

/* A channel filter yields the events of those channels, in id order. */
START_TEST(test_store_read_channels)
{
	static const char *const ac[] = {"a", "c"};
	static const char *const none[] = {"zzz", "y"};
	static const char *const dup[] = {"b", "b", "not valid", "b"};
	struct collected         c = {0};
	int64_t                  a1, b1, c1, a2, c2;

	a1 = append("a", NULL, "a1");
	b1 = append("b", NULL, "b1");
	c1 = append("c", NULL, "c1");
	a2 = append("a", NULL, "a2");
	append("b", NULL, "b2");
	c2 = append("c", NULL, "c2");

	ck_assert_int_eq(read_channels(0, ac, 2, &c), 4);
	ck_assert_int_eq(c.rows[0].id, a1);
	ck_assert_int_eq(c.rows[1].id, c1);
	ck_assert_int_eq(c.rows[2].id, a2);
	ck_assert_int_eq(c.rows[3].id, c2);
	ck_assert_str_eq(c.rows[1].channel, "c");

	ck_assert_int_eq(read_channels(c1, ac, 2, &c), 2);
	ck_assert_int_eq(c.rows[0].id, a2);

	ck_assert_int_eq(read_channels(0, none, 2, &c), 0);

	/* Duplicates count once; an invalid name matches nothing. */
	ck_assert_int_eq(read_channels(0, dup, nitems(dup), &c), 2);
	ck_assert_int_eq(c.rows[0].id, b1);
	ck_assert_str_eq(c.rows[1].data, "b2");
	collected_reset(&c);
}
END_TEST

/* limit caps the rows; a non-zero return from fn stops the read. */
START_TEST(test_store_read_limit_and_stop)
{
	static const char *const b[] = {"b"};
	struct collected         c = {0};
	char                     out[256], wal[600];
	int                      i;

	for (i = 0; i < 10; i++)
		append(i % 2 ? "b" : "a", NULL, "x");
	ck_assert_int_eq(
	    store_read_after(store, 0, NULL, 0, 3, collect, &c), 3);
	ck_assert_int_eq(c.rows[2].id, 3);
	collected_reset(&c);
	ck_assert_int_eq(store_read_after(store, 0, b, 1, 2, collect, &c), 2);
	ck_assert_int_eq(c.rows[1].id, 4);
	collected_reset(&c);

	c.stop_after = 2;
	ck_assert_int_eq(
	    store_read_after(store, 0, NULL, 0, 0, collect, &c), 2);
	ck_assert_uint_eq(c.count, 2);
	collected_reset(&c);
	c.stop_after = 1;
	ck_assert_int_eq(store_read_after(store, 0, b, 1, 0, collect, &c), 1);
	collected_reset(&c);

	/*
	 * No read transaction stayed open after the early stops: a TRUNCATE
	 * checkpoint could not complete past an open reader.
	 */
	shell_ok("PRAGMA wal_checkpoint(TRUNCATE);", out, sizeof out);
	ck_assert_str_eq(out, "0|0|0\n");
	snprintf(wal, sizeof wal, "%s-wal", db_path);
	ck_assert_int_eq(file_size(wal), 0);
}
END_TEST

/* Rows INSERTed by the sqlite3 shell are read like our own. */
START_TEST(test_store_read_shell_rows)
{
	struct collected c = {0};

	shell_ok("INSERT INTO events (channel, event, data) VALUES "
	         "('chat', 'msg', 'hello'); INSERT INTO events (data) VALUES "
	         "('plain');",
	    NULL, 0);
	ck_assert_int_eq(read_channels(0, NULL, 0, &c), 2);
	ck_assert_str_eq(c.rows[0].channel, "chat");
	ck_assert_str_eq(c.rows[0].event, "msg");
	ck_assert_str_eq(c.rows[0].data, "hello");
	ck_assert_str_eq(c.rows[1].channel, "default");
	ck_assert_int_eq(c.rows[1].has_event, 0);
	ck_assert_str_eq(c.rows[1].data, "plain");
	ck_assert_int_gt(c.rows[1].created, testutil_unix_ms() - 60000);
	collected_reset(&c);
}
END_TEST

/* Data with NUL bytes, newlines, UTF-8 or nothing comes back byte for byte. */
START_TEST(test_store_data_roundtrip)
{
	static const char nul[] = "a\0b\0\0c";
	static const char lines[] = "line 1\nline 2\r\n\nline 4\n";
	static const char utf8[] = "h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80";
	struct collected  c = {0};

	ck_assert_int_eq(
	    store_append(store, "a", NULL, nul, sizeof nul - 1, NULL), 0);
	append("a", NULL, lines);
	append("a", NULL, utf8);
	append("a", NULL, "");
	ck_assert_int_eq(store_append(store, "a", NULL, NULL, 0, NULL), 0);

	ck_assert_int_eq(read_channels(0, NULL, 0, &c), 5);
	ck_assert_uint_eq(c.rows[0].data_len, sizeof nul - 1);
	ck_assert(memcmp(c.rows[0].data, nul, sizeof nul - 1) == 0);
	ck_assert_uint_eq(c.rows[1].data_len, strlen(lines));
	ck_assert_str_eq(c.rows[1].data, lines);
	ck_assert_str_eq(c.rows[2].data, utf8);
	ck_assert_uint_eq(c.rows[3].data_len, 0);
	ck_assert_uint_eq(c.rows[4].data_len, 0);
	collected_reset(&c);
}
END_TEST

/* The backlog start makes a read yield exactly the last count events. */
START_TEST(test_store_backlog_start)
{
	static const char *const a[] = {"a"};
	static const char *const ab[] = {"a", "b"};
	static const char *const abc[] = {"a", "b", "c"};
	struct collected         c = {0};
	int64_t                  after = -1, ids[8];
	size_t                   i;

	ck_assert_int_eq(store_backlog_start(store, a, 1, 5, &after), 0);
	ck_assert_int_eq(after, 0);
	for (i = 0; i < nitems(ids); i++)
		ids[i] = append(abc[i % 3], NULL, "x");
	/* a: ids 1, 4, 7; b: 2, 5, 8; c: 3, 6. */
	ck_assert_int_eq(store_backlog_start(store, a, 1, 2, &after), 0);
	ck_assert_int_eq(read_channels(after, a, 1, &c), 2);
	ck_assert_int_eq(c.rows[0].id, ids[3]);
	ck_assert_int_eq(c.rows[1].id, ids[6]);

	ck_assert_int_eq(store_backlog_start(store, ab, 2, 3, &after), 0);
	ck_assert_int_eq(read_channels(after, ab, 2, &c), 3);
	ck_assert_int_eq(c.rows[0].id, ids[4]);
	ck_assert_int_eq(c.rows[2].id, ids[7]);

	/* Exactly as many or fewer events than asked: from the beginning. */
	ck_assert_int_eq(store_backlog_start(store, a, 1, 3, &after), 0);
	ck_assert_int_eq(after, 0);
	ck_assert_int_eq(store_backlog_start(store, a, 1, 100, &after), 0);
	ck_assert_int_eq(after, 0);

	/* All channels. */
	ck_assert_int_eq(store_backlog_start(store, NULL, 0, 2, &after), 0);
	ck_assert_int_eq(read_channels(after, NULL, 0, &c), 2);
	ck_assert_int_eq(c.rows[0].id, ids[6]);

	/* No backlog: start after the newest event. */
	ck_assert_int_eq(store_backlog_start(store, a, 1, 0, &after), 0);
	ck_assert_int_eq(after, ids[7]);
	ck_assert_int_eq(read_channels(after, a, 1, &c), 0);
	collected_reset(&c);
}
END_TEST

/* last_id is 0 on an empty log and then the newest id. */
START_TEST(test_store_last_id)
{
	int64_t id;

	ck_assert_int_eq(last_id(), 0);
	append("a", NULL, "x");
	id = append("b", NULL, "y");
	ck_assert_int_eq(last_id(), id);
}
END_TEST

/* data_version moves when another connection commits, not on our reads. */
START_TEST(test_store_data_version)
{
	struct collected c = {0};
	int64_t          version, id;

	version = data_version(store);
	ck_assert_int_eq(data_version(store), version);
	read_channels(0, NULL, 0, &c);
	ck_assert_int_eq(store_last_id(store, &id), 0);
	ck_assert_int_eq(data_version(store), version);

	/* Note that our own commits do not change it either (SQLite's rule). */
	append("a", NULL, "ours");
	ck_assert_int_eq(data_version(store), version);

	shell_ok("INSERT INTO events (channel, data) VALUES ('a', 'theirs');",
	    NULL, 0);
	ck_assert_int_ne(data_version(store), version);
	collected_reset(&c);
}
END_TEST

/* Each call of append, read, data_version and last_id runs one statement. */
START_TEST(test_store_statements_counted)
{
	static const char *const a[] = {"a"};
	uint64_t                 n;
	int64_t                  value;

	n = store_statements(store);
	append("a", NULL, "x");
	ck_assert_uint_eq(store_statements(store), n + 1);
	ck_assert_int_eq(store_read_after(store, 0, a, 1, 0, NULL, NULL), 1);
	ck_assert_uint_eq(store_statements(store), n + 2);
	ck_assert_int_eq(store_data_version(store, &value), 0);
	ck_assert_int_eq(store_last_id(store, &value), 0);
	ck_assert_uint_eq(store_statements(store), n + 4);
}
END_TEST

/* A bad channel given to store_append is refused by the schema. */
START_TEST(test_store_constraint_append_channel)
{
	static const char *const bad[] = {"", "a b", "a/b", "a*", "a[b]",
	    "caf\xc3\xa9", "tab\t", "a'b", "a\"b", "a\xff"};
	char                     long_channel[CHANNEL_MAX + 2];
	size_t                   i;
	int                      rc;

	append("ok", NULL, "x");
	for (i = 0; i < nitems(bad); i++) {
		rc = store_append(store, bad[i], NULL, "x", 1, NULL);
		ck_assert_msg(
		    rc == STORE_CONSTRAINT, "channel \"%s\": %d", bad[i], rc);
		ck_assert_str_eq(store_errmsg(store),
		    "CHECK constraint failed: channel_valid");
	}
	memset(long_channel, 'x', sizeof long_channel - 1);
	long_channel[sizeof long_channel - 1] = '\0';
	ck_assert_int_eq(store_append(store, long_channel, NULL, "x", 1, NULL),
	    STORE_CONSTRAINT);
	ck_assert_int_eq(
	    store_append(store, NULL, NULL, "x", 1, NULL), STORE_CONSTRAINT);
	ck_assert_str_eq(
	    store_errmsg(store), "NOT NULL constraint failed: events.channel");
	ck_assert_int_eq(last_id(), 1);
}
END_TEST

/* A bad event name given to store_append is refused by the schema. */
START_TEST(test_store_constraint_append_event)
{
	static const char *const bad[] = {"", "a\nb", "a\r", "\r\n"};
	size_t                   i;

	for (i = 0; i < nitems(bad); i++) {
		ck_assert_int_eq(store_append(store, "a", bad[i], "x", 1, NULL),
		    STORE_CONSTRAINT);
		ck_assert_str_eq(store_errmsg(store),
		    "CHECK constraint failed: event_valid");
	}
	ck_assert_int_eq(last_id(), 0);
	append("a", "with space: fine", "x");
}
END_TEST

/* A bad row INSERTed in the sqlite3 shell fails there, clearly, alone. */
START_TEST(test_store_constraint_shell)
{
	static const struct {
		const char *sql;
		const char *message;
	} bad[] = {
	    {"INSERT INTO events (channel) VALUES ('a b');",
	        "CHECK constraint failed: channel_valid"},
	    {"INSERT INTO events (channel) VALUES ('');",
	        "CHECK constraint failed: channel_valid"},
	    {"INSERT INTO events (channel) VALUES ('caf\xc3\xa9');",
	        "CHECK constraint failed: channel_valid"},
	    {"INSERT INTO events (channel) VALUES (printf('%.*c', 65, 'x'));",
	        "CHECK constraint failed: channel_valid"},
	    {"INSERT INTO events (channel) VALUES ('a' || char(0));",
	        "CHECK constraint failed: channel_valid"},
	    {"INSERT INTO events (channel) VALUES (X'61');",
	        "CHECK constraint failed: channel_valid"},
	    {"INSERT INTO events (channel) VALUES (NULL);",
	        "NOT NULL constraint failed: events.channel"},
	    {"INSERT INTO events (event) VALUES ('a' || char(10));",
	        "CHECK constraint failed: event_valid"},
	    {"INSERT INTO events (event) VALUES ('a' || char(13) || 'b');",
	        "CHECK constraint failed: event_valid"},
	    {"INSERT INTO events (event) VALUES (printf('%.*c', 65, 'e'));",
	        "CHECK constraint failed: event_valid"},
	    {"INSERT INTO events (data) VALUES (X'00ff');",
	        "CHECK constraint failed: data_is_text"},
	    {"INSERT INTO events (created) VALUES ('yesterday');",
	        "CHECK constraint failed: created_is_integer"},
	    {"INSERT INTO events (event) VALUES ('pause');",
	        "CHECK constraint failed: event_not_reserved"},
	    {"INSERT INTO events (event) VALUES ('reset');",
	        "CHECK constraint failed: event_not_reserved"},
	    {"UPDATE events SET event = 'pause';",
	        "CHECK constraint failed: event_not_reserved"},
	    {"INSERT INTO events (id) VALUES (9007199254740992);",
	        "CHECK constraint failed: id_in_range"},
	    {"INSERT INTO events (id) VALUES (0);",
	        "CHECK constraint failed: id_in_range"},
	    {"INSERT INTO events (id) VALUES (-3);",
	        "CHECK constraint failed: id_in_range"},
	    {"UPDATE events SET id = 9007199254740992;",
	        "CHECK constraint failed: id_in_range"},
	};
	char    out[1024], before[1024];
	int64_t version;
	size_t  i;

	append("a-b.c:d_E9", NULL, "kept");
	shell_ok("SELECT * FROM events;", before, sizeof before);
	version = data_version(store);
	for (i = 0; i < nitems(bad); i++) {
		ck_assert_int_ne(shell(bad[i].sql, out, sizeof out), 0);
		ck_assert_msg(strstr(out, bad[i].message) != NULL,
		    "%s said: %s", bad[i].sql, out);
	}
	/* Nothing was committed and the good row is as it was. */
	ck_assert_int_eq(data_version(store), version);
	shell_ok("SELECT * FROM events;", out, sizeof out);
	ck_assert_str_eq(out, before);

	/* The edges that are allowed. */
	shell_ok("INSERT INTO events (channel, event) VALUES "
	         "(printf('%.*c', 64, 'x'), printf('%.*c', 64, 'e'));"
	         "INSERT INTO events (channel) VALUES ('-');"
	         "INSERT INTO events (channel) VALUES (123);"
	         "INSERT INTO events (event) VALUES ('Pause');",
	    NULL, 0);
	ck_assert_int_eq(last_id(), 5);
}
END_TEST

/* The largest id is taken; the automatic one after it is refused. */
START_TEST(test_store_constraint_id_limit)
{
	char    out[1024];
	int64_t id = 0;

	shell_ok(
	    "INSERT INTO events (id, data) VALUES (9007199254740991, 'x');",
	    NULL, 0);
	ck_assert_int_eq(last_id(), STORE_ID_MAX);
	ck_assert_int_eq(
	    store_append(store, "a", NULL, "y", 1, &id), STORE_CONSTRAINT);
	ck_assert_str_eq(
	    store_errmsg(store), "CHECK constraint failed: id_in_range");
	ck_assert_int_ne(
	    shell("INSERT INTO events (data) VALUES ('z');", out, sizeof out),
	    0);
	ck_assert(strstr(out, "id_in_range") != NULL);
	ck_assert_int_eq(last_id(), STORE_ID_MAX);
}
END_TEST

/* The store refuses reserved names itself, and says which rule. */
START_TEST(test_store_constraint_reserved_append)
{
	ck_assert_int_eq(
	    store_append(store, "a", "pause", "0", 1, NULL), STORE_CONSTRAINT);
	ck_assert_str_eq(
	    store_errmsg(store), "CHECK constraint failed: event_not_reserved");
	ck_assert(store_event_reserved("pause"));
	ck_assert(store_event_reserved("reset"));
	ck_assert(!store_event_reserved("Pause"));
	ck_assert(!store_event_reserved(NULL));
	ck_assert_int_eq(last_id(), 0);
}
END_TEST

/* Makes the test database a schema 1 one, as litepush 1 left it. */
static void
make_schema_1(void)
{
	shell_ok(
	    "DROP TRIGGER events_event_not_reserved;"
	    "DROP TRIGGER events_event_not_reserved_update;"
	    "DROP TRIGGER events_id_in_range;"
	    "DROP TRIGGER events_id_in_range_update;"
	    "DROP TRIGGER events_edited; DROP TRIGGER events_deleted;"
	    "DROP TABLE litepush_meta; ALTER TABLE events DROP COLUMN sender;"
	    "PRAGMA user_version = 1;",
	    NULL, 0);
}

/* Makes the test database a schema 2 one: no sender column. */
static void
make_schema_2(void)
{
	shell_ok("ALTER TABLE events DROP COLUMN sender; "
	         "PRAGMA user_version = 2;",
	    NULL, 0);
}

/*
 * A schema 2 database is migrated to 3: the sender column added, with its
 * rule, the rows kept (no sender).  Open read-only, it is read as it is.
 */
START_TEST(test_store_schema_migrate_2_to_3)
{
	struct collected c = {0};
	char             out[1024], insert[512];
	int64_t          id;

	store_close(store);
	store = NULL;
	make_schema_2();
	shell_ok(
	    "INSERT INTO events (channel, data) VALUES ('a', 'old');", NULL, 0);
	ck_assert_int_eq(open_at(db_path, STORE_OPEN_READONLY, &store), 0);
	ck_assert_int_eq(
	    store_read_after(store, 0, NULL, 0, 0, collect, &c), 1);
	ck_assert_str_eq(c.rows[0].data, "old");
	ck_assert_int_eq(c.rows[0].has_sender, 0);
	collected_reset(&c);
	store_close(store);
	shell_ok("PRAGMA user_version;", out, sizeof out);
	ck_assert_str_eq(out, "2\n");

	ck_assert_int_eq(open_at(db_path, 0, &store), 0);
	shell_ok("PRAGMA user_version; SELECT count(*) FROM "
	         "pragma_table_info('events') WHERE name = 'sender';"
	         "SELECT data, sender IS NULL FROM events;",
	    out, sizeof out);
	ck_assert_str_eq(out, "3\n1\nold|1\n");
	ck_assert_int_eq(
	    store_append_by(store, "a", "msg", "alice", "hi", 2, &id), 0);
	ck_assert_int_eq(
	    store_read_after(store, 0, NULL, 0, 0, collect, &c), 2);
	ck_assert_int_eq(c.rows[0].has_sender, 0);
	ck_assert_int_eq(c.rows[1].has_sender, 1);
	ck_assert_str_eq(c.rows[1].sender, "alice");
	collected_reset(&c);

	/* The rule, as a raw publisher meets it. */
	shell_ok("INSERT INTO events (channel, data, sender)"
	         " VALUES ('a', 'x', 'bob');",
	    NULL, 0);
	ck_assert_int_ne(shell("INSERT INTO events (channel, sender) VALUES"
	                       " ('a', 'eve' || char(10) || 'x');",
	                     out, sizeof out),
	    0);
	ck_assert(strstr(out, "sender_valid") != NULL);
	ck_assert_int_ne(
	    shell("INSERT INTO events (channel, sender) VALUES ('a', '');", out,
	        sizeof out),
	    0);
	ck_assert(strstr(out, "sender_valid") != NULL);
	snprintf(insert, sizeof insert,
	    "INSERT INTO events (channel, sender) VALUES ('a', '%0129d');", 0);
	ck_assert_int_ne(shell(insert, out, sizeof out), 0);
	ck_assert(strstr(out, "sender_valid") != NULL);
	ck_assert_int_ne(
	    shell("INSERT INTO events (channel, sender) VALUES ('a', x'41');",
	        out, sizeof out),
	    0);
	ck_assert_int_eq(
	    store_append_by(store, "a", NULL, "x\ry", "d", 1, NULL),
	    STORE_CONSTRAINT);
	ck_assert(strstr(store_errmsg(store), "sender_valid") != NULL);
}
END_TEST

/* A schema 1 database is migrated: rules added, its prune recorded. */
START_TEST(test_store_schema_migrate_1_to_2)
{
	struct store_log state;
	char             out[1024];
	int              i;

	store_close(store);
	store = NULL;
	make_schema_1();
	for (i = 0; i < 5; i++)
		shell_ok(
		    "INSERT INTO events (data, event) VALUES ('x', 'pause');",
		    NULL, 0);
	shell_ok("DELETE FROM events WHERE id <= 3;", NULL, 0);
	/* Read-only: no migration, and nothing is recorded. */
	ck_assert_int_eq(open_at(db_path, STORE_OPEN_READONLY, &store), 0);
	ck_assert_int_eq(store_log_state(store, &state), 0);
	ck_assert_int_eq(state.pruned, 0);
	ck_assert_int_eq(state.newest, 5);
	store_close(store);
	ck_assert_int_eq(open_at(db_path, 0, &store), 0);
	shell_ok(
	    "PRAGMA user_version; SELECT edits, pruned FROM litepush_meta;",
	    out, sizeof out);
	ck_assert_str_eq(out, "3\n0|3\n");
	ck_assert_int_ne(shell("INSERT INTO events (event) VALUES ('reset');",
	                     out, sizeof out),
	    0);
	ck_assert(strstr(out, "event_not_reserved") != NULL);
	/* The rows it had are kept as they were. */
	shell_ok("SELECT count(*) FROM events WHERE event = 'pause';", out,
	    sizeof out);
	ck_assert_str_eq(out, "2\n");
}
END_TEST

/* Every DELETE or UPDATE moves edits; inserts do not. */
START_TEST(test_store_log_edits)
{
	struct store_log state, before;
	int              i;

	for (i = 0; i < 10; i++)
		append("a", NULL, "x");
	ck_assert_int_eq(store_log_state(store, &before), 0);
	ck_assert_int_eq(before.newest, 10);
	ck_assert_int_eq(before.pruned, 0);
	append("a", NULL, "x");
	ck_assert_int_eq(store_log_state(store, &state), 0);
	ck_assert_int_eq(state.edits, before.edits);
	ck_assert_int_eq(state.newest, 11);
	shell_ok("UPDATE events SET data = 'moderated' WHERE id = 7;", NULL, 0);
	ck_assert_int_eq(store_log_state(store, &state), 0);
	ck_assert_int_gt(state.edits, before.edits);
	before = state;
	/* A row in the middle is deleted: an edit, not a prune. */
	shell_ok("DELETE FROM events WHERE id = 5;", NULL, 0);
	ck_assert_int_eq(store_log_state(store, &state), 0);
	ck_assert_int_gt(state.edits, before.edits);
	ck_assert_int_eq(state.pruned, 0);
}
END_TEST

/* How far the log was pruned, whatever order the rows went in. */
START_TEST(test_store_log_pruned)
{
	struct store_log state;
	int64_t          oldest, deleted;
	int              i;

	for (i = 0; i < 100; i++)
		append("a", NULL, "x");
	ck_assert_int_eq(store_oldest_id(store, &oldest), 0);
	ck_assert_int_eq(oldest, 1);
	/* Newest first: only the last one has nothing older left. */
	shell_ok("DELETE FROM events WHERE id IN "
	         "(SELECT id FROM events WHERE id <= 20 ORDER BY id DESC);",
	    NULL, 0);
	ck_assert_int_eq(store_log_state(store, &state), 0);
	ck_assert_int_eq(state.pruned, 20);
	ck_assert_int_eq(store_prune_keep_last(store, 10, &deleted), 0);
	ck_assert_int_eq(deleted, 70);
	ck_assert_int_eq(store_log_state(store, &state), 0);
	ck_assert_int_eq(state.pruned, 90);
	ck_assert_int_eq(store_oldest_id(store, &oldest), 0);
	ck_assert_int_eq(oldest, 91);
	/* The newest rows deleted: not a prune. */
	shell_ok("DELETE FROM events WHERE id > 95;", NULL, 0);
	ck_assert_int_eq(store_log_state(store, &state), 0);
	ck_assert_int_eq(state.pruned, 90);
	ck_assert_int_eq(state.newest, 100);
	/* All of it: up to the newest id given. */
	shell_ok("DELETE FROM events;", NULL, 0);
	ck_assert_int_eq(store_log_state(store, &state), 0);
	ck_assert_int_eq(state.pruned, 100);
	ck_assert_int_eq(store_oldest_id(store, &oldest), 0);
	ck_assert_int_eq(oldest, 101);
	/* A reset log: the newest id goes down. */
	shell_ok("DELETE FROM sqlite_sequence; INSERT INTO events (data) "
	         "VALUES ('new');",
	    NULL, 0);
	ck_assert_int_eq(store_log_state(store, &state), 0);
	ck_assert_int_eq(state.newest, 1);
	ck_assert_int_eq(store_oldest_id(store, &oldest), 0);
	ck_assert_int_eq(oldest, 1);
}
END_TEST

/* A file removed or replaced under an open store is noticed. */
START_TEST(test_store_moved)
{
	char moved[600];

	ck_assert(!store_moved(store));
	snprintf(moved, sizeof moved, "%s.old", db_path);
	ck_assert_int_eq(rename(db_path, moved), 0);
	ck_assert(store_moved(store));
	ck_assert_int_eq(rename(moved, db_path), 0);
	ck_assert(!store_moved(store));
	ck_assert_int_eq(unlink(db_path), 0);
	ck_assert(store_moved(store));
	write_file(db_path, "", 0);
	ck_assert(store_moved(store));
}
END_TEST

/* channel_valid() and the schema agree on every byte. */
START_TEST(test_store_channel_rule_matches_schema)
{
	char name[4];
	int  c, valid, rc;

	for (c = 1; c < 256; c++) {
		snprintf(name, sizeof name, "%c", c);
		valid = channel_valid(name, 1);
		rc = store_append(store, name, NULL, "x", 1, NULL);
		ck_assert_msg((rc == 0) == (valid != 0),
		    "byte 0x%02x: channel_valid %d, append %d (%s)", c, valid,
		    rc, store_errmsg(store));
		snprintf(name, sizeof name, "a%cb", c);
		valid = channel_valid(name, 3);
		rc = store_append(store, name, NULL, "x", 1, NULL);
		ck_assert_msg((rc == 0) == (valid != 0),
		    "byte 0x%02x inside: channel_valid %d, append %d", c, valid,
		    rc);
	}
	/* [A-Za-z0-9_.:-]: 26 + 26 + 10 + 4 single-byte names. */
	ck_assert_int_eq(last_id(), 2 * 66);
}
END_TEST

/* channel_valid() by hand: length and characters. */
START_TEST(test_channel_valid)
{
	char name[CHANNEL_MAX + 1];

	ck_assert(channel_valid("default", 7));
	ck_assert(channel_valid("a-b.c:d_E9", 10));
	ck_assert(channel_valid("-", 1));
	ck_assert(!channel_valid("", 0));
	ck_assert(!channel_valid(NULL, 0));
	ck_assert(!channel_valid("a b", 3));
	ck_assert(!channel_valid("a\0b", 3));
	ck_assert(!channel_valid("caf\xc3\xa9", 5));
	/* Only len bytes count. */
	ck_assert(channel_valid("ab cd", 2));
	memset(name, 'x', sizeof name);
	ck_assert(channel_valid(name, CHANNEL_MAX));
	ck_assert(!channel_valid(name, CHANNEL_MAX + 1));
}
END_TEST

/* prune_keep_last keeps the newest events; ids are never reused. */
START_TEST(test_store_prune_keep_last)
{
	struct collected c = {0};
	int64_t          deleted = -1;
	int              i;

	for (i = 0; i < 10; i++)
		append("a", NULL, "x");
	ck_assert_int_eq(store_prune_keep_last(store, 20, &deleted), 0);
	ck_assert_int_eq(deleted, 0);
	ck_assert_int_eq(store_prune_keep_last(store, 3, &deleted), 0);
	ck_assert_int_eq(deleted, 7);
	ck_assert_int_eq(read_channels(0, NULL, 0, &c), 3);
	ck_assert_int_eq(c.rows[0].id, 8);
	ck_assert_int_eq(c.rows[2].id, 10);

	ck_assert_int_eq(store_prune_keep_last(store, 0, &deleted), 0);
	ck_assert_int_eq(deleted, 3);
	ck_assert_int_eq(last_id(), 0);
	ck_assert_int_eq(append("a", NULL, "x"), 11);

	ck_assert_int_eq(
	    store_prune_keep_last(store, -1, &deleted), STORE_ERROR);
	ck_assert_int_eq(last_id(), 11);
	collected_reset(&c);
}
END_TEST

/* prune_before deletes the events created before the cutoff. */
START_TEST(test_store_prune_before)
{
	struct collected c = {0};
	int64_t          deleted = -1;

	shell_ok("INSERT INTO events (channel, created) VALUES ('a', 1000), "
	         "('b', 2000), ('a', 3000), ('b', 4000);",
	    NULL, 0);
	ck_assert_int_eq(store_prune_before(store, 1000, &deleted), 0);
	ck_assert_int_eq(deleted, 0);
	ck_assert_int_eq(store_prune_before(store, 3000, &deleted), 0);
	ck_assert_int_eq(deleted, 2);
	ck_assert_int_eq(read_channels(0, NULL, 0, &c), 2);
	ck_assert_int_eq(c.rows[0].created, 3000);
	ck_assert_int_eq(c.rows[1].created, 4000);
	/* New events are created now, long after the cutoff. */
	append("a", NULL, "x");
	ck_assert_int_eq(
	    store_prune_before(store, testutil_unix_ms() - 60000, &deleted), 0);
	ck_assert_int_eq(deleted, 2);
	ck_assert_int_eq(read_channels(0, NULL, 0, &c), 1);
	collected_reset(&c);
}
END_TEST

/* The per-channel counts seen by a store_channel_fn. */
struct channel_counts {
	size_t  count;
	char    names[8][CHANNEL_MAX + 1];
	int64_t counts[8];
};

/* A store_channel_fn that records each channel. */
static int
count_channel(const char *channel, int64_t count, void *arg)
{
	struct channel_counts *cc = arg;

	ck_assert_uint_lt(cc->count, 8);
	snprintf(cc->names[cc->count], sizeof cc->names[0], "%s", channel);
	cc->counts[cc->count++] = count;
	return 0;
}

/* Stats of an empty log: zeros and a real file size. */
START_TEST(test_store_stats_empty)
{
	struct store_stats    stats;
	struct channel_counts cc = {0};

	ck_assert_int_eq(store_stats(store, &stats, count_channel, &cc), 0);
	ck_assert_int_eq(stats.events, 0);
	ck_assert_int_eq(stats.first_id, 0);
	ck_assert_int_eq(stats.last_id, 0);
	ck_assert_int_eq(stats.file_size, file_size(db_path));
	ck_assert_int_gt(stats.file_size, 0);
	ck_assert_uint_eq(cc.count, 0);
}
END_TEST

/* Stats count the events and every channel, in channel order. */
START_TEST(test_store_stats)
{
	struct store_stats    stats;
	struct channel_counts cc = {0};
	int64_t               deleted;

	append("b", NULL, "1");
	append("a", NULL, "2");
	append("c", NULL, "3");
	append("a", NULL, "4");
	append("a", NULL, "5");
	ck_assert_int_eq(store_prune_keep_last(store, 4, &deleted), 0);
	ck_assert_int_eq(store_stats(store, &stats, count_channel, &cc), 0);
	ck_assert_int_eq(stats.events, 4);
	ck_assert_int_eq(stats.first_id, 2);
	ck_assert_int_eq(stats.last_id, 5);
	ck_assert_uint_eq(cc.count, 2);
	ck_assert_str_eq(cc.names[0], "a");
	ck_assert_int_eq(cc.counts[0], 3);
	ck_assert_str_eq(cc.names[1], "c");
	ck_assert_int_eq(cc.counts[1], 1);
	ck_assert_int_eq(store_stats(store, &stats, NULL, NULL), 0);
	ck_assert_int_eq(stats.events, 4);
}
END_TEST

/* A file that is not a database is refused as such and left alone. */
START_TEST(test_store_open_not_a_database)
{
	static const char *const contents[] = {
	    "hello, world\n", "SQLite format 3"};
	char          garbage[4096], expected[600];
	char          check[4096];
	struct store *s = (struct store *)&s;
	size_t        i;
	FILE         *f;

	snprintf(
	    expected, sizeof expected, "%s: file is not a database", db_path);
	for (i = 0; i < sizeof garbage; i++)
		garbage[i] = (char)(i * 7 + 3);
	write_file(db_path, garbage, sizeof garbage);
	ck_assert_int_eq(open_at(db_path, STORE_OPEN_CREATE, &s), STORE_NOTDB);
	ck_assert(s == NULL);
	ck_assert_str_eq(errbuf, expected);
	f = fopen(db_path, "rb");
	ck_assert(f != NULL);
	ck_assert_uint_eq(fread(check, 1, sizeof check, f), sizeof check);
	fclose(f);
	ck_assert(memcmp(check, garbage, sizeof garbage) == 0);

	for (i = 0; i < nitems(contents); i++) {
		write_file(db_path, contents[i], strlen(contents[i]));
		ck_assert_int_eq(open_at(db_path, 0, &store), STORE_NOTDB);
		ck_assert_str_eq(errbuf, expected);
		ck_assert_int_eq(
		    open_at(db_path, STORE_OPEN_READONLY, &store), STORE_NOTDB);
		ck_assert_int_eq(file_size(db_path), strlen(contents[i]));
	}
}
END_TEST

/* Another program's events table is refused and left untouched. */
START_TEST(test_store_open_foreign_table)
{
	char out[512], before[512], expected[700];

	shell_ok("CREATE TABLE events (id INTEGER PRIMARY KEY, name TEXT); "
	         "INSERT INTO events (name) VALUES ('party');",
	    NULL, 0);
	shell_ok("SELECT * FROM sqlite_master; PRAGMA user_version; "
	         "PRAGMA journal_mode;",
	    before, sizeof before);
	ck_assert_int_eq(
	    open_at(db_path, STORE_OPEN_CREATE, &store), STORE_FOREIGN);
	snprintf(expected, sizeof expected,
	    "%s: table events exists but is not a litepush event log"
	    " (missing column channel)",
	    db_path);
	ck_assert_str_eq(errbuf, expected);
	shell_ok("SELECT * FROM sqlite_master; PRAGMA user_version; "
	         "PRAGMA journal_mode;",
	    out, sizeof out);
	ck_assert_str_eq(out, before);
	ck_assert(strstr(out, "delete") != NULL);

	/* Our columns, but id is not the rowid. */
	shell_ok("DROP TABLE events; CREATE TABLE events (id TEXT, channel, "
	         "event, data, created);",
	    NULL, 0);
	ck_assert_int_eq(open_at(db_path, 0, &store), STORE_FOREIGN);
	ck_assert(strstr(errbuf, "INTEGER PRIMARY KEY") != NULL);
}
END_TEST

/* A view called events is not our table either. */
START_TEST(test_store_open_foreign_view)
{

	shell_ok("CREATE VIEW events AS SELECT 1 AS id;", NULL, 0);
	ck_assert_int_eq(open_at(db_path, 0, &store), STORE_FOREIGN);
	ck_assert(strstr(errbuf, "events is a view") != NULL);
}
END_TEST

/* A schema newer than ours is refused; another user_version is not ours. */
START_TEST(test_store_open_newer_schema)
{
	char expected[700];

	store_close(store);
	store = NULL;
	shell_ok("PRAGMA user_version = 4;", NULL, 0);
	ck_assert_int_eq(open_at(db_path, 0, &store), STORE_ERROR);
	snprintf(expected, sizeof expected,
	    "%s: schema version 4 is newer than this litepush's (3)", db_path);
	ck_assert_str_eq(errbuf, expected);

	shell_ok("DROP TABLE events; PRAGMA user_version = 7;", NULL, 0);
	ck_assert_int_eq(
	    open_at(db_path, STORE_OPEN_CREATE, &store), STORE_FOREIGN);
	ck_assert(strstr(errbuf, "not a litepush database") != NULL);
}
END_TEST

/* A missing file is an error unless STORE_OPEN_CREATE, and stays missing. */
START_TEST(test_store_open_missing_file)
{
	char expected[600], path[512];

	snprintf(
	    expected, sizeof expected, "%s: %s", db_path, strerror(ENOENT));
	ck_assert_int_eq(open_at(db_path, 0, &store), STORE_ERROR);
	ck_assert(store == NULL);
	ck_assert_str_eq(errbuf, expected);
	ck_assert_int_eq(
	    open_at(db_path, STORE_OPEN_READONLY | STORE_OPEN_CREATE, &store),
	    STORE_ERROR);
	ck_assert_int_eq(file_size(db_path), -1);

	/* No such directory, even with STORE_OPEN_CREATE. */
	testutil_path(path, sizeof path, "nodir/events.db");
	ck_assert_int_eq(store_open(path, STORE_OPEN_CREATE,
	                     CHECK_STORE_BUSY_MS, &store, NULL, 0),
	    STORE_ERROR);

	/* A directory. */
	testutil_path(path, sizeof path, "");
	ck_assert_int_eq(open_at(path, STORE_OPEN_CREATE, &store), STORE_ERROR);
	ck_assert(strstr(errbuf, "is a directory") != NULL);
}
END_TEST

/* A read-only store reads, never writes, and needs the schema. */
START_TEST(test_store_open_readonly)
{
	struct collected c = {0};
	int64_t          version;

	append("a", NULL, "x");
	store_close(store);
	store = NULL;

	ck_assert_int_eq(open_at(db_path, STORE_OPEN_READONLY, &store), 0);
	ck_assert_int_eq(read_channels(0, NULL, 0, &c), 1);
	version = data_version(store);
	ck_assert_int_eq(
	    store_append(store, "a", NULL, "y", 1, NULL), STORE_ERROR);
	ck_assert(strstr(store_errmsg(store), "readonly") != NULL);
	ck_assert_int_eq(store_prune_keep_last(store, 0, NULL), STORE_ERROR);
	ck_assert_int_eq(read_channels(0, NULL, 0, &c), 1);
	ck_assert_int_eq(data_version(store), version);
	store_close(store);
	store = NULL;

	/* An empty file has no schema, and a read-only open makes none. */
	testutil_path(db_path, sizeof db_path, "empty.db");
	write_file(db_path, "", 0);
	ck_assert_int_eq(
	    open_at(db_path, STORE_OPEN_READONLY, &store), STORE_ERROR);
	ck_assert(strstr(errbuf, "no events table") != NULL);
	ck_assert_int_eq(file_size(db_path), 0);
	collected_reset(&c);
}
END_TEST

/* A write lock held past the busy timeout is STORE_BUSY: try again. */
START_TEST(test_store_busy)
{
	sqlite3        *other;
	struct timespec t0, t1;
	long            elapsed_ms;
	int             rc;

	store_close(store);
	ck_assert_int_eq(
	    store_open(db_path, 0, 100, &store, errbuf, sizeof errbuf), 0);
	ck_assert_int_eq(sqlite3_open(db_path, &other), SQLITE_OK);
	ck_assert_int_eq(
	    sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL),
	    SQLITE_OK);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = store_append(store, "a", NULL, "x", 1, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	elapsed_ms = (t1.tv_sec - t0.tv_sec) * 1000 +
	             (t1.tv_nsec - t0.tv_nsec) / 1000000;
	ck_assert_int_eq(rc, STORE_BUSY);
	ck_assert_str_eq(store_errmsg(store), "database is locked");
	ck_assert_int_ge(elapsed_ms, 90);
	/* Readers are not blocked by the writer (WAL). */
	ck_assert_int_eq(last_id(), 0);

	ck_assert_int_eq(
	    sqlite3_exec(other, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(other);
	append("a", NULL, "x");
}
END_TEST

/* The callback of a read may not read again from the same store. */
static int
read_again(const struct store_event *ev, void *arg)
{
	int *rc = arg;

	(void)ev;
	*rc = store_read_after(store, 0, NULL, 0, 0, NULL, NULL);
	return 0;
}

/* A nested store_read_after() is refused instead of restarting the outer. */
START_TEST(test_store_read_nested_refused)
{
	int inner = 0;

	append("a", NULL, "x");
	append("a", NULL, "y");
	ck_assert_int_eq(
	    store_read_after(store, 0, NULL, 0, 0, read_again, &inner), 2);
	ck_assert_int_eq(inner, STORE_ERROR);
	/* The store is usable afterwards. */
	ck_assert_int_eq(
	    store_read_after(store, 0, NULL, 0, 0, read_again, &inner), 2);
}
END_TEST

/* The length limits of channel and event are exact, in bytes. */
START_TEST(test_store_limits_lengths)
{
	char channel[CHANNEL_MAX + 2], event[STORE_EVENT_MAX + 4];
	int  i;

	memset(channel, 'c', CHANNEL_MAX);
	channel[CHANNEL_MAX] = '\0';
	memset(event, 'e', STORE_EVENT_MAX);
	event[STORE_EVENT_MAX] = '\0';
	append(channel, event, "x");
	channel[CHANNEL_MAX] = 'c';
	channel[CHANNEL_MAX + 1] = '\0';
	ck_assert_int_eq(
	    store_append(store, channel, NULL, "x", 1, NULL), STORE_CONSTRAINT);
	event[STORE_EVENT_MAX] = 'e';
	event[STORE_EVENT_MAX + 1] = '\0';
	ck_assert_int_eq(
	    store_append(store, "a", event, "x", 1, NULL), STORE_CONSTRAINT);

	/* 32 two-byte characters are 64 bytes; 33 are too many. */
	for (i = 0; i < 33; i++)
		memcpy(event + 2 * i, "\xc3\xa9", 2);
	event[64] = '\0';
	append("a", event, "x");
	event[64] = '\xc3';
	event[65] = '\xa9';
	event[66] = '\0';
	ck_assert_int_eq(
	    store_append(store, "a", event, "x", 1, NULL), STORE_CONSTRAINT);
	ck_assert_int_eq(last_id(), 2);
}
END_TEST

/* A megabyte of data goes in and comes out whole. */
START_TEST(test_store_limits_large_data)
{
	struct collected c = {0};
	size_t           len = 1024 * 1024, i;
	char            *data;

	data = malloc(len);
	ck_assert(data != NULL);
	for (i = 0; i < len; i++)
		data[i] = (char)('a' + i % 26);
	data[len / 2] = '\0';
	ck_assert_int_eq(store_append(store, "big", NULL, data, len, NULL), 0);
	ck_assert_int_eq(read_channels(0, NULL, 0, &c), 1);
	ck_assert_uint_eq(c.rows[0].data_len, len);
	ck_assert(memcmp(c.rows[0].data, data, len) == 0);
	free(data);
	collected_reset(&c);
}
END_TEST

/* A filter of many channels (some invalid, some repeated) still works. */
START_TEST(test_store_limits_many_channels)
{
	static char      names[300][16];
	const char      *channels[300];
	struct collected c = {0};
	int64_t          after;
	size_t           i;

	for (i = 0; i < nitems(names); i++) {
		if (i % 50 == 49)
			snprintf(names[i], sizeof names[i], "bad name %zu", i);
		else
			snprintf(names[i], sizeof names[i], "ch%zu", i % 200);
		channels[i] = names[i];
	}
	append("ch3", NULL, "1");
	append("other", NULL, "2");
	append("ch150", NULL, "3");
	append("ch200", NULL, "4");
	ck_assert_int_eq(read_channels(0, channels, nitems(channels), &c), 2);
	ck_assert_str_eq(c.rows[0].channel, "ch3");
	ck_assert_str_eq(c.rows[1].channel, "ch150");
	ck_assert_int_eq(
	    store_backlog_start(store, channels, nitems(channels), 1, &after),
	    0);
	ck_assert_int_eq(after, 1);
	collected_reset(&c);
}
END_TEST

/* Puts the tests together, one TCase per concern. */
static Suite *
store_suite(void)
{
	Suite *s = suite_create("store");
	TCase *tc;

	tc = tcase_create("schema");
	tcase_add_checked_fixture(tc, setup_store, teardown);
	tcase_add_test(tc, test_store_schema_created);
	tcase_add_test(tc, test_store_schema_idempotent);
	tcase_add_test(tc, test_store_schema_concurrent_create);
	tcase_add_test(tc, test_store_schema_migrate_1_to_2);
	tcase_add_test(tc, test_store_schema_migrate_2_to_3);
	suite_add_tcase(s, tc);

	tc = tcase_create("adopt");
	tcase_add_checked_fixture(tc, setup_dir, teardown);
	tcase_add_test(tc, test_store_schema_in_empty_file);
	tcase_add_test(tc, test_store_schema_beside_other_tables);
	tcase_add_test(tc, test_store_schema_hand_made_table);
	suite_add_tcase(s, tc);

	tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup_store, teardown);
	tcase_add_test(tc, test_store_append_read_order);
	tcase_add_test(tc, test_store_read_after_id);
	tcase_add_test(tc, test_store_read_channels);
	tcase_add_test(tc, test_store_read_limit_and_stop);
	tcase_add_test(tc, test_store_read_shell_rows);
	tcase_add_test(tc, test_store_data_roundtrip);
	tcase_add_test(tc, test_store_backlog_start);
	tcase_add_test(tc, test_store_last_id);
	tcase_add_test(tc, test_store_data_version);
	tcase_add_test(tc, test_store_statements_counted);
	suite_add_tcase(s, tc);

	tc = tcase_create("constraints");
	tcase_add_checked_fixture(tc, setup_store, teardown);
	tcase_add_test(tc, test_store_constraint_append_channel);
	tcase_add_test(tc, test_store_constraint_append_event);
	tcase_add_test(tc, test_store_constraint_shell);
	tcase_add_test(tc, test_store_constraint_id_limit);
	tcase_add_test(tc, test_store_constraint_reserved_append);
	tcase_add_test(tc, test_store_channel_rule_matches_schema);
	tcase_add_test(tc, test_channel_valid);
	suite_add_tcase(s, tc);

	tc = tcase_create("prune");
	tcase_add_checked_fixture(tc, setup_store, teardown);
	tcase_add_test(tc, test_store_prune_keep_last);
	tcase_add_test(tc, test_store_prune_before);
	tcase_add_test(tc, test_store_log_edits);
	tcase_add_test(tc, test_store_log_pruned);
	tcase_add_test(tc, test_store_moved);
	suite_add_tcase(s, tc);

	tc = tcase_create("stats");
	tcase_add_checked_fixture(tc, setup_store, teardown);
	tcase_add_test(tc, test_store_stats_empty);
	tcase_add_test(tc, test_store_stats);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_checked_fixture(tc, setup_dir, teardown);
	tcase_add_test(tc, test_store_open_not_a_database);
	tcase_add_test(tc, test_store_open_foreign_table);
	tcase_add_test(tc, test_store_open_foreign_view);
	tcase_add_test(tc, test_store_open_missing_file);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors_open_store");
	tcase_add_checked_fixture(tc, setup_store, teardown);
	tcase_add_test(tc, test_store_open_newer_schema);
	tcase_add_test(tc, test_store_open_readonly);
	tcase_add_test(tc, test_store_busy);
	tcase_add_test(tc, test_store_read_nested_refused);
	suite_add_tcase(s, tc);

	tc = tcase_create("limits");
	tcase_add_checked_fixture(tc, setup_store, teardown);
	tcase_add_test(tc, test_store_limits_lengths);
	tcase_add_test(tc, test_store_limits_large_data);
	tcase_add_test(tc, test_store_limits_many_channels);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(store_suite());
	int      failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0;
}
