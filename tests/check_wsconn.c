/* check_wsconn.c: unit tests of connections, scripted over socketpairs. */
#include "config.h"

#include <sys/socket.h>

#include <check.h>
#include <signal.h>
#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "feed.h"
#include "loop.h"
#include "store.h"
#include "testutil.h"
#include "wsconn.h"

/*
 * The test is the client: it writes the bytes a client would (frames built
 * by hand, masked or not, well-formed or not) to its end of a socketpair,
 * runs the daemon's loop a step at a time, and reads back exactly what the
 * server wrote.  The store is a real database in a temporary directory,
 * written by the test through its own connection.
 */

/* A string literal and its length. */
#define LIT(s) (s), (sizeof(s) - 1)

/* How long a test waits for something that should happen at once. */
#define WAIT_MS 3000

#define KEY    "dGhlIHNhbXBsZSBub25jZQ=="
#define ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

static char                  db_path[512];
static struct store         *writer;
static struct loop          *loop;
static struct feed          *feed;
static struct wsconn_server *server;
static struct wsconn_config  config;
static const char *const     publish_globs[] = {"chat*"};
static int                   empty_calls;

/* Counts the empty callbacks. */
static void
on_empty(struct wsconn_server *s, void *arg)
{
	(void)s;
	(void)arg;
	empty_calls++;
}

/* Creates the server with the current config. */
static void
start_server(void)
{
	wsconn_server_free(server);
	server = wsconn_server_create(loop, feed, &config, on_empty, NULL);
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
	config.max_conns = 8;
	config.max_message = 1000;
	config.ping_ms = 0;
	config.handshake_timeout_ms = 5000;
	config.backlog_max = 1000;
	config.db_path = db_path;
	config.publish = publish_globs;
	config.npublish = 1;
	config.log = getenv("WSCONN_TEST_LOG") != NULL ? stderr : NULL;
	empty_calls = 0;
	server = NULL;
	start_server();
}

/* Frees what setup() made. */
static void
teardown(void)
{
	wsconn_server_free(server);
	server = NULL;
	feed_free(feed);
	feed = NULL;
	loop_free(loop);
	loop = NULL;
	store_close(writer);
	writer = NULL;
	testutil_tmpdir_remove();
}

/* Opens a connection: returns the client's end of a socketpair. */
static int
client_connect(void)
{
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX,
	                     SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv),
	    0);
	wsconn_accept(server, sv[0], "test-peer");
	return sv[1];
}

/* Writes all of data (the socket buffer takes what a test sends). */
static void
client_send(int fd, const void *data, size_t len)
{
	const char *p = data;
	uint64_t    end = testutil_now_ms() + WAIT_MS;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			ck_assert_int_eq(errno, EAGAIN);
			ck_assert_uint_lt(testutil_now_ms(), end);
			testutil_loop_step(loop);
			continue;
		}
		p += n;
		len -= (size_t)n;
	}
}

/*
 * Reads exactly len bytes while running the loop; returns how many came
 * before EOF or the timeout.
 */
static size_t
client_read(int fd, void *data, size_t len, int timeout_ms)
{
	char    *p = data;
	size_t   got = 0;
	uint64_t end = testutil_now_ms() + (uint64_t)timeout_ms;

	while (got < len) {
		ssize_t n = read(fd, p + got, len - got);

		if (n > 0) {
			got += (size_t)n;
			continue;
		}
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			break;
		if (testutil_now_ms() >= end)
			break;
		testutil_loop_step(loop);
		usleep(200);
	}
	return got;
}

/* Returns 1 if the server closed the connection (EOF) within timeout_ms. */
static int
client_eof(int fd, int timeout_ms)
{
	uint64_t end = testutil_now_ms() + (uint64_t)timeout_ms;
	char     junk[4096];

	for (;;) {
		ssize_t n = read(fd, junk, sizeof junk);

		if (n == 0)
			return 1;
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return 1; /* reset: closed too */
		if (testutil_now_ms() >= end)
			return 0;
		if (n < 0) {
			testutil_loop_step(loop);
			usleep(200);
		}
	}
}

/* Returns 1 if nothing arrives within ms (the loop running meanwhile). */
static int
client_quiet(int fd, int ms)
{
	char c;

	testutil_loop_run_for(loop, ms);
	return read(fd, &c, 1) < 0 && errno == EAGAIN;
}

/* Reads an HTTP response head (up to the blank line) into out. */
static void
client_read_head(int fd, char *out, size_t size)
{
	size_t len = 0;

	while (len + 1 < size) {
		ck_assert_msg(client_read(fd, out + len, 1, WAIT_MS) == 1,
		    "no complete response head; got \"%.*s\"", (int)len, out);
		len++;
		if (len >= 4 && memcmp(out + len - 4, "\r\n\r\n", 4) == 0)
			break;
	}
	out[len] = '\0';
}

/* A frame from the server. */
struct server_frame {
	int    fin;
	int    opcode;
	size_t len;
	char  *payload; /* NUL-terminated; free() it */
};

static int read_frame(int fd, struct server_frame *f, int timeout_ms);

/* The position the last client_open() was given. */
static int64_t opened_at;

/*
 * Checks that the next frame is the connection's {"position":N} and returns
 * N.
 */
static int64_t
read_position(int fd)
{
	struct server_frame f;
	long long           n = -1;
	char                tail = 0;

	ck_assert_msg(read_frame(fd, &f, WAIT_MS) == 0, "no position came");
	ck_assert_int_eq(f.opcode, 1);
	ck_assert_msg(
	    sscanf(f.payload, "{\"position\":%lld%c", &n, &tail) == 2 &&
	        tail == '}',
	    "not a position: %s", f.payload);
	free(f.payload);
	return n;
}

/*
 * Sends a handshake for target and checks the 101 and the position frame
 * (kept in opened_at).
 */
static int
client_open(const char *target)
{
	char request[1024], head[1024];
	int  fd = client_connect();

	snprintf(request, sizeof request,
	    "GET %s HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
	    "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
	    "Sec-WebSocket-Key: " KEY "\r\n\r\n",
	    target);
	client_send(fd, request, strlen(request));
	client_read_head(fd, head, sizeof head);
	ck_assert_str_eq(head,
	    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
	    "Connection: Upgrade\r\nSec-WebSocket-Accept: " ACCEPT "\r\n\r\n");
	opened_at = read_position(fd);
	return fd;
}

/* Builds a client frame: masked unless told not to. */
static size_t
frame(unsigned char *out, int fin, int rsv, int opcode, int masked,
    const void *payload, size_t len)
{
	static const unsigned char mask[4] = {0x37, 0xFA, 0x21, 0x3D};
	const unsigned char       *p = payload;
	size_t                     n = 0, i;

	out[n++] = (unsigned char)((fin ? 0x80 : 0) | (rsv << 4) | opcode);
	if (len < 126)
		out[n++] = (unsigned char)((masked ? 0x80 : 0) | len);
	else if (len < 65536) {
		out[n++] = (unsigned char)((masked ? 0x80 : 0) | 126);
		out[n++] = (unsigned char)(len >> 8);
		out[n++] = (unsigned char)len;
	} else {
		out[n++] = (unsigned char)((masked ? 0x80 : 0) | 127);
		for (i = 0; i < 8; i++)
			out[n++] =
			    (unsigned char)((uint64_t)len >> (56 - 8 * i));
	}
	if (masked) {
		memcpy(out + n, mask, 4);
		n += 4;
	}
	for (i = 0; i < len; i++)
		out[n + i] = masked ? p[i] ^ mask[i % 4] : p[i];
	return n + len;
}

/* Sends one client frame. */
static void
send_frame(int fd, int fin, int rsv, int opcode, int masked,
    const void *payload, size_t len)
{
	unsigned char *out = malloc(len + 14);

	ck_assert_ptr_nonnull(out);
	client_send(
	    fd, out, frame(out, fin, rsv, opcode, masked, payload, len));
	free(out);
}

/* Reads one server frame (which must not be masked); returns 0 or -1. */
static int
read_frame(int fd, struct server_frame *f, int timeout_ms)
{
	unsigned char head[10];
	size_t        n, i;

	memset(f, 0, sizeof *f);
	if (client_read(fd, head, 2, timeout_ms) != 2)
		return -1;
	ck_assert_int_eq(head[1] & 0x80, 0);
	ck_assert_int_eq(head[0] & 0x70, 0);
	f->fin = head[0] >> 7;
	f->opcode = head[0] & 0x0F;
	n = head[1] & 0x7F;
	if (n == 126) {
		ck_assert_uint_eq(client_read(fd, head + 2, 2, WAIT_MS), 2);
		n = (size_t)head[2] << 8 | head[3];
	} else if (n == 127) {
		ck_assert_uint_eq(client_read(fd, head + 2, 8, WAIT_MS), 8);
		for (n = 0, i = 2; i < 10; i++)
			n = n << 8 | head[i];
	}
	f->len = n;
	f->payload = malloc(n + 1);
	ck_assert_ptr_nonnull(f->payload);
	ck_assert_uint_eq(client_read(fd, f->payload, n, WAIT_MS), n);
	f->payload[n] = '\0';
	return 0;
}

/* Reads a text frame and returns its payload (free() it). */
static char *
read_text(int fd)
{
	struct server_frame f;

	ck_assert_msg(read_frame(fd, &f, WAIT_MS) == 0, "no frame came");
	ck_assert_msg(f.opcode == 1, "opcode %d (%s)", f.opcode, f.payload);
	ck_assert_int_eq(f.fin, 1);
	return f.payload;
}

/* Checks that the next frame is a text frame with exactly want. */
static void
expect_text(int fd, const char *want)
{
	char *got = read_text(fd);

	ck_assert_str_eq(got, want);
	free(got);
}

/* Reads frames until a close; returns its code (0 without one), -1 if none
 * came. */
static int
read_close(int fd)
{
	struct server_frame f;

	for (;;) {
		int code;

		if (read_frame(fd, &f, WAIT_MS) != 0)
			return -1;
		if (f.opcode != 8) {
			free(f.payload);
			continue;
		}
		code = f.len >= 2 ? ((unsigned char)f.payload[0] << 8 |
		                        (unsigned char)f.payload[1])
		                  : 0;
		free(f.payload);
		return code;
	}
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

/* Returns the JSON of an event as the server must send it. */
static char *
event_json(int64_t id, const char *channel, const char *event, const char *data)
{
	static char out[4][512];
	static int  which;

	which = (which + 1) % 4;
	if (event != NULL)
		snprintf(out[which], sizeof out[0],
		    "{\"id\":%" PRId64 ",\"channel\":\"%s\",\"event\":\"%s\","
		    "\"data\":\"%s\"}",
		    id, channel, event, data);
	else
		snprintf(out[which], sizeof out[0],
		    "{\"id\":%" PRId64 ",\"channel\":\"%s\",\"event\":null,"
		    "\"data\":\"%s\"}",
		    id, channel, data);
	return out[which];
}

START_TEST(test_wsconn_event_after_upgrade)
{
	int     fd = client_open("/ws?channel=news");
	int64_t id;

	ck_assert_uint_eq(wsconn_open_count(server), 1);
	ck_assert(client_quiet(fd, 20));
	id = append("news", "add", "hello");
	append("other", NULL, "not for us");
	expect_text(fd, event_json(id, "news", "add", "hello"));
	id = append("news", NULL, "line\nline \"q\"");
	expect_text(fd, event_json(id, "news", NULL, "line\\nline \\\"q\\\""));
	ck_assert(client_quiet(fd, 20));
	close(fd);
	testutil_loop_run_for(loop, 20);
	ck_assert_uint_eq(wsconn_count(server), 0);
	ck_assert_int_eq(empty_calls, 1);
}
END_TEST

/*
 * Every connection starts with {"position":N}, the id after which its
 * events start: the resume point, the backlog's start, or the newest id;
 * a client that gets no event before it reconnects resumes from there.
 */
START_TEST(test_wsconn_position_first)
{
	int64_t a1 = append("a", NULL, "1"), a2 = append("b", NULL, "2"), a3;
	int     fd;

	feed_check(feed);
	fd = client_open("/x?channel=a");
	ck_assert_int_eq(opened_at, a2);
	a3 = append("a", NULL, "3");
	feed_check(feed);
	expect_text(fd, event_json(a3, "a", NULL, "3"));
	close(fd);
	fd = client_open("/x?channel=a&lastEventId=1");
	ck_assert_int_eq(opened_at, a1);
	expect_text(fd, event_json(a3, "a", NULL, "3"));
	close(fd);
	/* The backlog's: after the channel's event before the last one. */
	fd = client_open("/x?channel=a&backlog=1");
	ck_assert_int_eq(opened_at, a1);
	expect_text(fd, event_json(a3, "a", NULL, "3"));
	close(fd);
	/* Quiet since: the position is all the client learns, and enough. */
	fd = client_open("/x?channel=quiet");
	ck_assert_int_eq(opened_at, a3);
	ck_assert(client_quiet(fd, 20));
	close(fd);
}
END_TEST

START_TEST(test_wsconn_resume_and_backlog)
{
	int64_t a1 = append("a", NULL, "1"), a2, a3, b1, a4;
	int     fd;

	b1 = append("b", NULL, "b1");
	a2 = append("a", NULL, "2");
	a3 = append("a", NULL, "3");
	feed_check(feed);

	/* lastEventId: every event after it, in order, once. */
	fd = client_open("/x?channel=a&lastEventId=1");
	expect_text(fd, event_json(a2, "a", NULL, "2"));
	expect_text(fd, event_json(a3, "a", NULL, "3"));
	ck_assert(client_quiet(fd, 20));
	close(fd);

	/* Several channels, from the start. */
	fd = client_open("/x?channel=a,b&lastEventId=0");
	expect_text(fd, event_json(a1, "a", NULL, "1"));
	expect_text(fd, event_json(b1, "b", NULL, "b1"));
	expect_text(fd, event_json(a2, "a", NULL, "2"));
	expect_text(fd, event_json(a3, "a", NULL, "3"));
	close(fd);

	/* backlog: the last N of its channels. */
	fd = client_open("/x?channel=a&backlog=2");
	expect_text(fd, event_json(a2, "a", NULL, "2"));
	expect_text(fd, event_json(a3, "a", NULL, "3"));
	ck_assert(client_quiet(fd, 20));
	close(fd);

	/* Neither: only what comes next. */
	fd = client_open("/x?channel=a");
	ck_assert(client_quiet(fd, 30));
	a4 = append("a", NULL, "4");
	expect_text(fd, event_json(a4, "a", NULL, "4"));
	close(fd);
}
END_TEST

START_TEST(test_wsconn_backlog_clamped)
{
	int i, fd;

	config.backlog_max = 3;
	start_server();
	for (i = 1; i <= 10; i++) {
		char data[8];

		snprintf(data, sizeof data, "%d", i);
		append("a", NULL, data);
	}
	feed_check(feed);
	fd = client_open("/x?channel=a&backlog=1000000");
	expect_text(fd, event_json(8, "a", NULL, "8"));
	expect_text(fd, event_json(9, "a", NULL, "9"));
	expect_text(fd, event_json(10, "a", NULL, "10"));
	ck_assert(client_quiet(fd, 20));
	close(fd);
}
END_TEST

START_TEST(test_wsconn_ping_pong)
{
	int                 fd = client_open("/?channel=a");
	struct server_frame f;

	send_frame(fd, 1, 0, 9, 1, LIT("hello"));
	ck_assert_int_eq(read_frame(fd, &f, WAIT_MS), 0);
	ck_assert_int_eq(f.opcode, 10);
	ck_assert_str_eq(f.payload, "hello");
	free(f.payload);
	/* An empty ping, and a pong nobody asked for (ignored). */
	send_frame(fd, 1, 0, 10, 1, LIT("unsolicited"));
	send_frame(fd, 1, 0, 9, 1, "", 0);
	ck_assert_int_eq(read_frame(fd, &f, WAIT_MS), 0);
	ck_assert_int_eq(f.opcode, 10);
	ck_assert_uint_eq(f.len, 0);
	free(f.payload);
	close(fd);
}
END_TEST

START_TEST(test_wsconn_publish)
{
	int   fd = client_open("/?channel=chat");
	char *ack;

	send_frame(fd, 1, 0, 1, 1,
	    LIT("{\"channel\":\"chat\",\"event\":\"msg\",\"data\":\"hi\"}"));
	expect_text(fd, "{\"ack\":1}");
	/* The sender is a subscriber too. */
	expect_text(fd, event_json(1, "chat", "msg", "hi"));

	/* Fragmented: text, continuation, with a ping in between. */
	send_frame(fd, 0, 0, 1, 1, LIT("{\"channel\":\"chat-2\","));
	send_frame(fd, 1, 0, 9, 1, LIT("mid"));
	send_frame(fd, 0, 0, 0, 1, LIT("\"data\":\"fr"));
	send_frame(fd, 1, 0, 0, 1, LIT("ag\"}"));
	{
		struct server_frame f;

		ck_assert_int_eq(read_frame(fd, &f, WAIT_MS), 0);
		ck_assert_int_eq(f.opcode, 10);
		ck_assert_str_eq(f.payload, "mid");
		free(f.payload);
	}
	ack = read_text(fd);
	ck_assert_str_eq(ack, "{\"ack\":2}");
	free(ack);
	ck_assert(client_quiet(fd, 20)); /* not subscribed to chat-2 */
	close(fd);
}
END_TEST

/* Spins until no connection holds a wslay context; returns how many do. */
static size_t
contexts_settle(void)
{
	uint64_t end = testutil_now_ms() + WAIT_MS;

	while (wsconn_context_count(server) > 0 && testutil_now_ms() < end)
		testutil_loop_run_for(loop, 5);
	return wsconn_context_count(server);
}

/*
 * The wslay context lives only while a frame or a fragmented message is
 * being read, or a reply is waiting: cut anywhere else, the input goes on
 * in a fresh one.
 */
START_TEST(test_wsconn_context_released)
{
	int                 fd = client_open("/?channel=chat");
	unsigned char       bytes[256];
	size_t              n;
	struct server_frame f;

	ck_assert_uint_eq(wsconn_context_count(server), 0);
	/* A ping in two pieces: held across the cut, released after. */
	n = frame(bytes, 1, 0, 9, 1, LIT("hello"));
	client_send(fd, bytes, 3);
	testutil_loop_run_for(loop, 20);
	ck_assert_uint_eq(wsconn_context_count(server), 1);
	client_send(fd, bytes + 3, n - 3);
	ck_assert_int_eq(read_frame(fd, &f, WAIT_MS), 0);
	ck_assert_int_eq(f.opcode, 10);
	ck_assert_str_eq(f.payload, "hello");
	free(f.payload);
	ck_assert_uint_eq(contexts_settle(), 0);
	/* A fragmented message holds it between whole frames. */
	send_frame(fd, 0, 0, 1, 1, LIT("{\"channel\":\"chat\","));
	testutil_loop_run_for(loop, 20);
	ck_assert_uint_eq(wsconn_context_count(server), 1);
	send_frame(fd, 1, 0, 0, 1, LIT("\"data\":\"x\"}"));
	expect_text(fd, "{\"ack\":1}");
	expect_text(fd, event_json(1, "chat", NULL, "x"));
	ck_assert_uint_eq(contexts_settle(), 0);
	/* And a message after that is parsed from its first byte. */
	send_frame(
	    fd, 1, 0, 1, 1, LIT("{\"channel\":\"chat\",\"data\":\"y\"}"));
	expect_text(fd, "{\"ack\":2}");
	expect_text(fd, event_json(2, "chat", NULL, "y"));
	ck_assert_uint_eq(contexts_settle(), 0);
	close(fd);
}
END_TEST

/*
 * The feed may see a publish's commit before its result reaches the loop
 * (the worker commits, then hands the result over).  Forced here: the row
 * is awaited in the store and the feed checked by hand before the loop
 * takes the result.  The sender still gets its ack before its own event.
 */
START_TEST(test_wsconn_ack_before_own_event)
{
	int      fd = client_open("/?channel=chat");
	uint64_t end;
	int64_t  last = 0;

	send_frame(
	    fd, 1, 0, 1, 1, LIT("{\"channel\":\"chat\",\"data\":\"x\"}"));
	testutil_loop_step(
	    loop); /* reads the frame and hands it to the worker */
	for (end = testutil_now_ms() + WAIT_MS;
	     last == 0 && testutil_now_ms() < end;) {
		ck_assert_int_eq(store_last_id(writer, &last), 0);
		if (last == 0)
			poll(NULL, 0, 1);
	}
	ck_assert_int_eq(last, 1);
	feed_check(feed);
	expect_text(fd, "{\"ack\":1}");
	expect_text(fd, event_json(1, "chat", NULL, "x"));
	close(fd);
}
END_TEST

START_TEST(test_wsconn_publish_errors)
{
	static const struct {
		const char *msg;
		const char *error;
	} cases[] = {
	    {"{\"channel\":\"news\",\"data\":\"x\"}",
	        "{\"error\":\"publishing to channel \\\"news\\\" is not "
	        "allowed\"}"},
	    {"hello", NULL},
	    {"[1]", NULL},
	    {"{\"channel\":\"chat\"}", NULL},
	    {"{\"channel\":\"bad channel\",\"data\":\"x\"}", NULL},
	};
	int                 fd = client_open("/?channel=chat");
	struct server_frame f;
	size_t              i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char        *reply;
		json_t      *root;
		json_error_t error;

		send_frame(fd, 1, 0, 1, 1, cases[i].msg, strlen(cases[i].msg));
		reply = read_text(fd);
		if (cases[i].error != NULL)
			ck_assert_str_eq(reply, cases[i].error);
		root = json_loads(reply, 0, &error);
		ck_assert_msg(root != NULL && json_is_string(json_object_get(
		                                  root, "error")),
		    "case %zu: %s", i, reply);
		json_decref(root);
		free(reply);
	}
	/* Binary messages get an error too; the connection stays open. */
	send_frame(fd, 1, 0, 2, 1, LIT("\x01\x02"));
	expect_text(fd, "{\"error\":\"binary messages are not accepted: send "
	                "JSON as text\"}");
	send_frame(fd, 1, 0, 9, 1, LIT("still"));
	ck_assert_int_eq(read_frame(fd, &f, WAIT_MS), 0);
	ck_assert_int_eq(f.opcode, 10);
	free(f.payload);
	close(fd);
}
END_TEST

START_TEST(test_wsconn_publish_disabled)
{
	int fd;

	config.npublish = 0;
	start_server();
	fd = client_open("/?channel=chat");
	send_frame(
	    fd, 1, 0, 1, 1, LIT("{\"channel\":\"chat\",\"data\":\"x\"}"));
	expect_text(
	    fd, "{\"error\":\"publishing is disabled on this server\"}");
	close(fd);
}
END_TEST

START_TEST(test_wsconn_publish_reaches_others)
{
	int fd1 = client_open("/?channel=chat"),
	    fd2 = client_open("/?channel=chat");

	send_frame(
	    fd1, 1, 0, 1, 1, LIT("{\"channel\":\"chat\",\"data\":\"x\"}"));
	expect_text(fd1, "{\"ack\":1}");
	expect_text(fd1, event_json(1, "chat", NULL, "x"));
	expect_text(fd2, event_json(1, "chat", NULL, "x"));
	close(fd1);
	close(fd2);
}
END_TEST

/* A frame that must close the connection with a code. */
struct bad_frame {
	const char   *name;
	unsigned char bytes[32];
	size_t        len;
	int           code;
};

static const struct bad_frame bad_frames[] = {
    {"unmasked text", {0x81, 0x02, 'h', 'i'}, 4, 1002},
    {"RSV1", {0xC1, 0x80, 1, 2, 3, 4}, 6, 1002},
    {"RSV2", {0xA1, 0x80, 1, 2, 3, 4}, 6, 1002},
    {"RSV3", {0x91, 0x80, 1, 2, 3, 4}, 6, 1002},
    {"opcode 3", {0x83, 0x80, 1, 2, 3, 4}, 6, 1002},
    {"opcode 11", {0x8B, 0x80, 1, 2, 3, 4}, 6, 1002},
    {"continuation first", {0x80, 0x80, 1, 2, 3, 4}, 6, 1002},
    {"text inside a fragmented text",
        {0x01, 0x80, 1, 2, 3, 4, 0x81, 0x80, 1, 2, 3, 4}, 12, 1002},
    {"fragmented ping", {0x09, 0x80, 1, 2, 3, 4}, 6, 1002},
    {"ping of 126 bytes", {0x89, 0xFE, 0x00, 0x7E, 1, 2, 3, 4}, 8, 1002},
    {"close of 126 bytes", {0x88, 0xFE, 0x00, 0x7E, 1, 2, 3, 4}, 8, 1002},
    {"64-bit length with the top bit",
        {0x81, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4}, 14, 1002},
    {"close with a one-byte payload", {0x88, 0x81, 0, 0, 0, 0, 0x03}, 7, 1002},
    {"close with code 999", {0x88, 0x82, 0, 0, 0, 0, 0x03, 0xE7}, 8, 1002},
    {"close with code 1005", {0x88, 0x82, 0, 0, 0, 0, 0x03, 0xED}, 8, 1002},
    {"invalid UTF-8", {0x81, 0x81, 0, 0, 0, 0, 0xFF}, 7, 1007},
    {"overlong UTF-8", {0x81, 0x82, 0, 0, 0, 0, 0xC0, 0xAF}, 8, 1007},
    {"surrogate in UTF-8", {0x81, 0x83, 0, 0, 0, 0, 0xED, 0xA0, 0x80}, 9, 1007},
    {"truncated UTF-8", {0x81, 0x81, 0, 0, 0, 0, 0xC3}, 7, 1007},
    {"UTF-8 cut across fragments, never finished",
        {0x01, 0x81, 0, 0, 0, 0, 0xC3, 0x80, 0x80, 0, 0, 0, 0}, 13, 1007},
    {"invalid UTF-8 in a close reason",
        {0x88, 0x83, 0, 0, 0, 0, 0x03, 0xE8, 0xFF}, 9, 1007},
};

START_TEST(test_wsconn_bad_frame)
{
	const struct bad_frame *bf = &bad_frames[_i];
	int                     fd = client_open("/?channel=a");
	int                     other = client_open("/?channel=a");
	int                     code;

	client_send(fd, bf->bytes, bf->len);
	code = read_close(fd);
	ck_assert_msg(code == bf->code, "%s: close code %d, wanted %d",
	    bf->name, code, bf->code);
	ck_assert_msg(
	    client_eof(fd, WAIT_MS), "%s: no EOF after the close", bf->name);
	close(fd);
	/* Only that connection. */
	append("a", NULL, "x");
	expect_text(other, event_json(1, "a", NULL, "x"));
	testutil_loop_run_for(loop, 10);
	ck_assert_uint_eq(wsconn_count(server), 1);
	close(other);
}
END_TEST

START_TEST(test_wsconn_message_too_big)
{
	unsigned char *big = malloc(1001);
	int            fd;

	ck_assert_ptr_nonnull(big);
	memset(big, 'x', 1001);
	/* One frame over --max-message. */
	fd = client_open("/?channel=a");
	send_frame(fd, 1, 0, 1, 1, big, 1001);
	ck_assert_int_eq(read_close(fd), 1009);
	ck_assert(client_eof(fd, WAIT_MS));
	close(fd);
	/* Fragments that add up to more. */
	fd = client_open("/?channel=a");
	send_frame(fd, 0, 0, 1, 1, big, 600);
	send_frame(fd, 1, 0, 0, 1, big, 401);
	ck_assert_int_eq(read_close(fd), 1009);
	close(fd);
	/* A header announcing 2^62 bytes is refused without waiting for them.
	 */
	fd = client_open("/?channel=a");
	client_send(fd,
	    LIT("\x82\xFF\x40\x00\x00\x00\x00\x00\x00\x00\x01\x02\x03\x04x"));
	ck_assert_int_eq(read_close(fd), 1009);
	close(fd);
	/* Exactly the limit is fine (and answered: it is not JSON). */
	fd = client_open("/?channel=a");
	send_frame(fd, 1, 0, 1, 1, big, 1000);
	free(read_text(fd));
	close(fd);
	free(big);
}
END_TEST

START_TEST(test_wsconn_client_close)
{
	int                 fd = client_open("/?channel=a");
	struct server_frame f;

	send_frame(fd, 1, 0, 8, 1,
	    LIT("\x03\xE8"
	        "bye"));
	ck_assert_int_eq(read_frame(fd, &f, WAIT_MS), 0);
	ck_assert_int_eq(f.opcode, 8);
	ck_assert_uint_eq(f.len, 5);
	ck_assert_mem_eq(f.payload,
	    "\x03\xE8"
	    "bye",
	    5);
	free(f.payload);
	ck_assert(client_eof(fd, WAIT_MS));
	close(fd);
	testutil_loop_run_for(loop, 10);
	ck_assert_uint_eq(wsconn_count(server), 0);

	/* A close without a code is answered without one. */
	fd = client_open("/?channel=a");
	send_frame(fd, 1, 0, 8, 1, "", 0);
	ck_assert_int_eq(read_close(fd), 0);
	ck_assert(client_eof(fd, WAIT_MS));
	close(fd);
}
END_TEST

START_TEST(test_wsconn_frames_with_request)
{
	char              head[512];
	unsigned char     data[1024];
	size_t            n;
	int               fd = client_connect();
	static const char req[] =
	    "GET /?channel=a HTTP/1.1\r\nHost: h\r\n"
	    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Version: 13\r\n"
	    "Sec-WebSocket-Key: " KEY "\r\n\r\n";
	struct server_frame f;

	memcpy(data, req, sizeof req - 1);
	n = sizeof req - 1;
	n += frame(data + n, 1, 0, 9, 1, LIT("early"));
	client_send(fd, data, n);
	client_read_head(fd, head, sizeof head);
	ck_assert_ptr_nonnull(strstr(head, "101 Switching Protocols"));
	ck_assert_int_eq(read_position(fd), 0);
	ck_assert_int_eq(read_frame(fd, &f, WAIT_MS), 0);
	ck_assert_int_eq(f.opcode, 10);
	ck_assert_str_eq(f.payload, "early");
	free(f.payload);
	close(fd);
}
END_TEST

/* Sends a raw request and returns the whole response (until EOF). */
static char *
refused(const char *request, size_t len)
{
	static char out[4096];
	int         fd = client_connect();
	size_t      got;

	client_send(fd, request, len);
	got = client_read(fd, out, sizeof out - 1, WAIT_MS);
	out[got] = '\0';
	ck_assert(client_eof(fd, WAIT_MS));
	close(fd);
	return out;
}

START_TEST(test_wsconn_refusals)
{
	const char *resp;

	resp = refused(LIT("POST / HTTP/1.1\r\nHost: h\r\n\r\n"));
	ck_assert_str_eq(resp,
	    "HTTP/1.1 400 Bad Request\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Length: 59\r\nConnection: close\r\n\r\n"
	    "method POST is not allowed: a WebSocket handshake is a GET\n");
	resp = refused(LIT("GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n"
	                   "Connection: Upgrade\r\nSec-WebSocket-Version: 8\r\n"
	                   "Sec-WebSocket-Key: " KEY "\r\n\r\n"));
	ck_assert_ptr_nonnull(
	    strstr(resp, "HTTP/1.1 426 Upgrade Required\r\n"));
	ck_assert_ptr_nonnull(
	    strstr(resp, "\r\nSec-WebSocket-Version: 13\r\n"));
	resp = refused(LIT(
	    "GET /?channel=a%20b HTTP/1.1\r\nHost: h\r\n"
	    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " KEY "\r\n\r\n"));
	ck_assert_ptr_nonnull(strstr(resp, "HTTP/1.1 400 Bad Request\r\n"));
	ck_assert_ptr_nonnull(strstr(resp, "channel"));
	resp = refused(LIT(
	    "GET / HTTP/1.1\r\nHost: h\r\nOrigin: http://evil\r\n"
	    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " KEY "\r\n\r\n"));
	ck_assert_ptr_nonnull(strstr(resp, "HTTP/1.1 403 Forbidden\r\n"));
	ck_assert_ptr_nonnull(
	    strstr(resp, "origin \"http://evil\" is not allowed\n"));
	testutil_loop_run_for(loop, 10);
	ck_assert_uint_eq(wsconn_count(server), 0);
}
END_TEST

START_TEST(test_wsconn_header_too_large)
{
	size_t len = 20000;
	char  *req = malloc(len);
	char  *resp;

	ck_assert_ptr_nonnull(req);
	memcpy(req, "GET / HTTP/1.1\r\nX: ", 19);
	memset(req + 19, 'x', len - 19);
	resp = refused(req, len);
	ck_assert_ptr_nonnull(
	    strstr(resp, "HTTP/1.1 431 Request Header Fields Too Large\r\n"));
	free(req);
}
END_TEST

START_TEST(test_wsconn_full)
{
	int   fd1, fd2;
	char *resp;

	config.max_conns = 1;
	start_server();
	fd1 = client_open("/?channel=a");
	resp =
	    refused(LIT("GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n"
	                "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
	                "Sec-WebSocket-Key: " KEY "\r\n\r\n"));
	ck_assert_ptr_nonnull(
	    strstr(resp, "HTTP/1.1 503 Service Unavailable\r\n"));
	ck_assert_ptr_nonnull(strstr(resp, "\r\nRetry-After: 5\r\n"));
	ck_assert_ptr_nonnull(strstr(resp, "too many connections"));
	close(fd1);
	testutil_loop_run_for(loop, 10);
	fd2 = client_open("/?channel=a");
	close(fd2);
}
END_TEST

START_TEST(test_wsconn_store_unavailable)
{
	struct feed_options opts = {0};
	char                err[256], missing[600];
	const char         *resp;

	wsconn_server_free(server);
	server = NULL;
	feed_free(feed);
	testutil_path(missing, sizeof missing, "missing.db");
	opts.db_path = missing;
	feed = feed_create(loop, &opts, err, sizeof err);
	ck_assert_ptr_nonnull(feed);
	ck_assert_ptr_nonnull(feed_store_error(feed));
	config.db_path = missing;
	start_server();
	resp =
	    refused(LIT("GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n"
	                "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
	                "Sec-WebSocket-Key: " KEY "\r\n\r\n"));
	ck_assert_ptr_nonnull(
	    strstr(resp, "HTTP/1.1 503 Service Unavailable\r\n"));
	ck_assert_ptr_nonnull(strstr(resp, "event store unavailable: "));
}
END_TEST

START_TEST(test_wsconn_handshake_timeout)
{
	int      fd;
	char     head[512];
	uint64_t start;

	config.handshake_timeout_ms = 100;
	start_server();
	fd = client_connect();
	client_send(fd, LIT("GET / HTTP/1.1\r\nHost: h\r\n"));
	start = testutil_now_ms();
	client_read_head(fd, head, sizeof head);
	ck_assert_ptr_nonnull(strstr(head, "HTTP/1.1 408 Request Timeout\r\n"));
	ck_assert_uint_ge(testutil_now_ms() - start, 90);
	ck_assert(client_eof(fd, WAIT_MS));
	close(fd);
	/* A client that sends nothing at all. */
	fd = client_connect();
	ck_assert(client_eof(fd, WAIT_MS));
	close(fd);
	testutil_loop_run_for(loop, 10);
	ck_assert_uint_eq(wsconn_count(server), 0);
}
END_TEST

/* Beyond the handshakes in progress (64 here), a 503 and a close. */
START_TEST(test_wsconn_too_many_handshakes)
{
	int  silent[64], fd, i;
	char head[1024];

	for (i = 0; i < 64; i++)
		silent[i] = client_connect();
	ck_assert_uint_eq(wsconn_count(server), 64);
	fd = client_connect();
	client_read_head(fd, head, sizeof head);
	ck_assert_ptr_nonnull(
	    strstr(head, "HTTP/1.1 503 Service Unavailable\r\n"));
	ck_assert_ptr_nonnull(strstr(head, "Retry-After: 5\r\n"));
	ck_assert(client_eof(fd, WAIT_MS));
	close(fd);
	ck_assert_uint_eq(wsconn_count(server), 64);
	/* A slot comes back when one of them goes. */
	close(silent[0]);
	testutil_loop_run_for(loop, 20);
	ck_assert_uint_eq(wsconn_count(server), 63);
	fd = client_open("/?channel=a");
	close(fd);
	for (i = 1; i < 64; i++)
		close(silent[i]);
}
END_TEST

START_TEST(test_wsconn_ping_timeout)
{
	struct server_frame f;
	int                 fd, live, pings = 0, code = -1;
	uint64_t            start, end;

	config.ping_ms = 50;
	start_server();
	fd = client_open("/?channel=a");
	start = testutil_now_ms();
	/* The silent one gets pings, then a close after two intervals. */
	while (read_frame(fd, &f, WAIT_MS) == 0) {
		if (f.opcode == 9)
			pings++;
		if (f.opcode == 8) {
			code = (unsigned char)f.payload[0] << 8 |
			       (unsigned char)f.payload[1];
			free(f.payload);
			break;
		}
		free(f.payload);
	}
	ck_assert_int_eq(code, 1011);
	ck_assert_int_ge(pings, 1);
	ck_assert_uint_ge(testutil_now_ms() - start, 90);
	ck_assert(client_eof(fd, WAIT_MS));
	close(fd);

	/* One answering every ping stays. */
	live = client_open("/?channel=a");
	end = testutil_now_ms() + 300;
	while (testutil_now_ms() < end) {
		ck_assert_int_eq(read_frame(live, &f, WAIT_MS), 0);
		ck_assert_int_eq(f.opcode, 9);
		send_frame(live, 1, 0, 10, 1, f.payload, f.len);
		free(f.payload);
	}
	ck_assert_uint_eq(wsconn_open_count(server), 1);
	close(live);
}
END_TEST

START_TEST(test_wsconn_shutdown)
{
	int fd1 = client_open("/?channel=a"), fd2 = client_open("/?channel=b");
	int half = client_connect();

	client_send(half, LIT("GET / HTTP/1.1\r\n"));
	testutil_loop_run_for(loop, 5);
	ck_assert_uint_eq(wsconn_count(server), 3);
	wsconn_shutdown(server);
	ck_assert_int_eq(read_close(fd1), 1001);
	ck_assert_int_eq(read_close(fd2), 1001);
	ck_assert(client_eof(half, WAIT_MS));
	/* Both answer the close; then they are gone. */
	send_frame(fd1, 1, 0, 8, 1, LIT("\x03\xE9"));
	send_frame(fd2, 1, 0, 8, 1, LIT("\x03\xE9"));
	ck_assert(client_eof(fd1, WAIT_MS));
	ck_assert(client_eof(fd2, WAIT_MS));
	/* The server has shut its side and waits for the clients to close. */
	ck_assert_uint_eq(wsconn_count(server), 2);
	close(fd1);
	close(fd2);
	close(half);
	testutil_loop_run_for(loop, 10);
	ck_assert_uint_eq(wsconn_count(server), 0);
	ck_assert_int_eq(empty_calls, 1);
	/* New connections are refused. */
	fd1 = client_connect();
	ck_assert(client_eof(fd1, WAIT_MS));
	close(fd1);
}
END_TEST

START_TEST(test_wsconn_shutdown_without_answer)
{
	int      fd = client_open("/?channel=a");
	uint64_t start;

	wsconn_shutdown(server);
	ck_assert_int_eq(read_close(fd), 1001);
	/* A client that never answers is dropped after the linger. */
	start = testutil_now_ms();
	ck_assert(client_eof(fd, 5000));
	ck_assert_uint_le(testutil_now_ms() - start, 3000);
	close(fd);
}
END_TEST

/* Returns the bytes malloc holds now (0 when it cannot tell). */
static size_t
heap_in_use(void)
{
	struct mallinfo2 mi = mallinfo2();

	return mi.uordblks;
}

/* Inserts 3000 events of 1000 bytes on channel "a", in one transaction. */
static void
insert_3000_kb(void)
{
	ck_assert_int_eq(
	    testutil_sqlite3(db_path,
	        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT "
	        "i+1 FROM n WHERE i < 3000) INSERT INTO "
	        "events(channel, data) SELECT 'a', "
	        "replace(hex(zeroblob(500)), '0', 'd') FROM n;",
	        NULL, 0),
	    0);
}

START_TEST(test_wsconn_slow_reader)
{
	int     slow, fast, i, total = 3000;
	size_t  before, after;
	int64_t expect = 1;
	char   *text;

	slow = client_open("/?channel=a&lastEventId=0");
	fast = client_open("/?channel=a");
	insert_3000_kb();
	testutil_loop_run_for(loop, 50);
	before = heap_in_use();
	/* The fast one gets everything while the slow one reads nothing. */
	for (i = 1; i <= total; i++) {
		text = read_text(fast);
		ck_assert_ptr_nonnull(strstr(text, "\"id\":"));
		free(text);
	}
	testutil_loop_run_for(loop, 200);
	after = heap_in_use();
	/* The slow one holds a batch and a buffer, not 3 MB of events. */
	if (before != 0)
		ck_assert_msg(after < before + 512 * 1024,
		    "heap grew from %zu to %zu", before, after);
	/* And then it gets every event, in order, once. */
	for (i = 1; i <= total; i++) {
		json_t      *root;
		json_error_t error;

		text = read_text(slow);
		root = json_loads(text, 0, &error);
		ck_assert_ptr_nonnull(root);
		ck_assert_int_eq(
		    json_integer_value(json_object_get(root, "id")), expect);
		ck_assert_uint_eq(
		    strlen(json_string_value(json_object_get(root, "data"))),
		    1000);
		expect++;
		json_decref(root);
		free(text);
	}
	ck_assert(client_quiet(slow, 20));
	close(slow);
	close(fast);
}
END_TEST

/* An idle WebSocket holds no wslay context: well under 4 KiB of heap. */
START_TEST(test_wsconn_idle_heap)
{
	int    fds[101], i;
	size_t before, after;

	config.max_conns = 200;
	config.ping_ms = 60000;
	start_server();
	fds[0] = client_open("/?channel=a"); /* what the first one allocates */
	testutil_loop_run_for(loop, 20);
	before = heap_in_use();
	for (i = 1; i <= 100; i++)
		fds[i] = client_open("/?channel=a");
	testutil_loop_run_for(loop, 20);
	after = heap_in_use();
	ck_assert_uint_eq(wsconn_open_count(server), 101);
	ck_assert_uint_eq(wsconn_context_count(server), 0);
	if (before != 0)
		ck_assert_msg(after < before + 100 * 4096,
		    "heap grew from %zu to %zu over 100 connections", before,
		    after);
	for (i = 0; i <= 100; i++)
		close(fds[i]);
}
END_TEST

/* A client that stops reading is dropped after stall_ms; the others go on. */
START_TEST(test_wsconn_stalled_reader_dropped)
{
	int      slow, fast, i;
	uint64_t end;
	char    *text;

	config.stall_ms = 300;
	start_server();
	slow = client_open("/?channel=a&lastEventId=0");
	fast = client_open("/?channel=a");
	insert_3000_kb();
	for (i = 1; i <= 3000; i++) {
		text = read_text(fast);
		ck_assert_ptr_nonnull(strstr(text, "\"id\":"));
		free(text);
	}
	/* The slow one, never read, is gone within the limit and a tick. */
	end = testutil_now_ms() + WAIT_MS;
	while (wsconn_open_count(server) > 1 && testutil_now_ms() < end)
		testutil_loop_run_for(loop, 10);
	ck_assert_uint_eq(wsconn_open_count(server), 1);
	ck_assert(client_eof(slow, WAIT_MS));
	/* The reading one stays and gets the next event. */
	ck_assert_int_eq(testutil_sqlite3(db_path,
	                     "INSERT INTO events(channel, data) "
	                     "VALUES('a', 'after');",
	                     NULL, 0),
	    0);
	text = read_text(fast);
	ck_assert_ptr_nonnull(strstr(text, "\"data\":\"after\""));
	free(text);
	close(slow);
	close(fast);
}
END_TEST

/* Builds the suite: one case per concern. */
static Suite *
check_wsconn_suite(void)
{
	Suite *s = suite_create("wsconn");
	TCase *tc;

	tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_wsconn_event_after_upgrade);
	tcase_add_test(tc, test_wsconn_position_first);
	tcase_add_test(tc, test_wsconn_resume_and_backlog);
	tcase_add_test(tc, test_wsconn_backlog_clamped);
	tcase_add_test(tc, test_wsconn_ping_pong);
	tcase_add_test(tc, test_wsconn_client_close);
	tcase_add_test(tc, test_wsconn_frames_with_request);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);

	tc = tcase_create("publish");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_wsconn_publish);
	tcase_add_test(tc, test_wsconn_publish_errors);
	tcase_add_test(tc, test_wsconn_publish_disabled);
	tcase_add_test(tc, test_wsconn_publish_reaches_others);
	tcase_add_test(tc, test_wsconn_context_released);
	tcase_add_test(tc, test_wsconn_ack_before_own_event);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_wsconn_bad_frame, 0,
	    (int)(sizeof bad_frames / sizeof bad_frames[0]));
	tcase_add_test(tc, test_wsconn_message_too_big);
	tcase_add_test(tc, test_wsconn_refusals);
	tcase_add_test(tc, test_wsconn_header_too_large);
	tcase_add_test(tc, test_wsconn_store_unavailable);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);

	tc = tcase_create("limits");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_wsconn_full);
	tcase_add_test(tc, test_wsconn_handshake_timeout);
	tcase_add_test(tc, test_wsconn_ping_timeout);
	tcase_add_test(tc, test_wsconn_stalled_reader_dropped);
	tcase_add_test(tc, test_wsconn_too_many_handshakes);
	tcase_add_test(tc, test_wsconn_slow_reader);
	tcase_add_test(tc, test_wsconn_idle_heap);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);

	tc = tcase_create("shutdown");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_wsconn_shutdown);
	tcase_add_test(tc, test_wsconn_shutdown_without_answer);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(check_wsconn_suite());
	int      failed;

	/* Writes to a client gone give EPIPE, as in the daemons (proc_signals).
	 */
	signal(SIGPIPE, SIG_IGN);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
