/* wsconn_messages.c: what an open WebSocket carries: wslay over the connection's buffers, closes, the events sent, the client's publishes and their replies in order. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <wslay/wslay.h>

#include "buf.h"
#include "envelope.h"
#include "feed.h"
#include "frame.h"
#include "loop.h"
#include "publish.h"
#include "store.h"
#include "wsconn.h"
#include "wsconn_int.h"

/*
 * wslay reads through wsconn_recv_callback() (first from what came with
 * the request head, then from the socket, within the turn's budget) and
 * writes through wsconn_send_callback() into the connection's out buffer;
 * our own text messages go straight into that buffer unless wslay has
 * something queued before them.  A client's text message is a publish
 * request: allowed or refused by publish.c's policy, appended on its
 * thread, and answered with an ack or an error in the order the messages
 * came (a refusal found on the loop keeps its place behind the appends
 * still in flight).
 */

/*
 * Writes a close frame with code past wslay.  Used where wslay would answer
 * a protocol violation with an empty close frame (a bad control frame
 * header, a one-byte close payload) and RFC 6455 wants 1002, and for the
 * server's own closes when there is no context (an idle connection needs
 * none to close).  Note that it is only called right after a read, when
 * wslay had nothing queued, or without a context, so the out buffer ends
 * at a frame boundary.  reason is cut to fit a control frame.
 */
void
wsconn_raw_close(struct wsconn *c, uint16_t code, const char *reason)
{
	wsconn_closing(c);
	if (c->raw_close != 0 ||
	    (c->ctx != NULL && wslay_event_get_close_sent(c->ctx)))
		return;
	c->raw_close = code;
	c->server_first = 1;
	if (frame_append_close(&c->out, code, reason) != 0)
		c->failed = 1;
}

/* Reads what wslay wants from the socket (or from what came with the head). */
static ssize_t
wsconn_recv_callback(wslay_event_context_ptr ctx, uint8_t *data, size_t len,
    int flags, void *arg)
{
	struct wsconn *c = arg;
	ssize_t        n;

	(void)flags;
	if (buf_pending_len(&c->in) > 0) {
		if (len > buf_pending_len(&c->in))
			len = buf_pending_len(&c->in);
		memcpy(data, buf_pending(&c->in), len);
		frame_track(&c->frames, data, len);
		buf_consume(&c->in, len);
		if (buf_pending_len(&c->in) == 0)
			buf_free(&c->in);
		return (ssize_t)len;
	}
	/*
	 * Replies are waiting: read no more until they are written (or, for
	 * publishes, until enough of them have come back).
	 */
	if (wslay_event_want_write(ctx) || buf_pending_len(&c->out) > 0 ||
	    c->budget == 0 || c->publishing >= WSCONN_PUBLISH_INFLIGHT) {
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	if (len > c->budget)
		len = c->budget;
	for (;;) {
		n = read(c->fd, data, len);
		if (n > 0) {
			c->budget -= (size_t)n;
			frame_track(&c->frames, data, (size_t)n);
			return n;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			c->readable = 0;
			wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
			return -1;
		}
		c->failed = 1; /* the peer has gone */
		wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
		return -1;
	}
}

/*
 * Takes what wslay sends into c->out, at most WSCONN_OUT_MAX bytes held;
 * when that is full it writes to the socket first.
 */
static ssize_t
wsconn_send_callback(wslay_event_context_ptr ctx, const uint8_t *data,
    size_t len, int flags, void *arg)
{
	struct wsconn *c = arg;
	size_t         room;

	(void)flags;
	if (buf_pending_len(&c->out) >= WSCONN_OUT_MAX &&
	    wsconn_flush(c) != 0) {
		c->failed = 1;
		wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
		return -1;
	}
	if (buf_pending_len(&c->out) >= WSCONN_OUT_MAX) {
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	room = WSCONN_OUT_MAX - buf_pending_len(&c->out);
	if (len > room)
		len = room;
	if (buf_append(&c->out, data, len) != 0) {
		wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
		return -1;
	}
	return (ssize_t)len;
}

/* Any frame counts as a sign of life; a one-byte close payload is invalid. */
static void
wsconn_frame_start(wslay_event_context_ptr            ctx,
    const struct wslay_event_on_frame_recv_start_arg *arg, void *user_data)
{
	struct wsconn *c = user_data;

	(void)ctx;
	c->last_frame = loop_now(c->server->loop);
	if (arg->opcode == WSLAY_CONNECTION_CLOSE && arg->payload_length == 1)
		c->bad_frame = 1;
	c->in_close = arg->opcode == WSLAY_CONNECTION_CLOSE;
	c->close_bytes = 0;
	c->close_code = 0;
}

/* A piece of a frame's payload: the code of a close is noted. */
static void
wsconn_frame_chunk(wslay_event_context_ptr            ctx,
    const struct wslay_event_on_frame_recv_chunk_arg *arg, void *user_data)
{
	struct wsconn *c = user_data;
	size_t         i;

	(void)ctx;
	for (i = 0; c->in_close && c->close_bytes < 2 && i < arg->data_length;
	     i++) {
		c->close_code = (uint16_t)(c->close_code << 8 | arg->data[i]);
		c->close_bytes++;
	}
}

/*
 * Sends the text in the server's scratch buffer as one text message:
 * written straight to c->out, or queued behind what wslay already queued
 * (a pong read before it) so that it keeps its place.  Returns 0, or
 * non-zero when memory ran out (and then the connection closes with 1011).
 */
int
wsconn_queue_scratch(struct wsconn *c)
{
	struct buf            *scratch = &c->server->scratch;
	struct wslay_event_msg msg;
	int                    rc;

	if (c->ctx != NULL && wslay_event_want_write(c->ctx)) {
		msg.opcode = WSLAY_TEXT_FRAME;
		msg.msg = (const uint8_t *)buf_pending(scratch);
		msg.msg_length = buf_pending_len(scratch);
		rc = wslay_event_queue_msg(c->ctx, &msg);
	} else
		rc = frame_append(&c->out, FRAME_TEXT, buf_pending(scratch),
		    buf_pending_len(scratch));
	buf_clear(scratch);
	if (rc == -1 || rc == WSLAY_ERR_NOMEM)
		c->queue_failed = 1;
	return rc;
}

/* Queues {"error":REASON} for the client. */
static void
wsconn_reply_error(struct wsconn *c, const char *reason)
{
	struct buf *scratch = &c->server->scratch;

	buf_clear(scratch);
	if (envelope_encode_error(scratch, reason) != 0)
		c->queue_failed = 1;
	wsconn_queue_scratch(c);
}

/*
 * Answers with {"error":REASON}, behind the replies to the publishes still
 * in flight when there are any: a client's replies keep the order of its
 * messages.
 */
static void
wsconn_reply_in_order(struct wsconn *c, const char *reason)
{
	if (c->publishing == 0) {
		wsconn_reply_error(c, reason);
		return;
	}
	if (publish_submit(c->server->publish, c, NULL, reason) != 0) {
		c->queue_failed = 1;
		return;
	}
	c->publishing++;
}

/* A publish's result, on the loop: the ack or the error, then more input. */
static void
wsconn_publish_done(
    void *owner, int rc, int64_t id, const char *reason, void *arg)
{
	struct wsconn *c = owner;

	(void)arg;
	c->publishing--;
	if (c->closing)
		return; /* a reply could not be sent after our close anyway */
	if (rc == 0) {
		if (id > c->acked)
			c->acked = id;
		buf_clear(&c->server->scratch);
		if (envelope_encode_ack(&c->server->scratch, id) != 0)
			c->queue_failed = 1;
		wsconn_queue_scratch(c);
	} else
		wsconn_reply_error(c, reason);
	wsconn_pump(c);
}

/* Rows were appended: the feed checks once, after this iteration's I/O. */
static void
wsconn_published(void *arg)
{
	struct wsconn_server *server = arg;

	loop_timer_start(server->loop, &server->publish_timer, 0);
}

/* Handles a client's text message: a publish request. */
static void
wsconn_publish(struct wsconn *c, const char *msg, size_t len)
{
	struct wsconn_server   *server = c->server;
	struct envelope_publish pub;
	char                    reason[ENVELOPE_REASON_MAX + 512];

	if (envelope_parse_publish(msg, len, &pub, reason, sizeof reason) !=
	    0) {
		wsconn_reply_in_order(c, reason);
		return;
	}
	if (publish_allowed(&server->publish_rules, c->user, c->grant,
	        pub.channel, reason, sizeof reason)) {
		struct publish_message message = {
		    pub.channel, pub.event, c->user, pub.data, pub.data_len};

		if (server->publish == NULL)
			server->publish = publish_create(server->loop,
			    server->config.db_path, WSCONN_PUBLISH_BUSY_MS,
			    wsconn_publish_done, wsconn_published, server);
		if (server->publish == NULL ||
		    publish_submit(server->publish, c, &message, NULL) != 0)
			c->queue_failed = 1;
		else
			c->publishing++;
		envelope_publish_free(&pub);
		return;
	}
	envelope_publish_free(&pub);
	wsconn_reply_in_order(c, reason);
}

/* A whole message from the client (control frames are wslay's). */
static void
wsconn_message(wslay_event_context_ptr        ctx,
    const struct wslay_event_on_msg_recv_arg *arg, void *user_data)
{
	struct wsconn *c = user_data;

	(void)ctx;
	if (c->closing)
		return; /* a reply could not be sent after our close anyway */
	if (arg->opcode == WSLAY_TEXT_FRAME)
		wsconn_publish(c, (const char *)arg->msg, arg->msg_length);
	else if (arg->opcode == WSLAY_BINARY_FRAME)
		wsconn_reply_in_order(
		    c, "binary messages are not accepted: send JSON as text");
}

static const struct wslay_event_callbacks wsconn_callbacks = {
    wsconn_recv_callback,
    wsconn_send_callback,
    NULL, /* no masks: a server does not mask */
    wsconn_frame_start,
    wsconn_frame_chunk,
    NULL,
    wsconn_message,
};

/*
 * Makes the connection's wslay context if it has none; returns 0, or -1
 * when memory ran out.  Note that a context is only ever freed where the
 * input stands at a frame boundary, so a new one starts in step.
 */
static int
wsconn_context(struct wsconn *c)
{
	if (c->ctx != NULL)
		return 0;
	if (wslay_event_context_server_init(&c->ctx, &wsconn_callbacks, c) !=
	    0) {
		c->ctx = NULL;
		return -1;
	}
	wslay_event_config_set_max_recv_msg_length(
	    c->ctx, c->server->config.max_message);
	return 0;
}

/*
 * Frees the context when nothing needs it: wslay has nothing queued, no
 * close is under way, and its input ended at a frame boundary outside a
 * fragmented message.
 */
void
wsconn_context_release(struct wsconn *c)
{
	if (c->ctx == NULL || c->closing || c->raw_close != 0 || c->bad_frame ||
	    c->queue_failed || !frame_at_boundary(&c->frames) ||
	    !wslay_event_get_read_enabled(c->ctx) ||
	    !wslay_event_get_write_enabled(c->ctx) ||
	    wslay_event_get_close_received(c->ctx) ||
	    wslay_event_get_close_sent(c->ctx) ||
	    wslay_event_want_write(c->ctx) ||
	    wslay_event_get_queued_msg_count(c->ctx) != 0)
		return;
	wslay_event_context_free(c->ctx);
	c->ctx = NULL;
}

/*
 * Queues a close with code through wslay when there is a context (it may
 * have a frame half written), else writes it past wslay.  The close is
 * then under way.
 */
void
wsconn_queue_close(struct wsconn *c, uint16_t code, const char *reason)
{
	c->server_first = 1;
	if (c->ctx == NULL) {
		wsconn_raw_close(c, code, reason);
		return;
	}
	wslay_event_queue_close(
	    c->ctx, code, (const uint8_t *)reason, strlen(reason));
	wsconn_closing(c);
}

/*
 * Reads frames once (at most the turn's budget), making the context first.
 * Returns 0, or -1 if the connection was freed (the peer has gone).
 */
int
wsconn_receive(struct wsconn *c)
{
	int rc;

	if (wsconn_context(c) != 0) {
		wsconn_raw_close(c, 1011, "");
		return 0;
	}
	rc = wslay_event_recv(c->ctx);
	if (c->failed) {
		wsconn_free(c);
		return -1;
	}
	/*
	 * wslay answers a bad control frame header with an empty close (and
	 * an error here) and lets a one-byte close payload pass: both are
	 * protocol errors, 1002.
	 */
	if (rc != 0 || c->bad_frame)
		wsconn_raw_close(c, rc == WSLAY_ERR_NOMEM ? 1011 : 1002, "");
	else if (!wslay_event_get_read_enabled(c->ctx) && c->in_close &&
	         c->close_bytes == 2 && frame_close_code_late(c->close_code))
		/* Echoed past wslay, whose 1002 for it is never written. */
		wsconn_raw_close(c, c->close_code, "");
	else if (!wslay_event_get_read_enabled(c->ctx))
		wsconn_closing(
		    c); /* wslay queued a close: a reply or 1002...1009 */
	return 0;
}

/* Encodes one event and queues it as a text message (a pull callback). */
int
wsconn_queue_event(const struct store_event *ev, void *arg)
{
	struct wsconn *c = arg;
	struct buf    *scratch = &c->server->scratch;

	/*
	 * The client's own event comes after its ack.  The feed may see a
	 * commit before the worker's result reaches the loop, so while
	 * publishes are in flight an event newer than the last ack (it may be
	 * one of them) waits; the next result pumps again.
	 */
	if (c->publishing > 0 && ev->id > c->acked)
		return 1;
	buf_clear(scratch);
	if (envelope_encode_event(scratch, ev) != 0) {
		c->queue_failed = 1;
		return 1;
	}
	return wsconn_queue_scratch(c) != 0;
}
