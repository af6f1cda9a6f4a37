/* handshake.h: the WebSocket opening handshake (RFC 6455 4.2), pure. */
#ifndef LITEPUSH_HANDSHAKE_H
#define LITEPUSH_HANDSHAKE_H

#include <stddef.h>
#include <stdint.h>

#include "access.h"
#include "buf.h"
#include "grant.h"
#include "query.h"

/* A request head (request line and headers) longer than this gets 431. */
#define HANDSHAKE_HEAD_MAX 8192

/* An errbuf this size always holds the whole of any reason written here. */
#define HANDSHAKE_REASON_MAX 320

/* The length of a Sec-WebSocket-Accept value, without the NUL. */
#define HANDSHAKE_ACCEPT_LEN 28

/*
 * Who may connect.  With no origins, a browser request (one with an Origin
 * header) is accepted when its Origin's host is a loopback name
 * (localhost, 127.0.0.0/8, [::1]; any scheme and port): a page served from
 * anywhere else needs to be listed, which keeps DNS rebinding out.  With
 * origins, the Origin must be one of them ("*" allows any, and "null" must
 * be listed to allow the Origin "null").  A request without an Origin
 * header does not come from a browser and is always accepted.  The
 * strings are borrowed.
 */
struct handshake_policy {
	const char *const *origins;
	size_t             norigins;
	/*
	 * Who the client is: the value of the request header user_header
	 * (--user-header, set by a proxy that authenticated it; NULL: nobody
	 * is), judged for the channels under access (NULL: every channel is
	 * public).  A refusal is 401 or 403.
	 */
	const char                *user_header;
	const struct access_rules *access;
	/*
	 * --jwt-key: a signed grant in Authorization: Bearer, the cookie
	 * litepush_token or token= logs its sub in and opens the channels
	 * it lists (grant.h); NULL takes none.
	 */
	const struct grant_key *key;
};

/*
 * The parse of one opening handshake.  Zero it (or call handshake_init()),
 * feed it with handshake_feed() and free it with handshake_free().  After
 * handshake_feed() returned 1, the request fields are set; the strings point
 * into the struct's own copy of the head (NUL-terminated, valid until
 * handshake_free()).  After it returned -1, status and reason say why.
 */
struct handshake {
	struct buf head;    /* the bytes of the head received so far */
	size_t     scanned; /* how much of head was searched for its end */
	int        done;    /* 1 complete, -1 failed, 0 not yet */

	/*
	 * On failure: 400, 401, 403, 426 or 431, and a one-line reason; for
	 * a 401, token_refused tells a token that was sent and refused from
	 * no credentials at all (grant_judge()).
	 */
	int  status;
	int  token_refused;
	char reason[HANDSHAKE_REASON_MAX];

	/* On success. */
	const char *target;        /* the request target as sent: /path?query */
	const char *host;          /* the Host header */
	const char *origin;        /* NULL when absent */
	const char *forwarded_for; /* X-Forwarded-For, NULL when absent */
	/*
	 * The login: the grant's sub when the client sent a signed grant,
	 * else the user_header's value, else NULL.
	 */
	const char  *user;
	struct grant grant; /* the verified grant; zeroed without one */
	int64_t      grant_expires_ms; /* the grant's exp; 0 without one */
	char         accept[HANDSHAKE_ACCEPT_LEN + 1];
	struct query query; /* channels, lastEventId, backlog */
};

/* Initialises an empty handshake (the same as zeroing it). */
void handshake_init(struct handshake *hs);

/*
 * Takes len more bytes of the connection.  Returns 0 when the head is not
 * complete yet (all of data was taken: feed more), 1 when it is complete
 * and valid, -1 when it is refused (status and reason set).  On 1 or -1,
 * *usedp (if not NULL) is the number of bytes of data that belong to the
 * head; the rest, if any, is what the client sent after it (WebSocket
 * frames).  Once 1 or -1 was returned, further calls return the same
 * value and take nothing.  Returns -1 with status 0 only when memory ran
 * out.  The head is kept in memory: at most HANDSHAKE_HEAD_MAX bytes.
 */
int handshake_feed(struct handshake *hs, const void *data, size_t len,
    const struct handshake_policy *policy, size_t *usedp);

/* Frees what the handshake holds; it may be fed again after this. */
void handshake_free(struct handshake *hs);

/*
 * Returns non-zero if the Origin header value origin (NULL when absent)
 * may connect under policy (see struct handshake_policy; NULL is the
 * default rule).
 */
int handshake_origin_allowed(
    const struct handshake_policy *policy, const char *origin);

/*
 * Writes the Sec-WebSocket-Accept value for a Sec-WebSocket-Key (as sent,
 * base64) to out: base64(SHA-1(key + the RFC 6455 GUID)), NUL-terminated.
 */
void handshake_accept_key(
    const char *key, size_t key_len, char out[HANDSHAKE_ACCEPT_LEN + 1]);

/*
 * Returns non-zero if key is a valid Sec-WebSocket-Key: base64 of exactly
 * 16 bytes (24 characters ending in "==").
 */
int handshake_key_valid(const char *key, size_t len);

/* Appends the 101 Switching Protocols response for accept; returns 0 or -1. */
int handshake_accept_response(
    struct buf *out, const char accept[HANDSHAKE_ACCEPT_LEN + 1]);

/*
 * Appends a complete refusal: status (400, 403, 408, 426, 431, 503) with
 * its reason phrase, Content-Type text/plain, Content-Length, Connection:
 * close, extra_header (one "Name: value", may be NULL; a 426 always gets
 * Sec-WebSocket-Version: 13 and Upgrade: websocket) and the one-line
 * reason as the body.  Returns 0 or -1 when memory ran out.
 */
int handshake_error_response(
    struct buf *out, int status, const char *extra_header, const char *reason);

#endif
