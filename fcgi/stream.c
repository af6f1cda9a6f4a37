/* stream.c: Server-Sent Events streams served by one event loop, each a cursor on the feed. */
#include "config.h"

#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/queue.h>
#include <sys/random.h>

#include <linux/sockios.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "fcgi.h"
#include "feed.h"
#include "loop.h"
#include "sse.h"
#include "store.h"
#include "stream.h"

/* Data bytes one pull may take: one write's worth, one FastCGI record or a few.
 */
#define STREAM_PULL_BYTES (64 * 1024)
/* Pulls one stream may do per wake-up before others get their turn. */
#define STREAM_PULLS_PER_TURN 4
/* How long a stream that was paused may take to drain before it is closed. */
#define STREAM_LINGER_MS 5000
/* Reading what the web server sends: per read(), and per wake-up. */
#define STREAM_INPUT_CHUNK    16384
#define STREAM_INPUT_PER_TURN (64 * 1024)

struct stream {
	struct stream_server *server;
	struct loop_io        io;
	int                   fd;
	uint16_t              request_id; /* 0: plain CGI on blocking stdout */
	struct feed_cursor   *cursor;     /* NULL once the stream is ending */
	struct buf            out;        /* what the socket did not take yet */
	struct fcgi_input     input;
	uint64_t              last_write;
	uint64_t            last_progress; /* a write, or the socket drained */
	int                 queued; /* bytes in the socket then; -1 unknown */
	struct loop_timer   keepalive; /* also the linger deadline at the end */
	struct loop_timer   max_age;
	int                 counted;  /* a stream, not a refusal */
	int                 refusal;  /* an error response: a body is moot */
	int                 expiring; /* max_age is the grant's expiry */
	int                 draining; /* response complete, waiting for EOF */
	TAILQ_ENTRY(stream) entry;
};
TAILQ_HEAD(stream_list, stream);

struct stream_server {
	struct loop         *loop;
	struct feed         *feed;
	struct stream_config config;
	stream_empty_fn      empty;
	void                *arg;
	struct stream_list   streams;
	size_t               count;
	int                  shutting_down;
	struct buf           scratch; /* where each batch is encoded; shared */
	size_t               scratch_mark;
	uint64_t             random;
};

/* Returns a pseudo-random number in [0, bound) (xorshift64; jitter only). */
static uint64_t
stream_random(struct stream_server *server, uint64_t bound)
{
	uint64_t x = server->random;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	server->random = x;
	return bound == 0 ? 0 : x % bound;
}

/* Creates the set of streams. */
struct stream_server *
stream_server_create(struct loop *loop, struct feed *feed,
    const struct stream_config *config, stream_empty_fn empty, void *arg)
{
	struct stream_server *server = calloc(1, sizeof *server);

	if (server == NULL)
		return NULL;
	server->loop = loop;
	server->feed = feed;
	server->config = *config;
	server->empty = empty;
	server->arg = arg;
	TAILQ_INIT(&server->streams);
	if (getrandom(&server->random, sizeof server->random, GRND_NONBLOCK) !=
	    sizeof server->random)
		server->random = (uint64_t)time(NULL) * 2654435761u;
	server->random |= 1;
	return server;
}

/* Appends a complete error response in CGI form, framed when FastCGI. */
int
stream_error_response(struct buf *out, uint16_t request_id, const char *status,
    const char *headers, const char *reason)
{
	size_t mark = 0;
	int    rc;

	if (request_id != 0 && (mark = fcgi_stdout_begin(out)) == (size_t)-1)
		return -1;
	if (reason == NULL)
		rc = buf_printf(out, "Status: %s\r\n%s\r\n", status,
		    headers ? headers : "");
	else
		rc = buf_printf(out,
		    "Status: %s\r\nContent-Type: text/plain; charset=utf-8\r\n"
		    "Cache-Control: no-cache\r\n%s\r\n%s\n",
		    status, headers ? headers : "", reason);
	if (rc != 0)
		return -1;
	if (request_id == 0)
		return 0;
	if (fcgi_stdout_end(out, mark, request_id) != 0)
		return -1;
	return fcgi_end_request(out, request_id, 0);
}

/* Closes the connection and frees the stream; tells the server when it was the
 * last. */
static void
stream_destroy(struct stream *s)
{
	struct stream_server *server = s->server;
	int                   counted = s->counted;

	if (s->request_id != 0)
		loop_io_stop(server->loop, &s->io);
	loop_timer_stop(server->loop, &s->keepalive);
	loop_timer_stop(server->loop, &s->max_age);
	feed_cursor_free(s->cursor);
	buf_free(&s->out);
	close(s->fd);
	TAILQ_REMOVE(&server->streams, s, entry);
	free(s);
	if (counted && --server->count == 0 && server->empty != NULL)
		server->empty(server, server->arg);
}

/*
 * The whole response has been written.  Note that a FastCGI connection is
 * not closed at once: the web server may still be sending the request's
 * (empty) stdin, and closing under it makes Apache answer 503 itself
 * ("Broken pipe ... sending empty stdin").  The write side is shut, and the
 * stream goes when the web server closes its side, or after
 * STREAM_LINGER_MS.
 */
static void
stream_end(struct stream *s)
{
	if (s->request_id == 0 || s->draining ||
	    shutdown(s->fd, SHUT_WR) != 0) {
		stream_destroy(s);
		return;
	}
	s->draining = 1;
	loop_timer_stop(s->server->loop, &s->max_age);
	loop_timer_start(s->server->loop, &s->keepalive, STREAM_LINGER_MS);
	if (s->io.events != (EPOLLIN | EPOLLRDHUP))
		loop_io_modify(s->server->loop, &s->io, EPOLLIN | EPOLLRDHUP);
}

/* Watches for writability only while output waits. */
static void
stream_want_write(struct stream *s, int want)
{
	uint32_t events = EPOLLIN | EPOLLRDHUP | (want ? EPOLLOUT : 0);

	if (s->request_id != 0 && s->io.events != events)
		loop_io_modify(s->server->loop, &s->io, events);
}

/*
 * Writes data to the connection; what the socket does not take is kept in
 * s->out.  Returns 0, or -1 if the connection failed (the caller closes).
 * Note that a CGI stream writes blocking: it is the only stream of its
 * process, and a pipe to the web server has no EAGAIN worth waiting for.
 */
static int
stream_send(struct stream *s, const char *data, size_t len)
{
	ssize_t n = buf_write(s->fd, data, len);

	if (n < 0)
		return -1;
	if (n > 0) {
		s->last_write = s->last_progress = loop_now(s->server->loop);
		s->queued = -1;
	}
	if ((size_t)n < len &&
	    (s->request_id == 0 ||
	        buf_append(&s->out, data + n, len - (size_t)n) != 0))
		return -1;
	return 0;
}

/* Writes what s->out holds; returns 0, or -1 if the connection failed. */
static int
stream_flush(struct stream *s)
{
	ssize_t n;

	if (buf_pending_len(&s->out) == 0)
		return 0;
	if ((n = buf_flush(&s->out, s->fd)) < 0)
		return -1;
	if (n > 0) {
		s->last_write = s->last_progress = loop_now(s->server->loop);
		s->queued = -1;
	}
	return buf_pending_len(&s->out) > 0 && s->request_id == 0 ? -1 : 0;
}

/* Encodes one event into the server's scratch buffer (a pull callback). */
static int
stream_encode(const struct store_event *ev, void *arg)
{
	struct buf *scratch = arg;

	return sse_encode_event(
	    scratch, ev->id, ev->event, ev->sender, ev->data, ev->data_len);
}

/*
 * Starts a piece of output in the server's scratch buffer: a STDOUT record
 * for FastCGI, nothing for CGI.  Append the content, then stream_frame_send().
 */
static int
stream_frame_begin(struct stream *s)
{
	struct stream_server *server = s->server;

	buf_clear(&server->scratch);
	server->scratch_mark = 0;
	if (s->request_id == 0)
		return 0;
	server->scratch_mark = fcgi_stdout_begin(&server->scratch);
	return server->scratch_mark == (size_t)-1 ? -1 : 0;
}

/*
 * Finishes the record (and the response, when end is set) and sends the
 * scratch buffer.  Returns 0, or -1 if memory or the connection failed.
 */
static int
stream_frame_send(struct stream *s, int end)
{
	struct buf *scratch = &s->server->scratch;
	int         rc = -1;

	if (s->request_id == 0 ||
	    (fcgi_stdout_end(scratch, s->server->scratch_mark, s->request_id) ==
	            0 &&
	        (!end || fcgi_end_request(scratch, s->request_id, 0) == 0)))
		rc = stream_send(
		    s, buf_pending(scratch), buf_pending_len(scratch));
	buf_clear(scratch);
	return rc;
}

/*
 * Pulls ready events and writes them, all of a pull in one write, while the
 * socket takes them; then waits for the feed (caught up) or for the socket
 * (full).  After a few pulls it yields to the other streams and comes back
 * through EPOLLOUT.  May close the stream.
 */
static void
stream_pump(struct stream *s)
{
	struct stream_server *server = s->server;
	struct buf           *scratch = &server->scratch;
	int                   turns;

	if (stream_flush(s) != 0) {
		stream_destroy(s);
		return;
	}
	for (turns = 0; buf_pending_len(&s->out) == 0; turns++) {
		int n;

		if (s->cursor == NULL) {
			stream_end(s); /* ended and everything written */
			return;
		}
		if (turns == STREAM_PULLS_PER_TURN && s->request_id != 0) {
			stream_want_write(s, 1);
			return;
		}
		if (stream_frame_begin(s) != 0)
			break;
		n = feed_cursor_pull(
		    s->cursor, STREAM_PULL_BYTES, stream_encode, scratch);
		if (n == FEED_REFUSED) {
			/*
			 * The event could not be encoded (no memory): nothing
			 * would wake the stream again.  It ends; the client
			 * resumes from its Last-Event-ID.
			 */
			stream_destroy(s);
			return;
		}
		if (n <= 0) {
			buf_clear(scratch);
			break; /* caught up (or the store failed): the feed
			          calls back */
		}
		if (stream_frame_send(s, 0) != 0) {
			stream_destroy(s);
			return;
		}
	}
	stream_want_write(s, buf_pending_len(&s->out) > 0);
}

/* The feed has events for a waiting stream. */
static void
stream_ready(struct feed_cursor *cursor, void *arg)
{
	(void)cursor;
	stream_pump(arg);
}

/*
 * Scans what the web server sent after the request's records; returns 0,
 * or -1 when the stream must end (an abort, a request body, bytes that are
 * not records).  Note that a request body (refused before the stream
 * starts when the parameters announce one) is not read to its end: that
 * would let one peer's gigabytes hold the loop.
 */
static int
stream_input(struct stream *s, const unsigned char *data, size_t len)
{
	int end = fcgi_input_scan(&s->input, data, len);

	/* A refused request's body (a POST's) is not read, and ends nothing. */
	return end == FCGI_INPUT_OK || (end == FCGI_INPUT_BODY && s->refusal)
	           ? 0
	           : -1;
}

/*
 * Reads what the web server sends: only its end, an abort or a body
 * matter.  At most STREAM_INPUT_PER_TURN bytes per wake-up, so that a peer
 * that keeps sending cannot keep the loop from the other streams (epoll
 * reports the rest next turn).
 */
static void
stream_io(struct loop_io *io, uint32_t events)
{
	struct stream *s = io->arg;

	if (events & EPOLLIN) {
		unsigned char data[STREAM_INPUT_CHUNK];
		size_t        total = 0;
		ssize_t       n = -1;

		errno = EAGAIN;
		while (total < STREAM_INPUT_PER_TURN &&
		       (n = read(s->fd, data, sizeof data)) > 0) {
			total += (size_t)n;
			if (stream_input(s, data, (size_t)n) != 0) {
				stream_destroy(s);
				return;
			}
		}
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			stream_destroy(s);
			return;
		}
	}
	if (events & (EPOLLERR | EPOLLHUP | EPOLLRDHUP)) {
		stream_destroy(s);
		return;
	}
	if (events & EPOLLOUT)
		stream_pump(s);
}

/*
 * Ends the stream with a pause event telling the client to come back at
 * unix ms `at`, then the end of the response; the stream closes once that
 * is written, or after STREAM_LINGER_MS if the client does not read it.
 */
static void
stream_pause(struct stream *s, int64_t at)
{
	struct buf *scratch = &s->server->scratch;
	int64_t     position;

	if (s->cursor == NULL)
		return;
	position = feed_cursor_last_id(s->cursor);
	feed_cursor_free(s->cursor);
	s->cursor = NULL;
	loop_timer_stop(s->server->loop, &s->max_age);
	loop_timer_start(s->server->loop, &s->keepalive, STREAM_LINGER_MS);
	/*
	 * The position first, in a block of its own: a client that had no
	 * event of its channels for a while then resumes from where the
	 * cursor is, and the pause itself carries no id (a row of that name
	 * would).
	 */
	if (stream_frame_begin(s) != 0 ||
	    sse_encode_position(scratch, position) != 0 ||
	    sse_encode_pause(scratch, at, (long)(at - loop_unix_ms())) != 0 ||
	    stream_frame_send(s, 1) != 0) {
		buf_clear(scratch);
		stream_destroy(s);
		return;
	}
	stream_pump(s);
}

/*
 * Returns non-zero if the stream has stalled: it has waited for its socket
 * to take more (output pending, or writability awaited) for two keepalive
 * intervals, and in that time the socket took nothing and its queue did not
 * shrink (the web server stopped reading because its client did).  A slow
 * reader drains the queue, if not enough for the socket to take more: it
 * is not stalled.
 */
static int
stream_stalled(struct stream *s, uint64_t now, uint64_t period)
{
	int queued;

	if (buf_pending_len(&s->out) == 0 && (s->io.events & EPOLLOUT) == 0)
		return 0;
	if (ioctl(s->fd, SIOCOUTQ, &queued) == 0) {
		if (s->queued >= 0 && queued < s->queued)
			s->last_progress = now;
		s->queued = queued;
	}
	return now - s->last_progress >= 2 * period;
}

/*
 * Keepalive timer: a comment after keepalive_ms of silence; also drops a
 * stalled stream (stream_stalled()).  No keepalive is written while the
 * stream waits for its socket, so that a few bytes slipped into the
 * socket's last room do not pass for progress.  Note that the check runs
 * at most one interval apart, so a stalled stream goes between two and
 * three intervals after its last progress; its client resumes with
 * Last-Event-ID when it comes back.
 */
static void
stream_keepalive(struct loop_timer *timer)
{
	struct stream *s = timer->arg;
	struct loop   *loop = s->server->loop;
	uint64_t       idle = loop_now(loop) - s->last_write;
	uint64_t       period = (uint64_t)s->server->config.keepalive_ms;
	struct buf    *scratch = &s->server->scratch;
	int            waiting =
	    buf_pending_len(&s->out) > 0 || (s->io.events & EPOLLOUT) != 0;

	if (s->cursor == NULL) {
		stream_destroy(
		    s); /* the end was not read, or not closed, in time */
		return;
	}
	if (s->request_id != 0 && stream_stalled(s, loop_now(loop), period)) {
		stream_destroy(s);
		return;
	}
	if (idle < period || waiting) {
		loop_timer_start(
		    loop, timer, idle < period ? period - idle : period);
		return;
	}
	if (stream_frame_begin(s) != 0 ||
	    sse_encode_comment(scratch, "keepalive") != 0 ||
	    stream_frame_send(s, 0) != 0) {
		buf_clear(scratch);
		stream_destroy(s);
		return;
	}
	stream_want_write(s, buf_pending_len(&s->out) > 0);
	loop_timer_start(loop, timer, period);
}

/* Max-age timer: the client is told to reconnect within one retry interval. */
static void
stream_max_age(struct loop_timer *timer)
{
	struct stream *s = timer->arg;

	/* A grant that ran out: come back at once, with a fresh token. */
	if (s->expiring) {
		stream_pause(s, loop_unix_ms());
		return;
	}
	stream_pause(
	    s, loop_unix_ms() + (int64_t)stream_random(s->server,
	                            (uint64_t)s->server->config.retry_ms + 1));
}

/*
 * Makes a stream for the connection fd: non-blocking and watched for a
 * FastCGI one (note that the connection libfcgi accepted is blocking, as
 * accept() does not pass O_NONBLOCK on, and one full socket would stall the
 * loop).  Returns NULL, with fd still open, on failure.
 */
static struct stream *
stream_new(struct stream_server *server, int fd, uint16_t request_id)
{
	struct stream *s = calloc(1, sizeof *s);

	if (s == NULL)
		return NULL;
	s->server = server;
	s->fd = fd;
	s->request_id = request_id;
	s->last_write = s->last_progress = loop_now(server->loop);
	s->queued = -1;
	loop_timer_init(&s->keepalive, stream_keepalive, s);
	loop_timer_init(&s->max_age, stream_max_age, s);
	if (request_id != 0 &&
	    (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == -1 ||
	        loop_io_start(server->loop, &s->io, fd, EPOLLIN | EPOLLRDHUP,
	            stream_io, s) != 0)) {
		free(s);
		return NULL;
	}
	TAILQ_INSERT_TAIL(&server->streams, s, entry);
	return s;
}

/*
 * Answers with a whole error response instead of events.  The connection
 * then ends like a stream's, and does not count as one.
 */
static void
stream_fail(struct stream *s, const char *status, const char *headers,
    const char *reason)
{
	struct buf *scratch = &s->server->scratch;

	loop_timer_start(s->server->loop, &s->keepalive, STREAM_LINGER_MS);
	buf_clear(scratch);
	if (stream_error_response(
	        scratch, s->request_id, status, headers, reason) != 0 ||
	    stream_send(s, buf_pending(scratch), buf_pending_len(scratch)) !=
	        0) {
		buf_clear(scratch);
		stream_destroy(s);
		return;
	}
	buf_clear(scratch);
	stream_pump(s);
}

/* Answers the connection fd with an error response (fd is ours). */
void
stream_refuse(struct stream_server *server, int fd, uint16_t request_id,
    const char *status, const char *headers, const char *reason,
    const void *input, size_t input_len)
{
	struct stream *s = stream_new(server, fd, request_id);

	if (s == NULL) {
		close(fd);
		return;
	}
	s->refusal = 1;
	if (stream_input(s, input, input_len) != 0)
		stream_destroy(s);
	else
		stream_fail(s, status, headers, reason);
}

/*
 * Writes the headers of a 503: the request's own, then Retry-After,
 * spread over a few retries.
 */
static void
stream_retry_after(
    struct stream_server *server, const char *headers, char *out, size_t len)
{
	int64_t base = (server->config.retry_ms + 999) / 1000;

	if (base < 1)
		base = 1;
	snprintf(out, len, "%sRetry-After: %lld\r\n", headers ? headers : "",
	    (long long)(base + (int64_t)stream_random(
	                           server, (uint64_t)base * 2 + 1)));
}

/* Starts a stream on fd for a validated request. */
void
stream_open(struct stream_server *server, int fd, uint16_t request_id,
    const char *headers, const struct query *query, int64_t resume,
    int64_t expires_ms, const void *input, size_t input_len)
{
	const char       *names[QUERY_MAX_CHANNELS];
	char              retry_after[STREAM_HEADERS_MAX + 64], reason[600];
	struct stream    *s;
	struct buf       *scratch = &server->scratch;
	struct feed_start start;
	int64_t           age;
	size_t            i;

	stream_retry_after(server, headers, retry_after, sizeof retry_after);
	if (server->shutting_down) {
		stream_refuse(server, fd, request_id, "503 Service Unavailable",
		    retry_after, "litepush-sse is shutting down", NULL, 0);
		return;
	}
	if ((int64_t)server->count >= server->config.max_streams) {
		stream_refuse(server, fd, request_id, "503 Service Unavailable",
		    retry_after, "too many streams: try again later", NULL, 0);
		return;
	}
	for (i = 0; i < query->nchannels; i++)
		names[i] = query->channels[i];
	if (feed_start_after(server->feed, names, query->nchannels, resume,
	        query->has_backlog ? query->backlog : 0,
	        server->config.backlog_max, &start, reason,
	        sizeof reason) != 0) {
		stream_refuse(server, fd, request_id, "503 Service Unavailable",
		    retry_after, reason, NULL, 0);
		return;
	}

	if ((s = stream_new(server, fd, request_id)) == NULL) {
		close(fd);
		return;
	}
	if (stream_input(s, input, input_len) != 0) {
		stream_destroy(s);
		return;
	}
	s->cursor = feed_cursor_create(server->feed, names, query->nchannels,
	    start.after, stream_ready, s);
	if (s->cursor == NULL) {
		stream_fail(s, "503 Service Unavailable", retry_after,
		    "cannot start the stream: out of memory");
		return;
	}
	s->counted = 1;
	server->count++;

	/*
	 * Headers and the retry field go out together: Apache's mod_proxy_fcgi
	 * holds headers back until body bytes arrive.  Then the position, so
	 * that even a client that gets no event before it reconnects resumes
	 * exactly, and a reset when its resume point is gone.
	 */
	if (stream_frame_begin(s) != 0 ||
	    buf_printf(scratch,
	        "Status: 200 OK\r\n"
	        "Content-Type: text/event-stream; charset=utf-8\r\n"
	        "Cache-Control: no-cache\r\n"
	        "X-Accel-Buffering: no\r\n%s\r\n",
	        headers ? headers : "") != 0 ||
	    sse_encode_retry(scratch, (long)server->config.retry_ms) != 0 ||
	    sse_encode_position(scratch, start.after) != 0 ||
	    (start.reset &&
	        sse_encode_reset(scratch, start.oldest, start.newest) != 0) ||
	    stream_frame_send(s, 0) != 0) {
		buf_clear(scratch);
		stream_destroy(s);
		return;
	}
	age = server->config.max_age_ms;
	if (age > 0) {
		/* +-10% so that streams opened together do not end together. */
		age = age - age / 10 +
		      (int64_t)stream_random(server, (uint64_t)(age / 5) + 1);
	}
	if (expires_ms > 0) {
		int64_t left =
		    (int64_t)loop_delay_until(server->loop, expires_ms);

		if (age <= 0 || left < age) {
			age = left;
			s->expiring = 1;
		}
	}
	if (age > 0 || s->expiring)
		loop_timer_start(server->loop, &s->max_age, (uint64_t)age);
	loop_timer_start(
	    server->loop, &s->keepalive, (uint64_t)server->config.keepalive_ms);
	stream_pump(s);
}

/* Ends every stream with a pause and refuses new ones. */
void
stream_shutdown(struct stream_server *server)
{
	struct stream *s, *next;
	int64_t        now = loop_unix_ms();
	uint64_t       spread;
	int            was_empty = server->count == 0;

	server->shutting_down = 1;
	/*
	 * Clients come back after one retry interval, spread over at least
	 * another one and over 1 ms per stream, so that 10,000 clients return
	 * at no more than about 1,000 per second.
	 */
	spread = (uint64_t)server->config.retry_ms;
	if (spread < server->count)
		spread = server->count;
	for (s = TAILQ_FIRST(&server->streams); s != NULL; s = next) {
		next = TAILQ_NEXT(s, entry);
		stream_pause(s, now + server->config.retry_ms +
		                    (int64_t)stream_random(server, spread + 1));
	}
	if (was_empty && server->empty != NULL)
		server->empty(server, server->arg);
}

/* Returns the number of open streams. */
size_t
stream_count(const struct stream_server *server)
{
	return server->count;
}

/* Frees the server and closes what is left. */
void
stream_server_free(struct stream_server *server)
{
	struct stream *s;

	if (server == NULL)
		return;
	server->empty = NULL;
	while ((s = TAILQ_FIRST(&server->streams)) != NULL)
		stream_destroy(s);
	buf_free(&server->scratch);
	free(server);
}
