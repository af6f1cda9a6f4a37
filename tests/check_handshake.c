/* check_handshake.c: unit tests of the WebSocket opening handshake. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "handshake.h"

/*
 * Every case, good or bad, is fed three ways, as picohttpparser's tests
 * do: whole, one byte at a time, and cut at every incomplete prefix (which
 * must ask for more, never decide early).
 */

/* A string literal and its length. */
#define LIT(s) (s), (sizeof(s) - 1)

/*
 * Fails the test when cond is false; records nothing when it holds, so
 * loops over every prefix stay fast.
 */
#define REQUIRE(cond)                                                          \
	do {                                                                   \
		if (!(cond))                                                   \
			ck_abort_msg("line %d: %s", __LINE__, #cond);          \
	} while (0)

/* A good request, as Chrome sends it (trimmed). */
#define GOOD_REQUEST                                                           \
	"GET /ws?channel=news&channel=chat&lastEventId=42 HTTP/1.1\r\n"        \
	"Host: localhost:8131\r\n"                                             \
	"Connection: Upgrade\r\n"                                              \
	"Pragma: no-cache\r\n"                                                 \
	"Upgrade: websocket\r\n"                                               \
	"Origin: http://localhost:8131\r\n"                                    \
	"Sec-WebSocket-Version: 13\r\n"                                        \
	"User-Agent: Mozilla/5.0\r\n"                                          \
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"                      \
	"Sec-WebSocket-Extensions: permessage-deflate; "                       \
	"client_max_window_bits\r\n"                                           \
	"X-Forwarded-For: 203.0.113.7\r\n"                                     \
	"\r\n"

/* The RFC 6455 example: the accept value for its key. */
#define GOOD_ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

static const struct handshake_policy no_policy = {NULL, 0, NULL, NULL, NULL};

/* Feeds a whole request at once; returns the result and *used. */
static int
feed_whole(struct handshake *hs, const char *req, size_t len,
    const struct handshake_policy *policy, size_t *used)
{
	handshake_init(hs);
	return handshake_feed(hs, req, len, policy, used);
}

/*
 * Feeds req one byte at a time: every byte before the last must return 0,
 * the last the final result, which is returned.
 */
static int
feed_bytes(struct handshake *hs, const char *req, size_t len,
    const struct handshake_policy *policy)
{
	size_t i, used;
	int    rc = 0;

	handshake_init(hs);
	for (i = 0; i < len; i++) {
		rc = handshake_feed(hs, req + i, 1, policy, &used);
		if (i + 1 < len)
			REQUIRE(rc == 0 && used == 1);
		else
			REQUIRE(rc != 0 && used == 1);
	}
	return rc;
}

/* Checks that every incomplete prefix of req asks for more. */
static void
check_prefixes(
    const char *req, size_t len, const struct handshake_policy *policy)
{
	struct handshake hs;
	size_t           cut, used;

	for (cut = 0; cut < len; cut++) {
		handshake_init(&hs);
		REQUIRE(handshake_feed(&hs, req, cut, policy, &used) == 0);
		REQUIRE(used == cut);
		handshake_free(&hs);
	}
}

/* Checks the fields of GOOD_REQUEST's parse. */
static void
check_good_fields(const struct handshake *hs)
{
	ck_assert_str_eq(
	    hs->target, "/ws?channel=news&channel=chat&lastEventId=42");
	ck_assert_str_eq(hs->host, "localhost:8131");
	ck_assert_str_eq(hs->origin, "http://localhost:8131");
	ck_assert_str_eq(hs->forwarded_for, "203.0.113.7");
	ck_assert_str_eq(hs->accept, GOOD_ACCEPT);
	ck_assert_uint_eq(hs->query.nchannels, 2);
	ck_assert_str_eq(hs->query.channels[0], "news");
	ck_assert_str_eq(hs->query.channels[1], "chat");
	ck_assert_int_eq(hs->query.has_last_id, 1);
	ck_assert_int_eq(hs->query.last_id, 42);
	ck_assert_int_eq(hs->query.has_backlog, 0);
}

/* A request for channel $1 with the header line $2 (or none). */
#define USER_REQUEST(channel, header)                                          \
	"GET /ws?channel=" channel " HTTP/1.1\r\nHost: localhost\r\n"          \
	"Upgrade: websocket\r\nConnection: Upgrade\r\n"                        \
	"Sec-WebSocket-Version: 13\r\n"                                        \
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" header "\r\n"

/* The login from a proxy's header, judged under --private rules. */
START_TEST(test_handshake_user_header)
{
	static const char *const         rules[] = {"user.{user}"};
	static const struct access_rules access = {rules, 1, 0};
	struct handshake_policy          proxied = {
	             NULL, 0, "X-Remote-User", &access, NULL};
	struct handshake_policy direct = {NULL, 0, NULL, &access, NULL};
	struct handshake        hs;
	size_t                  used;

	ck_assert_int_eq(
	    feed_whole(&hs,
	        LIT(USER_REQUEST("user.alice", "X-Remote-User: alice\r\n")),
	        &proxied, &used),
	    1);
	ck_assert_str_eq(hs.user, "alice");
	handshake_free(&hs);
	ck_assert_int_eq(
	    feed_bytes(&hs,
	        LIT(USER_REQUEST("user.alice", "x-remote-user:  alice \r\n")),
	        &proxied),
	    1);
	ck_assert_str_eq(hs.user, "alice");
	handshake_free(&hs);
	ck_assert_int_eq(
	    feed_whole(&hs,
	        LIT(USER_REQUEST("user.alice", "X-Remote-User: bob\r\n")),
	        &proxied, &used),
	    -1);
	ck_assert_int_eq(hs.status, 403);
	ck_assert_str_eq(
	    hs.reason, "channel \"user.alice\" is not open to this login");
	handshake_free(&hs);
	ck_assert_int_eq(feed_whole(&hs, LIT(USER_REQUEST("user.alice", "")),
	                     &proxied, &used),
	    -1);
	ck_assert_int_eq(hs.status, 401);
	ck_assert_str_eq(hs.reason, "channel \"user.alice\" needs a login");
	handshake_free(&hs);
	/* Twice is not a login: whose would it be? */
	ck_assert_int_eq(
	    feed_whole(&hs,
	        LIT(USER_REQUEST("user.alice", "X-Remote-User: alice\r\n"
	                                       "X-Remote-User: bob\r\n")),
	        &proxied, &used),
	    -1);
	ck_assert_int_eq(hs.status, 400);
	handshake_free(&hs);
	/* Without --user-header the header is anybody's: not trusted. */
	ck_assert_int_eq(
	    feed_whole(&hs,
	        LIT(USER_REQUEST("user.alice", "X-Remote-User: alice\r\n")),
	        &direct, &used),
	    -1);
	ck_assert_int_eq(hs.status, 401);
	ck_assert_ptr_null(hs.user);
	handshake_free(&hs);
	/* Public channels need no login. */
	ck_assert_int_eq(
	    feed_whole(&hs, LIT(USER_REQUEST("news", "")), &proxied, &used), 1);
	handshake_free(&hs);
}
END_TEST

START_TEST(test_handshake_accept_key_rfc)
{
	char out[HANDSHAKE_ACCEPT_LEN + 1];

	handshake_accept_key(LIT("dGhlIHNhbXBsZSBub25jZQ=="), out);
	ck_assert_str_eq(out, GOOD_ACCEPT);
}
END_TEST

START_TEST(test_handshake_key_valid)
{
	ck_assert(handshake_key_valid(LIT("dGhlIHNhbXBsZSBub25jZQ==")));
	ck_assert(handshake_key_valid(LIT("AAAAAAAAAAAAAAAAAAAAAA==")));
	ck_assert(handshake_key_valid(LIT("+/+/+/+/+/+/+/+/+/+/+w==")));
	ck_assert(!handshake_key_valid(LIT("")));
	ck_assert(!handshake_key_valid(LIT("dGhlIHNhbXBsZSBub25jZQ")));
	ck_assert(!handshake_key_valid(LIT("dGhlIHNhbXBsZSBub25jZQ=")));
	ck_assert(!handshake_key_valid(LIT("dGhlIHNhbXBsZSBub25jZQ===")));
	ck_assert(!handshake_key_valid(LIT("dGhlIHNhbXBsZSBub25jZQAA")));
	ck_assert(!handshake_key_valid(LIT("dGhlIHNhbXBsZSBub25jZ-==")));
	ck_assert(!handshake_key_valid(LIT("dGhlIHNhbXBsZSBub25j ZQ==")));
	ck_assert(!handshake_key_valid("dGhlIHNhbXBsZSBub25j\0ZQ==", 24));
	/* 32 bytes of base64: valid base64, but not 16 bytes. */
	ck_assert(
	    !handshake_key_valid(LIT("dGhlIHNhbXBsZSBub25jZQ==dGhlIHNh")));
}
END_TEST

START_TEST(test_handshake_good_whole)
{
	struct handshake hs;
	size_t           used;

	ck_assert_int_eq(
	    feed_whole(&hs, LIT(GOOD_REQUEST), &no_policy, &used), 1);
	ck_assert_uint_eq(used, sizeof GOOD_REQUEST - 1);
	check_good_fields(&hs);
	/* Done is done: more input is not taken. */
	ck_assert_int_eq(handshake_feed(&hs, LIT("x"), &no_policy, &used), 1);
	ck_assert_uint_eq(used, 0);
	handshake_free(&hs);
}
END_TEST

START_TEST(test_handshake_good_bytes)
{
	struct handshake hs;

	ck_assert_int_eq(feed_bytes(&hs, LIT(GOOD_REQUEST), &no_policy), 1);
	check_good_fields(&hs);
	handshake_free(&hs);
}
END_TEST

START_TEST(test_handshake_good_prefixes)
{
	check_prefixes(LIT(GOOD_REQUEST), &no_policy);
}
END_TEST

START_TEST(test_handshake_good_split_everywhere)
{
	const char *req = GOOD_REQUEST;
	size_t      len = strlen(req), cut;

	/* Two pieces, cut at every point. */
	for (cut = 0; cut <= len; cut++) {
		struct handshake hs;
		size_t           used;

		handshake_init(&hs);
		REQUIRE(handshake_feed(&hs, req, cut, &no_policy, &used) ==
		        (cut == len ? 1 : 0));
		if (cut < len) {
			REQUIRE(handshake_feed(&hs, req + cut, len - cut,
			            &no_policy, &used) == 1);
			REQUIRE(used == len - cut);
		}
		REQUIRE(strcmp(hs.accept, GOOD_ACCEPT) == 0);
		handshake_free(&hs);
	}
}
END_TEST

START_TEST(test_handshake_frames_after_head)
{
	static const char data[] = GOOD_REQUEST "\x89\x80\x01\x02\x03\x04";
	struct handshake  hs;
	size_t            used;

	ck_assert_int_eq(feed_whole(&hs, LIT(data), &no_policy, &used), 1);
	ck_assert_uint_eq(used, sizeof GOOD_REQUEST - 1);
	check_good_fields(&hs);
	handshake_free(&hs);

	/* The blank line arriving together with the frames. */
	handshake_init(&hs);
	ck_assert_int_eq(handshake_feed(&hs, data, sizeof GOOD_REQUEST - 3,
	                     &no_policy, &used),
	    0);
	ck_assert_int_eq(handshake_feed(&hs, data + sizeof GOOD_REQUEST - 3, 8,
	                     &no_policy, &used),
	    1);
	ck_assert_uint_eq(used, 2);
	handshake_free(&hs);
}
END_TEST

START_TEST(test_handshake_minimal_and_variants)
{
	static const char *const good[] = {
	    /* Bare LF line ends. */
	    "GET / HTTP/1.1\nHost: h\nUpgrade: websocket\nConnection: "
	    "Upgrade\nSec-WebSocket-Version: 13\nSec-WebSocket-Key: "
	    "dGhlIHNhbXBsZSBub25jZQ==\n\n",
	    /* Case of names and tokens; lists; blanks around values. */
	    "GET /x HTTP/1.1\r\nhOsT:h\r\nupgrade:   WebSocket  \r\n"
	    "CONNECTION: keep-alive, Upgrade\r\nsec-websocket-version:\t13\r\n"
	    "SEC-WEBSOCKET-KEY: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
	    /* Upgrade and Connection given twice, Content-Length 0. */
	    "GET /x HTTP/1.1\r\nHost: h\r\nUpgrade: h2c\r\nUpgrade: "
	    "websocket\r\n"
	    "Connection: keep-alive\r\nConnection: upgrade\r\n"
	    "Content-Length: 0\r\nSec-WebSocket-Version: 13\r\n"
	    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
	    /* HTTP/1.2 would still be 1.x. */
	    "GET /x HTTP/1.2\r\nHost: h\r\nUpgrade: websocket\r\n"
	    "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
	    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
	    /* An empty header value and one with inner blanks and UTF-8. */
	    "GET /x HTTP/1.1\r\nHost: h\r\nX-Empty:\r\nX-Text: a b\xC3\xA9\r\n"
	    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Version: 13\r\n"
	    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
	};
	size_t i;

	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		struct handshake hs;
		size_t           used;

		ck_assert_msg(feed_whole(&hs, good[i], strlen(good[i]),
		                  &no_policy, &used) == 1,
		    "case %zu: %d %s", i, hs.status, hs.reason);
		ck_assert_str_eq(hs.accept, GOOD_ACCEPT);
		ck_assert_ptr_null(hs.origin);
		ck_assert_ptr_null(hs.forwarded_for);
		ck_assert_uint_eq(hs.query.nchannels, 1);
		ck_assert_str_eq(hs.query.channels[0], "default");
		handshake_free(&hs);
		ck_assert_int_eq(
		    feed_bytes(&hs, good[i], strlen(good[i]), &no_policy), 1);
		handshake_free(&hs);
		check_prefixes(good[i], strlen(good[i]), &no_policy);
	}
}
END_TEST

/* The headers of a valid request after the request line, for bad cases. */
#define REST                                                                   \
	"Host: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"             \
	"Sec-WebSocket-Version: 13\r\n"                                        \
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"

/* Everything but the key, version, upgrade or connection. */
#define HOST "Host: h\r\n"
#define UPG  "Upgrade: websocket\r\n"
#define CONN "Connection: Upgrade\r\n"
#define VER  "Sec-WebSocket-Version: 13\r\n"
#define KEY  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"

struct bad_case {
	const char *request;
	int         status;
	const char *reason; /* a part of the reason */
};

static const struct bad_case bad_cases[] = {
    {"POST / HTTP/1.1\r\n" REST "\r\n", 400, "method POST"},
    {"get / HTTP/1.1\r\n" REST "\r\n", 400, "method get"},
    {"HEAD / HTTP/1.1\r\n" REST "\r\n", 400, "a WebSocket handshake is a GET"},
    {"GET / HTTP/1.0\r\n" REST "\r\n", 400, "HTTP/1.1 is required"},
    {"GET / HTTP/2\r\n" REST "\r\n", 400, "HTTP/1.1 is required"},
    {"GET / http/1.1\r\n" REST "\r\n", 400, "HTTP/1.1 is required"},
    {"GET / HTTP/1.1 x\r\n" REST "\r\n", 400, "malformed request line"},
    {"GET  / HTTP/1.1\r\n" REST "\r\n", 400, "malformed request line"},
    {"GET /\r\n" REST "\r\n", 400, "malformed request line"},
    {"GET\r\n" REST "\r\n", 400, "malformed request line"},
    {"\r\n" REST "\r\n", 400, "malformed request line"},
    {"G(T / HTTP/1.1\r\n" REST "\r\n", 400, "malformed request line"},
    {"GET\t/ HTTP/1.1\r\n" REST "\r\n", 400, "malformed request line"},
    {"GET http://h/ HTTP/1.1\r\n" REST "\r\n", 400, "bad request target"},
    {"GET * HTTP/1.1\r\n" REST "\r\n", 400, "bad request target"},
    {"GET /a\x01 HTTP/1.1\r\n" REST "\r\n", 400, "malformed request line"},
    {"GET / HTTP/1.1\r\n" UPG CONN VER KEY "\r\n", 400, "missing Host"},
    {"GET / HTTP/1.1\r\n" HOST CONN VER KEY "\r\n", 400,
        "no Upgrade: websocket"},
    {"GET / HTTP/1.1\r\nUpgrade: h2c\r\n" HOST CONN VER KEY "\r\n", 400,
        "no Upgrade: websocket"},
    {"GET / HTTP/1.1\r\nUpgrade: websockets\r\n" HOST CONN VER KEY "\r\n", 400,
        "no Upgrade: websocket"},
    {"GET / HTTP/1.1\r\n" HOST UPG VER KEY "\r\n", 400,
        "no Connection: Upgrade"},
    {"GET / HTTP/1.1\r\nConnection: keep-alive\r\n" HOST UPG VER KEY "\r\n",
        400, "no Connection: Upgrade"},
    {"GET / HTTP/1.1\r\nConnection: upgraded\r\n" HOST UPG VER KEY "\r\n", 400,
        "no Connection: Upgrade"},
    {"GET / HTTP/1.1\r\n" HOST UPG CONN KEY "\r\n", 400,
        "missing Sec-WebSocket-Version"},
    {"GET / HTTP/1.1\r\nSec-WebSocket-Version: 8\r\n" HOST UPG CONN KEY "\r\n",
        426, "unsupported WebSocket version \"8\""},
    {"GET / HTTP/1.1\r\nSec-WebSocket-Version: 13, 8\r\n" HOST UPG CONN KEY
     "\r\n",
        426, "unsupported WebSocket version"},
    {"GET / HTTP/1.1\r\nSec-WebSocket-Version: \r\n" HOST UPG CONN KEY "\r\n",
        426, "unsupported WebSocket version \"\""},
    {"GET / HTTP/1.1\r\n" HOST UPG CONN VER "\r\n", 400,
        "missing Sec-WebSocket-Key"},
    {"GET / HTTP/1.1\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ\r\n" HOST UPG
            CONN VER "\r\n",
        400, "invalid Sec-WebSocket-Key"},
    {"GET / HTTP/1.1\r\nSec-WebSocket-Key: \r\n" HOST UPG CONN VER "\r\n", 400,
        "invalid Sec-WebSocket-Key"},
    {"GET / HTTP/1.1\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25j*Q==\r\n" HOST
            UPG CONN VER "\r\n",
        400, "invalid Sec-WebSocket-Key"},
    {"GET / HTTP/1.1\r\n" REST KEY "\r\n", 400, "duplicate Sec-WebSocket-Key"},
    {"GET / HTTP/1.1\r\n" REST VER "\r\n", 400,
        "duplicate Sec-WebSocket-Version"},
    {"GET / HTTP/1.1\r\n" REST "hOST: h\r\n\r\n", 400, "duplicate hOST"},
    {"GET / HTTP/1.1\r\n" REST "Origin: http://h\r\nOrigin: http://h\r\n\r\n",
        400, "duplicate Origin"},
    {"GET / HTTP/1.1\r\n" REST " folded\r\n\r\n", 400, "folded"},
    {"GET / HTTP/1.1\r\n" REST "\tfolded\r\n\r\n", 400, "folded"},
    {"GET / HTTP/1.1\r\n" REST "NoColon\r\n\r\n", 400, "malformed header line"},
    {"GET / HTTP/1.1\r\n" REST "Name : value\r\n\r\n", 400,
        "malformed header line"},
    {"GET / HTTP/1.1\r\n" REST ": value\r\n\r\n", 400, "malformed header line"},
    {"GET / HTTP/1.1\r\n" REST "Na(me: value\r\n\r\n", 400,
        "malformed header line"},
    {"GET / HTTP/1.1\r\n" REST "X: a\x01z\r\n\r\n", 400, "bad character"},
    {"GET / HTTP/1.1\r\n" REST "X: a\rz\r\n\r\n", 400, "bad character"},
    {"GET / HTTP/1.1\r\n" REST "X: a\x7Fz\r\n\r\n", 400, "bad character"},
    {"GET / HTTP/1.1\r\n" REST "Content-Length: 5\r\n\r\n", 400,
        "no request body"},
    {"GET / HTTP/1.1\r\n" REST "Content-Length: \r\n\r\n", 400,
        "no request body"},
    {"GET / HTTP/1.1\r\n" REST "Transfer-Encoding: chunked\r\n\r\n", 400,
        "no request body"},
    {"GET /?channel=a%20b HTTP/1.1\r\n" REST "\r\n", 400, "channel"},
    {"GET /?channel=a&channel= HTTP/1.1\r\n" REST "\r\n", 400, "channel"},
    {"GET /?lastEventId=x HTTP/1.1\r\n" REST "\r\n", 400, "lastEventId"},
    {"GET /?backlog=-1 HTTP/1.1\r\n" REST "\r\n", 400, "backlog"},
    {"GET /?channel=%zz HTTP/1.1\r\n" REST "\r\n", 400, "%zz"},
    {"GET / HTTP/1.1\r\n" REST "Origin: http://evil.example\r\n\r\n", 403,
        "origin \"http://evil.example\" is not allowed"},
    {"GET / HTTP/1.1\r\n" REST "Origin: null\r\n\r\n", 403, "origin \"null\""},
    {"GET / HTTP/1.1\r\n" REST "Origin: http://h:81\r\n\r\n", 403,
        "is not allowed"},
};

START_TEST(test_handshake_bad)
{
	const struct bad_case *bc = &bad_cases[_i];
	size_t                 len = strlen(bc->request), used;
	struct handshake       hs;

	ck_assert_int_eq(
	    feed_whole(&hs, bc->request, len, &no_policy, &used), -1);
	ck_assert_msg(hs.status == bc->status,
	    "case %d: status %d, wanted %d (%s)", _i, hs.status, bc->status,
	    hs.reason);
	ck_assert_msg(strstr(hs.reason, bc->reason) != NULL,
	    "case %d: reason \"%s\" lacks \"%s\"", _i, hs.reason, bc->reason);
	ck_assert_ptr_null(strchr(hs.reason, '\n'));
	ck_assert_uint_eq(used, len);
	/* Refused is refused. */
	ck_assert_int_eq(handshake_feed(&hs, "x", 1, &no_policy, &used), -1);
	handshake_free(&hs);

	ck_assert_int_eq(feed_bytes(&hs, bc->request, len, &no_policy), -1);
	ck_assert_int_eq(hs.status, bc->status);
	ck_assert_ptr_nonnull(strstr(hs.reason, bc->reason));
	handshake_free(&hs);

	check_prefixes(bc->request, len, &no_policy);
}
END_TEST

START_TEST(test_handshake_nul_byte)
{
	static const char req[] = "GET / HTTP/1.1\r\n" REST "X: a\0b\r\n\r\n";
	struct handshake  hs;
	size_t            used;

	ck_assert_int_eq(feed_whole(&hs, LIT(req), &no_policy, &used), -1);
	ck_assert_int_eq(hs.status, 400);
	handshake_free(&hs);
	ck_assert_int_eq(feed_bytes(&hs, LIT(req), &no_policy), -1);
	ck_assert_int_eq(hs.status, 400);
	handshake_free(&hs);
}
END_TEST

/* Builds a request whose head is exactly size bytes. */
static char *
sized_request(size_t size)
{
	static const char start[] = "GET / HTTP/1.1\r\n" REST "X-Pad: ";
	char             *req = malloc(size + 1);
	size_t            pad;

	ck_assert_ptr_nonnull(req);
	ck_assert_uint_ge(size, sizeof start - 1 + 4);
	pad = size - (sizeof start - 1) - 4;
	memcpy(req, start, sizeof start - 1);
	memset(req + sizeof start - 1, 'p', pad);
	memcpy(req + size - 4, "\r\n\r\n", 4);
	req[size] = '\0';
	return req;
}

START_TEST(test_handshake_head_limit)
{
	struct handshake hs;
	char            *req;
	size_t           used;

	/* Exactly the limit is fine, whole and byte by byte. */
	req = sized_request(HANDSHAKE_HEAD_MAX);
	ck_assert_int_eq(
	    feed_whole(&hs, req, HANDSHAKE_HEAD_MAX, &no_policy, &used), 1);
	handshake_free(&hs);
	ck_assert_int_eq(
	    feed_bytes(&hs, req, HANDSHAKE_HEAD_MAX, &no_policy), 1);
	handshake_free(&hs);
	free(req);

	/* One byte more is refused as soon as the limit is reached. */
	req = sized_request(HANDSHAKE_HEAD_MAX + 1);
	ck_assert_int_eq(
	    feed_whole(&hs, req, HANDSHAKE_HEAD_MAX + 1, &no_policy, &used),
	    -1);
	ck_assert_int_eq(hs.status, 431);
	ck_assert_uint_eq(used, HANDSHAKE_HEAD_MAX);
	handshake_free(&hs);
	ck_assert_int_eq(
	    feed_bytes(&hs, req, HANDSHAKE_HEAD_MAX, &no_policy), -1);
	ck_assert_int_eq(hs.status, 431);
	ck_assert_uint_eq(hs.head.len, HANDSHAKE_HEAD_MAX);
	handshake_free(&hs);
	free(req);

	/* A stream of junk without a blank line. */
	req = malloc(100000);
	ck_assert_ptr_nonnull(req);
	memset(req, 'j', 100000);
	ck_assert_int_eq(feed_whole(&hs, req, 100000, &no_policy, &used), -1);
	ck_assert_int_eq(hs.status, 431);
	ck_assert_str_eq(hs.reason, "request header larger than 8192 bytes");
	handshake_free(&hs);
	free(req);
}
END_TEST

START_TEST(test_handshake_origin_default_rule)
{
	static const struct {
		const char *origin;
		int         allowed;
	} cases[] = {
	    {NULL, 1},
	    {"http://localhost", 1},
	    {"http://localhost:3000", 1},
	    {"https://LOCALHOST:8443", 1},
	    {"http://127.0.0.1", 1},
	    {"http://127.0.0.1:8131", 1},
	    {"http://127.255.0.9:1", 1},
	    {"https://[::1]", 1},
	    {"http://[::1]:8131", 1},
	    {"http://[0:0:0:0:0:0:0:1]:8131", 1},
	    /* Not loopback: DNS rebinding makes a name point anywhere. */
	    {"http://rebind.attacker.example", 0},
	    {"http://rebind.attacker.example:8131", 0},
	    {"http://example.com", 0},
	    {"http://localhost.attacker.example", 0},
	    {"http://localhostx", 0},
	    {"http://127.0.0.1.attacker.example", 0},
	    {"http://128.0.0.1", 0},
	    {"http://126.255.255.255", 0},
	    {"http://10.0.0.1", 0},
	    {"http://0.0.0.0", 0},
	    {"http://127.1", 0},
	    {"http://[::2]", 0},
	    {"http://[::ffff:127.0.0.1]", 0},
	    {"http://[::1", 0},
	    {"null", 0},
	    {"localhost", 0},
	    {"http://localhost/", 0},
	    {"http://localhost:99999", 0},
	    {"", 0},
	    {"http://", 0},
	};
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
		ck_assert_msg(handshake_origin_allowed(&no_policy,
		                  cases[i].origin) == cases[i].allowed,
		    "origin %s: wanted %d", cases[i].origin, cases[i].allowed);
	/* A NULL policy is the default rule too. */
	ck_assert(handshake_origin_allowed(NULL, "http://127.0.0.1:80"));
	ck_assert(!handshake_origin_allowed(NULL, "http://h"));
}
END_TEST

START_TEST(test_handshake_origin_list)
{
	static const char *const list[] = {
	    "https://app.example.com", "http://localhost:3000/", "null"};
	static const char *const star[] = {"https://a.example", "*"};
	struct handshake_policy  policy = {list, 3, NULL, NULL, NULL},
	                        any = {star, 2, NULL, NULL, NULL};

	ck_assert(handshake_origin_allowed(&policy, "https://app.example.com"));
	ck_assert(
	    handshake_origin_allowed(&policy, "https://APP.example.com:443"));
	ck_assert(handshake_origin_allowed(&policy, "http://localhost:3000"));
	ck_assert(handshake_origin_allowed(&policy, "null"));
	ck_assert(handshake_origin_allowed(&policy, NULL));
	ck_assert(!handshake_origin_allowed(&policy, "http://app.example.com"));
	ck_assert(
	    !handshake_origin_allowed(&policy, "https://app.example.com:8443"));
	ck_assert(!handshake_origin_allowed(&policy, "http://localhost:3001"));
	ck_assert(!handshake_origin_allowed(&policy, "http://localhost"));
	/* With a list, the loopback default no longer applies. */
	ck_assert(!handshake_origin_allowed(&policy, "http://h"));
	ck_assert(handshake_origin_allowed(&any, "http://anything.example"));
	ck_assert(handshake_origin_allowed(&any, "null"));
}
END_TEST

START_TEST(test_handshake_origin_in_request)
{
	static const char req[] = "GET /?channel=a HTTP/1.1\r\n" REST
	                          "Origin: https://app.example.com\r\n\r\n";
	static const char *const list[] = {"https://app.example.com"};
	static const char *const other[] = {"https://other.example.com"};
	struct handshake_policy  allow = {list, 1, NULL, NULL, NULL},
	                        deny = {other, 1, NULL, NULL, NULL};
	struct handshake hs;
	size_t           used;

	ck_assert_int_eq(feed_whole(&hs, LIT(req), &allow, &used), 1);
	ck_assert_str_eq(hs.origin, "https://app.example.com");
	handshake_free(&hs);
	ck_assert_int_eq(feed_whole(&hs, LIT(req), &deny, &used), -1);
	ck_assert_int_eq(hs.status, 403);
	handshake_free(&hs);
	/* The default rule: app.example.com is not a loopback name. */
	ck_assert_int_eq(feed_whole(&hs, LIT(req), &no_policy, &used), -1);
	ck_assert_int_eq(hs.status, 403);
	handshake_free(&hs);
	ck_assert_int_eq(feed_bytes(&hs, LIT(req), &allow), 1);
	handshake_free(&hs);
	check_prefixes(LIT(req), &allow);
}
END_TEST

START_TEST(test_handshake_backlog_query)
{
	static const char req[] = "GET /a/b/c?channel=x,y&backlog=5&other=1 "
	                          "HTTP/1.1\r\n" REST "\r\n";
	struct handshake  hs;
	size_t            used;

	ck_assert_int_eq(feed_whole(&hs, LIT(req), &no_policy, &used), 1);
	ck_assert_str_eq(hs.target, "/a/b/c?channel=x,y&backlog=5&other=1");
	ck_assert_uint_eq(hs.query.nchannels, 2);
	ck_assert_int_eq(hs.query.has_backlog, 1);
	ck_assert_int_eq(hs.query.backlog, 5);
	ck_assert_int_eq(hs.query.has_last_id, 0);
	handshake_free(&hs);
}
END_TEST

/* Appends a NUL to out and returns its text. */
static const char *
text(struct buf *out)
{
	buf_append(out, "", 1);
	return out->data;
}

START_TEST(test_handshake_accept_response)
{
	struct buf out = {0};

	ck_assert_int_eq(handshake_accept_response(&out, GOOD_ACCEPT), 0);
	ck_assert_str_eq(text(&out),
	    "HTTP/1.1 101 Switching Protocols\r\n"
	    "Upgrade: websocket\r\n"
	    "Connection: Upgrade\r\n"
	    "Sec-WebSocket-Accept: " GOOD_ACCEPT "\r\n\r\n");
	buf_free(&out);
}
END_TEST

START_TEST(test_handshake_error_responses)
{
	struct buf out = {0};

	ck_assert_int_eq(
	    handshake_error_response(&out, 400, NULL, "missing Host header"),
	    0);
	ck_assert_str_eq(text(&out),
	    "HTTP/1.1 400 Bad Request\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Length: 20\r\n"
	    "Connection: close\r\n"
	    "\r\n"
	    "missing Host header\n");
	buf_free(&out);

	ck_assert_int_eq(handshake_error_response(&out, 426, NULL, "v"), 0);
	ck_assert_str_eq(text(&out),
	    "HTTP/1.1 426 Upgrade Required\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Length: 2\r\n"
	    "Connection: close\r\n"
	    "Sec-WebSocket-Version: 13\r\n"
	    "Upgrade: websocket\r\n"
	    "\r\n"
	    "v\n");
	buf_free(&out);

	ck_assert_int_eq(
	    handshake_error_response(&out, 503, "Retry-After: 5", "full"), 0);
	ck_assert_str_eq(text(&out),
	    "HTTP/1.1 503 Service Unavailable\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Length: 5\r\n"
	    "Connection: close\r\n"
	    "Retry-After: 5\r\n"
	    "\r\n"
	    "full\n");
	buf_free(&out);

	ck_assert_int_eq(handshake_error_response(&out, 403, NULL, "o"), 0);
	ck_assert_ptr_nonnull(strstr(text(&out), "HTTP/1.1 403 Forbidden\r\n"));
	buf_free(&out);
	ck_assert_int_eq(handshake_error_response(&out, 431, NULL, "o"), 0);
	ck_assert_ptr_nonnull(strstr(
	    text(&out), "HTTP/1.1 431 Request Header Fields Too Large\r\n"));
	buf_free(&out);
	ck_assert_int_eq(handshake_error_response(&out, 408, NULL, "o"), 0);
	ck_assert_ptr_nonnull(
	    strstr(text(&out), "HTTP/1.1 408 Request Timeout\r\n"));
	buf_free(&out);
}
END_TEST

START_TEST(test_handshake_reason_quoting)
{
	static const char req[] =
	    "GET / HTTP/1.1\r\n" REST
	    "Origin: http://\"q\"\\\xC3\xA9xxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n\r\n";
	struct handshake hs;
	size_t           used, i;

	ck_assert_int_eq(feed_whole(&hs, LIT(req), &no_policy, &used), -1);
	ck_assert_int_eq(hs.status, 403);
	ck_assert_ptr_nonnull(
	    strstr(hs.reason, "http://\\\"q\\\"\\\\\\xC3\\xA9x"));
	ck_assert_ptr_nonnull(strstr(hs.reason, "...\" is not allowed"));
	for (i = 0; hs.reason[i] != '\0'; i++)
		ck_assert(hs.reason[i] >= 0x20 && hs.reason[i] < 0x7F);
	handshake_free(&hs);
}
END_TEST

/* Builds the suite: one case per concern. */
static Suite *
check_handshake_suite(void)
{
	Suite *s = suite_create("handshake");
	TCase *tc;

	tc = tcase_create("crypto");
	tcase_add_test(tc, test_handshake_accept_key_rfc);
	tcase_add_test(tc, test_handshake_key_valid);
	suite_add_tcase(s, tc);

	tc = tcase_create("core");
	tcase_add_test(tc, test_handshake_good_whole);
	tcase_add_test(tc, test_handshake_minimal_and_variants);
	tcase_add_test(tc, test_handshake_backlog_query);
	tcase_add_test(tc, test_handshake_accept_response);
	tcase_add_test(tc, test_handshake_error_responses);
	suite_add_tcase(s, tc);

	tc = tcase_create("partial input");
	tcase_add_test(tc, test_handshake_good_bytes);
	tcase_add_test(tc, test_handshake_good_prefixes);
	tcase_add_test(tc, test_handshake_good_split_everywhere);
	tcase_add_test(tc, test_handshake_frames_after_head);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_loop_test(tc, test_handshake_bad, 0,
	    (int)(sizeof bad_cases / sizeof bad_cases[0]));
	tcase_add_test(tc, test_handshake_nul_byte);
	tcase_add_test(tc, test_handshake_reason_quoting);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);

	tc = tcase_create("limits");
	tcase_add_test(tc, test_handshake_head_limit);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);

	tc = tcase_create("origin");
	tcase_add_test(tc, test_handshake_origin_default_rule);
	tcase_add_test(tc, test_handshake_origin_list);
	tcase_add_test(tc, test_handshake_origin_in_request);
	tcase_add_test(tc, test_handshake_user_header);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(check_handshake_suite());
	int      failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
