/* check_frame.c: unit tests of the WebSocket frame tracker and writer. */
#include "config.h"

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "frame.h"

/*
 * Every stream of frames is fed three ways, as check_handshake.c does:
 * whole, one byte at a time, and cut at every prefix.  The tracker must
 * say "at a boundary" after exactly the prefixes that end a frame outside
 * a fragmented message, however the bytes were cut before.
 */

/*
 * Fails the test when cond is false; records nothing when it holds, so
 * loops over every prefix stay fast.
 */
#define REQUIRE(cond)                                                          \
	do {                                                                   \
		if (!(cond))                                                   \
			ck_abort_msg("line %d: %s", __LINE__, #cond);          \
	} while (0)

/* A stream of client frames, built by stream_frame(). */
struct stream {
	uint8_t bytes[200000];
	size_t  len;
	/* boundary[i]: the first i bytes end at a boundary outside a message */
	uint8_t boundary[200001];
};

/*
 * Appends one client frame: fin, opcode, masked or not, a payload of len
 * bytes (the length in its shortest form unless wide is 16 or 64).  Marks
 * where the stream then stands when open says whether a fragmented data
 * message is open after it.
 */
static void
stream_frame(struct stream *s, int fin, unsigned opcode, int masked, size_t len,
    int wide, int open)
{
	uint8_t *p = s->bytes + s->len;
	size_t   n = 0, i;

	ck_assert_uint_lt(s->len + 14 + len, sizeof s->bytes);
	p[n++] = (uint8_t)((fin ? 0x80 : 0) | opcode);
	if (len < 126 && wide == 0)
		p[n++] = (uint8_t)((masked ? 0x80 : 0) | len);
	else if (len <= 0xffff && wide != 64) {
		p[n++] = (uint8_t)((masked ? 0x80 : 0) | 126);
		p[n++] = (uint8_t)(len >> 8);
		p[n++] = (uint8_t)len;
	} else {
		p[n++] = (uint8_t)((masked ? 0x80 : 0) | 127);
		for (i = 0; i < 8; i++)
			p[n++] = (uint8_t)((uint64_t)len >> (56 - 8 * i));
	}
	if (masked)
		for (i = 0; i < 4; i++)
			p[n++] = (uint8_t)(0xa0 + i);
	/* Payload bytes that look like frame headers, to catch a slip. */
	memset(p + n, 0x81, len);
	n += len;
	for (i = 1; i < n; i++)
		s->boundary[s->len + i] = 0;
	s->len += n;
	s->boundary[s->len] = (uint8_t)!open;
}

/* Starts an empty stream (at a boundary). */
static struct stream *
stream_new(void)
{
	struct stream *s = calloc(1, sizeof *s);

	ck_assert_ptr_nonnull(s);
	s->boundary[0] = 1;
	return s;
}

/*
 * Feeds the stream whole, byte by byte, and cut in two at every prefix;
 * checks the tracker after each piece.
 */
static void
stream_check(const struct stream *s)
{
	struct frame_tracker t;
	size_t               i, cut;

	memset(&t, 0, sizeof t);
	REQUIRE(frame_at_boundary(&t));
	frame_track(&t, s->bytes, s->len);
	REQUIRE(frame_at_boundary(&t) == s->boundary[s->len]);

	memset(&t, 0, sizeof t);
	for (i = 0; i < s->len; i++) {
		frame_track(&t, s->bytes + i, 1);
		REQUIRE(!!frame_at_boundary(&t) == s->boundary[i + 1]);
	}

	for (cut = 0; cut <= s->len; cut++) {
		memset(&t, 0, sizeof t);
		frame_track(&t, s->bytes, cut);
		REQUIRE(!!frame_at_boundary(&t) == s->boundary[cut]);
		frame_track(&t, s->bytes + cut, s->len - cut);
		REQUIRE(!!frame_at_boundary(&t) == s->boundary[s->len]);
	}
}

START_TEST(test_frame_track_single)
{
	static const size_t lengths[] = {0, 1, 125, 126, 127, 65535, 65536};
	size_t              i;
	int                 masked;

	for (i = 0; i < sizeof lengths / sizeof lengths[0]; i++) {
		for (masked = 0; masked <= 1; masked++) {
			struct stream *s = stream_new();

			stream_frame(s, 1, 0x1, masked, lengths[i], 0, 0);
			stream_check(s);
			free(s);
		}
	}
}
END_TEST

/* Lengths in a longer form than needed are still followed. */
START_TEST(test_frame_track_wide_lengths)
{
	struct stream *s = stream_new();

	stream_frame(s, 1, 0x2, 1, 5, 16, 0);
	stream_frame(s, 1, 0x2, 1, 0, 64, 0);
	stream_frame(s, 1, 0x1, 0, 300, 64, 0);
	stream_check(s);
	free(s);
}
END_TEST

/*
 * A fragmented message is not a boundary until its last piece, even
 * between whole frames and around control frames in the middle of it.
 */
START_TEST(test_frame_track_fragmented)
{
	struct stream *s = stream_new();

	stream_frame(s, 1, 0x9, 1, 4, 0, 0);  /* a ping: boundary */
	stream_frame(s, 0, 0x1, 1, 10, 0, 1); /* text, no FIN */
	stream_frame(s, 1, 0x9, 1, 3, 0, 1);  /* a ping inside it */
	stream_frame(s, 0, 0x0, 1, 200, 0, 1);
	stream_frame(s, 1, 0xa, 1, 0, 0, 1); /* a pong inside it */
	stream_frame(s, 1, 0x0, 1, 7, 0, 0); /* the last piece */
	stream_frame(s, 1, 0x8, 1, 2, 0, 0); /* a close */
	stream_check(s);
	free(s);
}
END_TEST

/* Many small frames in a row. */
START_TEST(test_frame_track_many)
{
	struct stream *s = stream_new();
	size_t         i;

	for (i = 0; i < 100; i++)
		stream_frame(
		    s, 1, i % 2 ? 0x1 : 0x9, (int)(i % 3 != 0), i, 0, 0);
	stream_check(s);
	free(s);
}
END_TEST

/* Checks that out holds a server frame: FIN, opcode, no mask, payload. */
static void
assert_frame(
    const struct buf *out, unsigned opcode, const uint8_t *payload, size_t len)
{
	const uint8_t *p = (const uint8_t *)buf_pending(out);
	size_t         head = len < 126 ? 2 : len <= 0xffff ? 4 : 10, i;
	uint64_t       got = 0;

	ck_assert_uint_eq(buf_pending_len(out), head + len);
	ck_assert_uint_eq(p[0], 0x80 | opcode);
	ck_assert_uint_eq(p[1] & 0x80, 0);
	if (head == 2)
		got = p[1];
	else {
		ck_assert_uint_eq(p[1], head == 4 ? 126 : 127);
		for (i = 2; i < head; i++)
			got = got << 8 | p[i];
	}
	ck_assert_uint_eq(got, len);
	if (len > 0)
		ck_assert_mem_eq(p + head, payload, len);
}

START_TEST(test_frame_append_lengths)
{
	static const size_t lengths[] = {0, 1, 125, 126, 65535, 65536, 70000};
	uint8_t            *payload = malloc(70000);
	size_t              i;

	ck_assert_ptr_nonnull(payload);
	for (i = 0; i < 70000; i++)
		payload[i] = (uint8_t)i;
	for (i = 0; i < sizeof lengths / sizeof lengths[0]; i++) {
		struct buf           out = {0};
		struct frame_tracker t = {0};

		ck_assert_int_eq(
		    frame_append(&out, FRAME_TEXT, payload, lengths[i]), 0);
		assert_frame(&out, FRAME_TEXT, payload, lengths[i]);
		/* What the server writes, the tracker follows too. */
		frame_track(&t, (const uint8_t *)buf_pending(&out),
		    buf_pending_len(&out));
		ck_assert(frame_at_boundary(&t));
		buf_free(&out);
	}
	free(payload);
}
END_TEST

START_TEST(test_frame_append_empty_ping)
{
	struct buf out = {0};

	ck_assert_int_eq(frame_append(&out, FRAME_PING, NULL, 0), 0);
	ck_assert_uint_eq(buf_pending_len(&out), 2);
	ck_assert_mem_eq(buf_pending(&out), "\x89\x00", 2);
	buf_free(&out);
}
END_TEST

START_TEST(test_frame_append_close)
{
	struct buf out = {0};
	char       reason[300];

	ck_assert_int_eq(frame_append_close(&out, 1001, "going away"), 0);
	assert_frame(
	    &out, FRAME_CLOSE, (const uint8_t *)"\x03\xe9going away", 12);
	buf_free(&out);

	/* A reason too long for a control frame is cut to 123 bytes. */
	memset(reason, 'r', sizeof reason - 1);
	reason[sizeof reason - 1] = '\0';
	ck_assert_int_eq(frame_append_close(&out, 1011, reason), 0);
	ck_assert_uint_eq(buf_pending_len(&out), 2 + FRAME_CONTROL_MAX);
	ck_assert_uint_eq(
	    ((const uint8_t *)buf_pending(&out))[1], FRAME_CONTROL_MAX);
	ck_assert_mem_eq(buf_pending(&out) + 2, "\x03\xf3", 2);
	buf_free(&out);

	/* An empty reason: the code alone. */
	ck_assert_int_eq(frame_append_close(&out, 1002, ""), 0);
	assert_frame(&out, FRAME_CLOSE, (const uint8_t *)"\x03\xea", 2);
	buf_free(&out);
}
END_TEST

START_TEST(test_frame_close_code_late)
{
	ck_assert(!frame_close_code_late(1011));
	ck_assert(frame_close_code_late(1012));
	ck_assert(frame_close_code_late(1013));
	ck_assert(frame_close_code_late(1014));
	ck_assert(!frame_close_code_late(1015));
	ck_assert(!frame_close_code_late(3000));
}
END_TEST

static Suite *
frame_suite(void)
{
	Suite *s = suite_create("frame");
	TCase *tc;

	tc = tcase_create("track");
	tcase_add_test(tc, test_frame_track_single);
	tcase_add_test(tc, test_frame_track_wide_lengths);
	tcase_add_test(tc, test_frame_track_fragmented);
	tcase_add_test(tc, test_frame_track_many);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);

	tc = tcase_create("write");
	tcase_add_test(tc, test_frame_append_lengths);
	tcase_add_test(tc, test_frame_append_empty_ping);
	tcase_add_test(tc, test_frame_append_close);
	tcase_add_test(tc, test_frame_close_code_late);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(frame_suite());
	int      failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
