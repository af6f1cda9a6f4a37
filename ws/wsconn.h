/* wsconn.h: WebSocket connections on one event loop, feed cursors. */
#ifndef LITEPUSH_WSCONN_H
#define LITEPUSH_WSCONN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct access_rules;
struct grant_key;

struct loop;
struct feed;

/*
 * A connection reads its opening handshake (handshake.h), answers 101 or a
 * refusal, and then speaks RFC 6455 through a wslay event context whose
 * callbacks read and write the non-blocking socket.  Events go out as one
 * text frame each (envelope.h), pulled from the connection's cursor only
 * when the socket has room and wslay's queue is empty, so nothing is
 * queued per connection beyond one pull batch; client text frames publish.
 * Pings, the handshake deadline and the closing linger are one timer per
 * connection.  Every function here runs on the loop's thread.
 */
struct wsconn_server;

struct wsconn_config {
	int64_t     max_conns;              /* open WebSockets; then 503 */
	uint64_t    max_message;            /* larger messages: close 1009 */
	int64_t     ping_ms;                /* 0: no pings, no idle close */
	int64_t     handshake_timeout_ms;   /* then the connection is closed */
	int64_t     stall_ms;               /* output stuck: dropped; 0 never */
	int64_t     backlog_max;            /* backlog=N is clamped to this */
	const char *db_path;                /* where publishing appends */
	const char *const         *origins; /* see struct handshake_policy */
	size_t                     norigins;
	const char *const         *publish; /* fnmatch globs of channels */
	size_t                     npublish;
	const char                *user_header; /* see handshake_policy */
	const struct access_rules *access;      /* NULL: all public */
	const struct grant_key    *key;         /* --jwt-key; NULL: none */
	FILE                      *log; /* a line per connection; NULL quiet */
};

/* Called when the last connection has gone (shutdown uses it). */
typedef void (*wsconn_empty_fn)(struct wsconn_server *server, void *arg);

/*
 * Creates the set of connections on loop and feed.  config and the strings
 * it points to are borrowed: they must outlive the server.  Returns NULL
 * when memory ran out.
 */
struct wsconn_server *wsconn_server_create(struct loop *loop, struct feed *feed,
    const struct wsconn_config *config, wsconn_empty_fn empty, void *arg);

/*
 * Starts serving an accepted, non-blocking socket fd; peer names it in the
 * log (X-Forwarded-For replaces it when the request has one).  Takes
 * ownership of fd in every case: while shutting down, or with too many
 * handshakes in progress, it is closed at once.
 */
void wsconn_accept(struct wsconn_server *server, int fd, const char *peer);

/*
 * Closes every WebSocket with 1001 (going away) and every unfinished
 * handshake, and refuses new connections; the empty callback runs when
 * the last one has gone.
 */
void wsconn_shutdown(struct wsconn_server *server);

/* Returns the number of connections (handshaking, open and closing). */
size_t wsconn_count(const struct wsconn_server *server);

/* Returns the number of open WebSockets (what --max-conns limits). */
size_t wsconn_open_count(const struct wsconn_server *server);

/*
 * Returns the number of connections holding a wslay context: those reading
 * a frame or a fragmented message, answering, or closing.  An idle
 * WebSocket holds none (tests check it).
 */
size_t wsconn_context_count(const struct wsconn_server *server);

/*
 * Returns the number of publishes whose results have not come back from
 * the publish thread yet, over all connections (a connection waiting for
 * them reads no more: tests that drive the loop step by step wait for the
 * thread rather than count those steps).
 */
size_t wsconn_publishing_count(const struct wsconn_server *server);

/* Frees the server, dropping every connection still there.  NULL is ignored. */
void wsconn_server_free(struct wsconn_server *server);

#endif
