/* wsconn.c: WebSocket connections on one event loop: accept, handshake, upgrade, the pump, timers, closing (what an open one carries is wsconn_messages.c's). */
#include "config.h"

#include <sys/epoll.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <wslay/wslay.h>

#include "buf.h"
#include "envelope.h"
#include "feed.h"
#include "frame.h"
#include "grant.h"
#include "handshake.h"
#include "publish.h"
#include "loop.h"
#include "query.h"
#include "store.h"
#include "wsconn.h"
#include "wsconn_int.h"

/*
 * Memory and fairness.  Text messages (events, acks, errors) and our pings
 * are written as frames straight into the connection's out buffer; events
 * are pulled only when the socket took everything before, so a client that
 * stops reading holds at most one pull batch, what wslay queued (pongs, a
 * close) and its socket buffers.  wslay's frames leave through a send
 * callback (wsconn_messages.c) that appends to the same buffer, at most
 * WSCONN_OUT_MAX bytes, and the buffer goes to the socket in one write: a
 * batch of small events costs one system call, not two per frame.  Reading
 * stops while output is waiting, since every ping or publish read brings a
 * reply; one wslay read takes at most 4 KiB, which bounds those replies.  A
 * connection reads at most WSCONN_READ_BUDGET bytes and pulls
 * WSCONN_PULLS_PER_TURN batches per wake-up before the others get their
 * turn.
 *
 * The wslay context (8.6 KiB) exists only while it is needed: it is made
 * when input arrives, and freed again once wslay has nothing queued, no
 * close is under way and the bytes it was given ended at a frame boundary
 * outside a fragmented message (struct wsconn_frames follows the
 * boundaries).  A fresh context then parses the next frame as the old one
 * would have.  The server closes a connection without a context by
 * writing the close frame itself.  An idle WebSocket costs its struct,
 * its cursor and the kernel's socket buffers.
 *
 * Closing.  Once a close frame has been written, the write side is shut
 * (FIN after the close frame) and input is read and dropped until the peer
 * closes or WSCONN_LINGER_MS pass.  Closing at once would make the kernel
 * answer unread input with a reset, and a reset can destroy the close frame
 * (with its code) before the client has read it.
 */

/* Writes one line to the log, if there is one. */
void
wsconn_log(struct wsconn_server *server, const char *fmt, ...)
{
	va_list ap;

	if (server->config.log == NULL)
		return;
	va_start(ap, fmt);
	fputs("litepush-ws: ", server->config.log);
	vfprintf(server->config.log, fmt, ap);
	fputc('\n', server->config.log);
	fflush(server->config.log);
	va_end(ap);
}

/* The feed has been told of appends made through our own connection. */
static void
wsconn_publish_timer(struct loop_timer *timer)
{
	struct wsconn_server *server = timer->arg;

	feed_check(server->feed);
}

/* Creates the set of connections. */
struct wsconn_server *
wsconn_server_create(struct loop *loop, struct feed *feed,
    const struct wsconn_config *config, wsconn_empty_fn empty, void *arg)
{
	struct wsconn_server *server = calloc(1, sizeof *server);

	if (server == NULL)
		return NULL;
	server->loop = loop;
	server->feed = feed;
	server->config = *config;
	server->policy.origins = config->origins;
	server->policy.norigins = config->norigins;
	server->policy.user_header = config->user_header;
	server->policy.access = config->access;
	server->policy.key = config->key;
	server->publish_rules.patterns = config->publish;
	server->publish_rules.npatterns = config->npublish;
	server->publish_rules.access = config->access;
	server->empty = empty;
	server->arg = arg;
	TAILQ_INIT(&server->conns);
	loop_timer_init(&server->publish_timer, wsconn_publish_timer, server);
	return server;
}

/* Returns the code a connection ended with and who ended it, for the log. */
static const char *
wsconn_close_summary(const struct wsconn *c, char *out, size_t len)
{
	if (!c->upgraded)
		return "";
	if (c->raw_close != 0)
		snprintf(out, len, " %u by server", c->raw_close);
	else if (c->ctx == NULL)
		snprintf(out, len, " 1006 connection lost");
	else if (wslay_event_get_close_received(c->ctx) && !c->server_first)
		snprintf(out, len, " %u by client",
		    wslay_event_get_status_code_received(c->ctx));
	else if (wslay_event_get_close_sent(c->ctx))
		snprintf(out, len, " %u by server",
		    wslay_event_get_status_code_sent(c->ctx));
	else
		snprintf(out, len, " 1006 connection lost");
	return out;
}

/* Closes the connection and frees it; tells the server when it was the last. */
void
wsconn_free(struct wsconn *c)
{
	struct wsconn_server *server = c->server;
	char                  summary[64];

	if (c->upgraded) {
		wsconn_log(server, "close %s %s%s", c->peer,
		    c->target != NULL ? c->target : "-",
		    wsconn_close_summary(c, summary, sizeof summary));
		server->open--;
	}
	if (c->hs != NULL) {
		handshake_free(c->hs);
		free(c->hs);
		server->handshakes--;
	}
	if (c->publishing > 0)
		publish_forget(server->publish, c);
	loop_io_stop(server->loop, &c->io);
	loop_timer_stop(server->loop, &c->timer);
	loop_timer_stop(server->loop, &c->expiry);
	feed_cursor_free(c->cursor);
	wslay_event_context_free(c->ctx);
	buf_free(&c->out);
	buf_free(&c->in);
	free(c->target);
	free(c->user);
	if (c->grant != NULL) {
		grant_free(c->grant);
		free(c->grant);
	}
	close(c->fd);
	TAILQ_REMOVE(&server->conns, c, entry);
	server->count--;
	free(c);
	if (server->count == 0 && server->empty != NULL)
		server->empty(server, server->arg);
}

/* Writes what c->out holds; returns 0, or -1 if the connection failed. */
int
wsconn_flush(struct wsconn *c)
{
	ssize_t n = buf_flush(&c->out, c->fd);

	if (n < 0)
		return -1;
	if (n > 0 || buf_pending_len(&c->out) == 0)
		c->last_sent = loop_now(c->server->loop);
	return 0;
}

/* Stops the events and arms the linger deadline; the close is under way. */
void
wsconn_closing(struct wsconn *c)
{
	if (c->closing)
		return;
	c->closing = 1;
	feed_cursor_free(c->cursor);
	c->cursor = NULL;
	loop_timer_start(c->server->loop, &c->timer, WSCONN_LINGER_MS);
}

/* Sets the events to watch from the connection's state. */
static void
wsconn_watch(struct wsconn *c)
{
	uint32_t events = 0;
	int      waiting = buf_pending_len(&c->out) > 0 ||
	              (c->ctx != NULL && c->raw_close == 0 &&
	                  wslay_event_want_write(c->ctx));

	if (c->hs != NULL || c->shut)
		events = EPOLLIN | EPOLLRDHUP;
	else {
		if (waiting || c->more)
			events |= EPOLLOUT;
		if (c->upgraded && !waiting && c->raw_close == 0 &&
		    c->publishing < WSCONN_PUBLISH_INFLIGHT &&
		    (c->ctx == NULL || wslay_event_get_read_enabled(c->ctx)))
			events |= EPOLLIN | EPOLLRDHUP;
	}
	if (c->io.events != events)
		loop_io_modify(c->server->loop, &c->io, events);
}

/* Shuts the write side once the close (or refusal) is out. */
static void
wsconn_shut_when_written(struct wsconn *c)
{
	if (c->shut || c->hs != NULL || buf_pending_len(&c->out) > 0)
		return;
	if (c->upgraded && c->raw_close == 0 &&
	    (c->ctx == NULL || !wslay_event_get_close_sent(c->ctx)))
		return;
	shutdown(c->fd, SHUT_WR);
	c->shut = 1;
	wsconn_closing(c);
}

/*
 * Moves data: writes what is waiting, lets wslay send its queue, reads the
 * client's frames when nothing is waiting, and pulls events when the socket
 * took everything.  Ends by choosing what to wait for.  May free c.
 */
void
wsconn_pump(struct wsconn *c)
{
	int turns = 0, n;

	c->more = 0;
	for (;;) {
		if (c->failed || wsconn_flush(c) != 0) {
			wsconn_free(c);
			return;
		}
		if (buf_pending_len(&c->out) > 0 || !c->upgraded ||
		    c->raw_close != 0 || c->shut)
			break;
		if (c->ctx != NULL && wslay_event_want_write(c->ctx)) {
			if (wslay_event_send(c->ctx) != 0) {
				wsconn_free(c);
				return;
			}
			continue;
		}
		if (c->readable && c->budget > 0 &&
		    c->publishing < WSCONN_PUBLISH_INFLIGHT &&
		    (c->ctx == NULL || wslay_event_get_read_enabled(c->ctx))) {
			if (wsconn_receive(c) != 0)
				return;
			continue;
		}
		if (c->queue_failed) {
			c->queue_failed = 0;
			wsconn_queue_close(c, 1011, "");
			continue;
		}
		if (c->cursor == NULL)
			break;
		if (turns++ == WSCONN_PULLS_PER_TURN) {
			c->more = 1;
			break;
		}
		n = feed_cursor_pull(
		    c->cursor, WSCONN_PULL_BYTES, wsconn_queue_event, c);
		/*
		 * Caught up, or the store failed: the feed calls back.  A
		 * refusal is an event held behind a publish's ack (its result
		 * pumps again), a queue that failed (closed with 1011 above)
		 * or a close already queued (no more events are wanted).
		 */
		if (n <= 0 && !c->queue_failed)
			break;
	}
	wsconn_context_release(c);
	wsconn_shut_when_written(c);
	wsconn_watch(c);
}

/* Starts closing with code (the server's side); may free c. */
static void
wsconn_begin_close(struct wsconn *c, uint16_t code, const char *reason)
{
	if (c->closing)
		return;
	wsconn_queue_close(c, code, reason);
	wsconn_pump(c);
}

/* The feed has events for a waiting connection. */
static void
wsconn_ready(struct feed_cursor *cursor, void *arg)
{
	(void)cursor;
	wsconn_pump(arg);
}

/* Answers the handshake with a refusal, then closes; may free c. */
static void
wsconn_refuse(
    struct wsconn *c, int status, const char *extra_header, const char *reason)
{
	struct wsconn_server *server = c->server;
	char                  target[WSCONN_LOG_TARGET_MAX + 1] = "-";

	if (c->hs != NULL && c->hs->target != NULL)
		grant_redact(c->hs->target, target, sizeof target);
	wsconn_log(
	    server, "refuse %s %s %d %s", c->peer, target, status, reason);
	buf_free(&c->out);
	if (handshake_error_response(&c->out, status, extra_header, reason) !=
	    0)
		c->failed = 1;
	handshake_free(c->hs);
	free(c->hs);
	c->hs = NULL;
	server->handshakes--;
	buf_free(&c->in);
	wsconn_closing(c);
	wsconn_pump(c);
}

/* Arms an open connection's timer for its next ping or stall check. */
static void
wsconn_arm(struct wsconn *c)
{
	const struct wsconn_config *config = &c->server->config;
	int64_t                     period =
            config->ping_ms > 0 ? config->ping_ms : config->stall_ms / 2;

	if (period > 0)
		loop_timer_start(c->server->loop, &c->timer, (uint64_t)period);
}

/* Queues the reset message that goes before the first event. */
static int
wsconn_queue_reset(struct wsconn *c, const struct feed_start *start)
{
	struct buf *scratch = &c->server->scratch;

	buf_clear(scratch);
	if (envelope_encode_reset(scratch, start->oldest, start->newest) != 0) {
		buf_clear(scratch);
		return -1;
	}
	return wsconn_queue_scratch(c);
}

/* Queues {"position":N}, where the connection's events start. */
static int
wsconn_queue_position(struct wsconn *c, int64_t after)
{
	struct buf *scratch = &c->server->scratch;

	buf_clear(scratch);
	if (envelope_encode_position(scratch, after) != 0) {
		buf_clear(scratch);
		return -1;
	}
	return wsconn_queue_scratch(c);
}

/*
 * Keeps who the client is: its login, recorded with what it publishes,
 * and the grant, moved out of the handshake, when it lists channels to
 * publish to (only then: an idle subscriber keeps no grant).  Returns 0,
 * or -1 when memory ran out.
 */
static int
wsconn_keep_who(struct wsconn *c, struct handshake *hs)
{
	if (hs->user != NULL && (c->user = strdup(hs->user)) == NULL)
		return -1;
	if (hs->grant.npublish > 0) {
		if ((c->grant = malloc(sizeof *c->grant)) == NULL)
			return -1;
		*c->grant = hs->grant;
		memset(&hs->grant, 0, sizeof hs->grant);
	}
	return 0;
}

/* The request is a valid handshake: upgrade, or refuse with 503; may free c. */
static void
wsconn_upgrade(struct wsconn *c)
{
	struct wsconn_server *server = c->server;
	struct handshake     *hs = c->hs;
	const char           *names[QUERY_MAX_CHANNELS];
	char                  reason[600];
	struct feed_start     start;
	size_t                i;

	if (hs->forwarded_for != NULL)
		snprintf(c->peer, sizeof c->peer, "%s", hs->forwarded_for);
	if ((int64_t)server->open >= server->config.max_conns) {
		wsconn_refuse(c, 503, "Retry-After: 5",
		    "too many connections: try again later");
		return;
	}
	for (i = 0; i < hs->query.nchannels; i++)
		names[i] = hs->query.channels[i];
	if (feed_start_after(server->feed, names, hs->query.nchannels,
	        hs->query.has_last_id ? hs->query.last_id : -1,
	        hs->query.has_backlog ? hs->query.backlog : 0,
	        server->config.backlog_max, &start, reason,
	        sizeof reason) != 0) {
		wsconn_refuse(c, 503, "Retry-After: 5", reason);
		return;
	}
	c->target = malloc(WSCONN_LOG_TARGET_MAX + 1);
	if (c->target != NULL)
		grant_redact(hs->target, c->target, WSCONN_LOG_TARGET_MAX + 1);
	if (c->target == NULL ||
	    (c->cursor = feed_cursor_create(server->feed, names,
	         hs->query.nchannels, start.after, wsconn_ready, c)) == NULL ||
	    handshake_accept_response(&c->out, hs->accept) != 0 ||
	    wsconn_queue_position(c, start.after) != 0 ||
	    (start.reset && wsconn_queue_reset(c, &start) != 0)) {
		feed_cursor_free(c->cursor);
		c->cursor = NULL;
		wsconn_refuse(c, 503, "Retry-After: 5", "out of memory");
		return;
	}
	if (wsconn_keep_who(c, hs) != 0) {
		feed_cursor_free(c->cursor);
		c->cursor = NULL;
		wsconn_refuse(c, 503, "Retry-After: 5", "out of memory");
		return;
	}
	if (hs->grant_expires_ms > 0)
		loop_timer_start(server->loop, &c->expiry,
		    loop_delay_until(server->loop, hs->grant_expires_ms));
	handshake_free(hs);
	free(hs);
	c->hs = NULL;
	server->handshakes--;
	server->open++;
	c->upgraded = 1;
	wsconn_log(server, "open %s %s", c->peer, c->target);
	c->last_frame = loop_now(server->loop);
	c->readable = buf_pending_len(&c->in) > 0;
	c->last_sent = c->last_frame;
	loop_timer_stop(server->loop, &c->timer);
	wsconn_arm(c);
	wsconn_pump(c);
}

/* The challenge of a 401 (grant.h), NULL for any other refusal. */
static const char *
wsconn_challenge(const struct handshake *hs)
{
	if (hs->status != 401)
		return NULL;
	return hs->token_refused ? GRANT_CHALLENGE_BAD_TOKEN : GRANT_CHALLENGE;
}

/* Reads the request head; may free c. */
static void
wsconn_read_head(struct wsconn *c)
{
	char   data[4096];
	size_t used;
	int    rc;

	for (;;) {
		ssize_t n = read(c->fd, data, sizeof data);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			wsconn_free(c); /* gone before asking anything */
			return;
		}
		rc = handshake_feed(
		    c->hs, data, (size_t)n, &c->server->policy, &used);
		if (rc == 0)
			continue;
		if (rc < 0) {
			wsconn_refuse(c,
			    c->hs->status != 0 ? c->hs->status : 503,
			    wsconn_challenge(c->hs), c->hs->reason);
			return;
		}
		if (buf_append(&c->in, data + used, (size_t)n - used) != 0) {
			wsconn_refuse(c, 503, NULL, "out of memory");
			return;
		}
		wsconn_upgrade(c);
		return;
	}
}

/* Reads and drops what a closing peer still sends, until it closes; may free c.
 */
static void
wsconn_drain(struct wsconn *c)
{
	char junk[4096];
	int  i;

	if (c->ctx != NULL && c->raw_close == 0 &&
	    wslay_event_get_read_enabled(c->ctx)) {
		/* Through wslay, to learn the code of the client's close. */
		wslay_event_recv(c->ctx);
		if (c->failed)
			wsconn_free(c);
		return;
	}
	for (i = 0; i < 16; i++) {
		ssize_t n = read(c->fd, junk, sizeof junk);

		if (n > 0 || (n < 0 && errno == EINTR))
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		wsconn_free(c);
		return;
	}
}

/* Socket events. */
static void
wsconn_io(struct loop_io *io, uint32_t events)
{
	struct wsconn *c = io->arg;

	c->budget = WSCONN_READ_BUDGET;
	if (c->hs != NULL) {
		wsconn_read_head(c);
		return;
	}
	if (c->shut) {
		wsconn_drain(c);
		return;
	}
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		c->readable = 1;
	wsconn_pump(c);
}

/*
 * The grant the connection was opened with has run out: it closes with
 * 4001, which tells a client to come back with a fresh token.
 */
static void
wsconn_expired(struct loop_timer *timer)
{
	struct wsconn *c = timer->arg;

	wsconn_begin_close(c, 4001, "grant expired");
}

/*
 * The connection's timer: handshake deadline, ping, or end of the linger.
 * An open connection's timer ticks every ping interval, or every half of
 * the stall limit when pings are off; without either it never ticks.
 */
static void
wsconn_timer(struct loop_timer *timer)
{
	struct wsconn        *c = timer->arg;
	struct wsconn_server *server = c->server;
	uint64_t              now = loop_now(server->loop);
	uint64_t              ping = (uint64_t)server->config.ping_ms;
	uint64_t              stall = (uint64_t)server->config.stall_ms;

	if (c->hs != NULL) {
		wsconn_refuse(c, 408, NULL, "the request took too long");
		return;
	}
	if (c->closing) {
		wsconn_free(c);
		return;
	}
	/*
	 * A client that stopped reading: its close frame could not get
	 * through either, so it is dropped at once.
	 */
	if (stall > 0 && buf_pending_len(&c->out) > 0 &&
	    now - c->last_sent >= stall) {
		wsconn_log(server, "stalled %s: nothing written for %llu ms",
		    c->peer, (unsigned long long)(now - c->last_sent));
		wsconn_free(c);
		return;
	}
	if (ping > 0 && now - c->last_frame >= 2 * ping) {
		wsconn_begin_close(c, 1011, "no reply to ping");
		return;
	}
	/* Without a context the out buffer ends at a frame boundary. */
	if (ping > 0 && c->raw_close == 0 && c->ctx != NULL) {
		struct wslay_event_msg msg = {WSLAY_PING, NULL, 0};

		wslay_event_queue_msg(c->ctx, &msg);
	} else if (ping > 0 && c->raw_close == 0)
		(void)frame_append(&c->out, FRAME_PING, NULL, 0);
	wsconn_arm(c);
	wsconn_pump(c);
}

/*
 * Answers a connection that gets no slot at all (shutting down, too many
 * handshakes in progress, no memory) with a 503 and closes it, without
 * reading its request or waiting: best effort, one non-blocking write.
 * Note that a request already received makes the close a reset, which can
 * destroy the answer; the client sees a failed connection either way.
 */
static void
wsconn_turn_away(struct wsconn_server *server, int fd)
{
	struct buf out = {0};

	if (handshake_error_response(&out, 503, "Retry-After: 5",
	        server->shutting_down ? "the server is shutting down"
	                              : "too many handshakes in progress") == 0)
		(void)buf_flush(&out, fd); /* best effort: fd is non-blocking */
	buf_free(&out);
	close(fd);
}

/* Starts serving an accepted socket. */
void
wsconn_accept(struct wsconn_server *server, int fd, const char *peer)
{
	struct wsconn *c;
	size_t         limit = (size_t)server->config.max_conns;
	int            one = 1;

	if (limit < WSCONN_HANDSHAKES_MIN)
		limit = WSCONN_HANDSHAKES_MIN;
	if (server->shutting_down || server->handshakes >= limit ||
	    (c = calloc(1, sizeof *c)) == NULL) {
		wsconn_turn_away(server, fd);
		return;
	}
	/* Small frames must not wait for the acknowledgement of earlier ones.
	 */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	c->server = server;
	c->fd = fd;
	snprintf(c->peer, sizeof c->peer, "%s", peer != NULL ? peer : "-");
	c->hs = calloc(1, sizeof *c->hs);
	loop_timer_init(&c->timer, wsconn_timer, c);
	loop_timer_init(&c->expiry, wsconn_expired, c);
	if (c->hs == NULL || loop_io_start(server->loop, &c->io, fd,
	                         EPOLLIN | EPOLLRDHUP, wsconn_io, c) != 0) {
		free(c->hs);
		free(c);
		close(fd);
		return;
	}
	TAILQ_INSERT_TAIL(&server->conns, c, entry);
	server->count++;
	server->handshakes++;
	loop_timer_start(server->loop, &c->timer,
	    (uint64_t)server->config.handshake_timeout_ms);
}

/* Closes every connection with 1001 and refuses new ones. */
void
wsconn_shutdown(struct wsconn_server *server)
{
	struct wsconn *c, *next;

	server->shutting_down = 1;
	if (server->count == 0) {
		if (server->empty != NULL)
			server->empty(server, server->arg);
		return;
	}
	for (c = TAILQ_FIRST(&server->conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		if (c->hs != NULL)
			wsconn_free(c);
		else if (c->upgraded && !c->closing)
			wsconn_begin_close(c, 1001, "server shutting down");
	}
}

/* Returns the number of connections. */
size_t
wsconn_count(const struct wsconn_server *server)
{
	return server->count;
}

/* Returns the number of open WebSockets. */
size_t
wsconn_open_count(const struct wsconn_server *server)
{
	return server->open;
}

/* Returns the number of connections holding a wslay context. */
size_t
wsconn_context_count(const struct wsconn_server *server)
{
	const struct wsconn *c;
	size_t               n = 0;

	TAILQ_FOREACH(c, &server->conns, entry)
	{
		if (c->ctx != NULL)
			n++;
	}
	return n;
}

/* Returns the publishes in flight on the publish thread. */
size_t
wsconn_publishing_count(const struct wsconn_server *server)
{
	const struct wsconn *c;
	size_t               n = 0;

	TAILQ_FOREACH(c, &server->conns, entry)
	{
		n += c->publishing;
	}
	return n;
}

/* Frees the server and drops what is left. */
void
wsconn_server_free(struct wsconn_server *server)
{
	struct wsconn *c;

	if (server == NULL)
		return;
	server->empty = NULL;
	while ((c = TAILQ_FIRST(&server->conns)) != NULL)
		wsconn_free(c);
	loop_timer_stop(server->loop, &server->publish_timer);
	publish_free(server->publish);
	buf_free(&server->scratch);
	free(server);
}
