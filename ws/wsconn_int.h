/* wsconn_int.h: inside litepush-ws's connections only: what wsconn.c and wsconn_messages.c share. */
#ifndef LITEPUSH_WSCONN_INT_H
#define LITEPUSH_WSCONN_INT_H

#include <sys/queue.h>

#include <stddef.h>
#include <stdint.h>

#include <wslay/wslay.h>

#include "buf.h"
#include "feed.h"
#include "frame.h"
#include "handshake.h"
#include "loop.h"
#include "publish.h"
#include "store.h"
#include "wsconn.h"

/* Output held for the socket beyond what it took. */
#define WSCONN_OUT_MAX (64 * 1024)
/* Data bytes one pull may take. */
#define WSCONN_PULL_BYTES (64 * 1024)
/* Pulls per wake-up before other connections get their turn. */
#define WSCONN_PULLS_PER_TURN 4
/* Bytes read per wake-up. */
#define WSCONN_READ_BUDGET (64 * 1024)
/* How long a closing connection waits for its peer to close. */
#define WSCONN_LINGER_MS 2000
/* Handshakes in progress allowed beyond max_conns, at least. */
#define WSCONN_HANDSHAKES_MIN 64
/* Busy timeout of the publishing connection (on the publish thread). */
#define WSCONN_PUBLISH_BUSY_MS 200
/* Publishes of one connection in flight before it is read no more. */
#define WSCONN_PUBLISH_INFLIGHT 16
/* How much of a request target the log shows. */
#define WSCONN_LOG_TARGET_MAX 200

struct wsconn {
	struct wsconn_server   *server;
	int                     fd;
	struct loop_io          io;
	struct loop_timer       timer;  /* handshake deadline, pings, linger */
	struct loop_timer       expiry; /* the grant's exp: close 4001 */
	struct handshake       *hs;     /* while the request is read */
	wslay_event_context_ptr ctx;    /* while input or a close needs it */
	struct frame_tracker    frames; /* where wslay's input stands */
	struct feed_cursor     *cursor; /* NULL once closing */
	struct buf              out;    /* bytes the socket has not taken */
	struct buf              in;     /* frames that came with the request */
	uint64_t                last_frame; /* when a frame last arrived */
	uint64_t                last_sent;  /* when output last moved */
	size_t                  budget;     /* bytes still to read this turn */
	int                     upgraded;   /* the WebSocket is open */
	int                     readable;   /* input may be waiting */
	int                     more;       /* more to pull: come back */
	int                     closing;    /* no more events; linger armed */
	int                     shut;       /* write side shut: draining */
	int                     failed;     /* the socket failed or hit EOF */
	int                     bad_frame;  /* a violation wslay lets pass */
	int                     in_close; /* the frame being read is a close */
	int                     close_bytes; /* of its code, read so far */
	uint16_t                close_code; /* the code of the client's close */
	int                     queue_failed;
	size_t                  publishing; /* results to come from publish */
	int64_t                 acked; /* the newest id acked to the client */
	int                     server_first; /* the server began the close */
	uint16_t                raw_close;    /* a close written past wslay */
	char                    peer[64];
	char                   *target; /* for the log */
	char                   *user;   /* the login; NULL: nobody */
	struct grant           *grant;  /* a grant that lists publishing */
	TAILQ_ENTRY(wsconn)     entry;
};
TAILQ_HEAD(wsconn_list, wsconn);

struct wsconn_server {
	struct loop            *loop;
	struct feed            *feed;
	struct wsconn_config    config;
	struct handshake_policy policy;
	wsconn_empty_fn         empty;
	void                   *arg;
	struct wsconn_list      conns;
	size_t                  count;      /* all connections */
	size_t                  handshakes; /* of which still handshaking */
	size_t                  open;       /* of which upgraded */
	int                     shutting_down;
	struct buf              scratch; /* where each message is encoded */
	struct publish         *publish; /* the append thread, once needed */
	struct publish_rules    publish_rules; /* who may publish where */
	struct loop_timer publish_timer; /* tells the feed after appends */
};

/* wsconn.c: the connection's life. */

/* Writes one line to the log, if there is one. */
void wsconn_log(struct wsconn_server *server, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Closes the connection and frees it; tells the server when it was the last. */
void wsconn_free(struct wsconn *c);

/* Writes what c->out holds; returns 0, or -1 if the connection failed. */
int wsconn_flush(struct wsconn *c);

/* Stops the events and arms the linger deadline; the close is under way. */
void wsconn_closing(struct wsconn *c);

/*
 * Moves data: writes, lets wslay send, reads the client's frames, pulls
 * events; then chooses what to wait for.  May free c.
 */
void wsconn_pump(struct wsconn *c);

/* wsconn_messages.c: what an open connection carries. */

/*
 * Writes a close frame with code past wslay (the out buffer must end at a
 * frame boundary); the close is then under way.  reason is cut to fit.
 */
void wsconn_raw_close(struct wsconn *c, uint16_t code, const char *reason);

/*
 * Queues a close with code through wslay when there is a context, else
 * writes it past wslay.  The close is then under way.
 */
void wsconn_queue_close(struct wsconn *c, uint16_t code, const char *reason);

/*
 * Sends the server's scratch buffer as one text message; returns 0, or
 * non-zero when memory ran out (c->queue_failed is then set).
 */
int wsconn_queue_scratch(struct wsconn *c);

/*
 * Reads frames once (at most the turn's budget), making the wslay context
 * first.  Returns 0, or -1 if the connection was freed (the peer has gone).
 */
int wsconn_receive(struct wsconn *c);

/* Frees the wslay context when nothing needs it (wsconn.c's note says when). */
void wsconn_context_release(struct wsconn *c);

/*
 * A feed pull callback: encodes one event and queues it, or refuses it
 * (returns non-zero) while it must wait behind the client's acks.
 */
int wsconn_queue_event(const struct store_event *ev, void *arg);

#endif
