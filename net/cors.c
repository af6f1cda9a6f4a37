/* cors.c: cross-origin reads of the event stream: the allowed origins, and the header lines that let a browser read a response. */
#include "config.h"

#include <arpa/inet.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cors.h"

/*
 * The list is searched one origin after the other: it holds a few
 * entries, and it is searched once per request, never per event.
 */
struct cors {
	char    *origins[CORS_ORIGINS_MAX];
	size_t   norigins;
	int      any; /* "*" is listed */
	unsigned flags;
};

/* How long a preflight's answer may be cached by the browser, in seconds. */
#define CORS_MAX_AGE 600

/* Creates an empty list. */
struct cors *
cors_create(void)
{
	return calloc(1, sizeof(struct cors));
}

/* Returns non-zero if c may be part of a host name (ASCII; IDNs as xn--). */
static int
cors_host_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
}

/*
 * Reads the scheme of s into out (lower case) and returns what follows
 * "://", or NULL with the reason.
 */
static const char *
cors_parse_scheme(const char *s, char *out, char *reason, size_t len)
{
	const char *sep = strstr(s, "://");
	size_t      n = sep != NULL ? (size_t)(sep - s) : 0;

	if (sep == NULL) {
		snprintf(reason, len, "not an origin: scheme://host[:port]");
		return NULL;
	}
	if ((n == 4 && strncasecmp(s, "http", 4) == 0) ||
	    (n == 5 && strncasecmp(s, "https", 5) == 0)) {
		memcpy(out, n == 4 ? "http" : "https", n + 1);
		return sep + 3;
	}
	snprintf(reason, len, "the scheme must be http or https");
	return NULL;
}

/*
 * Writes the IPv6 address of the n bytes at s to out (size bytes) in
 * brackets, as a browser writes it (RFC 5952: lower case, the longest run
 * of zeros as "::"; inet_ntop() does the same).  Returns 0, or -1 when it
 * is no IPv6 address, or one with an IPv4 part, which a browser writes in
 * hex and inet_ntop() would not.
 */
static int
cors_ipv6_normalise(const char *s, size_t n, char *out, size_t size)
{
	struct in6_addr v6;
	char            text[INET6_ADDRSTRLEN];

	if (n == 0 || n >= sizeof text || memchr(s, '.', n) != NULL)
		return -1;
	memcpy(text, s, n);
	text[n] = '\0';
	if (inet_pton(AF_INET6, text, &v6) != 1 ||
	    inet_ntop(AF_INET6, &v6, text, sizeof text) == NULL ||
	    strchr(text, '.') != NULL)
		return -1;
	return snprintf(out, size, "[%s]", text) < (int)size ? 0 : -1;
}

/*
 * Reads the host at s into out (size bytes; lower case, an IPv6 address
 * in brackets as a browser writes it) and returns what follows it, or NULL
 * with the reason.
 */
static const char *
cors_parse_host(const char *s, char *out, size_t size, char *reason, size_t len)
{
	const char *end = s;
	size_t      n, i;

	if (*s == '[') {
		end = strchr(s, ']');
		if (end == NULL || cors_ipv6_normalise(s + 1,
		                       (size_t)(end - s - 1), out, size) != 0) {
			snprintf(reason, len, "bad IPv6 address");
			return NULL;
		}
		return end + 1;
	}
	while (cors_host_char(*end))
		end++;
	n = (size_t)(end - s);
	if (n == 0) {
		snprintf(reason, len, "no host");
		return NULL;
	}
	if (n >= size) {
		snprintf(reason, len, "longer than %d bytes", CORS_ORIGIN_MAX);
		return NULL;
	}
	for (i = 0; i < n; i++)
		out[i] = s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] + 32) : s[i];
	out[n] = '\0';
	return end;
}

/*
 * Reads an optional ":port" at s into *port (0 for none); returns what
 * follows, or NULL with the reason.
 */
static const char *
cors_parse_port(const char *s, long *port, char *reason, size_t len)
{
	int digits = 0;

	*port = 0;
	if (*s != ':')
		return s;
	for (s++; *s >= '0' && *s <= '9'; s++) {
		*port = *port * 10 + (*s - '0');
		if (++digits > 5 || *port > 65535)
			break;
	}
	if (digits == 0 || digits > 5 || *port < 1 || *port > 65535) {
		snprintf(reason, len, "the port must be 1 to 65535");
		return NULL;
	}
	return s;
}

/* Says what is wrong with what follows an origin's host and port. */
static void
cors_explain_rest(const char *rest, char *reason, size_t len)
{
	if (*rest == '/' || *rest == '?' || *rest == '#')
		snprintf(reason, len,
		    "an origin has no path, query or trailing slash");
	else if (*rest == '@')
		snprintf(reason, len, "an origin has no user name");
	else
		snprintf(reason, len, "bad character in the host");
}

/*
 * Checks origin and writes it as a browser serialises it to out (of
 * CORS_ORIGIN_MAX + 1 bytes).  Returns 0, or -1 with the reason.
 */
static int
cors_normalise(const char *origin, char *out, char *reason, size_t len)
{
	char        scheme[8], host[CORS_ORIGIN_MAX + 1];
	const char *p;
	long        port;
	int         n;

	if (strcmp(origin, "null") == 0) {
		snprintf(reason, len,
		    "the origin null (sandboxed and file: pages) cannot be "
		    "allowed");
		return -1;
	}
	if ((p = cors_parse_scheme(origin, scheme, reason, len)) == NULL ||
	    (p = cors_parse_host(p, host, sizeof host, reason, len)) == NULL ||
	    (p = cors_parse_port(p, &port, reason, len)) == NULL)
		return -1;
	if (*p != '\0') {
		cors_explain_rest(p, reason, len);
		return -1;
	}
	/* The scheme's own port is left out, as the browser leaves it out. */
	if ((port == 80 && strcmp(scheme, "http") == 0) ||
	    (port == 443 && strcmp(scheme, "https") == 0))
		port = 0;
	if (port != 0)
		n = snprintf(out, CORS_ORIGIN_MAX + 1, "%s://%s:%ld", scheme,
		    host, port);
	else
		n = snprintf(out, CORS_ORIGIN_MAX + 1, "%s://%s", scheme, host);
	if (n < 0 || n > CORS_ORIGIN_MAX) {
		snprintf(reason, len, "longer than %d bytes", CORS_ORIGIN_MAX);
		return -1;
	}
	return 0;
}

/* Checks an origin and adds it. */
int
cors_add(struct cors *cors, const char *origin, char *reason, size_t len)
{
	char normal[CORS_ORIGIN_MAX + 1];

	if (strcmp(origin, "*") == 0) {
		cors->any = 1;
		return 0;
	}
	if (cors_normalise(origin, normal, reason, len) != 0)
		return -1;
	if (cors->norigins == CORS_ORIGINS_MAX) {
		snprintf(reason, len, "more than %d origins", CORS_ORIGINS_MAX);
		return -1;
	}
	if ((cors->origins[cors->norigins] = strdup(normal)) == NULL) {
		snprintf(reason, len, "out of memory");
		return -1;
	}
	cors->norigins++;
	return 0;
}

/* Sets what the answers allow besides the origin. */
int
cors_configure(struct cors *cors, unsigned flags, char *reason, size_t len)
{
	if (cors->any && (flags & CORS_CREDENTIALS)) {
		snprintf(reason, len,
		    "\"*\" cannot be allowed with credentials (--jwt-key, "
		    "--private or --require-login): list the origins");
		return -1;
	}
	cors->flags = flags;
	return 0;
}

/* Returns non-zero if any origin is configured. */
int
cors_enabled(const struct cors *cors)
{
	return cors->any || cors->norigins > 0;
}

/* Returns non-zero if the Origin may read. */
int
cors_allowed(const struct cors *cors, const char *origin)
{
	size_t i;

	if (origin == NULL)
		return 0;
	if (cors->any)
		return strcmp(origin, "null") != 0;
	for (i = 0; i < cors->norigins; i++)
		if (strcmp(cors->origins[i], origin) == 0)
			return 1;
	return 0;
}

/* Returns non-zero if a request is a CORS preflight. */
int
cors_is_preflight(
    const char *method, const char *origin, const char *request_method)
{
	return method != NULL && strcmp(method, "OPTIONS") == 0 &&
	       origin != NULL && request_method != NULL;
}

/* Appends to out at *used; returns 0, or -1 when it does not fit. */
static int __attribute__((format(printf, 4, 5)))
cors_append(char *out, size_t len, size_t *used, const char *fmt, ...)
{
	va_list ap;
	int     n;

	va_start(ap, fmt);
	n = vsnprintf(out + *used, len - *used, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len - *used)
		return -1;
	*used += (size_t)n;
	return 0;
}

/*
 * Writes the preflight's own lines.  Last-Event-ID is the one header a
 * reconnecting EventSource adds that is not safelisted; Authorization
 * matters only with signed grants, for clients that send a Bearer token.
 */
static int
cors_preflight_headers(
    const struct cors *cors, char *out, size_t len, size_t *used)
{
	return cors_append(out, len, used,
	    "Access-Control-Allow-Methods: GET\r\n"
	    "Access-Control-Allow-Headers: Last-Event-ID%s\r\n"
	    "Access-Control-Max-Age: %d\r\n",
	    (cors->flags & CORS_AUTHORIZATION) ? ", Authorization" : "",
	    CORS_MAX_AGE);
}

/* Writes the header lines for a response. */
int
cors_headers(const struct cors *cors, const char *origin, int preflight,
    char *out, size_t len)
{
	size_t used = 0;

	if (len == 0)
		return -1;
	out[0] = '\0';
	if (!cors_enabled(cors))
		return 0;
	if (cors_append(out, len, &used, "Vary: Origin\r\n") != 0)
		return -1;
	if (!cors_allowed(cors, origin))
		return 0;
	if (cors_append(out, len, &used, "Access-Control-Allow-Origin: %s\r\n",
	        cors->any ? "*" : origin) != 0 ||
	    ((cors->flags & CORS_CREDENTIALS) &&
	        cors_append(out, len, &used,
	            "Access-Control-Allow-Credentials: true\r\n") != 0) ||
	    (preflight && cors_preflight_headers(cors, out, len, &used) != 0))
		return -1;
	return 1;
}

/* Frees the list. */
void
cors_free(struct cors *cors)
{
	size_t i;

	if (cors == NULL)
		return;
	for (i = 0; i < cors->norigins; i++)
		free(cors->origins[i]);
	free(cors);
}
