/* check_stream.c: unit tests of the SSE streams, with the test playing the web server over socketpairs. */
#include "config.h"

#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <malloc.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <fastcgi.h>

#include "buf.h"
#include "fcgi.h"
#include "feed.h"
#include "loop.h"
#include "query.h"
#include "store.h"
#include "stream.h"
#include "testutil.h"

/*
 * The test is the web server: it hands its end of a socketpair to
 * stream_open() or stream_refuse() as the intake would, writes the records
 * a web server sends after a request (empty STDIN, an abort, a body), and
 * reads back the FCGI_STDOUT records, checking every header, then cuts
 * their content into the CGI head and the blocks of the event stream.  The
 * daemon's loop runs in the test's thread: every wait runs it until a
 * condition holds, bounded by a deadline, and sleeps only in epoll_wait().
 * The store is a real database in a temporary directory, written through
 * the test's own connection, so events reach the stream as a commit does.
 */

/* How long a test waits for something that should happen at once. */
#define WAIT_MS 3000
/* How often a wait looks at its condition when nothing else wakes it. */
/* The request id of the streams (two bytes that differ, to catch a swap). */
#define REQ_ID 0x0102

#define HEAD_200                                                               \
	"Status: 200 OK\r\n"                                                   \
	"Content-Type: text/event-stream; charset=utf-8\r\n"                   \
	"Cache-Control: no-cache\r\n"                                          \
	"X-Accel-Buffering: no\r\n\r\n"

static char                  db_path[512];
static struct store         *writer;
static struct loop          *loop;
static struct feed          *feed;
static struct stream_server *server;
static struct stream_config  config;
static int                   empty_calls;

/* Counts the empty callbacks. */
static void
on_empty(struct stream_server *s, void *arg)
{
	ck_assert_ptr_eq(s, server);
	ck_assert_ptr_null(arg);
	empty_calls++;
}

/* Creates the server with the current config. */
static void
start_server(void)
{
	stream_server_free(server);
	server = stream_server_create(loop, feed, &config, on_empty, NULL);
	ck_assert_ptr_nonnull(server);
}

/* Makes a fresh database, loop, feed and server for each test. */
static void
setup(void)
{
	struct feed_options opts = {0};
	char                err[256];

	testutil_tmpdir_create();
	testutil_path(db_path, sizeof db_path, "events.db");
	ck_assert_int_eq(store_open(db_path, STORE_OPEN_CREATE, 5000, &writer,
	                     err, sizeof err),
	    0);
	loop = loop_create();
	ck_assert_ptr_nonnull(loop);
	opts.db_path = db_path;
	opts.poll_ms = 50;
	feed = feed_create(loop, &opts, err, sizeof err);
	ck_assert_msg(feed != NULL, "%s", err);
	memset(&config, 0, sizeof config);
	config.max_streams = 8;
	config.keepalive_ms = 60000;
	config.retry_ms = 3000;
	config.max_age_ms = 0;
	config.backlog_max = 1000;
	empty_calls = 0;
	server = NULL;
	start_server();
}

/* Frees what setup() made. */
static void
teardown(void)
{
	stream_server_free(server);
	server = NULL;
	feed_free(feed);
	feed = NULL;
	loop_free(loop);
	loop = NULL;
	store_close(writer);
	writer = NULL;
	testutil_tmpdir_remove();
}

/* Holds when the server has count_target streams (for testutil_loop_await()).
 */
static size_t count_target;
static int
count_is(void *arg)
{
	(void)arg;
	return stream_count(server) == count_target;
}

/* Runs the loop until the server counts n streams; returns whether it did. */
static int
await_count(size_t n, int timeout_ms)
{
	count_target = n;
	return testutil_loop_await(loop, count_is, NULL, -1, timeout_ms);
}

/* The web server's end of one connection, and what it has read. */
struct peer {
	int        fd;
	uint16_t   id;        /* 0: plain CGI, no records */
	struct buf raw;       /* bytes of records not complete yet */
	struct buf content;   /* STDOUT content not yet handed to the test */
	size_t     records;   /* STDOUT records with content */
	size_t     first_len; /* the content length of the first of them */
	int        closed;    /* the empty STDOUT record came */
	int        ended;     /* END_REQUEST came */
	uint32_t   app_status;
	int        eof;      /* the server closed or shut its side */
	size_t     read_max; /* bytes one peer_fill() reads at most; 0: all */
};

/* Checks and takes the complete records in p->raw. */
static void
peer_parse(struct peer *p)
{
	for (;;) {
		const unsigned char *r =
		    (const unsigned char *)buf_pending(&p->raw);
		size_t len = buf_pending_len(&p->raw), clen, need;

		if (p->id == 0) {
			ck_assert_int_eq(buf_append(&p->content, r, len), 0);
			buf_consume(&p->raw, len);
			return;
		}
		if (len < FCGI_HEADER_LEN)
			return;
		ck_assert_msg(!p->ended, "a record after END_REQUEST");
		ck_assert_int_eq(r[0], FCGI_VERSION_1);
		ck_assert_uint_eq((unsigned)(r[2] << 8 | r[3]), p->id);
		ck_assert_msg(r[1] == FCGI_STDOUT || r[1] == FCGI_END_REQUEST,
		    "record of type %d", r[1]);
		clen = (size_t)(r[4] << 8 | r[5]);
		need = FCGI_HEADER_LEN + clen + r[6];
		if (len < need)
			return;
		if (r[1] == FCGI_STDOUT && clen == 0) {
			ck_assert_msg(!p->closed, "two empty STDOUT records");
			p->closed = 1;
		} else if (r[1] == FCGI_STDOUT) {
			ck_assert_msg(!p->closed, "STDOUT after the empty one");
			if (p->records++ == 0)
				p->first_len = clen;
			ck_assert_int_eq(
			    buf_append(&p->content, r + FCGI_HEADER_LEN, clen),
			    0);
		} else {
			ck_assert_uint_eq(clen, 8);
			ck_assert_msg(
			    p->closed, "END_REQUEST before the empty STDOUT");
			p->app_status = (uint32_t)r[8] << 24 |
			                (uint32_t)r[9] << 16 |
			                (uint32_t)r[10] << 8 | r[11];
			ck_assert_int_eq(r[12], FCGI_REQUEST_COMPLETE);
			p->ended = 1;
		}
		buf_consume(&p->raw, need);
	}
}

/* Reads what has come (at most p->read_max when set), without blocking. */
static void
peer_fill(struct peer *p)
{
	char   data[65536];
	size_t total = 0;

	while (!p->eof && (p->read_max == 0 || total < p->read_max)) {
		size_t  want = sizeof data;
		ssize_t n;

		if (p->read_max != 0 && p->read_max - total < want)
			want = p->read_max - total;
		n = read(p->fd, data, want);
		if (n > 0) {
			total += (size_t)n;
			ck_assert_int_eq(
			    buf_append(&p->raw, data, (size_t)n), 0);
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		p->eof = 1; /* end of file, or a reset: closed either way */
	}
	peer_parse(p);
}

/*
 * Makes a socketpair for a request with id (0: plain CGI, whose end is
 * left blocking as standard output is); p gets the web server's end, and
 * the daemon's end is returned.
 */
static int
peer_init(struct peer *p, uint16_t id)
{
	int sv[2];

	memset(p, 0, sizeof *p);
	ck_assert_int_eq(
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	ck_assert_int_ne(
	    fcntl(sv[1], F_SETFL, fcntl(sv[1], F_GETFL) | O_NONBLOCK), -1);
	p->fd = sv[1];
	p->id = id;
	return sv[0];
}

/* Closes the peer's end (if still open) and frees what it read. */
static void
peer_free(struct peer *p)
{
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	buf_free(&p->raw);
	buf_free(&p->content);
}

/* Writes all of data (running the loop while the socket is full). */
static void
peer_send(struct peer *p, const void *data, size_t len)
{
	const char *d = data;
	uint64_t    end = testutil_now_ms() + WAIT_MS;

	while (len > 0) {
		ssize_t n = write(p->fd, d, len);

		if (n < 0) {
			ck_assert_int_eq(errno, EAGAIN);
			ck_assert_uint_lt(testutil_now_ms(), end);
			testutil_loop_step(loop);
			continue;
		}
		d += n;
		len -= (size_t)n;
	}
}

/* The separator the next peer_cut() looks for. */
static const char *peer_separator;

/* Returns where sep is in the content not taken yet, or NULL. */
static const char *
peer_find(const struct peer *p, const char *sep)
{
	if (buf_pending_len(&p->content) == 0)
		return NULL;
	return memmem(buf_pending(&p->content), buf_pending_len(&p->content),
	    sep, strlen(sep));
}

/* Holds once the separator has come, or nothing more can come. */
static int
peer_has_piece(void *arg)
{
	struct peer *p = arg;

	peer_fill(p);
	return peer_find(p, peer_separator) != NULL || p->closed || p->eof;
}

/*
 * Waits for the content up to the next sep and returns it without sep
 * (free() it), or NULL when it did not come within timeout_ms.
 */
static char *
peer_cut(struct peer *p, const char *sep, int timeout_ms)
{
	const char *at;
	char       *piece;
	size_t      len;

	peer_separator = sep;
	testutil_loop_await(loop, peer_has_piece, p, p->fd, timeout_ms);
	if ((at = peer_find(p, sep)) == NULL)
		return NULL;
	len = (size_t)(at - buf_pending(&p->content));
	piece = malloc(len + 1);
	ck_assert_ptr_nonnull(piece);
	memcpy(piece, buf_pending(&p->content), len);
	piece[len] = '\0';
	buf_consume(&p->content, len + strlen(sep));
	return piece;
}

/* Returns the next block of the event stream (free() it), or NULL. */
static char *
peer_block(struct peer *p)
{
	return peer_cut(p, "\n\n", WAIT_MS);
}

/* Checks that the next block of the event stream is exactly want. */
static void
expect_block(struct peer *p, const char *want)
{
	char *got = peer_block(p);

	ck_assert_msg(got != NULL,
	    "no block came, expected \"%s\"; have \"%.*s\"", want,
	    (int)buf_pending_len(&p->content), buf_pending(&p->content));
	ck_assert_str_eq(got, want);
	free(got);
}

/*
 * Expects the block want after any keepalives: for the tests with a short
 * --keepalive, where a silence before the block may be a keepalive's.
 */
static void
expect_block_after_keepalives(struct peer *p, const char *want)
{
	char *got;

	while ((got = peer_block(p)) != NULL && strcmp(got, ": keepalive") == 0)
		free(got);
	ck_assert_msg(got != NULL, "no block came, expected \"%s\"", want);
	ck_assert_str_eq(got, want);
	free(got);
}

/* Checks that the CGI head (with its blank line) is exactly want. */
static void
expect_head(struct peer *p, const char *want)
{
	char  *got = peer_cut(p, "\r\n\r\n", WAIT_MS);
	size_t len;

	ck_assert_msg(got != NULL, "no complete head came");
	len = strlen(got);
	ck_assert_uint_eq(len + 4, strlen(want));
	ck_assert_mem_eq(got, want, len);
	free(got);
}

/* Checks the head, retry field and position of a new stream. */
static void
expect_start(struct peer *p, int64_t position)
{
	char line[64];

	expect_head(p, HEAD_200);
	snprintf(line, sizeof line, "retry: %" PRId64, config.retry_ms);
	expect_block(p, line);
	snprintf(line, sizeof line, "id: %" PRId64, position);
	expect_block(p, line);
}

/* Returns 1 if nothing arrives within ms (the loop running meanwhile). */
static int
peer_quiet(struct peer *p, int ms)
{
	testutil_loop_run_for(loop, ms);
	peer_fill(p);
	return buf_pending_len(&p->content) == 0 && !p->closed && !p->eof;
}

/* Holds once the response has ended or the connection is gone. */
static int
peer_done(void *arg)
{
	struct peer *p = arg;

	peer_fill(p);
	return p->ended || p->eof;
}

/* Holds once the server has closed or shut its side. */
static int
peer_at_eof(void *arg)
{
	struct peer *p = arg;

	peer_fill(p);
	return p->eof;
}

/* Waits for the server's end of file; returns whether it came. */
static int
peer_await_eof(struct peer *p, int timeout_ms)
{
	return testutil_loop_await(loop, peer_at_eof, p, p->fd, timeout_ms);
}

/* Checks that the response was ended properly and the write side shut. */
static void
expect_end(struct peer *p)
{
	ck_assert_msg(
	    testutil_loop_await(loop, peer_done, p, p->fd, WAIT_MS) && p->ended,
	    "no END_REQUEST came (eof %d)", p->eof);
	ck_assert_uint_eq(p->app_status, 0);
	ck_assert(peer_await_eof(p, WAIT_MS));
}

/* The empty STDIN record a web server sends after a GET's parameters. */
static const unsigned char empty_stdin[] = {
    1,
    FCGI_STDIN,
    REQ_ID >> 8,
    REQ_ID & 0xFF,
    0,
    0,
    0,
    0,
};

/* The abort a web server sends when its client has gone. */
static const unsigned char abort_record[] = {
    1,
    FCGI_ABORT_REQUEST,
    REQ_ID >> 8,
    REQ_ID & 0xFF,
    0,
    0,
    0,
    0,
};

/* Starts a stream for query string qs as the intake would; p is the web server.
 */
static void
peer_open(struct peer *p, const char *qs, int64_t resume)
{
	struct query q;
	char         why[QUERY_ERRLEN];
	int          fd = peer_init(p, REQ_ID);

	ck_assert_msg(
	    query_parse(qs, strlen(qs), &q, why, sizeof why) == 0, "%s", why);
	stream_open(server, fd, REQ_ID, NULL, &q, resume, 0, empty_stdin,
	    sizeof empty_stdin);
}

/* Appends an event through the test's own store connection. */
static int64_t
append(const char *channel, const char *event, const char *data)
{
	int64_t id;

	ck_assert_int_eq(
	    store_append(writer, channel, event, data, strlen(data), &id), 0);
	return id;
}

/* Returns the block an event makes (static storage, a few in turn). */
static const char *
event_block(int64_t id, const char *event, const char *data)
{
	static char out[4][512];
	static int  which;

	which = (which + 1) % 4;
	if (event != NULL)
		snprintf(out[which], sizeof out[0],
		    "id: %" PRId64 "\nevent: %s\ndata: %s", id, event, data);
	else
		snprintf(out[which], sizeof out[0], "id: %" PRId64 "\ndata: %s",
		    id, data);
	return out[which];
}

/* Inserts count events of 1000 bytes on channel "a", in one transaction. */
static void
insert_kb_events(int count)
{
	char sql[512];

	snprintf(sql, sizeof sql,
	    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT "
	    "i+1 FROM n WHERE i < %d) INSERT INTO "
	    "events(channel, data) SELECT 'a', "
	    "replace(hex(zeroblob(500)), '0', 'd') FROM n;",
	    count);
	ck_assert_int_eq(testutil_sqlite3(db_path, sql, NULL, 0), 0);
}

/* Reads the next 1000-byte event block and checks that it has id. */
static void
expect_kb_event(struct peer *p, int64_t id)
{
	char *got = peer_block(p);
	char  want[32];
	int   n;

	ck_assert_msg(got != NULL, "event %" PRId64 " did not come", id);
	n = snprintf(want, sizeof want, "id: %" PRId64 "\ndata: ", id);
	ck_assert_uint_eq(strlen(got), (size_t)n + 1000);
	ck_assert_mem_eq(got, want, (size_t)n);
	ck_assert_int_eq(got[n], 'd');
	free(got);
}

/* Returns the bytes malloc holds now (0 when it cannot tell). */
static size_t
heap_in_use(void)
{
	struct mallinfo2 mi = mallinfo2();

	return mi.uordblks;
}

/* Returns the number of live cursors of the feed. */
static size_t
cursor_count(void)
{
	struct feed_stats st;

	feed_get_stats(feed, &st);
	return st.cursors;
}

/* Reads a pause block: returns its retry and sets *at to its time. */
static long
expect_pause(struct peer *p, int64_t *at)
{
	char     *got = peer_block(p);
	long      retry;
	long long when;
	int       used = 0;

	ck_assert_msg(got != NULL, "no pause came");
	ck_assert_msg(sscanf(got, "retry: %ld\nevent: pause\ndata: %lld%n",
	                  &retry, &when, &used) == 2 &&
	                  (size_t)used == strlen(got),
	    "not a pause: \"%s\"", got);
	free(got);
	*at = when;
	return retry;
}

/* ---------------------------------------------------------------- core */

START_TEST(test_stream_headers_and_first_events)
{
	struct peer p;
	int64_t     a1, a2;

	a1 = append("news", "add", "hello");
	append("other", NULL, "not for us");
	a2 = append("news", NULL, "two\nlines");
	feed_check(feed);
	peer_open(&p, "channel=news", 0);
	ck_assert_uint_eq(stream_count(server), 1);
	expect_start(&p, 0);
	/* Head, retry and position went out together, in one record. */
	ck_assert_uint_eq(
	    p.first_len, strlen(HEAD_200) + strlen("retry: 3000\n\nid: 0\n\n"));
	expect_block(&p, event_block(a1, "add", "hello"));
	expect_block(&p, event_block(a2, NULL, "two\ndata: lines"));
	ck_assert(peer_quiet(&p, 30));
	ck_assert_uint_eq(stream_count(server), 1);
	ck_assert_int_eq(empty_calls, 0);
	peer_free(&p);
}
END_TEST

/* Every event ready at once goes out in one record (one write). */
START_TEST(test_stream_ready_events_in_one_record)
{
	struct peer p;
	int         i;

	for (i = 1; i <= 10; i++)
		append("a", NULL, "x");
	feed_check(feed);
	peer_open(&p, "channel=a", 0);
	expect_start(&p, 0);
	for (i = 1; i <= 10; i++)
		expect_block(&p, event_block(i, NULL, "x"));
	ck_assert_uint_eq(p.records, 2);
	peer_free(&p);
}
END_TEST

START_TEST(test_stream_event_after_commit)
{
	struct peer p;
	int64_t     before, id;

	before = append("news", NULL, "old");
	feed_check(feed);
	peer_open(&p, "channel=news", -1);
	/* No resume point, no backlog: from the newest event on. */
	expect_start(&p, before);
	ck_assert(peer_quiet(&p, 30));
	id = append("news", "add", "hello");
	expect_block(&p, event_block(id, "add", "hello"));
	append("other", NULL, "not for us");
	id = append("news", NULL, "a\r\nb\rc");
	expect_block(&p, event_block(id, NULL, "a\ndata: b\ndata: c"));
	id = append("news", "e", "");
	expect_block(&p, event_block(id, "e", ""));
	ck_assert(peer_quiet(&p, 30));
	peer_free(&p);
}
END_TEST

START_TEST(test_stream_several_channels)
{
	struct peer p;
	int64_t     a1, b1, a2;

	peer_open(&p, "channel=a,b", -1);
	expect_start(&p, 0);
	a1 = append("a", NULL, "a1");
	append("c", NULL, "c1");
	b1 = append("b", NULL, "b1");
	a2 = append("a", NULL, "a2");
	expect_block(&p, event_block(a1, NULL, "a1"));
	expect_block(&p, event_block(b1, NULL, "b1"));
	expect_block(&p, event_block(a2, NULL, "a2"));
	ck_assert(peer_quiet(&p, 30));
	peer_free(&p);
}
END_TEST

/* An event larger than a record is split into several, whole. */
START_TEST(test_stream_big_event_split_into_records)
{
	struct peer p;
	size_t      size = 150000;
	char       *data = malloc(size + 1), *got;
	int64_t     id;

	ck_assert_ptr_nonnull(data);
	memset(data, 'x', size);
	data[size] = '\0';
	peer_open(&p, "channel=a", -1);
	expect_start(&p, 0);
	id = append("a", NULL, data);
	got = peer_block(&p);
	ck_assert_ptr_nonnull(got);
	ck_assert_uint_eq(strlen(got), strlen("id: 1\ndata: ") + size);
	ck_assert_int_eq(id, 1);
	ck_assert_mem_eq(got, "id: 1\ndata: ", 12);
	ck_assert_mem_eq(got + 12, data, size);
	/* The head's record, then at least three for 150 kB. */
	ck_assert_uint_ge(p.records, 1 + 3);
	free(got);
	free(data);
	peer_free(&p);
}
END_TEST

/* Plain CGI: no records, and the stream goes when a write finds the peer gone.
 */
START_TEST(test_stream_cgi_mode)
{
	struct peer  p;
	struct query q;
	int          fd;
	int64_t      id;

	config.keepalive_ms = 50;
	start_server();
	fd = peer_init(&p, 0);
	ck_assert_int_eq(query_parse("channel=a", 9, &q, NULL, 0), 0);
	stream_open(server, fd, 0, NULL, &q, -1, 0, NULL, 0);
	ck_assert_uint_eq(stream_count(server), 1);
	expect_start(&p, 0);
	id = append("a", "e", "cgi");
	expect_block_after_keepalives(&p, event_block(id, "e", "cgi"));
	expect_block(&p, ": keepalive");
	ck_assert_int_eq(empty_calls, 0);
	close(p.fd);
	p.fd = -1;
	ck_assert(await_count(0, WAIT_MS));
	ck_assert_int_eq(empty_calls, 1);
	ck_assert_uint_eq(cursor_count(), 0);
	peer_free(&p);
}
END_TEST

/* -------------------------------------------------------------- resume */

START_TEST(test_stream_resume_from_last_event_id)
{
	struct peer p;
	int64_t     a3, a5, a6;

	append("a", NULL, "1");
	append("a", NULL, "2");
	a3 = append("a", NULL, "3");
	append("b", NULL, "4");
	a5 = append("a", NULL, "5");
	feed_check(feed);
	peer_open(&p, "channel=a", 2);
	expect_start(&p, 2);
	expect_block(&p, event_block(a3, NULL, "3"));
	expect_block(&p, event_block(a5, NULL, "5"));
	ck_assert(peer_quiet(&p, 20));
	/* And on from there as events come. */
	a6 = append("a", NULL, "6");
	expect_block(&p, event_block(a6, NULL, "6"));
	peer_free(&p);
}
END_TEST

/* Resuming after the newest id: nothing is replayed, nothing is reset. */
START_TEST(test_stream_resume_at_newest)
{
	struct peer p;
	int64_t     id;

	append("a", NULL, "1");
	append("a", NULL, "2");
	feed_check(feed);
	peer_open(&p, "channel=a", 2);
	expect_start(&p, 2);
	ck_assert(peer_quiet(&p, 30));
	id = append("a", NULL, "3");
	expect_block(&p, event_block(id, NULL, "3"));
	peer_free(&p);
}
END_TEST

/* Some ids after the resume point were pruned: a reset first, then what is
 * left. */
START_TEST(test_stream_resume_pruned_gets_reset)
{
	struct peer p, q;
	int64_t     deleted, i;

	for (i = 1; i <= 5; i++)
		append("a", NULL, i % 2 ? "odd" : "even");
	ck_assert_int_eq(store_prune_keep_last(writer, 2, &deleted), 0);
	ck_assert_int_eq(deleted, 3);
	feed_check(feed);
	peer_open(&p, "channel=a", 1);
	expect_start(&p, 1);
	expect_block(&p, "event: reset\ndata: {\"oldest\":4,\"newest\":5}");
	expect_block(&p, event_block(4, NULL, "even"));
	expect_block(&p, event_block(5, NULL, "odd"));
	ck_assert(peer_quiet(&p, 20));
	/* From the last pruned id nothing is missing: no reset. */
	peer_open(&q, "channel=a", 3);
	expect_start(&q, 3);
	expect_block(&q, event_block(4, NULL, "even"));
	expect_block(&q, event_block(5, NULL, "odd"));
	peer_free(&p);
	peer_free(&q);
}
END_TEST

/* An id newer than the log (from another log): a reset, then all of this one.
 */
START_TEST(test_stream_resume_from_another_log_gets_reset)
{
	struct peer p;

	append("a", NULL, "1");
	append("a", NULL, "2");
	append("a", NULL, "3");
	feed_check(feed);
	peer_open(&p, "channel=a", 100);
	expect_start(&p, 0);
	expect_block(&p, "event: reset\ndata: {\"oldest\":1,\"newest\":3}");
	expect_block(&p, event_block(1, NULL, "1"));
	expect_block(&p, event_block(2, NULL, "2"));
	expect_block(&p, event_block(3, NULL, "3"));
	peer_free(&p);
}
END_TEST

START_TEST(test_stream_backlog_and_clamp)
{
	struct peer p, q;
	int         i;

	for (i = 1; i <= 10; i++) {
		char data[8];

		snprintf(data, sizeof data, "%d", i);
		append("a", NULL, data);
	}
	feed_check(feed);
	peer_open(&p, "channel=a&backlog=2", -1);
	expect_start(&p, 8);
	expect_block(&p, event_block(9, NULL, "9"));
	expect_block(&p, event_block(10, NULL, "10"));
	ck_assert(peer_quiet(&p, 20));
	peer_free(&p);

	config.backlog_max = 3;
	start_server();
	peer_open(&q, "channel=a&backlog=1000000", -1);
	expect_start(&q, 7);
	expect_block(&q, event_block(8, NULL, "8"));
	expect_block(&q, event_block(9, NULL, "9"));
	expect_block(&q, event_block(10, NULL, "10"));
	ck_assert(peer_quiet(&q, 20));
	peer_free(&q);
}
END_TEST

/* -------------------------------------------------------------- timers */

/* Keepalives come after each silence; a stream not read but not blocked stays.
 */
START_TEST(test_stream_keepalive)
{
	struct peer p;
	uint64_t    start;
	int         n = 0;
	char       *got;

	config.keepalive_ms = 40;
	start_server();
	/* The timers count from the loop's clock: as fresh as in a callback. */
	start = loop_update_time(loop);
	peer_open(&p, "channel=a", -1);
	expect_start(&p, 0);
	expect_block(&p, ": keepalive");
	ck_assert_uint_ge(testutil_now_ms() - start, 40 - 2);
	/*
	 * Unread for about ten intervals: the socket takes a few bytes each
	 * time.  Each interval's timer is due before the end of the run, so
	 * at least one comes however slow the machine is, and never more
	 * than one per interval that passed.
	 */
	start = testutil_now_ms();
	testutil_loop_run_for(loop, 400);
	ck_assert_uint_eq(stream_count(server), 1);
	peer_fill(&p);
	while ((got = peer_cut(&p, "\n\n", 0)) != NULL) {
		ck_assert_str_eq(got, ": keepalive");
		free(got);
		n++;
	}
	ck_assert_int_ge(n, 1);
	ck_assert_uint_le((uint64_t)n, (testutil_now_ms() - start) / 40 + 1);
	ck_assert(!p.closed && !p.eof);
	peer_free(&p);
}
END_TEST

/* Max-age: the position, a pause, the end of the response; then the linger. */
START_TEST(test_stream_max_age_pause)
{
	struct peer p;
	uint64_t    start;
	int64_t     unix_start, at, id;
	long        retry;

	config.max_age_ms = 200;
	config.retry_ms = 1000;
	start_server();
	unix_start = testutil_unix_ms();
	start = loop_update_time(loop);
	peer_open(&p, "channel=a", -1);
	expect_start(&p, 0);
	id = append("a", NULL, "before the end");
	expect_block(&p, event_block(id, NULL, "before the end"));
	expect_block(&p, "id: 1");
	retry = expect_pause(&p, &at);
	/* 200 ms +-10%, and back within one retry interval. */
	ck_assert_uint_ge(testutil_now_ms() - start, 180 - 2);
	ck_assert_uint_le(testutil_now_ms() - start, 220 + 1000);
	ck_assert_int_ge(retry, 0);
	ck_assert_int_le(retry, 1000);
	ck_assert_int_ge(at, unix_start + 180 - 2);
	ck_assert_int_le(at, testutil_unix_ms() + 1000);
	expect_end(&p);
	/* It stays until the web server closes its side. */
	ck_assert_uint_eq(stream_count(server), 1);
	ck_assert_uint_eq(cursor_count(), 0);
	ck_assert_int_eq(empty_calls, 0);
	close(p.fd);
	p.fd = -1;
	ck_assert(await_count(0, WAIT_MS));
	ck_assert_int_eq(empty_calls, 1);
	peer_free(&p);
}
END_TEST

/* A web server that never closes after the end is cut after the linger (5 s).
 */
START_TEST(test_stream_linger_closes)
{
	struct peer p;
	uint64_t    ended;

	config.max_age_ms = 50;
	start_server();
	peer_open(&p, "channel=a", -1);
	expect_start(&p, 0);
	expect_block(&p, "id: 0");
	free(peer_block(&p)); /* the pause */
	expect_end(&p);
	ended = testutil_now_ms();
	ck_assert_uint_eq(stream_count(server), 1);
	ck_assert(await_count(0, 5000 + WAIT_MS));
	ck_assert_uint_ge(testutil_now_ms() - ended, 5000 - 200);
	ck_assert_int_eq(empty_calls, 1);
	peer_free(&p);
}
END_TEST

/* -------------------------------------------------------------- client */

/* Checks that the stream went without ending its response. */
static void
expect_dropped(struct peer *p)
{
	ck_assert(await_count(0, WAIT_MS));
	ck_assert(peer_await_eof(p, WAIT_MS));
	ck_assert(!p->ended && !p->closed);
	ck_assert_uint_eq(cursor_count(), 0);
}

START_TEST(test_stream_abort)
{
	struct peer p;

	peer_open(&p, "channel=a", -1);
	expect_start(&p, 0);
	peer_send(&p, abort_record, sizeof abort_record);
	expect_dropped(&p);
	ck_assert_int_eq(empty_calls, 1);
	peer_free(&p);
}
END_TEST

/* An abort already read with the request: no stream at all. */
START_TEST(test_stream_abort_in_first_input)
{
	unsigned char input[sizeof empty_stdin + sizeof abort_record];
	struct peer   p;
	struct query  q;
	int           fd = peer_init(&p, REQ_ID);

	memcpy(input, empty_stdin, sizeof empty_stdin);
	memcpy(input + sizeof empty_stdin, abort_record, sizeof abort_record);
	ck_assert_int_eq(query_parse("channel=a", 9, &q, NULL, 0), 0);
	stream_open(server, fd, REQ_ID, NULL, &q, -1, 0, input, sizeof input);
	ck_assert_uint_eq(stream_count(server), 0);
	ck_assert(peer_await_eof(&p, WAIT_MS));
	ck_assert_uint_eq(buf_pending_len(&p.content), 0);
	ck_assert_int_eq(empty_calls, 0);
	ck_assert_uint_eq(cursor_count(), 0);
	peer_free(&p);
}
END_TEST

START_TEST(test_stream_client_closes)
{
	struct peer p, other;
	int64_t     id;

	peer_open(&p, "channel=a", -1);
	peer_open(&other, "channel=a", -1);
	expect_start(&p, 0);
	expect_start(&other, 0);
	ck_assert_uint_eq(stream_count(server), 2);
	close(p.fd);
	p.fd = -1;
	ck_assert(await_count(1, WAIT_MS));
	ck_assert_int_eq(empty_calls, 0);
	ck_assert_uint_eq(cursor_count(), 1);
	/* The other one goes on. */
	id = append("a", NULL, "still here");
	expect_block(&other, event_block(id, NULL, "still here"));
	close(other.fd);
	other.fd = -1;
	ck_assert(await_count(0, WAIT_MS));
	ck_assert_int_eq(empty_calls, 1);
	peer_free(&p);
	peer_free(&other);
}
END_TEST

/* The web server shutting its write side is its end too. */
START_TEST(test_stream_client_half_closes)
{
	struct peer p;

	peer_open(&p, "channel=a", -1);
	expect_start(&p, 0);
	ck_assert_int_eq(shutdown(p.fd, SHUT_WR), 0);
	expect_dropped(&p);
	peer_free(&p);
}
END_TEST

/* Records that end nothing, sent a byte at a time: the stream goes on. */
START_TEST(test_stream_harmless_records_byte_by_byte)
{
	static const unsigned char records[] = {
	    1,
	    FCGI_STDIN,
	    1,
	    2,
	    0,
	    0,
	    3,
	    0,
	    0,
	    0,
	    0,
	    1,
	    FCGI_GET_VALUES,
	    1,
	    2,
	    0,
	    4,
	    4,
	    0,
	    'a',
	    'b',
	    'c',
	    'd',
	    0,
	    0,
	    0,
	    0,
	    /* A record whose content looks like an abort and a body. */
	    1,
	    11,
	    1,
	    2,
	    0,
	    17,
	    0,
	    0,
	    1,
	    FCGI_ABORT_REQUEST,
	    1,
	    2,
	    0,
	    0,
	    0,
	    0,
	    1,
	    FCGI_STDIN,
	    1,
	    2,
	    0,
	    1,
	    0,
	    0,
	    'x',
	};
	struct peer p;
	size_t      i;
	int64_t     id;

	peer_open(&p, "channel=a", -1);
	expect_start(&p, 0);
	for (i = 0; i < sizeof records; i++) {
		peer_send(&p, records + i, 1);
		testutil_loop_step(loop);
		testutil_loop_step(loop);
		ck_assert_uint_eq(stream_count(server), 1);
	}
	ck_assert(peer_quiet(&p, 20));
	id = append("a", NULL, "after");
	expect_block(&p, event_block(id, NULL, "after"));
	ck_assert_uint_eq(stream_count(server), 1);
	peer_free(&p);
}
END_TEST

/* A request body (a GET has none) ends the stream, known from its header. */
START_TEST(test_stream_body_ends_stream)
{
	static const unsigned char body_header[] = {
	    1, FCGI_STDIN, 1, 2, 0, 5, 0, 0};
	struct peer p;

	peer_open(&p, "channel=a", -1);
	expect_start(&p, 0);
	peer_send(&p, body_header, sizeof body_header);
	expect_dropped(&p);
	peer_free(&p);
}
END_TEST

START_TEST(test_stream_garbage_ends_stream)
{
	struct peer p;

	peer_open(&p, "channel=a", -1);
	expect_start(&p, 0);
	peer_send(&p, "GET / HTTP/1.1\r\n", 16);
	expect_dropped(&p);
	peer_free(&p);
}
END_TEST

/* A body already read with the request: no stream, nothing written. */
START_TEST(test_stream_body_in_first_input)
{
	static const unsigned char body[] = {
	    1, FCGI_STDIN, 1, 2, 0, 1, 0, 0, 'x'};
	struct peer  p;
	struct query q;
	int          fd = peer_init(&p, REQ_ID);

	ck_assert_int_eq(query_parse("channel=a", 9, &q, NULL, 0), 0);
	stream_open(server, fd, REQ_ID, NULL, &q, -1, 0, body, sizeof body);
	ck_assert_uint_eq(stream_count(server), 0);
	ck_assert(peer_await_eof(&p, WAIT_MS));
	ck_assert_uint_eq(buf_pending_len(&p.content), 0);
	peer_free(&p);
}
END_TEST

/* A web server that keeps sending harmless records does not hold the stream up.
 */
START_TEST(test_stream_input_flood)
{
	size_t         record = FCGI_HEADER_LEN + 65535, total = 16 * record, i;
	unsigned char *flood = calloc(1, total);
	struct peer    p;
	int64_t        id;

	ck_assert_ptr_nonnull(flood);
	for (i = 0; i < total; i += record) {
		flood[i] = 1;
		flood[i + 1] = 11; /* an unknown type: skipped */
		flood[i + 2] = REQ_ID >> 8;
		flood[i + 3] = REQ_ID & 0xFF;
		flood[i + 4] = 0xFF;
		flood[i + 5] = 0xFF;
	}
	peer_open(&p, "channel=a", -1);
	expect_start(&p, 0);
	peer_send(&p, flood, total);
	id = append("a", NULL, "through");
	expect_block(&p, event_block(id, NULL, "through"));
	ck_assert_uint_eq(stream_count(server), 1);
	free(flood);
	peer_free(&p);
}
END_TEST

/* -------------------------------------------------------------- limits */

/* A web server that stops reading is dropped after two keepalive intervals. */
START_TEST(test_stream_stalled_reader_dropped)
{
	struct peer slow, fast;
	size_t      before, after;
	int         i;
	char       *got;

	config.keepalive_ms = 100;
	start_server();
	peer_open(&slow, "channel=a", -1);
	peer_open(&fast, "channel=a", -1);
	expect_start(&fast, 0);
	insert_kb_events(3000);
	while (feed_check(feed) > 0)
		;
	before = heap_in_use();
	for (i = 1; i <= 3000; i++)
		expect_kb_event(&fast, i);
	after = heap_in_use();
	/* The stalled one holds a write's worth, not 3 MB of events. */
	if (before != 0)
		ck_assert_msg(after < before + 1024 * 1024,
		    "heap grew from %zu to %zu", before, after);
	ck_assert(await_count(1, WAIT_MS));
	/* What it had been sent is a prefix of the stream, never ended. */
	ck_assert(peer_await_eof(&slow, WAIT_MS));
	ck_assert(!slow.ended && !slow.closed);
	expect_start(&slow, 0);
	for (i = 1; (got = peer_cut(&slow, "\n\n", 0)) != NULL; i++) {
		char want[32];

		snprintf(want, sizeof want, "id: %d\ndata: d", i);
		ck_assert_mem_eq(got, want, strlen(want));
		free(got);
	}
	ck_assert_int_lt(i, 3000);
	/* The reading one stays and gets the next event. */
	ck_assert_uint_eq(stream_count(server), 1);
	append("a", NULL, "after");
	expect_block_after_keepalives(&fast, event_block(3001, NULL, "after"));
	peer_free(&slow);
	peer_free(&fast);
}
END_TEST

/* A web server that reads slowly makes progress and is not dropped. */
START_TEST(test_stream_slow_reader_not_dropped)
{
	struct peer p;
	int         i;

	config.keepalive_ms = 200;
	start_server();
	peer_open(&p, "channel=a", -1);
	expect_start(&p, 0);
	insert_kb_events(600);
	/* 16 kB every 20 ms, while the stream could send much more: the
	 * socket takes little at a time, but its queue shrinks well within
	 * the 400 ms a stall takes. */
	p.read_max = 16384;
	for (i = 1; i <= 600; i++) {
		char *got;

		while (peer_find(&p, "\n\n") == NULL) {
			ck_assert_uint_eq(stream_count(server), 1);
			ck_assert(!p.eof);
			testutil_loop_run_for(loop, 20);
			peer_fill(&p);
		}
		got = peer_cut(&p, "\n\n", 0);
		ck_assert_ptr_nonnull(got);
		ck_assert_uint_eq(strlen(got), strlen("id: \ndata: ") + 1000 +
		                                   (i >= 100     ? 3
		                                       : i >= 10 ? 2
		                                                 : 1));
		free(got);
	}
	ck_assert_uint_eq(stream_count(server), 1);
	peer_free(&p);
}
END_TEST

/* Parses a refusal's head: checks it and returns its Retry-After. */
static long
expect_503_head(struct peer *p)
{
	char *head = peer_cut(p, "\r\n\r\n", WAIT_MS);
	long  after;
	int   used = 0;

	ck_assert_ptr_nonnull(head);
	ck_assert_msg(sscanf(head,
	                  "Status: 503 Service Unavailable\r\n"
	                  "Content-Type: text/plain; charset=utf-8\r\n"
	                  "Cache-Control: no-cache\r\nRetry-After: %ld%n",
	                  &after, &used) == 1 &&
	                  (size_t)used == strlen(head),
	    "not a 503 head: \"%s\"", head);
	free(head);
	return after;
}

START_TEST(test_stream_max_streams)
{
	struct peer p, refused, again;
	long        after;
	char       *body;

	config.max_streams = 1;
	start_server();
	peer_open(&p, "channel=a", -1);
	expect_start(&p, 0);
	peer_open(&refused, "channel=a", -1);
	after = expect_503_head(&refused);
	/* 3000 ms of retry: 3 s, spread to at most three times that. */
	ck_assert_int_ge(after, 3);
	ck_assert_int_le(after, 9);
	body = peer_cut(&refused, "\n", WAIT_MS);
	ck_assert_str_eq(body, "too many streams: try again later");
	free(body);
	expect_end(&refused);
	ck_assert_uint_eq(buf_pending_len(&refused.content), 0);
	/* A refusal is not a stream. */
	ck_assert_uint_eq(stream_count(server), 1);
	peer_free(&refused);
	testutil_loop_run_for(loop, 10);
	ck_assert_int_eq(empty_calls, 0);
	close(p.fd);
	p.fd = -1;
	ck_assert(await_count(0, WAIT_MS));
	ck_assert_int_eq(empty_calls, 1);
	/* The slot is free again. */
	peer_open(&again, "channel=a", -1);
	expect_start(&again, 0);
	peer_free(&again);
	peer_free(&p);
}
END_TEST

START_TEST(test_stream_store_unavailable)
{
	struct feed_options opts = {0};
	struct peer         p;
	char                err[256], missing[600], *body;

	stream_server_free(server);
	server = NULL;
	feed_free(feed);
	testutil_path(missing, sizeof missing, "missing.db");
	opts.db_path = missing;
	feed = feed_create(loop, &opts, err, sizeof err);
	ck_assert_ptr_nonnull(feed);
	ck_assert_ptr_nonnull(feed_store_error(feed));
	start_server();
	peer_open(&p, "channel=a", -1);
	expect_503_head(&p);
	body = peer_cut(&p, "\n", WAIT_MS);
	ck_assert_ptr_nonnull(body);
	ck_assert_msg(strncmp(body, "event store unavailable: ", 25) == 0,
	    "body \"%s\"", body);
	free(body);
	expect_end(&p);
	ck_assert_uint_eq(stream_count(server), 0);
	peer_free(&p);
}
END_TEST

/* ------------------------------------------------------------- refusal */

/* Returns the exact content of a refusal. */
static char *
refusal_text(const char *status, const char *extra, const char *reason)
{
	char *text;

	ck_assert_int_ne(
	    asprintf(&text,
	        "Status: %s\r\nContent-Type: text/plain; "
	        "charset=utf-8\r\nCache-Control: no-cache\r\n%s\r\n"
	        "%s\n",
	        status, extra ? extra : "", reason),
	    -1);
	return text;
}

/* Holds once the whole response has come. */
static int
peer_ended(void *arg)
{
	struct peer *p = arg;

	peer_fill(p);
	return p->ended || p->eof;
}

/* A refusal larger than the socket takes is written whole, as the socket
 * drains. */
START_TEST(test_stream_refuse_written_whole)
{
	size_t      size = 200000;
	char       *reason = malloc(size + 1), *want;
	struct peer p;
	int         fd = peer_init(&p, REQ_ID), small = 4096, queued = 0;

	ck_assert_ptr_nonnull(reason);
	memset(reason, 'r', size);
	reason[size] = '\0';
	ck_assert_int_eq(
	    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof small), 0);
	stream_refuse(server, fd, REQ_ID, "431 Request Header Fields Too Large",
	    NULL, reason, empty_stdin, sizeof empty_stdin);
	/* The socket took only part of it: the rest waits in the stream. */
	ck_assert_int_eq(ioctl(p.fd, FIONREAD, &queued), 0);
	ck_assert_int_lt(queued, (int)size);
	ck_assert_uint_eq(stream_count(server), 0);
	ck_assert(testutil_loop_await(loop, peer_ended, &p, p.fd, WAIT_MS));
	want =
	    refusal_text("431 Request Header Fields Too Large", NULL, reason);
	ck_assert_uint_eq(buf_pending_len(&p.content), strlen(want));
	ck_assert_mem_eq(buf_pending(&p.content), want, strlen(want));
	expect_end(&p);
	ck_assert_int_eq(empty_calls, 0);
	free(want);
	free(reason);
	peer_free(&p);
}
END_TEST

START_TEST(test_stream_refuse_with_extra_header)
{
	struct peer p;
	int         fd = peer_init(&p, REQ_ID);
	char       *want;

	stream_refuse(server, fd, REQ_ID, "405 Method Not Allowed",
	    "Allow: GET\r\n", "only GET is allowed", NULL, 0);
	expect_end(&p);
	want = refusal_text(
	    "405 Method Not Allowed", "Allow: GET\r\n", "only GET is allowed");
	ck_assert_uint_eq(buf_pending_len(&p.content), strlen(want));
	ck_assert_mem_eq(buf_pending(&p.content), want, strlen(want));
	ck_assert_uint_eq(p.records, 1);
	/* The connection stays until the web server closes it; it is no stream.
	 */
	ck_assert_uint_eq(stream_count(server), 0);
	close(p.fd);
	p.fd = -1;
	testutil_loop_run_for(loop, 10);
	ck_assert_int_eq(empty_calls, 0);
	free(want);
	peer_free(&p);
}
END_TEST

/* A refused request's body is not read, and ends nothing: the answer comes
 * whole. */
START_TEST(test_stream_refuse_ignores_body)
{
	static const unsigned char body[] = {
	    1, FCGI_STDIN, 1, 2, 0, 3, 0, 0, 'a', 'b', 'c'};
	struct peer p;
	int         fd = peer_init(&p, REQ_ID);
	char       *want;

	stream_refuse(server, fd, REQ_ID, "400 Bad Request", NULL,
	    "a GET request for an event stream has no body", body, sizeof body);
	peer_send(&p, body, sizeof body);
	peer_send(&p, abort_record, sizeof abort_record);
	expect_end(&p);
	want = refusal_text("400 Bad Request", NULL,
	    "a GET request for an event stream has no body");
	ck_assert_uint_eq(buf_pending_len(&p.content), strlen(want));
	ck_assert_mem_eq(buf_pending(&p.content), want, strlen(want));
	free(want);
	peer_free(&p);
}
END_TEST

/* A refused request that was already aborted (or is not records) gets nothing.
 */
START_TEST(test_stream_refuse_aborted_gets_nothing)
{
	struct peer p, q;
	int         fd = peer_init(&p, REQ_ID);

	stream_refuse(server, fd, REQ_ID, "400 Bad Request", NULL, "no",
	    abort_record, sizeof abort_record);
	ck_assert(peer_await_eof(&p, WAIT_MS));
	ck_assert_uint_eq(buf_pending_len(&p.content), 0);
	fd = peer_init(&q, REQ_ID);
	stream_refuse(server, fd, REQ_ID, "400 Bad Request", NULL, "no",
	    "GET / HTTP/1.1\r\n", 16);
	ck_assert(peer_await_eof(&q, WAIT_MS));
	ck_assert_uint_eq(buf_pending_len(&q.content), 0);
	peer_free(&p);
	peer_free(&q);
}
END_TEST

/* As plain CGI: the response unframed, then the descriptor is closed. */
START_TEST(test_stream_refuse_cgi)
{
	struct peer p;
	int         fd = peer_init(&p, 0);
	char       *want;

	stream_refuse(server, fd, 0, "400 Bad Request", NULL, "bad", NULL, 0);
	ck_assert(peer_await_eof(&p, WAIT_MS));
	want = refusal_text("400 Bad Request", NULL, "bad");
	ck_assert_uint_eq(buf_pending_len(&p.content), strlen(want));
	ck_assert_mem_eq(buf_pending(&p.content), want, strlen(want));
	ck_assert_uint_eq(stream_count(server), 0);
	free(want);
	peer_free(&p);
}
END_TEST

START_TEST(test_stream_error_response_bytes)
{
	struct buf  out = {0};
	struct peer p;
	char       *want = refusal_text(
	          "503 Service Unavailable", "Retry-After: 7\r\n", "later");

	/* CGI form: just the text. */
	ck_assert_int_eq(
	    stream_error_response(&out, 0, "503 Service Unavailable",
	        "Retry-After: 7\r\n", "later"),
	    0);
	ck_assert_uint_eq(buf_pending_len(&out), strlen(want));
	ck_assert_mem_eq(buf_pending(&out), want, strlen(want));
	buf_free(&out);
	/* FastCGI: one STDOUT record, the empty one, END_REQUEST. */
	ck_assert_int_eq(
	    stream_error_response(&out, 7, "503 Service Unavailable",
	        "Retry-After: 7\r\n", "later"),
	    0);
	memset(&p, 0, sizeof p);
	p.id = 7;
	ck_assert_int_eq(
	    buf_append(&p.raw, buf_pending(&out), buf_pending_len(&out)), 0);
	peer_parse(&p);
	ck_assert_uint_eq(buf_pending_len(&p.raw), 0);
	ck_assert(p.ended);
	ck_assert_uint_eq(p.records, 1);
	ck_assert_uint_eq(buf_pending_len(&p.content), strlen(want));
	ck_assert_mem_eq(buf_pending(&p.content), want, strlen(want));
	buf_free(&out);
	p.fd = -1;
	peer_free(&p);
	free(want);
}
END_TEST

/* A block of header lines goes on the 200, after its own headers. */
START_TEST(test_stream_open_with_headers)
{
	static const char headers[] =
	    "Vary: Origin\r\nAccess-Control-Allow-Origin: http://a.test\r\n";
	struct peer  p;
	struct query q;
	char         why[QUERY_ERRLEN], line[64];
	int          fd = peer_init(&p, REQ_ID);

	ck_assert_int_eq(query_parse("channel=a", 9, &q, why, sizeof why), 0);
	stream_open(server, fd, REQ_ID, headers, &q, -1, 0, empty_stdin,
	    sizeof empty_stdin);
	expect_head(&p,
	    "Status: 200 OK\r\n"
	    "Content-Type: text/event-stream; charset=utf-8\r\n"
	    "Cache-Control: no-cache\r\n"
	    "X-Accel-Buffering: no\r\n"
	    "Vary: Origin\r\nAccess-Control-Allow-Origin: http://a.test\r\n"
	    "\r\n");
	snprintf(line, sizeof line, "retry: %" PRId64, config.retry_ms);
	expect_block(&p, line);
	expect_block(&p, "id: 0");
	peer_free(&p);
}
END_TEST

/* A 503 gets the block, then its Retry-After. */
START_TEST(test_stream_503_with_headers)
{
	struct peer  p, refused;
	struct query q;
	char         why[QUERY_ERRLEN], *head;
	long         after;
	int          fd, used = 0;

	config.max_streams = 1;
	start_server();
	peer_open(&p, "channel=a", -1);
	expect_start(&p, 0);
	ck_assert_int_eq(query_parse("channel=a", 9, &q, why, sizeof why), 0);
	fd = peer_init(&refused, REQ_ID);
	stream_open(server, fd, REQ_ID, "Vary: Origin\r\n", &q, -1, 0,
	    empty_stdin, sizeof empty_stdin);
	head = peer_cut(&refused, "\r\n\r\n", WAIT_MS);
	ck_assert_ptr_nonnull(head);
	ck_assert_msg(sscanf(head,
	                  "Status: 503 Service Unavailable\r\n"
	                  "Content-Type: text/plain; charset=utf-8\r\n"
	                  "Cache-Control: no-cache\r\nVary: Origin\r\n"
	                  "Retry-After: %ld%n",
	                  &after, &used) == 1 &&
	                  (size_t)used == strlen(head),
	    "not a 503 head with the block: \"%s\"", head);
	free(head);
	peer_free(&refused);
	peer_free(&p);
}
END_TEST

/* Without a reason, a response has no body: a preflight's 204. */
START_TEST(test_stream_refuse_without_body)
{
	static const char want[] =
	    "Status: 204 No Content\r\nVary: Origin\r\n\r\n";
	struct peer p;
	int         fd = peer_init(&p, REQ_ID);
	struct buf  out = {0};

	stream_refuse(server, fd, REQ_ID, "204 No Content", "Vary: Origin\r\n",
	    NULL, NULL, 0);
	expect_end(&p);
	ck_assert_uint_eq(buf_pending_len(&p.content), strlen(want));
	ck_assert_mem_eq(buf_pending(&p.content), want, strlen(want));
	peer_free(&p);
	/* As plain CGI, the same bytes unframed. */
	ck_assert_int_eq(
	    stream_error_response(&out, 0, "204 No Content", NULL, NULL), 0);
	ck_assert_uint_eq(buf_pending_len(&out), 26);
	ck_assert_mem_eq(
	    buf_pending(&out), "Status: 204 No Content\r\n\r\n", 26);
	buf_free(&out);
}
END_TEST

/* ------------------------------------------------------------ shutdown */

START_TEST(test_stream_shutdown_pauses_every_stream)
{
	struct peer p, q, late;
	int64_t     unix_start, at, a1, b1;
	long        retry;
	char       *block, *body;
	long long   position;

	config.retry_ms = 1000;
	start_server();
	peer_open(&p, "channel=a", -1);
	expect_start(&p, 0);
	a1 = append("a", NULL, "1");
	expect_block(&p, event_block(a1, NULL, "1"));
	peer_open(&q, "channel=b", -1);
	expect_start(&q, a1);
	b1 = append("b", NULL, "2");
	expect_block(&q, event_block(b1, NULL, "2"));
	unix_start = testutil_unix_ms();
	stream_shutdown(server);
	ck_assert_int_eq(empty_calls, 0);

	/* The position, a pause after one retry interval and a spread. */
	block = peer_block(&p);
	ck_assert_ptr_nonnull(block);
	ck_assert_int_eq(sscanf(block, "id: %lld", &position), 1);
	ck_assert_int_ge(position, a1);
	ck_assert_int_le(position, b1);
	free(block);
	retry = expect_pause(&p, &at);
	ck_assert_int_ge(at, unix_start + 1000);
	ck_assert_int_le(at, testutil_unix_ms() + 2000);
	ck_assert_int_ge(retry, 1000 - 50);
	ck_assert_int_le(retry, 2000);
	expect_end(&p);
	expect_block(&q, "id: 2");
	retry = expect_pause(&q, &at);
	ck_assert_int_ge(at, unix_start + 1000);
	ck_assert_int_le(at, testutil_unix_ms() + 2000);
	expect_end(&q);

	/* New streams are refused meanwhile. */
	peer_open(&late, "channel=a", -1);
	expect_503_head(&late);
	body = peer_cut(&late, "\n", WAIT_MS);
	ck_assert_str_eq(body, "litepush-sse is shutting down");
	free(body);
	expect_end(&late);
	peer_free(&late);

	/* The streams go as the web server closes them; then the callback. */
	ck_assert_uint_eq(stream_count(server), 2);
	close(p.fd);
	p.fd = -1;
	ck_assert(await_count(1, WAIT_MS));
	ck_assert_int_eq(empty_calls, 0);
	close(q.fd);
	q.fd = -1;
	ck_assert(await_count(0, WAIT_MS));
	ck_assert_int_eq(empty_calls, 1);
	peer_free(&p);
	peer_free(&q);
}
END_TEST

START_TEST(test_stream_shutdown_when_empty)
{
	stream_shutdown(server);
	ck_assert_int_eq(empty_calls, 1);
	ck_assert_uint_eq(stream_count(server), 0);
}
END_TEST

/* Freeing the server closes every stream, without a pause or a callback. */
START_TEST(test_stream_server_free_closes_streams)
{
	struct peer p, q;

	peer_open(&p, "channel=a", -1);
	peer_open(&q, "channel=b", -1);
	expect_start(&p, 0);
	expect_start(&q, 0);
	stream_server_free(server);
	server = NULL;
	ck_assert_uint_eq(cursor_count(), 0);
	ck_assert(peer_await_eof(&p, WAIT_MS));
	ck_assert(peer_await_eof(&q, WAIT_MS));
	ck_assert(!p.closed && !q.closed);
	ck_assert_uint_eq(buf_pending_len(&p.content), 0);
	ck_assert_int_eq(empty_calls, 0);
	stream_server_free(NULL);
	peer_free(&p);
	peer_free(&q);
}
END_TEST

/* --------------------------------------------------------------- input */

/* What the web server may send after a request, and what it means. */
struct scan_case {
	const char   *name;
	unsigned char bytes[48];
	size_t        len;
	int           want;
	size_t        decided; /* bytes after which want is known; 0 for OK */
};

static const struct scan_case scan_cases[] = {
    {"nothing", {0}, 0, FCGI_INPUT_OK, 0},
    {"empty STDIN", {1, 5, 0, 1, 0, 0, 0, 0}, 8, FCGI_INPUT_OK, 0},
    {"padded empty STDIN", {1, 5, 0, 1, 0, 0, 3, 0, 0, 0, 0}, 11, FCGI_INPUT_OK,
        0},
    {"other types",
        {1, 9, 0, 1, 0, 2, 2, 0, 'a', 'b', 0, 0, 1, 11, 0, 1, 0, 0, 0, 0}, 20,
        FCGI_INPUT_OK, 0},
    {"an abort inside content",
        {1, 11, 0, 1, 0, 8, 0, 0, 1, 2, 0, 1, 0, 0, 0, 0}, 16, FCGI_INPUT_OK,
        0},
    {"a header cut short", {1, 2, 0, 1, 0}, 5, FCGI_INPUT_OK, 0},
    {"abort", {1, 2, 0, 1, 0, 0, 0, 0}, 8, FCGI_INPUT_ABORTED, 8},
    {"abort after STDIN", {1, 5, 0, 1, 0, 0, 0, 0, 1, 2, 0, 1, 0, 0, 0, 0}, 16,
        FCGI_INPUT_ABORTED, 16},
    {"abort of another id", {1, 2, 0, 9, 0, 0, 0, 0}, 8, FCGI_INPUT_ABORTED, 8},
    {"abort with content", {1, 2, 0, 1, 0, 2, 0, 0, 'x', 'y'}, 10,
        FCGI_INPUT_ABORTED, 8},
    {"a body", {1, 5, 0, 1, 0, 1, 0, 0, 'x'}, 9, FCGI_INPUT_BODY, 8},
    {"a body of 256 bytes (high length byte)", {1, 5, 0, 1, 1, 0, 0, 0}, 8,
        FCGI_INPUT_BODY, 8},
    {"a body after other records",
        {1, 11, 0, 1, 0, 1, 1, 0, 'z', 0, 1, 5, 0, 1, 0, 4, 0, 0, 'b'}, 19,
        FCGI_INPUT_BODY, 18},
    {"version 0", {0, 5, 0, 1, 0, 0, 0, 0}, 8, FCGI_INPUT_BROKEN, 8},
    {"version 2", {2, 2, 0, 1, 0, 0, 0, 0}, 8, FCGI_INPUT_BROKEN, 8},
    {"text", {'G', 'E', 'T', ' ', '/', ' ', 'H', 'T', 'T', 'P'}, 10,
        FCGI_INPUT_BROKEN, 8},
    {"text after STDIN",
        {1, 5, 0, 1, 0, 0, 0, 0, 'G', 'E', 'T', ' ', '/', ' ', 'H', 'T'}, 16,
        FCGI_INPUT_BROKEN, 16},
};

#define NSCAN_CASES ((int)(sizeof scan_cases / sizeof scan_cases[0]))

/* Returns what the scanner says after a prefix of length n. */
static int
scan_expected(const struct scan_case *c, size_t n)
{
	return c->decided != 0 && n >= c->decided ? c->want : FCGI_INPUT_OK;
}

START_TEST(test_stream_input_scan_whole)
{
	const struct scan_case *c = &scan_cases[_i];
	struct fcgi_input       in = {0};

	ck_assert_msg(
	    fcgi_input_scan(&in, c->bytes, c->len) == c->want, "%s", c->name);
}
END_TEST

START_TEST(test_stream_input_scan_byte_by_byte)
{
	const struct scan_case *c = &scan_cases[_i];
	struct fcgi_input       in = {0};
	size_t                  i;

	for (i = 0; i < c->len; i++)
		ck_assert_msg(fcgi_input_scan(&in, c->bytes + i, 1) ==
		                  scan_expected(c, i + 1),
		    "%s: after %zu bytes", c->name, i + 1);
	ck_assert_int_eq(fcgi_input_scan(&in, c->bytes, 0), c->want);
}
END_TEST

START_TEST(test_stream_input_scan_every_split)
{
	const struct scan_case *c = &scan_cases[_i];
	size_t                  cut;

	for (cut = 0; cut <= c->len; cut++) {
		struct fcgi_input in = {0};

		ck_assert_msg(fcgi_input_scan(&in, c->bytes, cut) ==
		                  scan_expected(c, cut),
		    "%s: first %zu bytes", c->name, cut);
		ck_assert_msg(fcgi_input_scan(
		                  &in, c->bytes + cut, c->len - cut) == c->want,
		    "%s: cut at %zu", c->name, cut);
	}
}
END_TEST

/* Once the stream must end it stays so, whatever comes; OK goes on scanning. */
START_TEST(test_stream_input_scan_sticky)
{
	const struct scan_case *c = &scan_cases[_i];
	struct fcgi_input       in = {0};
	int                     then;

	fcgi_input_scan(&in, c->bytes, c->len);
	then = fcgi_input_scan(&in, abort_record, sizeof abort_record);
	/*
	 * An OK scanner is at a record boundary, or (the cut header) takes the
	 * abort's first bytes to complete an abort header of its own.
	 */
	ck_assert_msg(
	    then == (c->want != FCGI_INPUT_OK ? c->want : FCGI_INPUT_ABORTED),
	    "%s: %d", c->name, then);
	ck_assert_int_eq(
	    fcgi_input_scan(&in, empty_stdin, sizeof empty_stdin), then);
}
END_TEST

/* Builds the suite: one case per concern. */
static Suite *
check_stream_suite(void)
{
	Suite *s = suite_create("stream");
	TCase *tc;

	tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_stream_headers_and_first_events);
	tcase_add_test(tc, test_stream_ready_events_in_one_record);
	tcase_add_test(tc, test_stream_event_after_commit);
	tcase_add_test(tc, test_stream_several_channels);
	tcase_add_test(tc, test_stream_big_event_split_into_records);
	tcase_add_test(tc, test_stream_cgi_mode);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);

	tc = tcase_create("resume");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_stream_resume_from_last_event_id);
	tcase_add_test(tc, test_stream_resume_at_newest);
	tcase_add_test(tc, test_stream_resume_pruned_gets_reset);
	tcase_add_test(tc, test_stream_resume_from_another_log_gets_reset);
	tcase_add_test(tc, test_stream_backlog_and_clamp);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);

	tc = tcase_create("timers");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_stream_keepalive);
	tcase_add_test(tc, test_stream_max_age_pause);
	tcase_add_test(tc, test_stream_linger_closes);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);

	tc = tcase_create("client");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_stream_abort);
	tcase_add_test(tc, test_stream_abort_in_first_input);
	tcase_add_test(tc, test_stream_client_closes);
	tcase_add_test(tc, test_stream_client_half_closes);
	tcase_add_test(tc, test_stream_harmless_records_byte_by_byte);
	tcase_add_test(tc, test_stream_body_ends_stream);
	tcase_add_test(tc, test_stream_garbage_ends_stream);
	tcase_add_test(tc, test_stream_body_in_first_input);
	tcase_add_test(tc, test_stream_input_flood);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);

	tc = tcase_create("limits");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_stream_stalled_reader_dropped);
	tcase_add_test(tc, test_stream_slow_reader_not_dropped);
	tcase_add_test(tc, test_stream_max_streams);
	tcase_add_test(tc, test_stream_store_unavailable);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);

	tc = tcase_create("refusal");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_stream_refuse_written_whole);
	tcase_add_test(tc, test_stream_refuse_with_extra_header);
	tcase_add_test(tc, test_stream_refuse_ignores_body);
	tcase_add_test(tc, test_stream_refuse_aborted_gets_nothing);
	tcase_add_test(tc, test_stream_refuse_cgi);
	tcase_add_test(tc, test_stream_error_response_bytes);
	tcase_add_test(tc, test_stream_open_with_headers);
	tcase_add_test(tc, test_stream_503_with_headers);
	tcase_add_test(tc, test_stream_refuse_without_body);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);

	tc = tcase_create("shutdown");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_stream_shutdown_pauses_every_stream);
	tcase_add_test(tc, test_stream_shutdown_when_empty);
	tcase_add_test(tc, test_stream_server_free_closes_streams);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);

	tc = tcase_create("input");
	tcase_add_loop_test(tc, test_stream_input_scan_whole, 0, NSCAN_CASES);
	tcase_add_loop_test(
	    tc, test_stream_input_scan_byte_by_byte, 0, NSCAN_CASES);
	tcase_add_loop_test(
	    tc, test_stream_input_scan_every_split, 0, NSCAN_CASES);
	tcase_add_loop_test(tc, test_stream_input_scan_sticky, 0, NSCAN_CASES);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(check_stream_suite());
	int      failed;

	/* Writes to a peer gone give EPIPE, as in the daemon (proc_signals). */
	signal(SIGPIPE, SIG_IGN);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
