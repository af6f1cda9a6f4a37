/* check_envelope.c: unit tests of the JSON envelopes of litepush-ws. */
#include "config.h"

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "access.h"
#include "envelope.h"
#include "grant.h"
#include "publish.h"
#include "store.h"

/*
 * The encoder's output is read back with jansson, a real JSON parser: what
 * comes back must be exactly the input with ill-formed UTF-8 replaced, as
 * buf_append_utf8() (the reference the SSE encoder is tested against)
 * replaces it.  Random inputs are drawn from bytes that matter: ASCII,
 * quotes, backslashes, control characters, lead and continuation bytes.
 */

/* A string literal and its length, NUL bytes included. */
#define LIT(s) (s), (sizeof(s) - 1)

/* U+FFFD in UTF-8. */
#define R "\xEF\xBF\xBD"

/* Fails the test when cond is false, without recording anything else. */
#define REQUIRE(cond)                                                          \
	do {                                                                   \
		if (!(cond))                                                   \
			ck_abort_msg("line %d: %s", __LINE__, #cond);          \
	} while (0)

/* Returns the encoder's output for data as a NUL-terminated string in out. */
static const char *
encode(struct buf *out, const char *data, size_t len)
{
	out->len = out->off = 0;
	REQUIRE(envelope_json_string(out, data, len) == 0);
	REQUIRE(buf_append(out, "", 1) == 0);
	out->len--;
	return out->data;
}

/*
 * Encodes data, parses the result with jansson and checks that it is what
 * buf_append_utf8() makes of data, and that the output is plain: no raw
 * control characters, no raw U+2028/U+2029.
 */
static void
check_round_trip(const char *data, size_t len)
{
	struct buf   out = {0}, want = {0};
	json_error_t error;
	json_t      *value;
	size_t       i;

	encode(&out, data, len);
	value = json_loadb(
	    out.data, out.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &error);
	if (value == NULL)
		ck_abort_msg("jansson refused the output: %s", error.text);
	REQUIRE(json_is_string(value));
	REQUIRE(buf_append_utf8(&want, data, len) == 0);
	REQUIRE(json_string_length(value) == want.len);
	REQUIRE(want.len == 0 ||
	        memcmp(json_string_value(value), want.data, want.len) == 0);
	for (i = 0; i < out.len; i++) {
		REQUIRE((unsigned char)out.data[i] >= 0x20);
		if (i + 2 < out.len)
			REQUIRE(!((unsigned char)out.data[i] == 0xE2 &&
			          (unsigned char)out.data[i + 1] == 0x80 &&
			          ((unsigned char)out.data[i + 2] == 0xA8 ||
			              (unsigned char)out.data[i + 2] == 0xA9)));
	}
	json_decref(value);
	buf_free(&out);
	buf_free(&want);
}

START_TEST(test_envelope_string_exact)
{
	static const struct {
		const char *in;
		size_t      len;
		const char *out;
	} cases[] = {
	    {LIT(""), "\"\""},
	    {LIT("hello"), "\"hello\""},
	    {LIT("a\"b\\c/d"), "\"a\\\"b\\\\c/d\""},
	    {LIT("\n\r\t\b\f"), "\"\\n\\r\\t\\b\\f\""},
	    {LIT("\x01\x1f\x7f"), "\"\\u0001\\u001f\x7f\""},
	    {LIT("a\0b"), "\"a\\u0000b\""},
	    {LIT("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"),
	        "\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\""},
	    {LIT("\xE2\x80\xA8|\xE2\x80\xA9|\xE2\x80\xAA"),
	        "\"\\u2028|\\u2029|\xE2\x80\xAA\""},
	    /* Ill-formed: one U+FFFD per maximal subpart (WHATWG). */
	    {LIT("\xFF"), "\"" R "\""},
	    {LIT("a\x80z"), "\"a" R "z\""},
	    {LIT("\xC3"), "\"" R "\""},
	    {LIT("\xC3z"), "\"" R "z\""},
	    {LIT("\xE2\x82"), "\"" R "\""},
	    {LIT("\xE2\x82z"), "\"" R "z\""},
	    {LIT("\xC0\xAF"), "\"" R R "\""},
	    {LIT("\xED\xA0\x80"), "\"" R R R "\""},
	    {LIT("\xF4\x90\x80\x80"), "\"" R R R R "\""},
	    {LIT("\xF0\x9F\x98"), "\"" R "\""},
	    {LIT("\xF0\x9F\x98\""), "\"" R "\\\"\""},
	    {LIT("\xE2\x80\n"), "\"" R "\\n\""},
	};
	struct buf out = {0};
	size_t     i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
		ck_assert_msg(strcmp(encode(&out, cases[i].in, cases[i].len),
		                  cases[i].out) == 0,
		    "case %zu: got %s", i, out.data);
	buf_free(&out);
}
END_TEST

START_TEST(test_envelope_string_round_trip_cases)
{
	static const char *const cases[] = {"", "plain", "\"\\\"\\",
	    "line\nline\r\n", "\xE2\x80\xA8\xE2\x80\xA9", "\xC3\xA9\xFF\xFE",
	    "\xF0\x90\x80\x80\xF4\x8F\xBF\xBF", "\xED\x9F\xBF\xEE\x80\x80"};
	char                     all[32];
	size_t                   i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
		check_round_trip(cases[i], strlen(cases[i]));
	/* Every byte value alone, and every control character. */
	for (i = 0; i < 256; i++) {
		char c = (char)i;

		check_round_trip(&c, 1);
	}
	for (i = 0; i < sizeof all; i++)
		all[i] = (char)i;
	check_round_trip(all, sizeof all);
}
END_TEST

START_TEST(test_envelope_string_round_trip_random)
{
	static const unsigned char pool[] = {'a', 'z', ' ', '"', '\\', '/',
	    '\n', '\r', '\t', 0x00, 0x01, 0x1F, 0x7F, 0x80, 0x8F, 0x90, 0x9F,
	    0xA0, 0xA8, 0xA9, 0xBF, 0xC0, 0xC2, 0xDF, 0xE0, 0xE2, 0xED, 0xEF,
	    0xF0, 0xF4, 0xF5, 0xFF};
	unsigned char              data[64];
	uint64_t                   x = 0x9E3779B97F4A7C15u;
	int                        round;

	for (round = 0; round < 100000; round++) {
		size_t len, i;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		len = (size_t)(x % sizeof data);
		for (i = 0; i < len; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			data[i] = pool[x % sizeof pool];
		}
		check_round_trip((const char *)data, len);
	}
}
END_TEST

START_TEST(test_envelope_string_large)
{
	size_t len = 1 << 20, i;
	char  *data = malloc(len);

	ck_assert_ptr_nonnull(data);
	for (i = 0; i < len; i++)
		data[i] = (char)(i % 7 == 0 ? '"' : 'a' + i % 26);
	check_round_trip(data, len);
	free(data);
}
END_TEST

/* Encodes ev (sent by sender, NULL for nobody) as a string in out. */
static const char *
encode_event_by(struct buf *out, int64_t id, const char *channel,
    const char *event, const char *sender, const char *data, size_t data_len)
{
	struct store_event ev = {.id = id,
	    .channel = channel,
	    .event = event,
	    .sender = sender,
	    .data = data,
	    .data_len = data_len};

	out->len = out->off = 0;
	REQUIRE(envelope_encode_event(out, &ev) == 0);
	REQUIRE(buf_append(out, "", 1) == 0);
	out->len--;
	return out->data;
}

/* Encodes an event of no recorded sender. */
static const char *
encode_event(struct buf *out, int64_t id, const char *channel,
    const char *event, const char *data, size_t data_len)
{
	return encode_event_by(out, id, channel, event, NULL, data, data_len);
}

/* The sender goes in "user", escaped like any string; absent without one. */
START_TEST(test_envelope_event_user)
{
	struct buf out = {0};

	ck_assert_str_eq(
	    encode_event_by(&out, 5, "chat", "msg", "alice", LIT("hi")),
	    "{\"id\":5,\"channel\":\"chat\",\"event\":\"msg\","
	    "\"user\":\"alice\",\"data\":\"hi\"}");
	ck_assert_str_eq(
	    encode_event_by(&out, 6, "chat", NULL, "a\"b\\c", LIT("")),
	    "{\"id\":6,\"channel\":\"chat\",\"event\":null,"
	    "\"user\":\"a\\\"b\\\\c\",\"data\":\"\"}");
	buf_free(&out);
}
END_TEST

START_TEST(test_envelope_event_exact)
{
	struct buf out = {0};

	ck_assert_str_eq(encode_event(&out, 42, "news", "add", LIT("hello")),
	    "{\"id\":42,\"channel\":\"news\",\"event\":\"add\",\"data\":"
	    "\"hello\"}");
	ck_assert_str_eq(encode_event(&out, 1, "a", NULL, LIT("")),
	    "{\"id\":1,\"channel\":\"a\",\"event\":null,\"data\":\"\"}");
	ck_assert_str_eq(
	    encode_event(&out, INT64_MAX, "a.b:c-d_e", "x", LIT("l1\nl2")),
	    "{\"id\":9223372036854775807,\"channel\":\"a.b:c-d_e\","
	    "\"event\":\"x\",\"data\":\"l1\\nl2\"}");
	/* Data that is not NUL-terminated is read to its length only. */
	ck_assert_str_eq(encode_event(&out, 7, "c", NULL, "abcdef", 3),
	    "{\"id\":7,\"channel\":\"c\",\"event\":null,\"data\":\"abc\"}");
	buf_free(&out);
}
END_TEST

START_TEST(test_envelope_event_parsed)
{
	static const char data[] =
	    "quote\" back\\ nul\0 ctl\x01 ls\xE2\x80\xA8 "
	    "bad\xFF\xC3 end";
	struct buf   out = {0}, want = {0};
	json_error_t error;
	json_t      *root;

	encode_event(&out, 123456789012345, "chat", "msg", LIT(data));
	root = json_loadb(out.data, out.len, JSON_ALLOW_NUL, &error);
	ck_assert_msg(root != NULL, "%s", error.text);
	ck_assert_uint_eq(json_object_size(root), 4);
	ck_assert(json_is_integer(json_object_get(root, "id")));
	ck_assert_int_eq(
	    json_integer_value(json_object_get(root, "id")), 123456789012345);
	ck_assert_str_eq(
	    json_string_value(json_object_get(root, "channel")), "chat");
	ck_assert_str_eq(
	    json_string_value(json_object_get(root, "event")), "msg");
	ck_assert_int_eq(buf_append_utf8(&want, LIT(data)), 0);
	ck_assert_uint_eq(
	    json_string_length(json_object_get(root, "data")), want.len);
	ck_assert_mem_eq(json_string_value(json_object_get(root, "data")),
	    want.data, want.len);
	json_decref(root);

	encode_event(&out, 5, "c", NULL, LIT("x"));
	root = json_loads(out.data, 0, &error);
	ck_assert_ptr_nonnull(root);
	ck_assert(json_is_null(json_object_get(root, "event")));
	json_decref(root);
	buf_free(&out);
	buf_free(&want);
}
END_TEST

START_TEST(test_envelope_replies)
{
	struct buf   out = {0};
	json_error_t error;
	json_t      *root;

	ck_assert_int_eq(envelope_encode_ack(&out, 42), 0);
	ck_assert_uint_eq(out.len, 10);
	ck_assert_mem_eq(out.data, "{\"ack\":42}", 10);
	buf_free(&out);

	ck_assert_int_eq(envelope_encode_position(&out, 9007199254740991), 0);
	buf_append(&out, "", 1);
	ck_assert_str_eq(out.data, "{\"position\":9007199254740991}");
	buf_free(&out);

	ck_assert_int_eq(envelope_encode_error(&out, "bad \"x\"\n"), 0);
	buf_append(&out, "", 1);
	ck_assert_str_eq(out.data, "{\"error\":\"bad \\\"x\\\"\\n\"}");
	root = json_loads(out.data, 0, &error);
	ck_assert_ptr_nonnull(root);
	ck_assert_str_eq(
	    json_string_value(json_object_get(root, "error")), "bad \"x\"\n");
	json_decref(root);
	buf_free(&out);
}
END_TEST

START_TEST(test_envelope_parse_good)
{
	struct envelope_publish pub;
	char                    reason[ENVELOPE_REASON_MAX];

	ck_assert_int_eq(envelope_parse_publish(
	                     LIT("{\"channel\":\"chat\",\"event\":\"msg\","
	                         "\"data\":\"hi\"}"),
	                     &pub, reason, sizeof reason),
	    0);
	ck_assert_str_eq(pub.channel, "chat");
	ck_assert_str_eq(pub.event, "msg");
	ck_assert_uint_eq(pub.data_len, 2);
	ck_assert_mem_eq(pub.data, "hi", 2);
	ck_assert_str_eq(reason, "");
	envelope_publish_free(&pub);
	ck_assert_ptr_null(pub.json);
	envelope_publish_free(&pub); /* a freed one is zeroed: harmless */

	/* No event; null event; other members; blanks; order. */
	ck_assert_int_eq(envelope_parse_publish(
	                     LIT(" { \"data\" : \"\" , \"channel\" : \"a\" } "),
	                     &pub, reason, sizeof reason),
	    0);
	ck_assert_ptr_null(pub.event);
	ck_assert_uint_eq(pub.data_len, 0);
	envelope_publish_free(&pub);
	ck_assert_int_eq(
	    envelope_parse_publish(
	        LIT("{\"channel\":\"a\",\"event\":null,\"data\":\"x\","
	            "\"id\":5,\"extra\":[1,2]}"),
	        &pub, reason, sizeof reason),
	    0);
	ck_assert_ptr_null(pub.event);
	envelope_publish_free(&pub);

	/* Escapes and NUL in data; the longest event name and channel. */
	ck_assert_int_eq(
	    envelope_parse_publish(
	        LIT("{\"channel\":\"0123456789012345678901234567890123"
	            "456789012345678901234567890123\",\"event\":\"01234"
	            "56789012345678901234567890123456789012345678901234"
	            "567890123\",\"data\":\"a\\u0000b\\n\\u00e9\\ud83d"
	            "\\ude00\"}"),
	        &pub, reason, sizeof reason),
	    0);
	ck_assert_uint_eq(strlen(pub.channel), CHANNEL_MAX);
	ck_assert_uint_eq(strlen(pub.event), STORE_EVENT_MAX);
	ck_assert_uint_eq(pub.data_len, 10);
	ck_assert_mem_eq(pub.data, "a\0b\n\xC3\xA9\xF0\x9F\x98\x80", 10);
	envelope_publish_free(&pub);
}
END_TEST

struct bad_message {
	const char *msg;
	const char *reason; /* a part of the reason */
};

static const struct bad_message bad_messages[] = {
    {"", "not JSON"},
    {"hello", "not JSON"},
    {"{", "not JSON"},
    {"{\"channel\":\"a\",\"data\":\"b\"", "not JSON"},
    {"{\"channel\":\"a\",\"data\":\"b\"} x", "not JSON"},
    {"{\"channel\":\"a\",\"data\":\"b\"}{}", "not JSON"},
    {"{\"channel\":\"a\",\"data\":\"\\ud800\"}", "not JSON"},
    {"{\"channel\":\"a\",\"data\":\"b\",\"data\":\"c\"}", "not JSON"},
    {"{'channel':'a'}", "not JSON"},
    {"[]", "got an array"},
    {"\"text\"", "got a string"},
    {"42", "got a number"},
    {"null", "got null"},
    {"true", "got a boolean"},
    {"{}", "\"channel\" must be a string and is missing"},
    {"{\"data\":\"x\"}", "\"channel\" must be a string and is missing"},
    {"{\"channel\":5,\"data\":\"x\"}", "\"channel\" must be a string"},
    {"{\"channel\":null,\"data\":\"x\"}", "\"channel\" must be a string"},
    {"{\"channel\":\"\",\"data\":\"x\"}", "bad channel"},
    {"{\"channel\":\"a b\",\"data\":\"x\"}", "bad channel"},
    {"{\"channel\":\"a\\u0000\",\"data\":\"x\"}", "bad channel"},
    {"{\"channel\":\"\\u00e9\",\"data\":\"x\"}", "bad channel"},
    {"{\"channel\":\"01234567890123456789012345678901234567890123456789012"
     "345678901234\",\"data\":\"x\"}",
        "bad channel"},
    {"{\"channel\":\"a\",\"event\":1,\"data\":\"x\"}",
        "\"event\" must be a string or null, got a number"},
    {"{\"channel\":\"a\",\"event\":{},\"data\":\"x\"}",
        "\"event\" must be a string or null, got an object"},
    {"{\"channel\":\"a\",\"event\":\"a\\nb\",\"data\":\"x\"}",
        "bad event name"},
    {"{\"channel\":\"a\",\"event\":\"a\\rb\",\"data\":\"x\"}",
        "bad event name"},
    {"{\"channel\":\"a\",\"event\":\"a\\u0000\",\"data\":\"x\"}",
        "bad event name"},
    {"{\"channel\":\"a\",\"event\":\"0123456789012345678901234567890123456"
     "7890123456789012345678901234\",\"data\":\"x\"}",
        "bad event name"},
    {"{\"channel\":\"a\"}", "\"data\" must be a string and is missing"},
    {"{\"channel\":\"a\",\"data\":5}", "\"data\" must be a string"},
    {"{\"channel\":\"a\",\"data\":null}", "\"data\" must be a string"},
    {"{\"channel\":\"a\",\"data\":{\"x\":1}}", "\"data\" must be a string"},
};

START_TEST(test_envelope_parse_bad)
{
	const struct bad_message *bm = &bad_messages[_i];
	struct envelope_publish   pub;
	char                      reason[ENVELOPE_REASON_MAX];

	memset(&pub, 0x55, sizeof pub);
	ck_assert_int_eq(envelope_parse_publish(bm->msg, strlen(bm->msg), &pub,
	                     reason, sizeof reason),
	    -1);
	ck_assert_msg(strstr(reason, bm->reason) != NULL,
	    "case %d: reason \"%s\" lacks \"%s\"", _i, reason, bm->reason);
	ck_assert_ptr_null(strchr(reason, '\n'));
	ck_assert_ptr_null(pub.json);
	ck_assert_ptr_null(pub.channel);
	envelope_publish_free(&pub);
	/* errbuf may be NULL. */
	ck_assert_int_eq(
	    envelope_parse_publish(bm->msg, strlen(bm->msg), &pub, NULL, 0),
	    -1);
}
END_TEST

START_TEST(test_envelope_parse_not_terminated)
{
	static const char msg[] = "{\"channel\":\"a\",\"data\":\"b\"}garbage";
	struct envelope_publish pub;

	/* The length decides, not a NUL. */
	ck_assert_int_eq(envelope_parse_publish(msg, 26, &pub, NULL, 0), 0);
	ck_assert_str_eq(pub.channel, "a");
	envelope_publish_free(&pub);
	ck_assert_int_eq(envelope_parse_publish(msg, 25, &pub, NULL, 0), -1);
}
END_TEST

/* Builds the suite: one case per concern. */
/* Judges one publish: 1 or 0, the reason in reason. */
static int
may_publish(const struct publish_rules *rules, const char *user,
    const struct grant *grant, const char *channel, char *reason)
{
	reason[0] = '\0';
	return publish_allowed(rules, user, grant, channel, reason, 128);
}

/* The publish policy: the --publish globs, and a reason when refused. */
START_TEST(test_publish_allowed)
{
	const char *const    globs[] = {"chat*", "news"};
	struct publish_rules rules = {globs, 2, NULL};
	char                 reason[128];

	ck_assert_int_eq(may_publish(&rules, NULL, NULL, "chat", reason), 1);
	ck_assert_int_eq(may_publish(&rules, NULL, NULL, "chat-42", reason), 1);
	ck_assert_int_eq(may_publish(&rules, NULL, NULL, "news", reason), 1);
	ck_assert_int_eq(may_publish(&rules, NULL, NULL, "newsy", reason), 0);
	ck_assert_str_eq(
	    reason, "publishing to channel \"newsy\" is not allowed");
	rules.npatterns = 0;
	ck_assert_int_eq(may_publish(&rules, NULL, NULL, "chat", reason), 0);
	ck_assert_str_eq(reason, "publishing is disabled on this server");
}
END_TEST

/* {user} in a --publish pattern is the login, literally. */
START_TEST(test_publish_allowed_user_pattern)
{
	const char *const    globs[] = {"inbox.{user}", "room.*.{user}.log"};
	struct publish_rules rules = {globs, 2, NULL};
	char                 reason[128];

	ck_assert_int_eq(
	    may_publish(&rules, "alice", NULL, "inbox.alice", reason), 1);
	ck_assert_int_eq(
	    may_publish(&rules, "alice", NULL, "room.7.alice.log", reason), 1);
	ck_assert_int_eq(
	    may_publish(&rules, "alice", NULL, "inbox.bob", reason), 0);
	ck_assert_str_eq(
	    reason, "publishing to channel \"inbox.bob\" is not allowed");
	/* Nobody logged in: a {user} pattern matches nothing. */
	ck_assert_int_eq(
	    may_publish(&rules, NULL, NULL, "inbox.alice", reason), 0);
	ck_assert_int_eq(may_publish(&rules, "", NULL, "inbox.", reason), 0);
	/* A login holding glob characters is no glob. */
	ck_assert_int_eq(
	    may_publish(&rules, "*", NULL, "inbox.bob", reason), 0);
	ck_assert_int_eq(
	    may_publish(&rules, "[a-z]", NULL, "inbox.b", reason), 0);
	ck_assert_int_eq(
	    may_publish(&rules, "a?", NULL, "inbox.ab", reason), 0);
	ck_assert_int_eq(
	    may_publish(&rules, "x\\", NULL, "inbox.x", reason), 0);
	ck_assert_int_eq(
	    may_publish(&rules, "a.b", NULL, "inbox.a.b", reason), 1);
}
END_TEST

/* The private rules bind publishing as they bind reading. */
START_TEST(test_publish_allowed_private)
{
	const char *const    globs[] = {"*"};
	const char *const    private_rules[] = {"user.{user}", "staff.*"};
	struct access_rules  access = {private_rules, 2, 0};
	struct publish_rules rules = {globs, 1, &access};
	char                 reason[128];

	ck_assert_int_eq(
	    may_publish(&rules, "alice", NULL, "user.alice", reason), 1);
	ck_assert_int_eq(
	    may_publish(&rules, "alice", NULL, "user.bob", reason), 0);
	ck_assert_str_eq(reason,
	    "channel \"user.bob\" does not take events from this login");
	ck_assert_int_eq(
	    may_publish(&rules, NULL, NULL, "user.alice", reason), 0);
	ck_assert_str_eq(
	    reason, "publishing to channel \"user.alice\" needs a login");
	ck_assert_int_eq(may_publish(&rules, NULL, NULL, "staff.x", reason), 0);
	ck_assert_int_eq(
	    may_publish(&rules, "carol", NULL, "staff.x", reason), 1);
	ck_assert_int_eq(may_publish(&rules, NULL, NULL, "lobby", reason), 1);
	access.require_login = 1;
	ck_assert_int_eq(may_publish(&rules, NULL, NULL, "lobby", reason), 0);
	ck_assert_str_eq(
	    reason, "publishing to channel \"lobby\" needs a login");
	ck_assert_int_eq(may_publish(&rules, "bob", NULL, "lobby", reason), 1);
}
END_TEST

/* A grant's publish list allows its channels, even with no --publish. */
START_TEST(test_publish_allowed_grant)
{
	const char *const    private_rules[] = {"room.{user}"};
	struct access_rules  access = {private_rules, 1, 1};
	struct publish_rules rules = {NULL, 0, &access};
	struct grant         grant = {0};
	char                 reason[128];

	grant.user = (char *)"alice";
	grant.publish[0] = (char *)"room.*";
	grant.publish[1] = (char *)"chat";
	grant.npublish = 2;
	ck_assert_int_eq(
	    may_publish(&rules, "alice", &grant, "room.bob", reason), 1);
	ck_assert_int_eq(
	    may_publish(&rules, "alice", &grant, "chat", reason), 1);
	ck_assert_int_eq(
	    may_publish(&rules, "alice", &grant, "chat2", reason), 0);
	ck_assert_str_eq(
	    reason, "publishing to channel \"chat2\" is not allowed");
	grant.npublish = 0;
	ck_assert_int_eq(
	    may_publish(&rules, "alice", &grant, "room.bob", reason), 0);
	ck_assert_str_eq(reason, "publishing is disabled on this server");
}
END_TEST

/* '{' and '}' only as {user}. */
START_TEST(test_publish_pattern_valid)
{
	char reason[128];

	ck_assert_int_eq(publish_pattern_valid("chat*", reason, 128), 0);
	ck_assert_int_eq(publish_pattern_valid("a.{user}.b", reason, 128), 0);
	ck_assert_int_eq(publish_pattern_valid("{user}{user}", reason, 128), 0);
	ck_assert_int_eq(publish_pattern_valid("a{b}", reason, 128), -1);
	ck_assert_str_eq(reason, "'{' only in {user}, the login of the client");
	ck_assert_int_eq(publish_pattern_valid("{user", reason, 128), -1);
	ck_assert_int_eq(publish_pattern_valid("user}", reason, 128), -1);
	ck_assert_str_eq(reason, "'}' only in {user}, the login of the client");
}
END_TEST

static Suite *
check_envelope_suite(void)
{
	Suite *s = suite_create("envelope");
	TCase *tc;

	tc = tcase_create("json string");
	tcase_add_test(tc, test_envelope_string_exact);
	tcase_add_test(tc, test_envelope_string_round_trip_cases);
	tcase_add_test(tc, test_envelope_string_round_trip_random);
	tcase_add_test(tc, test_envelope_string_large);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);

	tc = tcase_create("outbound");
	tcase_add_test(tc, test_envelope_event_exact);
	tcase_add_test(tc, test_envelope_event_user);
	tcase_add_test(tc, test_envelope_event_parsed);
	tcase_add_test(tc, test_envelope_replies);
	suite_add_tcase(s, tc);

	tc = tcase_create("inbound");
	tcase_add_test(tc, test_envelope_parse_good);
	tcase_add_loop_test(tc, test_envelope_parse_bad, 0,
	    (int)(sizeof bad_messages / sizeof bad_messages[0]));
	tcase_add_test(tc, test_envelope_parse_not_terminated);
	tcase_add_test(tc, test_publish_allowed);
	tcase_add_test(tc, test_publish_allowed_user_pattern);
	tcase_add_test(tc, test_publish_allowed_private);
	tcase_add_test(tc, test_publish_allowed_grant);
	tcase_add_test(tc, test_publish_pattern_valid);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(check_envelope_suite());
	int      failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
