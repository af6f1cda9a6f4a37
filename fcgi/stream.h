/* stream.h: Server-Sent Events streams served by one event loop, each a cursor on the feed. */
#ifndef LITEPUSH_STREAM_H
#define LITEPUSH_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "query.h"

struct loop;
struct feed;

/*
 * A stream owns one connection: a FastCGI connection handed over by the
 * intake (fcgi/intake.h; its records are written here), or the standard output
 * of a CGI process.  It writes the response headers with the `retry:`
 * field, then pulls events from its cursor whenever its socket has room,
 * all ready events in one write; nothing is queued per stream, and output
 * memory is held only while the socket is full.  Keepalives, max-age and
 * shutdown pauses are timers of the loop.  Every function here runs on the
 * loop's thread.
 */
struct stream_server;

struct stream_config {
	int64_t max_streams;  /* new streams beyond this get 503 */
	int64_t keepalive_ms; /* ": keepalive" after this much silence; a
	                         stream whose output waits twice as long
	                         without progress is dropped */
	int64_t retry_ms;     /* the retry: field, and the pause spread */
	int64_t max_age_ms;   /* lifetime of a stream, +-10% jitter */
	int64_t backlog_max;  /* backlog=N is clamped to this */
};

/* Called when the last stream has gone (CGI mode and shutdown use it). */
typedef void (*stream_empty_fn)(struct stream_server *server, void *arg);

/* Creates the set of streams on loop and feed; NULL when memory ran out. */
struct stream_server *stream_server_create(struct loop *loop, struct feed *feed,
    const struct stream_config *config, stream_empty_fn empty, void *arg);

/*
 * The longest block of extra header lines a response takes: each line
 * "Name: value\r\n", the whole built once per request by the responder
 * (CORS, Allow, WWW-Authenticate) and passed as one string.
 */
#define STREAM_HEADERS_MAX 2048

/*
 * Starts a stream on fd for a validated request: request_id is the FastCGI
 * request id, or 0 for plain CGI (no records, blocking writes).  headers
 * (NULL for none; shorter than STREAM_HEADERS_MAX) go on the 200 after
 * its own headers, and on a 503 before its Retry-After.  resume is
 * the Last-Event-ID (or -1 for none).  expires_ms (unix ms; 0 for never)
 * is when the grant it was opened with runs out: the stream then ends with
 * a pause that asks the client back at once, as its new token is due.
 * input is what was read from a
 * FastCGI connection past the request's parameters (the records after
 * them; NULL and 0 for none).  Answers 503 itself when the store is
 * unavailable, the server is full or shutting down.  Takes ownership of fd
 * in every case.
 */
void stream_open(struct stream_server *server, int fd, uint16_t request_id,
    const char *headers, const struct query *query, int64_t resume,
    int64_t expires_ms, const void *input, size_t input_len);

/*
 * Answers the request on fd with a whole response instead of a stream
 * (stream_error_response(): an error, or a CORS preflight's 204), without
 * blocking the loop; input is as for stream_open().  Takes ownership of
 * fd.
 */
void stream_refuse(struct stream_server *server, int fd, uint16_t request_id,
    const char *status, const char *headers, const char *reason,
    const void *input, size_t input_len);

/*
 * Ends every stream with a pause event (reconnect time spread over the
 * streams) and refuses new ones; the empty callback runs when the last one
 * has gone.
 */
void stream_shutdown(struct stream_server *server);

/* Returns the number of open streams. */
size_t stream_count(const struct stream_server *server);

/*
 * Frees the server, closing any stream still open (without a pause).
 * NULL is ignored.
 */
void stream_server_free(struct stream_server *server);

/*
 * Appends a complete error response (status line as "503 Service
 * Unavailable", one-line text/plain reason) in CGI form to out, framed as
 * FastCGI records with END_REQUEST when request_id is not 0.  headers
 * (may be NULL) are more header lines, each "Name: value\r\n".  A NULL
 * reason makes a response without a body ("204 No Content"): the status
 * and headers only.  Returns 0 or -1.
 */
struct buf;
int stream_error_response(struct buf *out, uint16_t request_id,
    const char *status, const char *headers, const char *reason);

#endif
