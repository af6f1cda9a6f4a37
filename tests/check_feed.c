/* check_feed.c: unit tests of the feed: ring, cursors, catch-up and wake-ups. */
#include "config.h"

#include <check.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "feed.h"
#include "loop.h"
#include "store.h"
#include "testutil.h"

static char          db_path[512];
static struct store *writer;
static struct loop  *loop;

/* Makes a fresh database, a writer connection and a loop for each test. */
static void
setup(void)
{
	char err[256];

	testutil_tmpdir_create();
	testutil_path(db_path, sizeof db_path, "events.db");
	ck_assert_int_eq(store_open(db_path, STORE_OPEN_CREATE, 5000, &writer,
	                     err, sizeof err),
	    0);
	loop = loop_create();
	ck_assert_ptr_nonnull(loop);
}

/* Frees what setup() made. */
static void
teardown(void)
{
	store_close(writer);
	writer = NULL;
	loop_free(loop);
	loop = NULL;
	testutil_tmpdir_remove();
}

/* Appends count events "0".."count-1" to channel; returns the last id. */
static int64_t
append_many(const char *channel, int count)
{
	int64_t id = 0;
	int     i;

	for (i = 0; i < count; i++) {
		char data[32];

		snprintf(data, sizeof data, "%d", i);
		ck_assert_int_eq(store_append(writer, channel, NULL, data,
		                     strlen(data), &id),
		    0);
	}
	return id;
}

/* Creates a feed with the given ring size and catch-up chunk. */
static struct feed *
make_feed(size_t ring_events, size_t catchup_rows, int poll_ms)
{
	struct feed_options opts = {0};
	struct feed        *feed;
	char                err[256];

	opts.db_path = db_path;
	opts.ring_events = ring_events;
	opts.catchup_rows = catchup_rows;
	opts.poll_ms = poll_ms;
	feed = feed_create(loop, &opts, err, sizeof err);
	ck_assert_msg(feed != NULL, "feed_create: %s", err);
	ck_assert_ptr_null(feed_store_error(feed));
	return feed;
}

/* What a test cursor has received. */
struct received {
	int64_t ids[4096];
	char    channels[4096][16];
	size_t  count;
	int     ready_calls;
	int     refuse;    /* refuse every event when set */
	int     stop_loop; /* ready stops the loop when set */
};

/* A pull callback that records ids and channels. */
static int
record(const struct store_event *ev, void *arg)
{
	struct received *r = arg;

	if (r->refuse)
		return 1;
	ck_assert_uint_lt(r->count, 4096);
	r->ids[r->count] = ev->id;
	snprintf(
	    r->channels[r->count], sizeof r->channels[0], "%s", ev->channel);
	r->count++;
	return 0;
}

/* A ready callback that counts calls. */
static void
on_ready(struct feed_cursor *cursor, void *arg)
{
	struct received *r = arg;

	(void)cursor;
	r->ready_calls++;
	if (r->stop_loop)
		loop_stop(loop);
}

/* Pulls until caught up; returns the number of pulls that gave events. */
static int
pull_all(struct feed_cursor *cursor, struct received *r, size_t max_bytes)
{
	int pulls = 0, n;

	while ((n = feed_cursor_pull(cursor, max_bytes, record, r)) > 0)
		pulls++;
	ck_assert_int_eq(n, 0);
	return pulls;
}

/* Asserts that r holds exactly the ids first..last, each once, in order. */
static void
assert_sequence(const struct received *r, int64_t first, int64_t last)
{
	size_t i;

	ck_assert_uint_eq(r->count, (size_t)(last - first + 1));
	for (i = 0; i < r->count; i++)
		ck_assert_int_eq(r->ids[i], first + (int64_t)i);
}

START_TEST(test_feed_cursor_reads_events_in_order)
{
	struct feed        *feed = make_feed(0, 0, 0);
	struct received     r = {0};
	const char         *channels[] = {"news"};
	struct feed_cursor *cursor;

	cursor = feed_cursor_create(feed, channels, 1, 0, on_ready, &r);
	ck_assert_ptr_nonnull(cursor);
	append_many("news", 10);
	ck_assert_int_eq(feed_check(feed), 10);
	ck_assert_int_eq(feed_last_id(feed), 10);
	pull_all(cursor, &r, 1 << 20);
	assert_sequence(&r, 1, 10);
	ck_assert_int_eq(feed_cursor_last_id(cursor), 10);
	feed_cursor_free(cursor);
	feed_free(feed);
}
END_TEST

START_TEST(test_feed_starts_at_newest)
{
	struct feed *feed;

	append_many("news", 5);
	feed = make_feed(0, 0, 0);
	ck_assert_int_eq(feed_last_id(feed), 5);
	ck_assert_int_eq(feed_check(feed), 0);
	feed_free(feed);
}
END_TEST

START_TEST(test_feed_filters_channels)
{
	struct feed        *feed = make_feed(0, 0, 0);
	struct received     r = {0};
	const char         *channels[] = {"a", "c"};
	struct feed_cursor *cursor;
	int64_t             id;
	size_t              i;

	cursor = feed_cursor_create(feed, channels, 2, 0, on_ready, &r);
	for (i = 0; i < 30; i++) {
		const char *ch = (const char *[]){"a", "b", "c"}[i % 3];

		ck_assert_int_eq(
		    store_append(writer, ch, NULL, "x", 1, &id), 0);
	}
	ck_assert_int_eq(feed_check(feed), 30);
	pull_all(cursor, &r, 1 << 20);
	ck_assert_uint_eq(r.count, 20);
	for (i = 0; i < r.count; i++) {
		ck_assert_str_ne(r.channels[i], "b");
		if (i > 0)
			ck_assert_int_gt(r.ids[i], r.ids[i - 1]);
	}
	/* The position passes over the last (foreign) event too. */
	ck_assert_int_eq(feed_cursor_last_id(cursor), 30);
	feed_cursor_free(cursor);
	feed_free(feed);
}
END_TEST

START_TEST(test_feed_ready_only_for_its_channels)
{
	struct feed        *feed = make_feed(0, 0, 0);
	struct received     ra = {0}, rb = {0};
	const char         *a[] = {"a"}, *b[] = {"b"};
	struct feed_cursor *ca, *cb;

	ca = feed_cursor_create(feed, a, 1, 0, on_ready, &ra);
	cb = feed_cursor_create(feed, b, 1, 0, on_ready, &rb);
	/* Nothing yet: each pull returns 0 and the cursor waits. */
	ck_assert_int_eq(feed_cursor_pull(ca, 4096, record, &ra), 0);
	ck_assert_int_eq(feed_cursor_pull(cb, 4096, record, &rb), 0);
	append_many("a", 3);
	ck_assert_int_eq(feed_check(feed), 3);
	ck_assert_int_eq(ra.ready_calls, 1);
	ck_assert_int_eq(rb.ready_calls, 0);
	/* A cursor that has not pulled again is not woken twice. */
	append_many("a", 1);
	ck_assert_int_eq(feed_check(feed), 1);
	ck_assert_int_eq(ra.ready_calls, 1);
	pull_all(ca, &ra, 4096);
	assert_sequence(&ra, 1, 4);
	append_many("b", 1);
	feed_check(feed);
	ck_assert_int_eq(ra.ready_calls, 1);
	ck_assert_int_eq(rb.ready_calls, 1);
	feed_cursor_free(ca);
	feed_cursor_free(cb);
	feed_free(feed);
}
END_TEST

START_TEST(test_feed_budget_limits_a_pull)
{
	struct feed        *feed = make_feed(0, 0, 0);
	struct received     r = {0};
	const char         *channels[] = {"news"};
	struct feed_cursor *cursor;

	cursor = feed_cursor_create(feed, channels, 1, 0, on_ready, &r);
	append_many("news", 10);
	feed_check(feed);
	/* Each event has 1 byte of data: a budget of 1 passes one per pull. */
	ck_assert_int_eq(pull_all(cursor, &r, 1), 10);
	assert_sequence(&r, 1, 10);
	feed_cursor_free(cursor);
	feed_free(feed);
}
END_TEST

START_TEST(test_feed_refused_event_is_not_consumed)
{
	struct feed        *feed = make_feed(0, 0, 0);
	struct received     r = {0};
	const char         *channels[] = {"news"};
	struct feed_cursor *cursor;

	cursor = feed_cursor_create(feed, channels, 1, 0, on_ready, &r);
	append_many("news", 3);
	feed_check(feed);
	ck_assert_int_eq(r.ready_calls, 1);
	r.refuse = 1;
	ck_assert_int_eq(
	    feed_cursor_pull(cursor, 4096, record, &r), FEED_REFUSED);
	ck_assert_int_eq(feed_cursor_last_id(cursor), 0);
	/* Not waiting: a new event does not call ready. */
	append_many("news", 1);
	feed_check(feed);
	ck_assert_int_eq(r.ready_calls, 1);
	r.refuse = 0;
	pull_all(cursor, &r, 4096);
	assert_sequence(&r, 1, 4);
	feed_cursor_free(cursor);
	feed_free(feed);
}
END_TEST

/*
 * A cursor behind the ring (reading SQLite) whose fn refuses the first
 * event gets FEED_REFUSED too, not the 0 of a caught-up cursor.
 */
START_TEST(test_feed_refused_from_store_is_told)
{
	struct feed        *feed = make_feed(4, 0, 0);
	struct received     r = {0};
	const char         *channels[] = {"news"};
	struct feed_cursor *cursor;

	append_many("news", 10);
	feed_check(feed);
	cursor = feed_cursor_create(feed, channels, 1, 0, on_ready, &r);
	r.refuse = 1;
	ck_assert_int_eq(
	    feed_cursor_pull(cursor, 4096, record, &r), FEED_REFUSED);
	ck_assert_int_eq(feed_cursor_last_id(cursor), 0);
	r.refuse = 0;
	pull_all(cursor, &r, 4096);
	assert_sequence(&r, 1, 10);
	feed_cursor_free(cursor);
	feed_free(feed);
}
END_TEST

START_TEST(test_feed_ring_wraps_around)
{
	struct feed        *feed = make_feed(8, 0, 0);
	struct received     r = {0};
	const char         *channels[] = {"news"};
	struct feed_cursor *cursor;
	struct feed_stats   stats;
	int                 round;

	cursor = feed_cursor_create(feed, channels, 1, 0, on_ready, &r);
	/* Rounds of 5 events through a ring of 8: it wraps several times. */
	for (round = 0; round < 10; round++) {
		append_many("news", 5);
		ck_assert_int_eq(feed_check(feed), 5);
		pull_all(cursor, &r, 1 << 20);
		feed_get_stats(feed, &stats);
		ck_assert_uint_le(stats.ring_count, 8);
	}
	assert_sequence(&r, 1, 50);
	feed_get_stats(feed, &stats);
	ck_assert_uint_eq(stats.ring_count, 8);
	ck_assert_uint_eq(stats.catchup_queries, 0);
	feed_cursor_free(cursor);
	feed_free(feed);
}
END_TEST

START_TEST(test_feed_cursor_behind_catches_up_from_store)
{
	struct feed        *feed = make_feed(16, 7, 0);
	struct received     r = {0};
	const char         *channels[] = {"news"};
	struct feed_cursor *cursor;
	struct feed_stats   stats;

	cursor = feed_cursor_create(feed, channels, 1, 0, on_ready, &r);
	/* 100 events through a ring of 16: 84 must come from SQLite. */
	append_many("news", 100);
	ck_assert_int_eq(feed_check(feed), 100);
	pull_all(cursor, &r, 1 << 20);
	assert_sequence(&r, 1, 100);
	feed_get_stats(feed, &stats);
	ck_assert_uint_ge(stats.catchup_queries, 84 / 7);
	ck_assert_uint_le(stats.catchup_queries, 84 / 7 + 2);
	feed_cursor_free(cursor);
	feed_free(feed);
}
END_TEST

START_TEST(test_feed_slow_cursor_interleaved_with_new_events)
{
	struct feed        *feed = make_feed(8, 3, 0);
	struct received     fast = {0}, slow = {0};
	const char         *channels[] = {"news"};
	struct feed_cursor *cf, *cs;
	int                 i;

	cf = feed_cursor_create(feed, channels, 1, 0, on_ready, &fast);
	cs = feed_cursor_create(feed, channels, 1, 0, on_ready, &slow);
	/* The slow cursor takes one event per turn while events keep coming. */
	for (i = 0; i < 60; i++) {
		append_many("news", 3);
		feed_check(feed);
		pull_all(cf, &fast, 1 << 20);
		feed_cursor_pull(cs, 1, record, &slow);
	}
	pull_all(cs, &slow, 1);
	assert_sequence(&fast, 1, 180);
	assert_sequence(&slow, 1, 180);
	feed_cursor_free(cf);
	feed_cursor_free(cs);
	feed_free(feed);
}
END_TEST

START_TEST(test_feed_resume_from_old_id)
{
	struct feed        *feed;
	struct received     r = {0};
	const char         *channels[] = {"a", "b"};
	struct feed_cursor *cursor;
	int64_t             id;
	int                 i;

	for (i = 0; i < 50; i++)
		store_append(writer, i % 2 ? "a" : "b", NULL, "x", 1, &id);
	feed = make_feed(0, 10, 0);
	/* Starting after id 20: events 21..50 of both channels, then live. */
	cursor = feed_cursor_create(feed, channels, 2, 20, on_ready, &r);
	pull_all(cursor, &r, 1 << 20);
	assert_sequence(&r, 21, 50);
	append_many("a", 5);
	feed_check(feed);
	ck_assert_int_eq(r.ready_calls, 1);
	pull_all(cursor, &r, 1 << 20);
	assert_sequence(&r, 21, 55);
	feed_cursor_free(cursor);
	feed_free(feed);
}
END_TEST

START_TEST(test_feed_one_query_per_change_for_1000_cursors)
{
	static struct received r[1000];
	struct feed_cursor    *cursors[1000];
	struct feed           *feed = make_feed(0, 0, 0);
	struct feed_stats      before, after;
	const char            *channels[] = {"news"};
	int                    i, change;

	memset(r, 0, sizeof r);
	for (i = 0; i < 1000; i++) {
		cursors[i] =
		    feed_cursor_create(feed, channels, 1, 0, on_ready, &r[i]);
		ck_assert_int_eq(
		    feed_cursor_pull(cursors[i], 4096, record, &r[i]), 0);
	}
	feed_get_stats(feed, &before);
	for (change = 1; change <= 5; change++) {
		append_many("news", 2);
		ck_assert_int_eq(feed_check(feed), 2);
		for (i = 0; i < 1000; i++) {
			ck_assert_int_eq(r[i].ready_calls, change);
			pull_all(cursors[i], &r[i], 4096);
		}
	}
	feed_get_stats(feed, &after);
	ck_assert_uint_eq(after.feed_queries - before.feed_queries, 5);
	ck_assert_uint_eq(after.catchup_queries, 0);
	/*
	 * Per change: one data_version check, one read of the log's state
	 * (were rows deleted or edited?) and one SELECT, nothing else.
	 */
	ck_assert_uint_eq(after.statements - before.statements, 15);
	for (i = 0; i < 1000; i++) {
		assert_sequence(&r[i], 1, 10);
		feed_cursor_free(cursors[i]);
	}
	feed_free(feed);
}
END_TEST

START_TEST(test_feed_no_query_without_change)
{
	struct feed      *feed = make_feed(0, 0, 0);
	struct feed_stats before, after;

	append_many("news", 1);
	feed_check(feed);
	feed_get_stats(feed, &before);
	ck_assert_int_eq(feed_check(feed), 0);
	ck_assert_int_eq(feed_check(feed), 0);
	feed_get_stats(feed, &after);
	ck_assert_uint_eq(after.feed_queries, before.feed_queries);
	ck_assert_uint_eq(after.polls, before.polls + 2);
	feed_free(feed);
}
END_TEST

/* Inserts a row with the sqlite3 shell once the loop runs. */
static void
insert_with_shell(struct loop_timer *timer)
{
	(void)timer;
	ck_assert_int_eq(testutil_sqlite3(db_path,
	                     "INSERT INTO events(channel, data) "
	                     "VALUES('news', 'from the shell');\n",
	                     NULL, 0),
	    0);
}

/* Fails the test instead of hanging when a wake-up never comes. */
static void
on_alarm(int sig)
{
	(void)sig;
	_exit(3);
}

START_TEST(test_feed_wakes_on_insert_from_sqlite3_shell)
{
	/* A fallback poll of an hour: only inotify can deliver in time. */
	struct feed        *feed = make_feed(0, 0, 3600 * 1000);
	struct received     r = {0};
	const char         *channels[] = {"news"};
	struct feed_cursor *cursor;
	struct loop_timer   timer;

	cursor = feed_cursor_create(feed, channels, 1, 0, on_ready, &r);
	ck_assert_int_eq(feed_cursor_pull(cursor, 4096, record, &r), 0);
	r.stop_loop = 1;
	loop_timer_init(&timer, insert_with_shell, NULL);
	loop_timer_start(loop, &timer, 0);
	signal(SIGALRM, on_alarm);
	alarm(60);
	ck_assert_int_eq(loop_run(loop), 0);
	alarm(0);
	ck_assert_int_eq(r.ready_calls, 1);
	pull_all(cursor, &r, 4096);
	assert_sequence(&r, 1, 1);
	feed_cursor_free(cursor);
	feed_free(feed);
}
END_TEST

START_TEST(test_feed_store_missing_then_created)
{
	struct feed_options opts = {0};
	struct feed        *feed;
	struct store       *store;
	char                path[512], err[256];
	int64_t             id;

	testutil_path(path, sizeof path, "later.db");
	opts.db_path = path;
	feed = feed_create(loop, &opts, err, sizeof err);
	ck_assert_ptr_nonnull(feed);
	ck_assert_ptr_nonnull(feed_store_error(feed));
	ck_assert_int_lt(feed_check(feed), 0);
	ck_assert_int_eq(
	    store_open(path, STORE_OPEN_CREATE, 1000, &store, err, sizeof err),
	    0);
	store_append(store, "news", NULL, "x", 1, &id);
	ck_assert_int_ge(feed_check(feed), 0);
	ck_assert_ptr_null(feed_store_error(feed));
	ck_assert_int_eq(feed_last_id(feed), 1);
	store_close(store);
	feed_free(feed);
}
END_TEST

/* Replaces the database with a new, empty one: ids start again at 1. */
static void
recreate_store(void)
{
	char err[256];

	store_close(writer);
	unlink(db_path);
	ck_assert_int_eq(store_open(db_path, STORE_OPEN_CREATE, 5000, &writer,
	                     err, sizeof err),
	    0);
}

/* Appends 20 events to "news"; returns a cursor that has read them all. */
static struct feed_cursor *
read_twenty(struct feed *feed, struct received *r)
{
	const char         *channels[] = {"news"};
	struct feed_cursor *cursor;

	append_many("news", 20);
	feed_check(feed);
	cursor = feed_cursor_create(feed, channels, 1, 0, on_ready, r);
	pull_all(cursor, r, 1 << 20);
	assert_sequence(r, 1, 20);
	return cursor;
}

/*
 * A new cursor waits before its first pull: a connection whose first pull
 * is put off (its handshake reply still being written) is woken by the next
 * event, and by a log restart, rather than by nothing.
 */
START_TEST(test_feed_new_cursor_waits_before_its_first_pull)
{
	struct feed        *feed = make_feed(0, 0, 0);
	struct received     r = {0}, rr = {0};
	const char         *news[] = {"news"};
	struct feed_cursor *cursor, *restarted;

	cursor = feed_cursor_create(feed, news, 1, 0, on_ready, &r);
	ck_assert_ptr_nonnull(cursor);
	append_many("news", 2);
	ck_assert_int_eq(feed_check(feed), 2);
	ck_assert_int_eq(r.ready_calls, 1);
	pull_all(cursor, &r, 4096);
	assert_sequence(&r, 1, 2);

	restarted = feed_cursor_create(feed, news, 1, 2, on_ready, &rr);
	ck_assert_ptr_nonnull(restarted);
	recreate_store();
	append_many("news", 1);
	feed_check(feed);
	ck_assert_int_eq(rr.ready_calls, 1);
	pull_all(restarted, &rr, 4096);
	assert_sequence(&rr, 1, 1);
	feed_cursor_free(restarted);
	feed_cursor_free(cursor);
	feed_free(feed);
}
END_TEST

START_TEST(test_feed_recreated_store_restarts_cursors)
{
	struct feed        *feed = make_feed(0, 0, 0);
	struct received     r = {0};
	struct feed_cursor *cursor;
	int64_t             id;

	cursor = read_twenty(feed, &r);
	/* Replace the database with a new one: ids start again at 1. */
	recreate_store();
	store_append(writer, "news", NULL, "new", 3, &id);
	ck_assert_int_eq(id, 1);
	feed_check(feed);
	ck_assert_int_eq(r.ready_calls, 1);
	r.count = 0;
	pull_all(cursor, &r, 1 << 20);
	assert_sequence(&r, 1, 1);
	feed_cursor_free(cursor);
	feed_free(feed);
}
END_TEST

/* A new log already past the newest id we read is a new log all the same. */
START_TEST(test_feed_recreated_store_overtaking_restarts_cursors)
{
	struct feed        *feed = make_feed(0, 0, 0);
	struct received     r = {0};
	struct feed_cursor *cursor;
	int64_t             id;
	int                 i;

	cursor = read_twenty(feed, &r);
	recreate_store();
	for (i = 0; i < 25; i++)
		store_append(writer, "news", "other", "new", 3, &id);
	ck_assert_int_eq(id, 25);
	feed_check(feed);
	r.count = 0;
	pull_all(cursor, &r, 1 << 20);
	assert_sequence(&r, 1, 25);
	feed_cursor_free(cursor);
	feed_free(feed);
}
END_TEST

/* The same file back after it was gone: the log goes on, nothing repeats. */
START_TEST(test_feed_restored_store_continues)
{
	struct feed        *feed = make_feed(0, 0, 0);
	struct received     r = {0};
	struct feed_cursor *cursor;
	char                away[PATH_MAX + 8], err[256];

	cursor = read_twenty(feed, &r);
	store_close(writer);
	snprintf(away, sizeof away, "%s.away", db_path);
	ck_assert_int_eq(rename(db_path, away), 0);
	ck_assert_int_lt(feed_check(feed), 0);
	ck_assert_ptr_nonnull(feed_store_error(feed));
	ck_assert_int_eq(rename(away, db_path), 0);
	ck_assert_int_eq(
	    store_open(db_path, 0, 5000, &writer, err, sizeof err), 0);
	append_many("news", 1);
	feed_check(feed);
	r.count = 0;
	pull_all(cursor, &r, 1 << 20);
	assert_sequence(&r, 21, 21);
	feed_cursor_free(cursor);
	feed_free(feed);
}
END_TEST

START_TEST(test_feed_resume_past_newest_starts_at_newest)
{
	struct feed        *feed = make_feed(0, 0, 0);
	struct received     r = {0};
	const char         *channels[] = {"news"};
	struct feed_cursor *cursor;

	append_many("news", 5);
	feed_check(feed);
	/* A client that saw id 1000 of a log that has been recreated. */
	cursor = feed_cursor_create(feed, channels, 1, 1000, on_ready, &r);
	ck_assert_int_eq(feed_cursor_last_id(cursor), 5);
	append_many("news", 2);
	feed_check(feed);
	pull_all(cursor, &r, 4096);
	assert_sequence(&r, 6, 7);
	feed_cursor_free(cursor);
	feed_free(feed);
}
END_TEST

START_TEST(test_feed_resume_at_unseen_id_is_kept)
{
	struct feed        *feed = make_feed(0, 0, 0);
	struct received     r = {0};
	const char         *channels[] = {"news"};
	struct feed_cursor *cursor;

	/* Committed but not yet read by the feed: the id is real. */
	append_many("news", 5);
	ck_assert_int_eq(feed_last_id(feed), 0);
	cursor = feed_cursor_create(feed, channels, 1, 3, on_ready, &r);
	ck_assert_int_eq(feed_cursor_last_id(cursor), 3);
	feed_check(feed);
	pull_all(cursor, &r, 4096);
	assert_sequence(&r, 4, 5);
	feed_cursor_free(cursor);
	feed_free(feed);
}
END_TEST

/* Runs sql in the sqlite3 shell on the test database, as an admin would. */
static void
shell_ok(const char *sql)
{
	ck_assert_int_eq(testutil_sqlite3(db_path, sql, NULL, 0), 0);
}

/* A DELETE or UPDATE drops the ring: new cursors read the table as it is. */
START_TEST(test_feed_edits_drop_the_ring)
{
	struct feed        *feed = make_feed(0, 0, 0);
	struct received     r = {0}, after = {0};
	const char         *channels[] = {"news"};
	struct feed_cursor *cursor;
	struct feed_stats   st;
	size_t              i;

	cursor = read_twenty(feed, &r);
	feed_get_stats(feed, &st);
	ck_assert_uint_eq(st.ring_count, 20);
	shell_ok("DELETE FROM events WHERE id = 5;"
	         "UPDATE events SET data = 'edited' WHERE id = 7;");
	ck_assert_int_eq(feed_check(feed), 0);
	feed_get_stats(feed, &st);
	ck_assert_uint_eq(st.ring_count, 0);
	/* The connected cursor, caught up, is left alone. */
	ck_assert_int_eq(r.ready_calls, 0);
	feed_cursor_free(cursor);
	cursor = feed_cursor_create(feed, channels, 1, 0, on_ready, &after);
	pull_all(cursor, &after, 1 << 20);
	ck_assert_uint_eq(after.count, 19);
	for (i = 0; i < after.count; i++)
		ck_assert_int_ne(after.ids[i], 5);
	feed_cursor_free(cursor);
	feed_free(feed);
}
END_TEST

/* Where a resuming subscriber starts, and when it is told of a reset. */
START_TEST(test_feed_start_after_reset)
{
	struct feed      *feed = make_feed(0, 0, 0);
	const char       *channels[] = {"news"};
	struct feed_start start;
	char              why[256];
	int64_t           deleted;

	append_many("news", 10);
	ck_assert_int_eq(store_prune_keep_last(writer, 3, &deleted), 0);
	feed_check(feed);
	ck_assert_int_eq(feed_start_after(feed, channels, 1, 0, 0, 1000, &start,
	                     why, sizeof why),
	    0);
	ck_assert(start.reset);
	ck_assert_int_eq(start.after, 0);
	ck_assert_int_eq(start.oldest, 8);
	ck_assert_int_eq(start.newest, 10);
	ck_assert_int_eq(feed_start_after(feed, channels, 1, 7, 0, 1000, &start,
	                     why, sizeof why),
	    0);
	ck_assert(!start.reset);
	ck_assert_int_eq(start.after, 7);
	/* A backlog asks for recent events, not for a resume. */
	ck_assert_int_eq(feed_start_after(feed, channels, 1, -1, 10, 1000,
	                     &start, why, sizeof why),
	    0);
	ck_assert(!start.reset);
	ck_assert_int_eq(start.after, 0);
	/* Past the newest: from another log, which it gets whole. */
	ck_assert_int_eq(feed_start_after(feed, channels, 1, 50, 0, 1000,
	                     &start, why, sizeof why),
	    0);
	ck_assert(start.reset);
	ck_assert_int_eq(start.after, 0);
	ck_assert_int_eq(start.oldest, 8);
	feed_free(feed);
}
END_TEST

/* A lowered sequence is a new log: connected cursors get its new rows. */
START_TEST(test_feed_lowered_sequence_restarts_cursors)
{
	struct feed        *feed = make_feed(0, 0, 0);
	struct received     r = {0};
	struct feed_cursor *cursor;

	cursor = read_twenty(feed, &r);
	shell_ok("DELETE FROM events WHERE id > 15;"
	         "UPDATE sqlite_sequence SET seq = 15 WHERE name = 'events';");
	ck_assert_int_eq(append_many("news", 2), 17);
	feed_check(feed);
	ck_assert_int_eq(r.ready_calls, 1);
	r.count = 0;
	pull_all(cursor, &r, 1 << 20);
	assert_sequence(&r, 1, 17);
	feed_cursor_free(cursor);
	feed_free(feed);
}
END_TEST

START_TEST(test_feed_rejects_bad_channels)
{
	struct feed    *feed = make_feed(0, 0, 0);
	struct received r = {0};
	const char     *bad[] = {"no spaces"};
	const char     *many[33];
	int             i;

	ck_assert_ptr_null(feed_cursor_create(feed, bad, 1, 0, on_ready, &r));
	ck_assert_ptr_null(feed_cursor_create(feed, bad, 0, 0, on_ready, &r));
	for (i = 0; i < 33; i++)
		many[i] = "a";
	ck_assert_ptr_null(feed_cursor_create(feed, many, 33, 0, on_ready, &r));
	feed_free(feed);
}
END_TEST

START_TEST(test_feed_free_cursor_while_queued)
{
	struct feed        *feed = make_feed(0, 0, 0);
	struct received     r = {0};
	const char         *channels[] = {"news", "news"};
	struct feed_cursor *cursor;

	/* The same channel twice is linked once. */
	cursor = feed_cursor_create(feed, channels, 2, 0, on_ready, &r);
	ck_assert_int_eq(feed_cursor_pull(cursor, 4096, record, &r), 0);
	append_many("news", 1);
	feed_check(feed);
	ck_assert_int_eq(r.ready_calls, 1);
	feed_cursor_free(cursor);
	append_many("news", 1);
	ck_assert_int_eq(feed_check(feed), 1);
	ck_assert_int_eq(r.ready_calls, 1);
	feed_free(feed);
}
END_TEST

/* Builds the suite: one TCase per concern. */
static Suite *
feed_suite(void)
{
	Suite *s = suite_create("feed");
	TCase *tc;

	tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_feed_cursor_reads_events_in_order);
	tcase_add_test(tc, test_feed_starts_at_newest);
	tcase_add_test(tc, test_feed_filters_channels);
	tcase_add_test(tc, test_feed_ready_only_for_its_channels);
	tcase_add_test(tc, test_feed_budget_limits_a_pull);
	tcase_add_test(tc, test_feed_refused_event_is_not_consumed);
	tcase_add_test(tc, test_feed_refused_from_store_is_told);
	tcase_add_test(tc, test_feed_free_cursor_while_queued);
	suite_add_tcase(s, tc);

	tc = tcase_create("ring");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_feed_ring_wraps_around);
	tcase_add_test(tc, test_feed_cursor_behind_catches_up_from_store);
	tcase_add_test(tc, test_feed_slow_cursor_interleaved_with_new_events);
	tcase_add_test(tc, test_feed_resume_from_old_id);
	suite_add_tcase(s, tc);

	tc = tcase_create("queries");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_feed_one_query_per_change_for_1000_cursors);
	tcase_add_test(tc, test_feed_no_query_without_change);
	suite_add_tcase(s, tc);

	tc = tcase_create("wakeup");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 90);
	tcase_add_test(tc, test_feed_wakes_on_insert_from_sqlite3_shell);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_feed_store_missing_then_created);
	tcase_add_test(tc, test_feed_recreated_store_restarts_cursors);
	tcase_add_test(tc, test_feed_new_cursor_waits_before_its_first_pull);
	tcase_add_test(
	    tc, test_feed_recreated_store_overtaking_restarts_cursors);
	tcase_add_test(tc, test_feed_restored_store_continues);
	tcase_add_test(tc, test_feed_rejects_bad_channels);
	tcase_add_test(tc, test_feed_resume_past_newest_starts_at_newest);
	tcase_add_test(tc, test_feed_resume_at_unseen_id_is_kept);
	suite_add_tcase(s, tc);

	tc = tcase_create("truth");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_feed_edits_drop_the_ring);
	tcase_add_test(tc, test_feed_start_after_reset);
	tcase_add_test(tc, test_feed_lowered_sequence_restarts_cursors);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(feed_suite());
	int      failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
