/* handshake.c: the WebSocket opening handshake (RFC 6455 4.2), pure. */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <strings.h>

#include <nettle/base64.h>
#include <nettle/sha1.h>

#include "buf.h"
#include "handshake.h"
#include "query.h"
#include "quote.h"

/*
 * The head is collected as it arrives (a client may send it a byte at a
 * time) and parsed once, when the blank line that ends it is there.  Only
 * the new bytes are searched for that end, so feeding a head byte by byte
 * costs O(n), and the parse itself is one pass over at most
 * HANDSHAKE_HEAD_MAX bytes.  The parse splits the copy in place (NULs at
 * line ends and around values), so the request fields are plain strings
 * pointing into it.
 *
 * Lines may end in CRLF or a bare LF (as most servers accept); anything
 * else that is not a printable character or a tab makes the request
 * malformed, and so does a folded (obsolete continuation) header line.
 */

/* The GUID that RFC 6455 appends to the key before hashing. */
#define HANDSHAKE_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

/* Initialises an empty handshake. */
void
handshake_init(struct handshake *hs)
{
	memset(hs, 0, sizeof *hs);
}

/* Frees what the handshake holds. */
void
handshake_free(struct handshake *hs)
{
	buf_free(&hs->head);
	grant_free(&hs->grant);
	handshake_init(hs);
}

/* Sets the failure status and reason; returns -1. */
static int __attribute__((format(printf, 3, 4)))
handshake_fail(struct handshake *hs, int status, const char *fmt, ...)
{
	va_list ap;

	hs->status = status;
	va_start(ap, fmt);
	vsnprintf(hs->reason, sizeof hs->reason, fmt, ap);
	va_end(ap);
	hs->done = -1;
	return -1;
}

/* Returns non-zero for a tchar of RFC 7230 (what header names are made of). */
static int
handshake_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Returns non-zero if s (NUL-terminated) equals name, ignoring case. */
static int
handshake_is(const char *s, const char *name)
{
	return strcasecmp(s, name) == 0;
}

/*
 * Returns non-zero if the comma-separated list value has token as one of
 * its elements (blanks around elements ignored, case ignored).
 */
static int
handshake_list_has(const char *value, const char *token)
{
	size_t      want = strlen(token);
	const char *p = value;

	while (*p != '\0') {
		const char *start, *end;

		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		start = p;
		while (*p != '\0' && *p != ',')
			p++;
		end = p;
		while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		if ((size_t)(end - start) == want &&
		    strncasecmp(start, token, want) == 0)
			return 1;
	}
	return 0;
}

/* The parts of an origin (or of a --origin URL) that are compared. */
struct handshake_origin {
	const char *scheme;
	size_t      scheme_len;
	const char *host;
	size_t      host_len;
	long        port; /* explicit or the scheme's default; -1 unknown */
};

/* Returns the default port of a scheme, or -1. */
static long
handshake_default_port(const char *scheme, size_t len)
{
	if ((len == 4 && strncasecmp(scheme, "http", 4) == 0) ||
	    (len == 2 && strncasecmp(scheme, "ws", 2) == 0))
		return 80;
	if ((len == 5 && strncasecmp(scheme, "https", 5) == 0) ||
	    (len == 3 && strncasecmp(scheme, "wss", 3) == 0))
		return 443;
	return -1;
}

/*
 * Parses "host[:port]" (host may be "[v6]") at s up to a NUL or, when
 * stop is not NULL, one of its characters.  Returns a pointer past what
 * was parsed, or NULL.  *portp is -1 when no port is given (or it is
 * empty, which URLs allow).
 */
static const char *
handshake_parse_host(const char *s, const char *stop, const char **hostp,
    size_t *host_lenp, long *portp)
{
	const char *p = s;
	long        port = -1;

	if (*p == '[') {
		while (*p != '\0' && *p != ']')
			p++;
		if (*p != ']')
			return NULL;
		p++;
	} else {
		while (*p != '\0' && *p != ':' &&
		       (stop == NULL || strchr(stop, *p) == NULL))
			p++;
	}
	if (p == s)
		return NULL;
	*hostp = s;
	*host_lenp = (size_t)(p - s);
	if (*p == ':') {
		int digits = 0;

		p++;
		while (*p >= '0' && *p <= '9') {
			port = (port < 0 ? 0 : port) * 10 + (*p - '0');
			if (++digits > 5 || port > 65535)
				return NULL;
			p++;
		}
	}
	*portp = port;
	return p;
}

/*
 * Parses an origin "scheme://host[:port]"; when allow_path, a path after
 * it ("/..." as a --origin URL may have) is ignored.  Returns 0 or -1.
 */
static int
handshake_origin_parse(
    const char *s, int allow_path, struct handshake_origin *o)
{
	const char *p = s;
	long        port;

	if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
		return -1;
	while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
	       (*p >= '0' && *p <= '9') || *p == '+' || *p == '-' || *p == '.')
		p++;
	if (strncmp(p, "://", 3) != 0)
		return -1;
	o->scheme = s;
	o->scheme_len = (size_t)(p - s);
	p = handshake_parse_host(p + 3, "/?#", &o->host, &o->host_len, &port);
	if (p == NULL || (*p != '\0' && !(allow_path && *p == '/')))
		return -1;
	o->port =
	    port >= 0 ? port : handshake_default_port(o->scheme, o->scheme_len);
	return 0;
}

/* Returns non-zero if two parsed origins are the same. */
static int
handshake_origin_same(
    const struct handshake_origin *a, const struct handshake_origin *b)
{
	return a->scheme_len == b->scheme_len &&
	       strncasecmp(a->scheme, b->scheme, a->scheme_len) == 0 &&
	       a->host_len == b->host_len &&
	       strncasecmp(a->host, b->host, a->host_len) == 0 &&
	       a->port == b->port;
}

/*
 * Returns non-zero if an origin's host is a loopback name: localhost,
 * 127.0.0.0/8 or [::1].  Browsers write an origin's host in its canonical
 * form (lower case, an IPv4 address as four decimal numbers), so nothing
 * looser is needed.
 */
static int
handshake_origin_loopback(const struct handshake_origin *o)
{
	char            host[INET6_ADDRSTRLEN + 2];
	struct in_addr  v4;
	struct in6_addr v6;
	size_t          len = o->host_len;

	if (len == 0 || len >= sizeof host)
		return 0;
	memcpy(host, o->host, len);
	host[len] = '\0';
	if (strcasecmp(host, "localhost") == 0)
		return 1;
	if (inet_pton(AF_INET, host, &v4) == 1)
		return (ntohl(v4.s_addr) >> 24) == 127;
	if (len > 2 && host[0] == '[' && host[len - 1] == ']') {
		host[len - 1] = '\0';
		return inet_pton(AF_INET6, host + 1, &v6) == 1 &&
		       IN6_IS_ADDR_LOOPBACK(&v6);
	}
	return 0;
}

/* Returns non-zero if the Origin may connect. */
int
handshake_origin_allowed(
    const struct handshake_policy *policy, const char *origin)
{
	struct handshake_origin o, allowed;
	size_t                  i;

	if (origin == NULL)
		return 1; /* not a browser: the Origin rule is for browsers */
	if (policy != NULL && policy->norigins > 0) {
		int parsed = handshake_origin_parse(origin, 0, &o) == 0;

		for (i = 0; i < policy->norigins; i++) {
			const char *entry = policy->origins[i];

			if (strcmp(entry, "*") == 0 ||
			    strcasecmp(entry, origin) == 0)
				return 1;
			if (parsed &&
			    handshake_origin_parse(entry, 1, &allowed) == 0 &&
			    handshake_origin_same(&o, &allowed))
				return 1;
		}
		return 0;
	}
	/*
	 * The default: pages on this machine only.  Not "the Origin names the
	 * Host", which DNS rebinding defeats: a page at
	 * http://rebind.attacker.example, its name re-pointed at 127.0.0.1,
	 * sends an Origin and a Host that agree.  A rebound name is never a
	 * loopback name, so it cannot pass this.
	 */
	return handshake_origin_parse(origin, 0, &o) == 0 &&
	       handshake_origin_loopback(&o);
}

/* Returns non-zero if key is base64 of exactly 16 bytes. */
int
handshake_key_valid(const char *key, size_t len)
{
	size_t i;

	if (len != 24 || key[22] != '=' || key[23] != '=')
		return 0;
	for (i = 0; i < 22; i++) {
		char c = key[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		        (c >= '0' && c <= '9') || c == '+' || c == '/'))
			return 0;
	}
	return 1;
}

/* Writes the Sec-WebSocket-Accept value for a key. */
void
handshake_accept_key(
    const char *key, size_t key_len, char out[HANDSHAKE_ACCEPT_LEN + 1])
{
	struct sha1_ctx sha1;
	uint8_t         digest[SHA1_DIGEST_SIZE];
	size_t          n = key_len;

	sha1_init(&sha1);
	sha1_update(&sha1, n, (const uint8_t *)key);
	sha1_update(
	    &sha1, sizeof HANDSHAKE_GUID - 1, (const uint8_t *)HANDSHAKE_GUID);
	sha1_digest(&sha1, sizeof digest, digest);
	base64_encode_raw(out, sizeof digest, digest);
	out[HANDSHAKE_ACCEPT_LEN] = '\0';
}

/* What the header lines said, while they are being read. */
struct handshake_headers {
	const char *host;
	const char *origin;
	const char *key;
	const char *version;
	const char *forwarded_for;
	const char *user;
	const char *authorization;
	const char *cookie;
	int         upgrade_websocket;
	int         connection_upgrade;
	int         has_body;
};

/*
 * Takes one header; returns 0 or -1 (hs failed).  name and value are
 * NUL-terminated, the value trimmed.
 */
static int
handshake_header(struct handshake *hs, struct handshake_headers *h,
    const struct handshake_policy *policy, const char *name, const char *value)
{
	const char **single = NULL;

	if (policy != NULL && policy->user_header != NULL &&
	    handshake_is(name, policy->user_header))
		single = &h->user;
	else if (handshake_is(name, "Authorization"))
		single = &h->authorization;
	else if (handshake_is(name, "Cookie")) {
		if (h->cookie == NULL)
			h->cookie = value;
	} else if (handshake_is(name, "Host"))
		single = &h->host;
	else if (handshake_is(name, "Origin"))
		single = &h->origin;
	else if (handshake_is(name, "Sec-WebSocket-Key"))
		single = &h->key;
	else if (handshake_is(name, "Sec-WebSocket-Version"))
		single = &h->version;
	else if (handshake_is(name, "X-Forwarded-For")) {
		if (h->forwarded_for == NULL)
			h->forwarded_for = value;
	} else if (handshake_is(name, "Upgrade")) {
		if (handshake_list_has(value, "websocket"))
			h->upgrade_websocket = 1;
	} else if (handshake_is(name, "Connection")) {
		if (handshake_list_has(value, "upgrade"))
			h->connection_upgrade = 1;
	} else if (handshake_is(name, "Transfer-Encoding"))
		h->has_body = 1;
	else if (handshake_is(name, "Content-Length")) {
		if (strspn(value, "0") != strlen(value) || *value == '\0')
			h->has_body = 1;
	}
	if (single != NULL) {
		if (*single != NULL)
			return handshake_fail(
			    hs, 400, "duplicate %s header", name);
		*single = value;
	}
	return 0;
}

/* Trims blanks around [start, end) in place; returns the new start. */
static char *
handshake_trim(char *start, char *end)
{
	while (start < end && (*start == ' ' || *start == '\t'))
		start++;
	while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	*end = '\0';
	return start;
}

/*
 * Cuts the next line off *p (up to LF, without the CR before it), NUL-
 * terminates it and returns it, or NULL when a byte in it is not allowed
 * (control characters other than tab, NUL among them: after this check,
 * string functions see the whole line).
 */
static char *
handshake_line(char **p, const char *end, size_t *lenp)
{
	char  *line = *p, *nl = memchr(line, '\n', (size_t)(end - line));
	size_t len, i;

	/* The head ends with a blank line, so every line has its LF. */
	len = (size_t)(nl - line);
	*p = nl + 1;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	line[len] = '\0';
	*lenp = len;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];

		if ((c < 0x20 && c != '\t') || c == 0x7F)
			return NULL;
	}
	return line;
}

/* Checks the request line; returns 0 or -1. */
static int
handshake_request_line(struct handshake *hs, char *line, size_t len)
{
	char  quoted[QUOTE_SIZE];
	char *sp1, *sp2, *version;
	char *p;

	sp1 = strchr(line, ' ');
	sp2 = sp1 != NULL ? strchr(sp1 + 1, ' ') : NULL;
	if (sp1 == NULL || sp2 == NULL || sp1 == line || sp2 == sp1 + 1 ||
	    strchr(sp2 + 1, ' ') != NULL || strchr(line, '\t') != NULL)
		return handshake_fail(hs, 400, "malformed request line \"%s\"",
		    quote_value(quoted, line, len, 0));
	for (p = line; p < sp1; p++)
		if (!handshake_tchar((unsigned char)*p))
			return handshake_fail(hs, 400,
			    "malformed request line \"%s\"",
			    quote_value(quoted, line, len, 0));
	*sp1 = '\0';
	*sp2 = '\0';
	version = sp2 + 1;
	if (strcmp(line, "GET") != 0)
		return handshake_fail(hs, 400,
		    "method %s is not allowed: a WebSocket handshake is a GET",
		    quote_value(quoted, line, (size_t)(sp1 - line), 0));
	if (strncmp(version, "HTTP/1.", 7) != 0 || version[7] < '1' ||
	    version[7] > '9' || version[8] != '\0')
		return handshake_fail(hs, 400,
		    "HTTP version \"%s\" cannot upgrade: HTTP/1.1 is required",
		    quote_value(quoted, version, strlen(version), 0));
	if (sp1[1] != '/')
		return handshake_fail(hs, 400,
		    "bad request target \"%s\": expected /path?query",
		    quote_value(quoted, sp1 + 1, strlen(sp1 + 1), 0));
	hs->target = sp1 + 1;
	return 0;
}

/*
 * Judges who asks, by the proxy's login header or a signed grant
 * (grant_judge()), for the channels of hs->query; returns 0 or -1 (hs
 * failed with 401 or 403).
 */
static int
handshake_authorize(struct handshake *hs, const struct handshake_headers *h,
    const struct handshake_policy *policy, const char *qs, char *reason,
    size_t len)
{
	static const struct access_rules public_rules = {NULL, 0, 0};
	struct grant_request             who = {.user = h->user,
	                .authorization = h->authorization,
	                .cookie = h->cookie,
	                .query_string = qs,
	                .keep = &hs->grant};
	struct grant_verdict             verdict;
	int                              status;

	status =
	    grant_judge(policy->access != NULL ? policy->access : &public_rules,
	        policy->key, &who, &hs->query, (int64_t)time(NULL), &verdict,
	        reason, len);
	hs->grant_expires_ms = verdict.expires_ms;
	hs->token_refused = verdict.token_refused;
	if (status != 0)
		return handshake_fail(hs, status, "%s", reason);
	return 0;
}

/* Checks what the headers said; returns 0 or -1. */
static int
handshake_check(struct handshake *hs, const struct handshake_headers *h,
    const struct handshake_policy *policy)
{
	char        quoted[QUOTE_SIZE];
	char        reason[QUERY_ERRLEN];
	const char *qs;

	if (h->host == NULL)
		return handshake_fail(hs, 400, "missing Host header");
	if (!h->upgrade_websocket)
		return handshake_fail(hs, 400,
		    "not a WebSocket handshake: no Upgrade: websocket header");
	if (!h->connection_upgrade)
		return handshake_fail(hs, 400,
		    "not a WebSocket handshake: no Connection: Upgrade header");
	if (h->version == NULL)
		return handshake_fail(
		    hs, 400, "missing Sec-WebSocket-Version header");
	if (strcmp(h->version, "13") != 0)
		return handshake_fail(hs, 426,
		    "unsupported WebSocket version \"%s\": this server speaks "
		    "13",
		    quote_value(quoted, h->version, strlen(h->version), 0));
	if (h->key == NULL)
		return handshake_fail(
		    hs, 400, "missing Sec-WebSocket-Key header");
	if (!handshake_key_valid(h->key, strlen(h->key)))
		return handshake_fail(hs, 400,
		    "invalid Sec-WebSocket-Key \"%s\": expected base64 of 16 "
		    "bytes",
		    quote_value(quoted, h->key, strlen(h->key), 0));
	if (h->has_body)
		return handshake_fail(
		    hs, 400, "a WebSocket handshake has no request body");
	if (!handshake_origin_allowed(policy, h->origin))
		return handshake_fail(hs, 403, "origin \"%s\" is not allowed",
		    quote_value(quoted, h->origin, strlen(h->origin), 0));
	qs = strchr(hs->target, '?');
	qs = qs != NULL ? qs + 1 : "";
	if (query_parse(qs, strlen(qs), &hs->query, reason, sizeof reason) != 0)
		return handshake_fail(hs, 400, "%s", reason);
	if (policy != NULL &&
	    handshake_authorize(hs, h, policy, qs, reason, sizeof reason) != 0)
		return -1;
	hs->user = hs->grant.user != NULL ? hs->grant.user : h->user;
	hs->host = h->host;
	hs->origin = h->origin;
	hs->forwarded_for = h->forwarded_for;
	handshake_accept_key(h->key, strlen(h->key), hs->accept);
	return 0;
}

/* Parses the complete head held in hs->head (NUL-terminated). */
static int
handshake_parse(struct handshake *hs, const struct handshake_policy *policy)
{
	struct handshake_headers h;
	char                     quoted[QUOTE_SIZE];
	char                    *p = hs->head.data, *line;
	const char              *end = hs->head.data + hs->head.len;
	size_t                   len;

	memset(&h, 0, sizeof h);
	line = handshake_line(&p, end, &len);
	if (line == NULL || len == 0)
		return handshake_fail(hs, 400, "malformed request line");
	if (handshake_request_line(hs, line, len) != 0)
		return -1;
	for (;;) {
		char *colon, *name, *value;

		line = handshake_line(&p, end, &len);
		if (line == NULL)
			return handshake_fail(
			    hs, 400, "bad character in a header line");
		if (len == 0)
			break;
		if (*line == ' ' || *line == '\t')
			return handshake_fail(
			    hs, 400, "folded header lines are not allowed");
		colon = strchr(line, ':');
		for (name = line; colon != NULL && name < colon; name++)
			if (!handshake_tchar((unsigned char)*name))
				break;
		if (colon == NULL || colon == line || name != colon)
			return handshake_fail(hs, 400,
			    "malformed header line \"%s\"",
			    quote_value(quoted, line, len, 0));
		*colon = '\0';
		value = handshake_trim(colon + 1, line + len);
		if (handshake_header(hs, &h, policy, line, value) != 0)
			return -1;
	}
	if (handshake_check(hs, &h, policy) != 0)
		return -1;
	hs->done = 1;
	return 1;
}

/* Returns the end of the head (offset past its blank line) in hs, or 0. */
static size_t
handshake_find_end(struct handshake *hs)
{
	const char *d = hs->head.data;
	size_t      i = hs->scanned > 0 ? hs->scanned : 1;

	for (; i < hs->head.len; i++) {
		if (d[i] != '\n')
			continue;
		if (d[i - 1] == '\n')
			return i + 1;
		if (i >= 2 && d[i - 1] == '\r' && d[i - 2] == '\n')
			return i + 1;
	}
	hs->scanned = hs->head.len;
	return 0;
}

/* Takes more bytes of the connection. */
int
handshake_feed(struct handshake *hs, const void *data, size_t len,
    const struct handshake_policy *policy, size_t *usedp)
{
	size_t before = hs->head.len, take, end;

	if (usedp != NULL)
		*usedp = 0;
	if (hs->done != 0)
		return hs->done;
	take = HANDSHAKE_HEAD_MAX - before;
	if (take > len)
		take = len;
	/* One byte more for the NUL the parse puts at the end. */
	if (buf_reserve(&hs->head, take + 1) != 0) {
		hs->status = 0;
		snprintf(hs->reason, sizeof hs->reason, "out of memory");
		hs->done = -1;
		return -1;
	}
	buf_append(&hs->head, data, take);
	end = handshake_find_end(hs);
	if (end == 0) {
		if (usedp != NULL)
			*usedp = take;
		if (hs->head.len >= HANDSHAKE_HEAD_MAX)
			return handshake_fail(hs, 431,
			    "request header larger than %d bytes",
			    HANDSHAKE_HEAD_MAX);
		return 0;
	}
	if (usedp != NULL)
		*usedp = end - before;
	hs->head.len = end;
	hs->head.data[end] = '\0';
	return handshake_parse(hs, policy);
}

/* Returns the reason phrase of a status. */
static const char *
handshake_status_text(int status)
{
	switch (status) {
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 408:
		return "Request Timeout";
	case 426:
		return "Upgrade Required";
	case 431:
		return "Request Header Fields Too Large";
	case 503:
		return "Service Unavailable";
	default:
		return "Error";
	}
}

/* Appends the 101 Switching Protocols response. */
int
handshake_accept_response(
    struct buf *out, const char accept[HANDSHAKE_ACCEPT_LEN + 1])
{
	return buf_printf(out,
	    "HTTP/1.1 101 Switching Protocols\r\n"
	    "Upgrade: websocket\r\n"
	    "Connection: Upgrade\r\n"
	    "Sec-WebSocket-Accept: %s\r\n\r\n",
	    accept);
}

/* Appends a complete refusal with a one-line reason. */
int
handshake_error_response(
    struct buf *out, int status, const char *extra_header, const char *reason)
{
	return buf_printf(out,
	    "HTTP/1.1 %d %s\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Length: %zu\r\n"
	    "Connection: close\r\n"
	    "%s%s%s"
	    "\r\n%s\n",
	    status, handshake_status_text(status), strlen(reason) + 1,
	    status == 426 ? "Sec-WebSocket-Version: 13\r\n"
	                    "Upgrade: websocket\r\n"
	                  : "",
	    extra_header != NULL ? extra_header : "",
	    extra_header != NULL ? "\r\n" : "", reason);
}
