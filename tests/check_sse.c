/* check_sse.c: unit tests for the output buffer and the SSE encoder. */
#include "config.h"

#include <check.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "sse.h"
#include "whatwg_sse.h"

/*
 * Besides exact bytes for each rule, the encoder is checked against a small
 * reference of what a browser does with the bytes (tests/whatwg_sse.c): the
 * WHATWG UTF-8 decoder (written as the spec's state machine, independently
 * of buf.c) and the HTML "event stream interpretation" parser.  Random
 * inputs must come back from that parser as exactly the event that was
 * encoded.
 */

/* What buf.c's compaction threshold is (BUF_COMPACT_MIN there). */
#define BUF_TEST_COMPACT_MIN 4096

/* U+FFFD in UTF-8, for building expected strings. */
#define R "\xEF\xBF\xBD"

/* A string literal and its length, NUL bytes included. */
#define LIT(s) (s), (sizeof(s) - 1)

/*
 * Fails the test when cond is false.  Unlike ck_assert() it records nothing
 * when cond holds (Check's mark point costs a write), so loops can use it.
 */
#define REQUIRE(cond)                                                          \
	do {                                                                   \
		if (!(cond))                                                   \
			ck_abort_msg("line %d: %s", __LINE__, #cond);          \
	} while (0)

/* Returns a printable, C-escaped copy of len bytes (static storage). */
static const char *
check_sse_escape(const char *data, size_t len)
{
	static char out[4][512];
	static int  which;
	char       *p;
	size_t      i, used = 0;

	which = (which + 1) % 4;
	p = out[which];
	for (i = 0; i < len && used + 8 < sizeof out[0]; i++) {
		unsigned char c = (unsigned char)data[i];

		if (c == '\n')
			used += (size_t)snprintf(p + used, 8, "\\n");
		else if (c == '\r')
			used += (size_t)snprintf(p + used, 8, "\\r");
		else if (c == '\\' || c == '"')
			used += (size_t)snprintf(p + used, 8, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			used += (size_t)snprintf(p + used, 8, "\\x%02X", c);
		else
			p[used++] = (char)c;
	}
	if (i < len)
		used += (size_t)snprintf(p + used, 8, "...");
	p[used] = '\0';
	return p;
}

/* Checks that the pending bytes of b are exactly expected. */
static void
check_sse_assert_bytes(const struct buf *b, const char *expected,
    size_t expected_len, const char *where, int line)
{
	size_t len = buf_pending_len(b);

	ck_assert_msg(
	    len == expected_len &&
	        (len == 0 || memcmp(buf_pending(b), expected, len) == 0),
	    "%s %d: Expected: \"%s\" (%zu bytes) But got: \"%s\" (%zu bytes)",
	    where, line, check_sse_escape(expected, expected_len), expected_len,
	    len != 0 ? check_sse_escape(buf_pending(b), len) : "", len);
}
#define ASSERT_BYTES(b, s) check_sse_assert_bytes((b), LIT(s), "line", __LINE__)

/* Returns the next number of a fixed-seed xorshift64* generator. */
static uint64_t
check_sse_random(uint64_t *state)
{
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return *state * UINT64_C(2685821657736338717);
}

/*
 * buf core
 */

/* A zeroed buffer is empty and stays without memory until data arrives. */
START_TEST(test_buf_zeroed_is_empty)
{
	struct buf b = {0};

	ck_assert_uint_eq(buf_pending_len(&b), 0);
	REQUIRE(buf_append(&b, "", 0) == 0);
	REQUIRE(buf_append(&b, NULL, 0) == 0);
	REQUIRE(buf_append_str(&b, "") == 0);
	ck_assert_int_eq(buf_append_utf8(&b, NULL, 0), 0);
	ck_assert_int_eq(buf_reserve(&b, 0), 0);
	buf_consume(&b, 0);
	buf_consume(&b, 10);
	/* Nothing to write is written without touching memory (UBSan). */
	ck_assert_ptr_null(buf_pending(&b));
	ck_assert_int_eq(buf_flush(&b, STDOUT_FILENO), 0);
	ck_assert_ptr_null(b.data);
	ck_assert_uint_eq(b.cap, 0);
	buf_free(&b);
	ck_assert_ptr_null(b.data);
}
END_TEST

/* Appends of all kinds land in order. */
START_TEST(test_buf_append)
{
	struct buf b = {0};

	REQUIRE(buf_append(&b, "ab", 2) == 0);
	REQUIRE(buf_append_str(&b, "cd") == 0);
	REQUIRE(buf_append(&b, "e\0f", 3) == 0);
	ck_assert_int_eq(buf_append_utf8(&b, LIT("\xC3\xA9")), 0);
	ASSERT_BYTES(&b, "abcde\0f\xC3\xA9");
	ck_assert_uint_le(b.len, b.cap);
	buf_free(&b);
}
END_TEST

/* Reserve makes room without changing content, and keeps what fits. */
START_TEST(test_buf_reserve)
{
	struct buf b = {0};
	char      *data;

	ck_assert_int_eq(buf_reserve(&b, 1000), 0);
	ck_assert_uint_ge(b.cap, 1000);
	ck_assert_uint_eq(b.len, 0);
	data = b.data;
	REQUIRE(buf_append(&b, "x", 1) == 0);
	ck_assert_int_eq(buf_reserve(&b, 999), 0);
	ck_assert_ptr_eq(b.data, data);
	ck_assert_int_eq(buf_reserve(&b, b.cap), 0);
	ck_assert_uint_ge(b.cap - b.len, 1000);
	ASSERT_BYTES(&b, "x");
	buf_free(&b);
}
END_TEST

/* Sizes that would wrap are refused, and the buffer is left as it was. */
START_TEST(test_buf_reserve_overflow)
{
	struct buf b = {0};
	size_t     cap;

	REQUIRE(buf_append_str(&b, "hello") == 0);
	cap = b.cap;
	ck_assert_int_eq(buf_reserve(&b, SIZE_MAX), -1);
	ck_assert_int_eq(buf_reserve(&b, SIZE_MAX - 4), -1);
	ck_assert_int_eq(buf_append(&b, "x", SIZE_MAX - 2), -1);
	ck_assert_uint_eq(b.cap, cap);
	ASSERT_BYTES(&b, "hello");
	buf_consume(&b, 2);
	ck_assert_int_eq(buf_reserve(&b, SIZE_MAX - 2), -1);
	ASSERT_BYTES(&b, "llo");
	buf_free(&b);
}
END_TEST

/* Growth is geometric: few reallocations, never much unused memory. */
START_TEST(test_buf_growth)
{
	struct buf b = {0};
	size_t     i, grows = 0, cap = 0;

	for (i = 0; i < 1000000; i++) {
		char c = (char)('a' + i % 26);

		REQUIRE(buf_append(&b, &c, 1) == 0);
		if (b.cap != cap) {
			grows++;
			cap = b.cap;
		}
		REQUIRE(b.cap >= b.len);
	}
	ck_assert_uint_le(grows, 20);
	ck_assert_uint_le(b.cap, 2 * b.len);
	for (i = 0; i < b.len; i++)
		REQUIRE(b.data[i] == (char)('a' + i % 26));
	buf_free(&b);
}
END_TEST

/* Consuming advances the front; consuming everything rewinds. */
START_TEST(test_buf_consume)
{
	struct buf b = {0};
	char      *data;
	size_t     cap;

	REQUIRE(buf_append_str(&b, "hello world") == 0);
	buf_consume(&b, 6);
	ASSERT_BYTES(&b, "world");
	buf_consume(&b, 0);
	ASSERT_BYTES(&b, "world");
	data = b.data;
	cap = b.cap;
	buf_consume(&b, 5);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_uint_eq(b.off, 0);
	ck_assert_ptr_eq(b.data, data);
	ck_assert_uint_eq(b.cap, cap);

	/* More than pending is all of it. */
	REQUIRE(buf_append_str(&b, "abc") == 0);
	buf_consume(&b, 1);
	buf_consume(&b, 100);
	ck_assert_uint_eq(buf_pending_len(&b), 0);
	ck_assert_uint_eq(b.off, 0);
	REQUIRE(buf_append_str(&b, "xyz") == 0);
	ASSERT_BYTES(&b, "xyz");
	buf_free(&b);
}
END_TEST

/* A stream that never drains fully still uses bounded memory. */
START_TEST(test_buf_compact)
{
	struct buf    b = {0};
	unsigned char chunk[1000];
	uint32_t      written = 0, read = 0;
	size_t        i, k;

	for (i = 0; i < 20000; i++) {
		for (k = 0; k < sizeof chunk; k++)
			chunk[k] = (unsigned char)(written++ % 251);
		REQUIRE(buf_append(&b, chunk, sizeof chunk) == 0);
		/* Write out a little less than came in, checking the order. */
		for (k = 0; k < 990; k++)
			REQUIRE(
			    (unsigned char)buf_pending(&b)[k] == read++ % 251);
		buf_consume(&b, 990);
	}
	ck_assert_uint_eq(buf_pending_len(&b), 20000 * 10);
	ck_assert_uint_le(b.cap, 1024 * 1024);
	/* The consumed front stays smaller than what is pending, or small. */
	ck_assert(b.off < BUF_TEST_COMPACT_MIN || b.off < buf_pending_len(&b));
	for (k = 0; k < buf_pending_len(&b); k++)
		REQUIRE((unsigned char)buf_pending(&b)[k] == read++ % 251);
	buf_free(&b);
}
END_TEST

/* Consuming most of a large buffer slides the rest down at once. */
START_TEST(test_buf_compact_on_consume)
{
	struct buf b = {0};
	char       big[3 * BUF_TEST_COMPACT_MIN];

	memset(big, 'x', sizeof big);
	big[sizeof big - 1] = 'y';
	REQUIRE(buf_append(&b, big, sizeof big) == 0);
	buf_consume(&b, BUF_TEST_COMPACT_MIN / 2);
	ck_assert_uint_eq(b.off, BUF_TEST_COMPACT_MIN / 2);
	buf_consume(&b, 2 * BUF_TEST_COMPACT_MIN);
	ck_assert_uint_eq(b.off, 0);
	ck_assert_uint_eq(b.len, BUF_TEST_COMPACT_MIN / 2);
	ck_assert_int_eq(b.data[0], 'x');
	ck_assert_int_eq(b.data[b.len - 1], 'y');
	buf_free(&b);
}
END_TEST

/* Reserving after a large consumed front reuses it instead of growing. */
START_TEST(test_buf_compact_on_reserve)
{
	struct buf b = {0};
	char       big[200];
	size_t     cap;

	memset(big, 'x', sizeof big);
	REQUIRE(buf_append(&b, big, sizeof big) == 0);
	REQUIRE(buf_append_str(&b, "tail") == 0);
	cap = b.cap;
	buf_consume(&b, sizeof big);
	ck_assert_int_eq(buf_reserve(&b, cap - 10), 0);
	ck_assert_uint_eq(b.cap, cap);
	ck_assert_uint_eq(b.off, 0);
	ASSERT_BYTES(&b, "tail");
	buf_free(&b);
}
END_TEST

/* printf formats into the room there is, or grows for longer output. */
/* A cleared buffer keeps small memory for reuse and frees a huge one. */
START_TEST(test_buf_clear)
{
	struct buf b = {0};
	char      *kept;

	REQUIRE(buf_append(&b, "abc", 3) == 0);
	buf_consume(&b, 1);
	kept = b.data;
	buf_clear(&b);
	ck_assert_uint_eq(buf_pending_len(&b), 0);
	ck_assert_ptr_eq(b.data, kept);
	REQUIRE(buf_append(&b, "xy", 2) == 0);
	ASSERT_BYTES(&b, "xy");

	REQUIRE(buf_reserve(&b, BUF_KEEP_MAX + 1) == 0);
	ck_assert_uint_gt(b.cap, BUF_KEEP_MAX);
	buf_clear(&b);
	ck_assert_ptr_null(b.data);
	ck_assert_uint_eq(b.cap, 0);
	ck_assert_uint_eq(buf_pending_len(&b), 0);
	REQUIRE(buf_append(&b, "z", 1) == 0);
	ASSERT_BYTES(&b, "z");
	buf_free(&b);
}
END_TEST

START_TEST(test_buf_printf)
{
	struct buf b = {0};
	char       long_arg[5000];

	REQUIRE(buf_printf(&b, "%s", "") == 0);
	ck_assert_uint_eq(buf_pending_len(&b), 0);
	REQUIRE(buf_printf(&b, "id: %" PRId64 "\n", INT64_MAX) == 0);
	REQUIRE(buf_printf(&b, "%d-%s-%c", -7, "x", 'y') == 0);
	ASSERT_BYTES(&b, "id: 9223372036854775807\n-7-x-y");
	buf_consume(&b, 4);

	memset(long_arg, 'z', sizeof long_arg - 1);
	long_arg[sizeof long_arg - 1] = '\0';
	REQUIRE(buf_printf(&b, "[%s]", long_arg) == 0);
	ck_assert_uint_eq(buf_pending_len(&b), 26 + 4999 + 2);
	ck_assert_int_eq(
	    memcmp(buf_pending(&b), "9223372036854775807\n-7-x-y[z", 28), 0);
	ck_assert_int_eq(buf_pending(&b)[buf_pending_len(&b) - 1], ']');
	buf_free(&b);

	/* Exactly filling the room needs one byte more for the NUL. */
	ck_assert_int_eq(buf_reserve(&b, 1), 0);
	memset(long_arg, 'q', b.cap);
	long_arg[b.cap] = '\0';
	REQUIRE(buf_printf(&b, "%s", long_arg) == 0);
	ck_assert_uint_eq(buf_pending_len(&b), strlen(long_arg));
	ck_assert_int_eq(
	    memcmp(buf_pending(&b), long_arg, strlen(long_arg)), 0);
	buf_free(&b);
}
END_TEST

/* Free gives the memory back and leaves a usable zeroed buffer. */
START_TEST(test_buf_free)
{
	struct buf b = {0};

	REQUIRE(buf_append_str(&b, "something") == 0);
	buf_consume(&b, 3);
	buf_free(&b);
	ck_assert_ptr_null(b.data);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_uint_eq(b.off, 0);
	ck_assert_uint_eq(b.cap, 0);
	buf_free(&b);
	REQUIRE(buf_append_str(&b, "again") == 0);
	ASSERT_BYTES(&b, "again");
	buf_free(&b);
}
END_TEST

/*
 * utf8
 */

/*
 * Ill-formed input and what the WHATWG decoder makes of it: one U+FFFD per
 * maximal subpart (Unicode 15 section 3.9, "U+FFFD Substitution of Maximal
 * Subparts", and the Encoding Standard's UTF-8 decoder).
 */
static const struct {
	const char *in;
	size_t      in_len;
	const char *out;
	size_t      out_len;
} check_sse_utf8_cases[] = {
    /* Well-formed input passes unchanged, NUL included. */
    {LIT(""), LIT("")},
    {LIT("plain ascii"), LIT("plain ascii")},
    {LIT("a\0b"), LIT("a\0b")},
    {LIT("\xC2\x80\xDF\xBF"), LIT("\xC2\x80\xDF\xBF")},
    {LIT("\xE0\xA0\x80\xED\x9F\xBF\xEE\x80\x80\xEF\xBF\xBF"),
        LIT("\xE0\xA0\x80\xED\x9F\xBF\xEE\x80\x80\xEF\xBF\xBF")},
    {LIT("\xF0\x90\x80\x80\xF4\x8F\xBF\xBF"),
        LIT("\xF0\x90\x80\x80\xF4\x8F\xBF\xBF")},
    {LIT("\xE2\x82\xAC \xF0\x9F\x98\x80"),
        LIT("\xE2\x82\xAC \xF0\x9F\x98\x80")},
    /* Bytes that never start a sequence. */
    {LIT("\x80"), LIT(R)},
    {LIT("\xBF\x80"), LIT(R R)},
    {LIT("\xFE"), LIT(R)},
    {LIT("\xFF"), LIT(R)},
    {LIT("a\xFF"
         "b"),
        LIT("a" R "b")},
    /* Overlongs: C0 and C1 are never leads; E0 and F0 restrict. */
    {LIT("\xC0\x80"), LIT(R R)},
    {LIT("\xC1\xBF"), LIT(R R)},
    {LIT("\xE0\x80\x80"), LIT(R R R)},
    {LIT("\xE0\x9F\xBF"), LIT(R R R)},
    {LIT("\xF0\x80\x80\x80"), LIT(R R R R)},
    {LIT("\xF0\x8F\xBF\xBF"), LIT(R R R R)},
    {LIT("\xF0\x80"), LIT(R R)},
    /* Surrogates, alone and as a CESU-8 pair. */
    {LIT("\xED\xA0\x80"), LIT(R R R)},
    {LIT("\xED\xBF\xBF"), LIT(R R R)},
    {LIT("\xED\xA0\xBD\xED\xB8\x80"), LIT(R R R R R R)},
    /* Beyond U+10FFFF, and the old 5- and 6-byte forms. */
    {LIT("\xF4\x90\x80\x80"), LIT(R R R R)},
    {LIT("\xF5\x80\x80\x80"), LIT(R R R R)},
    {LIT("\xF8\x88\x80\x80\x80"), LIT(R R R R R)},
    {LIT("\xFC\x84\x80\x80\x80\x80"), LIT(R R R R R R)},
    /* Truncated sequences: one U+FFFD for the whole subpart. */
    {LIT("\xC2"), LIT(R)},
    {LIT("\xE2\x82"), LIT(R)},
    {LIT("\xF0\x9F\x98"), LIT(R)},
    {LIT("\xE2\x82"
         "a"),
        LIT(R "a")},
    {LIT("\xF0\x9F\x98"
         "a"),
        LIT(R "a")},
    {LIT("\xC2\x41\x42"), LIT(R "AB")},
    {LIT("\xC2\xC2\xA9"), LIT(R "\xC2\xA9")},
    {LIT("\xE2\x82\xAC\xE2\x82"), LIT("\xE2\x82\xAC" R)},
    {LIT("\xF4\x8F\xBF"
         "\xF0\x9F\x98\x80"),
        LIT(R "\xF0\x9F\x98\x80")},
    {LIT("\xE1\x80\n"), LIT(R "\n")},
    /* The example of Unicode's Table 3-8. */
    {LIT("\x61\xF1\x80\x80\xE1\x80\xC2\x62\x80\x63\x80\xBF\x64"),
        LIT("a" R R R "b" R "c" R R "d")},
    /* The examples of Unicode's Tables 3-9 to 3-11. */
    {LIT("\xC0\xAF\xE0\x80\xBF\xF0\x81\x82\x41"), LIT(R R R R R R R R "A")},
    {LIT("\xED\xA0\x80\xED\xBF\xBF\xED\xAF\x41"), LIT(R R R R R R R R "A")},
    {LIT("\xF4\x91\x92\x93\xFF\x41\x80\xBF\x42"), LIT(R R R R R "A" R R "B")},
    {LIT("\xE1\x80\xE2\xF0\x91\x92\xF1\xBF\x41"), LIT(R R R R "A")},
};

/* Each table case gives exactly the expected bytes. */
START_TEST(test_buf_utf8_table)
{
	struct buf b = {0};
	size_t     i;

	for (i = 0;
	     i < sizeof check_sse_utf8_cases / sizeof check_sse_utf8_cases[0];
	     i++) {
		b.len = b.off = 0;
		ck_assert_int_eq(buf_append_utf8(&b, check_sse_utf8_cases[i].in,
		                     check_sse_utf8_cases[i].in_len),
		    0);
		check_sse_assert_bytes(&b, check_sse_utf8_cases[i].out,
		    check_sse_utf8_cases[i].out_len, "case", (int)i);
	}
	buf_free(&b);
}
END_TEST

/* The reference decoder agrees with the table, so it can judge the rest. */
START_TEST(test_buf_utf8_reference)
{
	struct buf b = {0};
	size_t     i;

	for (i = 0;
	     i < sizeof check_sse_utf8_cases / sizeof check_sse_utf8_cases[0];
	     i++) {
		b.len = b.off = 0;
		whatwg_sse_utf8_sanitise(&b, check_sse_utf8_cases[i].in,
		    check_sse_utf8_cases[i].in_len);
		check_sse_assert_bytes(&b, check_sse_utf8_cases[i].out,
		    check_sse_utf8_cases[i].out_len, "case", (int)i);
	}
	buf_free(&b);
}
END_TEST

/* Appends to b n random bytes, biased toward line ends and UTF-8. */
static void
check_sse_random_bytes(struct buf *b, uint64_t *state, size_t n, int no_nul)
{
	static const unsigned char leads[] = {0xC0, 0xC1, 0xC2, 0xDF, 0xE0,
	    0xE1, 0xED, 0xEF, 0xF0, 0xF1, 0xF4, 0xF5, 0xF8, 0xFF};
	static const char          special[] = " :\0";
	unsigned char              s[4];
	size_t                     i, k;

	for (i = 0; i < n; i++) {
		uint64_t r = check_sse_random(state);
		unsigned kind = (unsigned)(r % 100);

		r >>= 8;
		k = 1;
		if (kind < 12)
			s[0] = '\r';
		else if (kind < 24)
			s[0] = '\n';
		else if (kind < 36)
			s[0] = leads[r % sizeof leads];
		else if (kind < 50)
			s[0] = (unsigned char)(0x80 + r % 0x40);
		else if (kind < 62) {
			/* A well-formed sequence, so some text survives. */
			uint32_t c = (uint32_t)(r % 0x110000);

			if (c >= 0xD800 && c <= 0xDFFF)
				c = 0xFFFD;
			if (c < 0x80)
				c += 0x80;
			whatwg_sse_utf8_encode(b, &c, 1);
			continue;
		} else if (kind < 70)
			s[0] = (unsigned char)special[r % (no_nul ? 2 : 3)];
		else
			s[0] = (unsigned char)(0x20 + r % 0x5F);
		REQUIRE(buf_append(b, s, k) == 0);
	}
}

/* Random input is replaced exactly as the reference decoder does. */
START_TEST(test_buf_utf8_random)
{
	struct buf input = {0}, got = {0}, want = {0};
	uint64_t   state = 0x9E3779B97F4A7C15;
	size_t     i, len;

	for (i = 0; i < 10000; i++) {
		input.len = got.len = want.len = 0;
		len = check_sse_random(&state) % (i % 100 == 0 ? 2000 : 40);
		check_sse_random_bytes(&input, &state, len, 0);
		ck_assert_int_eq(
		    buf_append_utf8(&got, input.data, input.len), 0);
		whatwg_sse_utf8_sanitise(&want, input.data, input.len);
		ck_assert_msg(got.len == want.len &&
		                  (got.len == 0 || memcmp(got.data, want.data,
		                                       got.len) == 0),
		    "input \"%s\": Expected: \"%s\" But got: \"%s\"",
		    check_sse_escape(input.data, input.len),
		    check_sse_escape(want.data, want.len),
		    check_sse_escape(got.data, got.len));
		ck_assert(whatwg_sse_utf8_is_valid(got.data, got.len));
	}
	buf_free(&input);
	buf_free(&got);
	buf_free(&want);
}
END_TEST

/* Each call stands alone: a sequence split across calls is replaced. */
START_TEST(test_buf_utf8_split)
{
	struct buf b = {0};

	ck_assert_int_eq(buf_append_utf8(&b, LIT("x\xE2\x82")), 0);
	ck_assert_int_eq(buf_append_utf8(&b, LIT("\xAC")), 0);
	ASSERT_BYTES(&b, "x" R R);
	buf_free(&b);
}
END_TEST

/*
 * sse fields
 */

/* The id line, and the event line only when there is a name. */
START_TEST(test_sse_fields)
{
	struct buf b = {0};

	ck_assert_int_eq(sse_encode_event(&b, 42, "add", NULL, LIT("x")), 0);
	ASSERT_BYTES(&b, "id: 42\nevent: add\ndata: x\n\n");
	b.len = 0;
	ck_assert_int_eq(sse_encode_event(&b, 1, NULL, NULL, LIT("x")), 0);
	ASSERT_BYTES(&b, "id: 1\ndata: x\n\n");
	b.len = 0;
	ck_assert_int_eq(sse_encode_event(&b, 0, "", NULL, LIT("x")), 0);
	ASSERT_BYTES(&b, "id: 0\ndata: x\n\n");
	b.len = 0;
	ck_assert_int_eq(
	    sse_encode_event(&b, 7, " sp:ace ", NULL, LIT("x")), 0);
	ASSERT_BYTES(&b, "id: 7\nevent:  sp:ace \ndata: x\n\n");
	buf_free(&b);
}
END_TEST

/* Ids print as plain decimal across the whole int64_t range. */
START_TEST(test_sse_ids)
{
	struct buf b = {0};

	ck_assert_int_eq(
	    sse_encode_event(&b, INT64_MAX, NULL, NULL, LIT("")), 0);
	ASSERT_BYTES(&b, "id: 9223372036854775807\ndata: \n\n");
	b.len = 0;
	ck_assert_int_eq(sse_encode_event(&b, 1000000, NULL, NULL, LIT("")), 0);
	ASSERT_BYTES(&b, "id: 1000000\ndata: \n\n");
	b.len = 0;
	ck_assert_int_eq(sse_encode_event(&b, -5, NULL, NULL, LIT("")), 0);
	ASSERT_BYTES(&b, "id: -5\ndata: \n\n");
	b.len = 0;
	ck_assert_int_eq(
	    sse_encode_event(&b, INT64_MIN, NULL, NULL, LIT("")), 0);
	ASSERT_BYTES(&b, "id: -9223372036854775808\ndata: \n\n");
	buf_free(&b);
}
END_TEST

/* An event name with CR or LF is cut there; bad UTF-8 is replaced. */
START_TEST(test_sse_event_name_defended)
{
	struct buf b = {0};

	ck_assert_int_eq(sse_encode_event(&b, 1, "ab\ncd", NULL, LIT("x")), 0);
	ASSERT_BYTES(&b, "id: 1\nevent: ab\ndata: x\n\n");
	b.len = 0;
	ck_assert_int_eq(
	    sse_encode_event(&b, 1, "ab\rcd\n", NULL, LIT("x")), 0);
	ASSERT_BYTES(&b, "id: 1\nevent: ab\ndata: x\n\n");
	b.len = 0;
	ck_assert_int_eq(
	    sse_encode_event(&b, 1, "\ndata: evil", NULL, LIT("x")), 0);
	ASSERT_BYTES(&b, "id: 1\ndata: x\n\n");
	b.len = 0;
	ck_assert_int_eq(
	    sse_encode_event(&b, 1, "\xE2\x82\r", NULL, LIT("x")), 0);
	ASSERT_BYTES(&b, "id: 1\nevent: " R "\ndata: x\n\n");
	buf_free(&b);
}
END_TEST

/*
 * The sender's line comes after the name, before the data; it is left
 * out when there is none (or it is empty), and cut at a CR or LF so that
 * it can never start another field.
 */
START_TEST(test_sse_user_field)
{
	struct buf b = {0};

	ck_assert_int_eq(
	    sse_encode_event(&b, 42, "msg", "alice", LIT("hi")), 0);
	ASSERT_BYTES(&b, "id: 42\nevent: msg\nuser: alice\ndata: hi\n\n");
	b.len = 0;
	ck_assert_int_eq(sse_encode_event(&b, 1, NULL, "bob", LIT("x")), 0);
	ASSERT_BYTES(&b, "id: 1\nuser: bob\ndata: x\n\n");
	b.len = 0;
	ck_assert_int_eq(sse_encode_event(&b, 1, NULL, "", LIT("x")), 0);
	ASSERT_BYTES(&b, "id: 1\ndata: x\n\n");
	b.len = 0;
	ck_assert_int_eq(
	    sse_encode_event(&b, 1, NULL, "eve\ndata: forged", LIT("x")), 0);
	ASSERT_BYTES(&b, "id: 1\nuser: eve\ndata: x\n\n");
	b.len = 0;
	ck_assert_int_eq(
	    sse_encode_event(&b, 1, NULL, "\r\nid: 9", LIT("x")), 0);
	ASSERT_BYTES(&b, "id: 1\ndata: x\n\n");
	buf_free(&b);
}
END_TEST

/* retry, comment and pause give their exact bytes. */
START_TEST(test_sse_retry_comment_pause)
{
	struct buf b = {0};

	ck_assert_int_eq(sse_encode_retry(&b, 3000), 0);
	ASSERT_BYTES(&b, "retry: 3000\n\n");
	b.len = 0;
	ck_assert_int_eq(sse_encode_retry(&b, 0), 0);
	ck_assert_int_eq(sse_encode_retry(&b, -1), 0);
	ASSERT_BYTES(&b, "retry: 0\n\nretry: 0\n\n");
	b.len = 0;
	ck_assert_int_eq(sse_encode_comment(&b, "keepalive"), 0);
	ASSERT_BYTES(&b, ": keepalive\n\n");
	b.len = 0;
	ck_assert_int_eq(sse_encode_comment(&b, ""), 0);
	ck_assert_int_eq(sse_encode_comment(&b, NULL), 0);
	ck_assert_int_eq(sse_encode_comment(&b, "a\nb"), 0);
	ASSERT_BYTES(&b, ": \n\n: \n\n: a\n\n");
	b.len = 0;
	ck_assert_int_eq(sse_encode_pause(&b, INT64_C(1700000000123), 2734), 0);
	ASSERT_BYTES(&b, "retry: 2734\nevent: pause\ndata: 1700000000123\n\n");
	b.len = 0;
	ck_assert_int_eq(sse_encode_pause(&b, 5, -10), 0);
	ASSERT_BYTES(&b, "retry: 0\nevent: pause\ndata: 5\n\n");
	b.len = 0;
	ck_assert_int_eq(sse_encode_position(&b, 42), 0);
	ck_assert_int_eq(sse_encode_position(&b, 0), 0);
	ASSERT_BYTES(&b, "id: 42\n\nid: 0\n\n");
	b.len = 0;
	ck_assert_int_eq(
	    sse_encode_reset(&b, 91, INT64_C(9007199254740991)), 0);
	ASSERT_BYTES(&b, "event: reset\ndata: {\"oldest\":91,"
	                 "\"newest\":9007199254740991}\n\n");
	buf_free(&b);
}
END_TEST

/* What a browser makes of retry, comment and pause. */
START_TEST(test_sse_retry_comment_pause_parsed)
{
	struct buf               b = {0};
	struct whatwg_sse_parser p;

	ck_assert_int_eq(sse_encode_retry(&b, 2500), 0);
	ck_assert_int_eq(sse_encode_comment(&b, "keepalive"), 0);
	ck_assert_int_eq(sse_encode_event(&b, 9, NULL, NULL, LIT("hi")), 0);
	ck_assert_int_eq(sse_encode_pause(&b, 123456, 777), 0);
	whatwg_sse_parse(&p, b.data, b.len);
	ck_assert_int_eq(p.retry, 777);
	ck_assert_uint_eq(p.nevents, 2);
	ck_assert(whatwg_sse_equal(&p.events[0].type, LIT("message")));
	ck_assert(whatwg_sse_equal(&p.events[0].data, LIT("hi")));
	ck_assert(whatwg_sse_equal(&p.events[0].last_event_id, LIT("9")));
	ck_assert(whatwg_sse_equal(&p.events[1].type, LIT("pause")));
	ck_assert(whatwg_sse_equal(&p.events[1].data, LIT("123456")));
	ck_assert(whatwg_sse_equal(&p.events[1].last_event_id, LIT("9")));
	whatwg_sse_free(&p);
	buf_free(&b);
}
END_TEST

/*
 * The position sets the last event id without an event, and the reset
 * that follows it is an event that leaves the id alone.
 */
START_TEST(test_sse_position_reset_parsed)
{
	struct buf               b = {0};
	struct whatwg_sse_parser p;

	ck_assert_int_eq(sse_encode_retry(&b, 3000), 0);
	ck_assert_int_eq(sse_encode_position(&b, 20), 0);
	ck_assert_int_eq(sse_encode_reset(&b, 91, 100), 0);
	ck_assert_int_eq(sse_encode_event(&b, 91, "add", NULL, LIT("x")), 0);
	ck_assert_int_eq(sse_encode_position(&b, 95), 0);
	ck_assert_int_eq(sse_encode_pause(&b, 123456, 10), 0);
	whatwg_sse_parse(&p, b.data, b.len);
	ck_assert_uint_eq(p.nevents, 3);
	ck_assert(whatwg_sse_equal(&p.events[0].type, LIT("reset")));
	ck_assert(whatwg_sse_equal(
	    &p.events[0].data, LIT("{\"oldest\":91,\"newest\":100}")));
	ck_assert(whatwg_sse_equal(&p.events[0].last_event_id, LIT("20")));
	ck_assert(whatwg_sse_equal(&p.events[1].last_event_id, LIT("91")));
	ck_assert(whatwg_sse_equal(&p.events[2].type, LIT("pause")));
	ck_assert(whatwg_sse_equal(&p.events[2].last_event_id, LIT("95")));
	ck_assert_int_eq(p.retry, 10);
	whatwg_sse_free(&p);
	buf_free(&b);
}
END_TEST

/* Encoding appends after what is pending, consumed front or not. */
START_TEST(test_sse_appends)
{
	struct buf b = {0};

	REQUIRE(buf_append_str(&b, "before") == 0);
	buf_consume(&b, 2);
	ck_assert_int_eq(sse_encode_event(&b, 3, "e", NULL, LIT("d")), 0);
	ck_assert_int_eq(sse_encode_comment(&b, "c"), 0);
	ASSERT_BYTES(&b, "fore"
	                 "id: 3\nevent: e\ndata: d\n\n"
	                 ": c\n\n");
	buf_free(&b);
}
END_TEST

/*
 * sse data lines
 */

/* One "data: " line per line of data, for every kind of line end. */
static const struct {
	const char *in;
	size_t      in_len;
	const char *out;
	size_t      out_len;
} check_sse_data_cases[] = {
    {LIT(""), LIT("data: \n")},
    {LIT("a"), LIT("data: a\n")},
    {LIT("a\n"), LIT("data: a\ndata: \n")},
    {LIT("a\nb"), LIT("data: a\ndata: b\n")},
    {LIT("a\rb"), LIT("data: a\ndata: b\n")},
    {LIT("a\r\nb"), LIT("data: a\ndata: b\n")},
    {LIT("a\r\r\nb"), LIT("data: a\ndata: \ndata: b\n")},
    {LIT("a\n\rb"), LIT("data: a\ndata: \ndata: b\n")},
    {LIT("a\r"), LIT("data: a\ndata: \n")},
    {LIT("a\r\n"), LIT("data: a\ndata: \n")},
    {LIT("\n"), LIT("data: \ndata: \n")},
    {LIT("\r\n"), LIT("data: \ndata: \n")},
    {LIT("\n\n"), LIT("data: \ndata: \ndata: \n")},
    {LIT("a\n\n\nb"), LIT("data: a\ndata: \ndata: \ndata: b\n")},
    {LIT(" lead"), LIT("data:  lead\n")},
    {LIT("  two\n three"), LIT("data:   two\ndata:  three\n")},
    {LIT(":colon"), LIT("data: :colon\n")},
    {LIT("data: x"), LIT("data: data: x\n")},
    {LIT("a\0b\n\0"), LIT("data: a\0b\ndata: \0\n")},
    {LIT("caf\xC3\xA9\n\xE2\x82"), LIT("data: caf\xC3\xA9\ndata: " R "\n")},
    {LIT("\xE2\x82\r\n\xFF"), LIT("data: " R "\ndata: " R "\n")},
};

/* Each data case gives exactly the expected lines. */
START_TEST(test_sse_data_lines)
{
	struct buf b = {0}, want = {0};
	size_t     i;

	for (i = 0;
	     i < sizeof check_sse_data_cases / sizeof check_sse_data_cases[0];
	     i++) {
		b.len = b.off = want.len = 0;
		ck_assert_int_eq(sse_encode_event(&b, 5, NULL, NULL,
		                     check_sse_data_cases[i].in,
		                     check_sse_data_cases[i].in_len),
		    0);
		REQUIRE(buf_append_str(&want, "id: 5\n") == 0);
		REQUIRE(buf_append(&want, check_sse_data_cases[i].out,
		            check_sse_data_cases[i].out_len) == 0);
		REQUIRE(buf_append(&want, "\n", 1) == 0);
		check_sse_assert_bytes(&b, want.data, want.len, "case", (int)i);
	}
	buf_free(&b);
	buf_free(&want);
}
END_TEST

/* NULL data with no length is empty data. */
START_TEST(test_sse_data_null)
{
	struct buf b = {0};

	ck_assert_int_eq(sse_encode_event(&b, 1, NULL, NULL, NULL, 0), 0);
	ASSERT_BYTES(&b, "id: 1\ndata: \n\n");
	buf_free(&b);
}
END_TEST

/* What the browser makes of the tricky cases. */
START_TEST(test_sse_data_parsed)
{
	struct buf               b = {0};
	struct whatwg_sse_parser p;

	ck_assert_int_eq(
	    sse_encode_event(&b, 1, NULL, NULL, LIT("  x\r\r\ny\n")), 0);
	ck_assert_int_eq(sse_encode_event(&b, 2, "t", NULL, LIT("")), 0);
	ck_assert_int_eq(sse_encode_event(&b, 3, NULL, NULL, LIT("a\0b")), 0);
	whatwg_sse_parse(&p, b.data, b.len);
	ck_assert_uint_eq(p.nevents, 3);
	ck_assert(whatwg_sse_equal(&p.events[0].data, LIT("  x\n\ny\n")));
	ck_assert(whatwg_sse_equal(&p.events[1].data, LIT("")));
	ck_assert(whatwg_sse_equal(&p.events[1].type, LIT("t")));
	ck_assert(whatwg_sse_equal(&p.events[2].data, LIT("a\0b")));
	ck_assert(whatwg_sse_equal(&p.events[2].last_event_id, LIT("3")));
	whatwg_sse_free(&p);
	buf_free(&b);
}
END_TEST

/*
 * limits
 */

/* A 1 MiB line goes out whole, as one data line. */
START_TEST(test_sse_long_line)
{
	struct buf b = {0};
	size_t     len = 1024 * 1024, i;
	char      *data = malloc(len);

	ck_assert_ptr_nonnull(data);
	for (i = 0; i < len; i++)
		data[i] = (char)('a' + i % 26);
	/* A multi-byte character at the end and one cut at the start. */
	memcpy(data + len - 3, "\xE2\x82\xAC", 3);
	data[0] = '\xC3';
	ck_assert_int_eq(sse_encode_event(&b, 1, NULL, NULL, data, len), 0);
	ck_assert_uint_eq(b.len, 12 + 3 + (len - 1) + 2);
	ck_assert_int_eq(memcmp(b.data, "id: 1\ndata: " R, 15), 0);
	ck_assert_int_eq(memcmp(b.data + 15, data + 1, len - 1), 0);
	ck_assert_int_eq(memcmp(b.data + b.len - 2, "\n\n", 2), 0);
	free(data);
	buf_free(&b);
}
END_TEST

/* 100 000 lines give 100 000 data lines, for each kind of line end. */
START_TEST(test_sse_many_lines)
{
	static const char *const ends[] = {"\n", "\r", "\r\n"};
	struct buf               in = {0}, b = {0}, want = {0};
	struct whatwg_sse_parser p;
	size_t                   e, i, lines = 100000;

	for (e = 0; e < 3; e++) {
		in.len = b.len = want.len = 0;
		REQUIRE(buf_append_str(&want, "id: 8\n") == 0);
		for (i = 0; i < lines; i++) {
			REQUIRE(buf_printf(&in, "l%zu%s", i, ends[e]) == 0);
			REQUIRE(buf_printf(&want, "data: l%zu\n", i) == 0);
		}
		/* Drop the last line end: no empty line at the end. */
		in.len -= strlen(ends[e]);
		REQUIRE(buf_append_str(&want, "\n") == 0);
		ck_assert_int_eq(
		    sse_encode_event(&b, 8, NULL, NULL, in.data, in.len), 0);
		ck_assert_uint_eq(b.len, want.len);
		ck_assert_int_eq(memcmp(b.data, want.data, b.len), 0);

		whatwg_sse_parse(&p, b.data, b.len);
		ck_assert_uint_eq(p.nevents, 1);
		ck_assert_uint_eq(
		    p.events[0].data.len, in.len - (e == 2 ? lines - 1 : 0));
		whatwg_sse_free(&p);
	}

	/* Only line ends: one empty data line more than there are ends. */
	in.len = b.len = 0;
	for (i = 0; i < lines; i++)
		REQUIRE(buf_append(&in, "\n", 1) == 0);
	ck_assert_int_eq(
	    sse_encode_event(&b, 8, NULL, NULL, in.data, in.len), 0);
	ck_assert_uint_eq(b.len, 6 + 7 * (lines + 1) + 1);
	for (i = 0; i < lines + 1; i++)
		REQUIRE(memcmp(b.data + 6 + 7 * i, "data: \n", 7) == 0);

	buf_free(&in);
	buf_free(&b);
	buf_free(&want);
}
END_TEST

/* 1 MiB of bad bytes becomes 3 MiB of replacement characters. */
START_TEST(test_sse_all_invalid)
{
	struct buf b = {0};
	size_t     len = 1024 * 1024, i;
	char      *data = malloc(len);

	ck_assert_ptr_nonnull(data);
	memset(data, 0xFF, len);
	ck_assert_int_eq(sse_encode_event(&b, 2, NULL, NULL, data, len), 0);
	ck_assert_uint_eq(b.len, 12 + 3 * len + 2);
	for (i = 0; i < len; i++)
		REQUIRE(memcmp(b.data + 12 + 3 * i, R, 3) == 0);
	free(data);
	buf_free(&b);
}
END_TEST

/* A size that cannot be held fails and leaves the buffer as it was. */
START_TEST(test_sse_too_big)
{
	struct buf b = {0};

	REQUIRE(buf_append_str(&b, "keep") == 0);
	buf_consume(&b, 1);
	ck_assert_int_eq(sse_encode_event(&b, 1, "e", NULL, "x", SIZE_MAX), -1);
	ck_assert_int_eq(
	    sse_encode_event(&b, 1, "e", NULL, "x", SIZE_MAX / 2 + 1), -1);
	ASSERT_BYTES(&b, "eep");
	buf_free(&b);
}
END_TEST

/*
 * round trip
 */

/*
 * For random data, ids and names: the encoder's output is valid UTF-8, a
 * browser's parser gets back exactly one event holding the id, the name
 * and the data as the decoder sees it with every CRLF and CR made LF, and
 * no proper prefix of the output dispatches anything.
 */
START_TEST(test_sse_round_trip)
{
	struct buf data = {0}, name = {0}, user = {0}, out = {0}, want = {0};
	struct buf all = {0}, want_type = {0};
	struct whatwg_sse_parser p;
	uint64_t                 state = 0x2545F4914F6CDD1D;
	int64_t                 *ids;
	char                     id_text[32];
	size_t                   i, k, len, n = 10000;

	ids = calloc(n, sizeof *ids);
	ck_assert_ptr_nonnull(ids);
	for (i = 0; i < n; i++) {
		uint64_t r = check_sse_random(&state);
		int      has_name = r % 4 != 0, has_user = (r >> 40) % 3 == 0;

		data.len = name.len = user.len = out.len = want.len = 0;
		want_type.len = 0;
		len = (r >> 8) % (i % 50 == 0 ? 600 : 48);
		check_sse_random_bytes(&data, &state, len, 0);
		if (has_name) {
			check_sse_random_bytes(
			    &name, &state, (r >> 24) % 12, 1);
			REQUIRE(buf_append(&name, "", 1) == 0);
		}
		/* A sender is a field EventSource ignores, whatever it holds.
		 */
		if (has_user) {
			check_sse_random_bytes(
			    &user, &state, (r >> 44) % 12, 1);
			REQUIRE(buf_append(&user, "", 1) == 0);
		}
		ids[i] = (int64_t)check_sse_random(&state);
		if (i % 3 == 0)
			ids[i] = (int64_t)(check_sse_random(&state) >> 40);

		ck_assert_int_eq(
		    sse_encode_event(&out, ids[i], has_name ? name.data : NULL,
		        has_user ? user.data : NULL, data.data, data.len),
		    0);
		REQUIRE(buf_append(&all, out.data, out.len) == 0);
		ck_assert_msg(whatwg_sse_utf8_is_valid(out.data, out.len),
		    "not UTF-8: %s", check_sse_escape(out.data, out.len));

		/* The data as decoded, line ends made LF. */
		whatwg_sse_utf8_sanitise(&want, data.data, data.len);
		for (k = 0; k < want.len; k++) {
			if (want.data[k] != '\r')
				continue;
			if (k + 1 < want.len && want.data[k + 1] == '\n') {
				memmove(want.data + k, want.data + k + 1,
				    want.len - k - 1);
				want.len--;
			} else
				want.data[k] = '\n';
		}
		if (has_name)
			whatwg_sse_utf8_sanitise(
			    &want_type, name.data, strcspn(name.data, "\r\n"));
		if (want_type.len == 0)
			REQUIRE(buf_append_str(&want_type, "message") == 0);
		snprintf(id_text, sizeof id_text, "%" PRId64, ids[i]);

		whatwg_sse_parse(&p, out.data, out.len);
		ck_assert_msg(p.nevents == 1, "%zu events from \"%s\"",
		    p.nevents, check_sse_escape(out.data, out.len));
		ck_assert_msg(
		    whatwg_sse_equal(&p.events[0].data, want.data, want.len),
		    "data of \"%s\": Expected: \"%s\" But got: \"%s\"",
		    check_sse_escape(data.data, data.len),
		    check_sse_escape(want.data, want.len),
		    check_sse_escape(
		        p.events[0].data.data, p.events[0].data.len));
		ck_assert(whatwg_sse_equal(
		    &p.events[0].type, want_type.data, want_type.len));
		ck_assert(whatwg_sse_equal(
		    &p.events[0].last_event_id, id_text, strlen(id_text)));
		ck_assert_int_eq(p.retry, -1);
		whatwg_sse_free(&p);

		/* Every proper prefix is an event not yet finished. */
		if (i < 300) {
			for (k = 0; k < out.len; k++) {
				whatwg_sse_parse(&p, out.data, k);
				REQUIRE(p.nevents == 0);
				whatwg_sse_free(&p);
			}
		}
	}

	/* All of them back to back are all of them, in order. */
	whatwg_sse_parse(&p, all.data, all.len);
	ck_assert_uint_eq(p.nevents, n);
	for (i = 0; i < n; i++) {
		snprintf(id_text, sizeof id_text, "%" PRId64, ids[i]);
		ck_assert(whatwg_sse_equal(
		    &p.events[i].last_event_id, id_text, strlen(id_text)));
	}
	whatwg_sse_free(&p);

	free(ids);
	buf_free(&data);
	buf_free(&name);
	buf_free(&user);
	buf_free(&out);
	buf_free(&want);
	buf_free(&all);
	buf_free(&want_type);
}
END_TEST

/* Builds the suite: one case per concern. */
static Suite *
check_sse_suite(void)
{
	Suite *s = suite_create("sse");
	TCase *tc;

	tc = tcase_create("buf core");
	tcase_add_test(tc, test_buf_zeroed_is_empty);
	tcase_add_test(tc, test_buf_append);
	tcase_add_test(tc, test_buf_reserve);
	tcase_add_test(tc, test_buf_reserve_overflow);
	tcase_add_test(tc, test_buf_growth);
	tcase_add_test(tc, test_buf_consume);
	tcase_add_test(tc, test_buf_compact);
	tcase_add_test(tc, test_buf_compact_on_consume);
	tcase_add_test(tc, test_buf_compact_on_reserve);
	tcase_add_test(tc, test_buf_printf);
	tcase_add_test(tc, test_buf_clear);
	tcase_add_test(tc, test_buf_free);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);

	tc = tcase_create("utf8");
	tcase_add_test(tc, test_buf_utf8_table);
	tcase_add_test(tc, test_buf_utf8_reference);
	tcase_add_test(tc, test_buf_utf8_random);
	tcase_add_test(tc, test_buf_utf8_split);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);

	tc = tcase_create("sse fields");
	tcase_add_test(tc, test_sse_fields);
	tcase_add_test(tc, test_sse_user_field);
	tcase_add_test(tc, test_sse_ids);
	tcase_add_test(tc, test_sse_event_name_defended);
	tcase_add_test(tc, test_sse_retry_comment_pause);
	tcase_add_test(tc, test_sse_retry_comment_pause_parsed);
	tcase_add_test(tc, test_sse_position_reset_parsed);
	tcase_add_test(tc, test_sse_appends);
	suite_add_tcase(s, tc);

	tc = tcase_create("sse data lines");
	tcase_add_test(tc, test_sse_data_lines);
	tcase_add_test(tc, test_sse_data_null);
	tcase_add_test(tc, test_sse_data_parsed);
	suite_add_tcase(s, tc);

	tc = tcase_create("limits");
	tcase_add_test(tc, test_sse_long_line);
	tcase_add_test(tc, test_sse_many_lines);
	tcase_add_test(tc, test_sse_all_invalid);
	tcase_add_test(tc, test_sse_too_big);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);

	tc = tcase_create("round trip");
	tcase_add_test(tc, test_sse_round_trip);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(check_sse_suite());
	int      failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
