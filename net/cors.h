/* cors.h: cross-origin reads of the event stream: the allowed origins, and the header lines that let a browser read a response. */
#ifndef LITEPUSH_CORS_H
#define LITEPUSH_CORS_H

#include <stddef.h>

/*
 * The origins of --cors-origin, each "scheme://host[:port]" with http or
 * https, checked when the daemon starts and kept as a browser serialises
 * an origin (the Origin header it sends): scheme and host in lower case,
 * an IPv6 address compressed (RFC 5952), the scheme's default port
 * dropped.  A request's Origin is then compared
 * byte for byte, and echoed as it came.  "*" allows every origin, without
 * credentials only; "null" is never allowed.  No origin at all (the
 * default) means no CORS header on any response.
 */
struct cors;

/* The most origins, and the longest one taken. */
#define CORS_ORIGINS_MAX 64
#define CORS_ORIGIN_MAX  300

/* Enough room for every header line cors_headers() writes. */
#define CORS_HEADERS_MAX 1024

/* What the answers allow besides the origin (cors_configure()). */
#define CORS_CREDENTIALS   0x1 /* Access-Control-Allow-Credentials: true */
#define CORS_AUTHORIZATION 0x2 /* the preflight allows Authorization */

/* Creates an empty list; NULL when memory ran out. */
struct cors *cors_create(void);

/*
 * Checks origin and adds it, normalised, to the list.  Returns 0, or -1
 * with a one-line reason (bad form, a path or trailing slash, "null", a
 * scheme other than http and https, too many).
 */
int cors_add(struct cors *cors, const char *origin, char *reason, size_t len);

/*
 * Sets what the answers allow (CORS_CREDENTIALS, CORS_AUTHORIZATION), once
 * every origin is added.  Returns 0, or -1 with a reason when credentials
 * are on and "*" is listed (a browser refuses "*" with credentials, and
 * echoing every origin with them would let any site read a user's
 * private channels).
 */
int cors_configure(struct cors *cors, unsigned flags, char *reason, size_t len);

/* Returns non-zero if any origin is configured. */
int cors_enabled(const struct cors *cors);

/* Returns non-zero if the Origin value origin (NULL: none) is allowed. */
int cors_allowed(const struct cors *cors, const char *origin);

/*
 * Returns non-zero if a request is a CORS preflight: method OPTIONS with
 * an Origin and an Access-Control-Request-Method (each NULL when absent).
 */
int cors_is_preflight(
    const char *method, const char *origin, const char *request_method);

/*
 * Writes the header lines ("Name: value\r\n" each) for the response to a
 * request with Origin origin (NULL when absent) to out: nothing when no
 * origin is configured; else "Vary: Origin", and for an allowed origin
 * Access-Control-Allow-Origin (the origin echoed, or "*") and
 * Access-Control-Allow-Credentials when they are on; with preflight, also
 * Access-Control-Allow-Methods, -Allow-Headers and -Max-Age.  out is
 * NUL-terminated.  Returns 1 when origin is allowed, 0 when not, or -1
 * when len is too short (CORS_HEADERS_MAX always suffices).
 */
int cors_headers(const struct cors *cors, const char *origin, int preflight,
    char *out, size_t len);

/* Frees the list; NULL is ignored. */
void cors_free(struct cors *cors);

#endif
