/* fuzz_wsmessage.c: libFuzzer target: client frames through a connection. */
#include "config.h"

#include <sys/inotify.h>
#include <sys/socket.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "buf.h"
#include "feed.h"
#include "fuzz.h"
#include "loop.h"
#include "store.h"
#include "wsconn.h"

/*
 * Everything a client can send once its WebSocket is open goes through the
 * daemon's own code: wsconn.c on a real loop and feed, wslay's parser
 * behind its callbacks, envelope.c and jansson for publish requests, and
 * store.c appending them to a real database.  Each input gets its own
 * database (a copy of a template made once, with three events in it), its
 * own loop, feed and server, and a socketpair; the test plays the client:
 * a valid handshake, then the input's bytes, then EOF, running the loop a
 * step at a time and reading everything the server writes.  When the
 * connection has gone, everything is freed and the database deleted, and
 * the target checks that no descriptor and no file is left behind.
 *
 * What must hold: the server answers 101 and then writes only well-formed
 * server frames (final, unmasked, no RSV bits, minimal lengths, no data
 * frame but text, control payloads of at most 125 bytes, nothing after a
 * close, close codes that may be sent); each text frame is a JSON object
 * (valid UTF-8) that is an ack, an error or an event; and the connection
 * ends once the client has sent EOF, without waiting for a timer.
 *
 * The input: byte 0 holds flags, the rest is the client's bytes.
 *   1  ask for backlog=3, so the three events go out first
 *   2  send the first bytes in the same write as the handshake
 *   4, 8  write in pieces of 1, 7 or 64 bytes (4, 8, 12), running the
 *         loop between them
 *   16 publishing disabled (--publish not given)
 * With FUZZ_WSMESSAGE_SHOW set in the environment, it prints what the
 * server wrote (to see what an input does).
 */

#define FLAG_BACKLOG    1
#define FLAG_WITH_HEAD  2
#define FLAG_PIECES     12
#define FLAG_NO_PUBLISH 16

/* What the server must answer to the handshake below. */
#define RESPONSE_101                                                           \
	"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"           \
	"Connection: Upgrade\r\n"                                              \
	"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"

/* A string literal and its length, NUL bytes included. */
#define LIT(s) (s), (sizeof(s) - 1)

/* Loop iterations allowed beyond one per piece written. */
#define STEPS_SLACK 20000

/* Steps spent waiting for the publish thread before it counts as hung. */
#define MAX_THREAD_WAITS 10000000

/* The largest message the server takes (--max-message). */
#define MAX_MESSAGE 1024

static char              fuzz_dir[PATH_MAX]; /* made once, removed at exit */
static char              db_path[PATH_MAX];
static unsigned char    *template_db; /* the database every input starts from */
static size_t            template_len;
static const char *const publish_globs[] = {"chat*"};

/* One input's connection, seen from the client's side. */
struct session {
	struct loop          *loop;
	struct feed          *feed;
	struct wsconn_server *server;
	int                   fd;       /* the client's end */
	struct buf            received; /* all the server wrote */
	int                   eof;      /* the server closed its side */
	size_t                steps, max_steps;
	size_t                thread_waits; /* steps waiting for publishes */
};

/*
 * Note that the feed is made to run without inotify, by this definition
 * taking the place of libc's: closing an inotify descriptor waits for an
 * RCU grace period (10 to 25 ms here), which would be nearly all the time
 * of an input.  The feed falls back to its poll, as it does where inotify
 * is missing, and publishing does not need either: wsconn tells the feed
 * of its own appends.  It also makes runs more repeatable, since no wake-up
 * comes from the kernel at a moment of its choosing.
 */
int
inotify_init1(int flags)
{
	(void)flags;
	errno = ENOSYS;
	return -1;
}

/* Removes the files a database may leave next to it, and itself. */
static void
remove_database(void)
{
	static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
	char                     path[PATH_MAX + 16];
	size_t                   i;

	for (i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
		snprintf(path, sizeof path, "%s%s", db_path, suffixes[i]);
		if (unlink(path) != 0)
			FUZZ_REQUIREF(errno == ENOENT, "unlink %s: %s", path,
			    strerror(errno));
	}
}

/* Removes the directory at exit (it is empty between inputs). */
static void
remove_dir(void)
{
	remove_database();
	rmdir(fuzz_dir);
}

/* Makes the template database: the schema and three events. */
static void
make_template(void)
{
	struct store *store;
	char          err[512];
	int64_t       id;
	FILE         *f;
	long          size;

	FUZZ_REQUIREF(store_open(db_path, STORE_OPEN_CREATE, 1000, &store, err,
	                  sizeof err) == 0,
	    "%s", err);
	FUZZ_REQUIRE(
	    store_append(store, "chat", "msg", LIT("hello"), &id) == 0);
	FUZZ_REQUIRE(store_append(store, "news", NULL,
	                 LIT("line 1\nline \"2\"\r\n\xE2\x80\xA8"), &id) == 0);
	FUZZ_REQUIRE(store_append(store, "chat", "x",
	                 LIT("bad \xFF\xC3 utf-8\0!"), &id) == 0);
	store_close(store);

	f = fopen(db_path, "rb");
	FUZZ_REQUIRE(f != NULL);
	FUZZ_REQUIRE(fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) > 0);
	rewind(f);
	template_len = (size_t)size;
	template_db = malloc(template_len);
	FUZZ_REQUIRE(template_db != NULL);
	FUZZ_REQUIRE(fread(template_db, 1, template_len, f) == template_len);
	fclose(f);
	remove_database();
}

int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Makes the directory and the template, once per process. */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *base = getenv("TMPDIR");

	(void)argc;
	(void)argv;
	/* Writes to a client gone give EPIPE, as in the daemons (proc_signals).
	 */
	signal(SIGPIPE, SIG_IGN);
	if (base == NULL || *base == '\0')
		base = "/tmp";
	snprintf(fuzz_dir, sizeof fuzz_dir, "%s/fuzz_wsmessage.XXXXXX", base);
	FUZZ_REQUIREF(mkdtemp(fuzz_dir) != NULL, "mkdtemp %s: %s", fuzz_dir,
	    strerror(errno));
	snprintf(db_path, sizeof db_path, "%s/events.db", fuzz_dir);
	atexit(remove_dir);
	make_template();
	return 0;
}

/* Writes the template to db_path. */
static void
copy_template(void)
{
	int fd = open(db_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	FUZZ_REQUIRE(fd >= 0);
	FUZZ_REQUIRE(
	    write(fd, template_db, template_len) == (ssize_t)template_len);
	close(fd);
}

/* Returns the lowest free descriptor (what the next open would get). */
static int
lowest_free_fd(void)
{
	int fd = dup(0);

	FUZZ_REQUIRE(fd >= 0);
	close(fd);
	return fd;
}

/* Returns non-zero if the directory holds nothing. */
static int
dir_empty(void)
{
	DIR           *d = opendir(fuzz_dir);
	struct dirent *e;
	int            empty = 1;

	FUZZ_REQUIRE(d != NULL);
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			empty = 0;
	closedir(d);
	return empty;
}

/* Runs one non-blocking loop iteration, then reads what the server wrote. */
static void
step(struct session *s)
{
	char    data[65536];
	ssize_t n;

	/*
	 * Steps taken while publishes are out on the publish thread do not
	 * count: the connection waits for it (how long depends on the
	 * machine's load, not on the input), and this gives it the CPU.  A
	 * connection that waits on nothing runs out of steps.
	 */
	if (wsconn_publishing_count(s->server) > 0) {
		FUZZ_REQUIREF(++s->thread_waits <= MAX_THREAD_WAITS,
		    "the publish thread has not answered in %d waits",
		    MAX_THREAD_WAITS);
		sched_yield();
	} else
		FUZZ_REQUIREF(++s->steps <= s->max_steps,
		    "the connection is stuck: %zu loop iterations, %zu "
		    "connections",
		    s->steps, wsconn_count(s->server));
	loop_stop(s->loop);
	FUZZ_REQUIRE(loop_run(s->loop) == 0);
	while (!s->eof) {
		n = recv(s->fd, data, sizeof data, MSG_DONTWAIT);
		if (n > 0) {
			FUZZ_REQUIRE(
			    buf_append(&s->received, data, (size_t)n) == 0);
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		s->eof = 1; /* EOF, or a reset: the server has gone */
	}
}

/* Writes len bytes (less if the server has gone), running the loop. */
static void
client_send(struct session *s, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = send(s->fd, p, len, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			step(s);
			continue;
		}
		if (n < 0)
			return; /* EPIPE or a reset: the server closed */
		p += n;
		len -= (size_t)n;
	}
}

/* Returns non-zero if a close frame may carry code (RFC 6455 7.4). */
static int
close_code_valid(unsigned code)
{
	return (code >= 1000 && code <= 1003) ||
	       (code >= 1007 && code <= 1011) || (code >= 3000 && code <= 4999);
}

/* Returns non-zero if value is a JSON integer of at least 1. */
static int
json_positive(const json_t *value)
{
	return value != NULL && json_is_integer(value) &&
	       json_integer_value(value) >= 1;
}

/*
 * Checks that a text frame is the position (the first text, and only
 * it), an ack, an error or an event.
 */
static void
check_text(const char *payload, size_t len, int first)
{
	json_error_t error;
	json_t      *root, *channel, *event, *data;
	char         shown[512];

	fuzz_escape(shown, sizeof shown, payload, len);
	root = json_loadb(payload, len, JSON_ALLOW_NUL, &error);
	FUZZ_REQUIREF(root != NULL && json_is_object(root),
	    "text frame is not a JSON object (%s): \"%s\"", error.text, shown);
	if (first || json_object_get(root, "position") != NULL) {
		json_t *position = json_object_get(root, "position");

		FUZZ_REQUIREF(first && json_object_size(root) == 1 &&
		                  json_is_integer(position) &&
		                  json_integer_value(position) >= 0,
		    "not the position, or not first: \"%s\"", shown);
		json_decref(root);
		return;
	}
	switch (json_object_size(root)) {
	case 1:
		FUZZ_REQUIREF(
		    json_positive(json_object_get(root, "ack")) ||
		        json_is_string(json_object_get(root, "error")),
		    "neither an ack nor an error: \"%s\"", shown);
		break;
	case 4:
		channel = json_object_get(root, "channel");
		event = json_object_get(root, "event");
		data = json_object_get(root, "data");
		FUZZ_REQUIREF(
		    json_positive(json_object_get(root, "id")) &&
		        json_is_string(channel) &&
		        channel_valid(json_string_value(channel),
		            json_string_length(channel)) &&
		        event != NULL &&
		        (json_is_null(event) || json_is_string(event)) &&
		        json_is_string(data),
		    "not an event: \"%s\"", shown);
		break;
	default:
		fuzz_fail(
		    __FILE__, __LINE__, "unexpected message: \"%s\"", shown);
	}
	json_decref(root);
}

/* Checks everything the server wrote: the 101, then server frames. */
static void
check_output(const struct buf *received)
{
	const unsigned char *p = (const unsigned char *)received->data;
	size_t               len = received->len, off, n, head;
	int                  closed = 0, texts = 0;

	FUZZ_REQUIREF(len >= sizeof RESPONSE_101 - 1 &&
	                  memcmp(p, RESPONSE_101, sizeof RESPONSE_101 - 1) == 0,
	    "no 101 response");
	off = sizeof RESPONSE_101 - 1;
	while (off < len) {
		unsigned opcode = p[off] & 0x0F;

		/* A frame cut short is what a freed connection may leave. */
		if (len - off < 2)
			break;
		FUZZ_REQUIREF(!closed, "a frame after the close");
		FUZZ_REQUIREF((p[off] & 0xF0) == 0x80,
		    "frame not final or with RSV bits: 0x%02X", p[off]);
		FUZZ_REQUIREF((p[off + 1] & 0x80) == 0, "masked server frame");
		n = p[off + 1] & 0x7F;
		head = 2;
		if (n == 126) {
			if (len - off < 4)
				break;
			n = (size_t)p[off + 2] << 8 | p[off + 3];
			FUZZ_REQUIREF(n >= 126, "length %zu in 16 bits", n);
			head = 4;
		} else if (n == 127) {
			size_t i;

			if (len - off < 10)
				break;
			for (n = 0, i = 2; i < 10; i++)
				n = n << 8 | p[off + i];
			FUZZ_REQUIREF(n >= 65536, "length %zu in 64 bits", n);
			head = 10;
		}
		if (len - off - head < n)
			break;
		switch (opcode) {
		case 0x1:
			check_text(
			    (const char *)p + off + head, n, texts++ == 0);
			break;
		case 0x8:
			FUZZ_REQUIREF(
			    n != 1 && n <= 125, "close of %zu bytes", n);
			if (n >= 2) {
				unsigned code = (unsigned)p[off + head] << 8 |
				                p[off + head + 1];

				FUZZ_REQUIREF(close_code_valid(code),
				    "close code %u", code);
			}
			closed = 1;
			break;
		case 0xA:
			FUZZ_REQUIREF(n <= 125, "pong of %zu bytes", n);
			break;
		default:
			fuzz_fail(__FILE__, __LINE__, "server sent opcode %u",
			    opcode);
		}
		off += head + n;
	}
}

/* Starts the loop, feed and server on a fresh copy of the template. */
static void
session_start(struct session *s, int flags)
{
	struct feed_options  opts;
	struct wsconn_config config;
	char                 err[512];
	int                  sv[2];

	memset(s, 0, sizeof *s);
	copy_template();
	s->loop = loop_create();
	FUZZ_REQUIRE(s->loop != NULL);
	memset(&opts, 0, sizeof opts);
	opts.db_path = db_path;
	opts.poll_ms = 1000;
	opts.ring_events = 8; /* more publishes than that: catch-up reads */
	s->feed = feed_create(s->loop, &opts, err, sizeof err);
	FUZZ_REQUIREF(s->feed != NULL, "%s", err);
	FUZZ_REQUIREF(
	    feed_store_error(s->feed) == NULL, "%s", feed_store_error(s->feed));
	memset(&config, 0, sizeof config);
	config.max_conns = 8;
	config.max_message = MAX_MESSAGE;
	config.ping_ms = 0; /* no timer may end the connection */
	config.handshake_timeout_ms = 60000;
	config.backlog_max = 1000;
	config.db_path = db_path;
	config.publish = publish_globs;
	config.npublish = (flags & FLAG_NO_PUBLISH) ? 0 : 1;
	s->server = wsconn_server_create(s->loop, s->feed, &config, NULL, NULL);
	FUZZ_REQUIRE(s->server != NULL);
	FUZZ_REQUIRE(
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
	        sv) == 0);
	wsconn_accept(s->server, sv[0], "fuzz");
	s->fd = sv[1];
}

/* Frees everything the session made and deletes the database. */
static void
session_end(struct session *s)
{
	wsconn_server_free(s->server);
	feed_free(s->feed);
	loop_free(s->loop);
	close(s->fd);
	buf_free(&s->received);
	remove_database();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One input: flags, then what the client sends after its handshake. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t pieces[] = {0, 1, 7, 64};
	struct session      s;
	struct buf          request = {0};
	const uint8_t      *frames = data + (size > 0);
	size_t              len = size - (size > 0), piece, off, n;
	int                 flags = size > 0 ? data[0] : 0;
	int                 fd_before = lowest_free_fd();

	session_start(&s, flags);
	piece = pieces[(flags & FLAG_PIECES) >> 2];
	s.max_steps = STEPS_SLACK + (piece != 0 ? len / piece : 0);

	FUZZ_REQUIRE(buf_printf(&request,
	                 "GET /ws?channel=chat&channel=news%s HTTP/1.1\r\n"
	                 "Host: localhost:8131\r\n"
	                 "Origin: http://localhost:8131\r\n"
	                 "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	                 "Sec-WebSocket-Version: 13\r\n"
	                 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
	                 (flags & FLAG_BACKLOG) ? "&backlog=3" : "") == 0);
	off = 0;
	if (flags & FLAG_WITH_HEAD) {
		/* The first piece (or all of it) goes with the head. */
		n = piece != 0 && piece < len ? piece : len;
		FUZZ_REQUIRE(buf_append(&request, frames, n) == 0);
		off = n;
	}
	client_send(&s, request.data, request.len);
	buf_free(&request);
	while (s.received.len < sizeof RESPONSE_101 - 1 && !s.eof)
		step(&s);

	while (off < len) {
		n = piece != 0 && piece < len - off ? piece : len - off;
		client_send(&s, frames + off, n);
		off += n;
		step(&s);
	}
	shutdown(s.fd, SHUT_WR);
	while (wsconn_count(s.server) > 0)
		step(&s);
	step(&s); /* what the last iteration wrote */
	if (getenv("FUZZ_WSMESSAGE_SHOW") != NULL) {
		char shown[8192];

		fprintf(stderr, "server wrote: \"%s\"\n",
		    fuzz_escape(
		        shown, sizeof shown, s.received.data, s.received.len));
	}
	check_output(&s.received);

	session_end(&s);
	FUZZ_REQUIREF(lowest_free_fd() == fd_before,
	    "a descriptor was left open (fd %d free before, %d after)",
	    fd_before, lowest_free_fd());
	FUZZ_REQUIREF(dir_empty(), "a file was left in %s", fuzz_dir);
	return 0;
}
