/* fuzz_handshake.c: libFuzzer target for the WebSocket opening handshake. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fuzz.h"
#include "handshake.h"
#include "query.h"
#include "store.h"

/*
 * The input is what a client sent on a new connection.  It is fed whole
 * under three Origin policies, then, under one of them, a byte at a time
 * and in random pieces (some empty), as picohttpparser's tests do: the
 * three ways must agree on everything (result, bytes taken, status,
 * reason, every field).  What must hold besides: a head is complete
 * exactly at its first blank line and not before, a refusal has a status
 * and one printable line of reason that was not cut, a success has the
 * fields the daemon relies on, and the response written for either is a
 * well-formed HTTP head with a body of the stated length.
 */

/* The allowed origins of the policies: none (same host), a list, any. */
static const char *const list_origins[] = {
    "https://example.com", "http://localhost:8131/path", "null"};
static const char *const             any_origin[] = {"*"};
static const char *const             private_rules[] = {"user.{user}", "m.*"};
static const struct access_rules     private_access = {private_rules, 2, 0};
static const struct handshake_policy policies[] = {
    {NULL, 0, NULL, NULL, NULL},
    {list_origins, sizeof list_origins / sizeof list_origins[0], NULL, NULL,
        NULL},
    {any_origin, 1, NULL, NULL, NULL},
    /* A proxy's login in X-Remote-User, private channels. */
    {NULL, 0, "X-Remote-User", &private_access, NULL},
};
#define NPOLICIES (sizeof policies / sizeof policies[0])

/* What one way of feeding the input came to. */
struct outcome {
	int    rc;
	size_t used; /* bytes of the input taken, over all the calls */
};

/* Feeds the whole input at once. */
static struct outcome
feed_whole(struct handshake *hs, const uint8_t *data, size_t len,
    const struct handshake_policy *policy)
{
	struct outcome o;

	o.rc = handshake_feed(hs, data, len, policy, &o.used);
	return o;
}

/*
 * Feeds the input in pieces: of one byte when state is NULL, else of
 * random lengths (empty ones too).  Stops at the first call that decides.
 */
static struct outcome
feed_pieces(struct handshake *hs, const uint8_t *data, size_t len,
    const struct handshake_policy *policy, uint64_t *state)
{
	struct outcome o = {0, 0};
	size_t         off = 0, n, used;

	while (off < len) {
		n = 1;
		if (state != NULL) {
			uint64_t r = fuzz_random(state);

			n = (size_t)(r % 8 == 0   ? 0
			             : r % 4 == 0 ? (r >> 8) % 600
			                          : (r >> 8) % 24);
			if (n > len - off)
				n = len - off;
		}
		o.rc = handshake_feed(hs, data + off, n, policy, &used);
		FUZZ_REQUIRE(used <= n);
		o.used += used;
		if (o.rc != 0)
			return o;
		FUZZ_REQUIRE(used == n);
		off += n;
	}
	return o;
}

/* Returns non-zero if s holds only printable ASCII and tabs. */
static int
printable(const char *s, int tab_allowed)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '\t' && tab_allowed)
			continue;
		if (c < 0x20 || c == 0x7f)
			return 0;
	}
	return 1;
}

/* Returns the offset past the first blank line of the input, or 0. */
static size_t
head_end(const uint8_t *data, size_t len)
{
	size_t i;

	for (i = 1; i < len; i++) {
		if (data[i] != '\n')
			continue;
		if (data[i - 1] == '\n' ||
		    (i >= 2 && data[i - 1] == '\r' && data[i - 2] == '\n'))
			return i + 1;
	}
	return 0;
}

/* Checks that the parsed query is what query.h promises. */
static void
check_query(const struct query *q)
{
	size_t i, j, n;

	FUZZ_REQUIRE(q->nchannels >= 1 && q->nchannels <= QUERY_MAX_CHANNELS);
	for (i = 0; i < q->nchannels; i++) {
		n = strnlen(q->channels[i], CHANNEL_MAX + 1);
		FUZZ_REQUIRE(n <= CHANNEL_MAX);
		FUZZ_REQUIRE(channel_valid(q->channels[i], n));
		for (j = 0; j < i; j++)
			FUZZ_REQUIRE(strcmp(q->channels[i], q->channels[j]));
	}
}

/* Checks a 101 response against its accept value, byte for byte. */
static void
check_accept_response(const struct handshake *hs)
{
	struct buf out = {0};
	char       want[256];

	FUZZ_REQUIRE(handshake_accept_response(&out, hs->accept) == 0);
	snprintf(want, sizeof want,
	    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
	    "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
	    hs->accept);
	FUZZ_REQUIRE(out.len == strlen(want));
	FUZZ_REQUIRE(memcmp(out.data, want, out.len) == 0);
	buf_free(&out);
}

/*
 * Checks a refusal: a status line, header lines of printable ASCII ended
 * by CRLF, a Content-Length that is the body's, and the reason as the body.
 */
static void
check_error_response(int status, const char *extra, const char *reason)
{
	struct buf  out = {0};
	char        line[64];
	const char *p, *end, *body, *eol;
	size_t      length = SIZE_MAX;
	int         version_header = 0;

	FUZZ_REQUIRE(
	    handshake_error_response(&out, status, extra, reason) == 0);
	FUZZ_REQUIRE(buf_append(&out, "", 1) == 0); /* for strstr */
	out.len--;
	p = out.data;
	end = out.data + out.len;
	snprintf(line, sizeof line, "HTTP/1.1 %d ", status);
	FUZZ_REQUIRE(strncmp(p, line, strlen(line)) == 0);
	body = strstr(p, "\r\n\r\n");
	FUZZ_REQUIRE(body != NULL);
	body += 4;
	while (p < body - 2) {
		eol = strstr(p, "\r\n");
		FUZZ_REQUIRE(eol != NULL && eol < body);
		for (; p < eol; p++)
			FUZZ_REQUIRE((unsigned char)*p >= 0x20 &&
			             (unsigned char)*p < 0x7f);
		p = eol + 2;
		if (strncmp(p, "Content-Length: ", 16) == 0)
			length = strtoul(p + 16, NULL, 10);
		if (strncmp(p, "Sec-WebSocket-Version: 13\r\n", 27) == 0)
			version_header = 1;
	}
	FUZZ_REQUIRE(length == (size_t)(end - body));
	FUZZ_REQUIRE(length == strlen(reason) + 1);
	FUZZ_REQUIRE(memcmp(body, reason, length - 1) == 0);
	FUZZ_REQUIRE(body[length - 1] == '\n');
	FUZZ_REQUIRE(version_header == (status == 426));
	buf_free(&out);
}

/* Checks what holds for one whole feed, whatever the input. */
static void
check_outcome(const struct handshake *hs, struct outcome o, const uint8_t *data,
    size_t len, const struct handshake_policy *policy, const char *shown)
{
	size_t end = head_end(data, len), n;

	FUZZ_REQUIREF(o.rc >= -1 && o.rc <= 1, "\"%s\": rc %d", shown, o.rc);
	if (o.rc == 0) {
		/* Not decided: no blank line yet, and room for more. */
		FUZZ_REQUIREF(end == 0 && len < HANDSHAKE_HEAD_MAX,
		    "\"%s\": asks for more after a complete head", shown);
		FUZZ_REQUIRE(o.used == len);
		return;
	}
	if (end == 0 || end > HANDSHAKE_HEAD_MAX) {
		FUZZ_REQUIREF(o.rc == -1 && hs->status == 431,
		    "\"%s\": no head within the limit, yet rc %d status %d",
		    shown, o.rc, hs->status);
		FUZZ_REQUIRE(o.used == HANDSHAKE_HEAD_MAX);
	} else
		FUZZ_REQUIREF(o.used == end,
		    "\"%s\": head of %zu bytes, %zu taken", shown, end, o.used);

	if (o.rc == -1) {
		FUZZ_REQUIREF(hs->status == 400 || hs->status == 401 ||
		                  hs->status == 403 || hs->status == 426 ||
		                  hs->status == 431,
		    "\"%s\": status %d", shown, hs->status);
		n = strlen(hs->reason);
		FUZZ_REQUIREF(n > 0 && n < sizeof hs->reason - 1,
		    "\"%s\": reason of %zu bytes: %s", shown, n, hs->reason);
		FUZZ_REQUIREF(printable(hs->reason, 0),
		    "\"%s\": unprintable reason", shown);
		check_error_response(hs->status, NULL, hs->reason);
		check_error_response(503, "Retry-After: 5", hs->reason);
		return;
	}

	FUZZ_REQUIRE(hs->done == 1);
	FUZZ_REQUIRE(hs->target != NULL && hs->target[0] == '/');
	FUZZ_REQUIRE(printable(hs->target, 0));
	FUZZ_REQUIRE(hs->host != NULL && printable(hs->host, 1));
	FUZZ_REQUIRE(hs->origin == NULL || printable(hs->origin, 1));
	FUZZ_REQUIRE(
	    hs->forwarded_for == NULL || printable(hs->forwarded_for, 1));
	FUZZ_REQUIRE(handshake_origin_allowed(policy, hs->origin));
	FUZZ_REQUIRE(strlen(hs->accept) == HANDSHAKE_ACCEPT_LEN);
	FUZZ_REQUIRE(hs->accept[HANDSHAKE_ACCEPT_LEN - 1] == '=');
	check_query(&hs->query);
	check_accept_response(hs);
}

/* Checks that two ways of feeding came to exactly the same parse. */
static void
check_same(const struct handshake *a, struct outcome oa,
    const struct handshake *b, struct outcome ob, const char *how,
    const char *shown)
{
	FUZZ_REQUIREF(oa.rc == ob.rc && oa.used == ob.used,
	    "\"%s\": whole: rc %d used %zu, %s: rc %d used %zu", shown, oa.rc,
	    oa.used, how, ob.rc, ob.used);
	FUZZ_REQUIRE(a->status == b->status);
	FUZZ_REQUIREF(strcmp(a->reason, b->reason) == 0,
	    "\"%s\": whole: \"%s\", %s: \"%s\"", shown, a->reason, how,
	    b->reason);
	if (oa.rc != 1)
		return;
	FUZZ_REQUIRE(strcmp(a->target, b->target) == 0);
	FUZZ_REQUIRE(strcmp(a->host, b->host) == 0);
	FUZZ_REQUIRE((a->origin == NULL) == (b->origin == NULL));
	FUZZ_REQUIRE(a->origin == NULL || strcmp(a->origin, b->origin) == 0);
	FUZZ_REQUIRE((a->forwarded_for == NULL) == (b->forwarded_for == NULL));
	FUZZ_REQUIRE(a->forwarded_for == NULL ||
	             strcmp(a->forwarded_for, b->forwarded_for) == 0);
	FUZZ_REQUIRE(strcmp(a->accept, b->accept) == 0);
	FUZZ_REQUIRE(memcmp(&a->query, &b->query, sizeof a->query) == 0);
}

/* Checks that a decided handshake stays decided and takes nothing more. */
static void
check_decided(struct handshake *hs, struct outcome o,
    const struct handshake_policy *policy)
{
	size_t used = 99;

	if (o.rc == 0)
		return;
	FUZZ_REQUIRE(handshake_feed(hs, "GET", 3, policy, &used) == o.rc);
	FUZZ_REQUIRE(used == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One input: the bytes a client sent first. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct handshake whole[NPOLICIES], pieces;
	struct outcome   o[NPOLICIES], op;
	uint64_t         state = fuzz_seed(data, size);
	char             shown[512];
	size_t           i, which = (size_t)(state % NPOLICIES);

	fuzz_escape(shown, sizeof shown, data, size);
	for (i = 0; i < NPOLICIES; i++) {
		handshake_init(&whole[i]);
		o[i] = feed_whole(&whole[i], data, size, &policies[i]);
		check_outcome(&whole[i], o[i], data, size, &policies[i], shown);
		check_decided(&whole[i], o[i], &policies[i]);
	}

	handshake_init(&pieces);
	op = feed_pieces(&pieces, data, size, &policies[which], NULL);
	check_same(&whole[which], o[which], &pieces, op, "byte by byte", shown);
	check_decided(&pieces, op, &policies[which]);

	/* The same struct, freed, is as good as new. */
	handshake_free(&pieces);
	op = feed_pieces(&pieces, data, size, &policies[which], &state);
	check_same(&whole[which], o[which], &pieces, op, "in pieces", shown);
	handshake_free(&pieces);

	for (i = 0; i < NPOLICIES; i++)
		handshake_free(&whole[i]);
	return 0;
}
