/* check_fcgi.c: unit tests of the FastCGI records we scan and write, and of libfcgi parsing them. */
#include "config.h"

#include <check.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <fcgiapp.h>

#include "buf.h"
#include "fcgi.h"
#include "testutil.h"

/* Parses the records in data; checks each header and returns the content. */
static size_t
unframe(const unsigned char *data, size_t len, uint16_t request_id,
    unsigned char *content, size_t *records)
{
	size_t used = 0, off = 0;

	*records = 0;
	while (off < len) {
		size_t n;

		ck_assert_uint_ge(len - off, FCGI_HEADER_LEN);
		ck_assert_int_eq(data[off], 1);
		ck_assert_int_eq(data[off + 1], FCGI_STDOUT);
		ck_assert_int_eq(
		    data[off + 2] << 8 | data[off + 3], request_id);
		n = (size_t)(data[off + 4] << 8 | data[off + 5]);
		ck_assert_uint_gt(n, 0);
		ck_assert_int_eq(data[off + 6], 0);
		off += FCGI_HEADER_LEN;
		ck_assert_uint_le(n, len - off);
		memcpy(content + used, data + off, n);
		used += n;
		off += n;
		(*records)++;
	}
	return used;
}

/* Frames size bytes of a pattern and checks the records. */
static void
check_frames(size_t size, size_t expected_records)
{
	struct buf     out = {0};
	unsigned char *content = malloc(size + 1);
	size_t         mark, i, records;

	ck_assert_ptr_nonnull(content);
	/* Something pending and consumed before, as in a real stream. */
	buf_append(&out, "xyz", 3);
	buf_consume(&out, 1);
	mark = fcgi_stdout_begin(&out);
	ck_assert_uint_eq(mark, 2);
	for (i = 0; i < size; i++) {
		char c = (char)('a' + i % 26);

		buf_append(&out, &c, 1);
	}
	ck_assert_int_eq(fcgi_stdout_end(&out, mark, 0x1234), 0);
	ck_assert_mem_eq(buf_pending(&out), "yz", 2);
	ck_assert_uint_eq(
	    unframe((const unsigned char *)buf_pending(&out) + 2,
	        buf_pending_len(&out) - 2, 0x1234, content, &records),
	    size);
	ck_assert_uint_eq(records, expected_records);
	for (i = 0; i < size; i++)
		ck_assert_int_eq(content[i], 'a' + i % 26);
	buf_free(&out);
	free(content);
}

START_TEST(test_fcgi_stdout_one_record)
{
	check_frames(1, 1);
	check_frames(100, 1);
	check_frames(FCGI_MAX_CONTENT, 1);
}
END_TEST

START_TEST(test_fcgi_stdout_split_records)
{
	check_frames(FCGI_MAX_CONTENT + 1, 2);
	check_frames(2 * FCGI_MAX_CONTENT, 2);
	check_frames(5 * FCGI_MAX_CONTENT + 17, 6);
}
END_TEST

START_TEST(test_fcgi_stdout_empty_is_dropped)
{
	struct buf out = {0};
	size_t     mark;

	buf_append(&out, "ab", 2);
	mark = fcgi_stdout_begin(&out);
	ck_assert_int_eq(fcgi_stdout_end(&out, mark, 1), 0);
	ck_assert_uint_eq(buf_pending_len(&out), 2);
	buf_free(&out);
}
END_TEST

START_TEST(test_fcgi_end_request_bytes)
{
	static const unsigned char expected[] = {
	    1, 6, 0, 7, 0, 0, 0, 0, /* empty STDOUT */
	    1, 3, 0, 7, 0, 8, 0, 0, /* END_REQUEST header */
	    0, 0, 1, 2, 0, 0, 0, 0, /* appStatus 258, complete */
	};
	struct buf out = {0};

	ck_assert_int_eq(fcgi_end_request(&out, 7, 258), 0);
	ck_assert_uint_eq(out.len, sizeof expected);
	ck_assert_mem_eq(out.data, expected, sizeof expected);
	buf_free(&out);
}
END_TEST

/* An empty STDIN record, a record of another type with content and padding,
 * then an abort. */
static const unsigned char input_records[] = {
    1,
    5,
    0,
    1,
    0,
    0,
    0,
    0,
    1,
    11,
    0,
    1,
    0,
    3,
    2,
    0,
    'a',
    'b',
    'c',
    0,
    0,
    1,
    2,
    0,
    1,
    0,
    0,
    0,
    0,
};

START_TEST(test_fcgi_input_abort_whole)
{
	struct fcgi_input in = {0};

	ck_assert_int_eq(
	    fcgi_input_scan(&in, input_records, 21), FCGI_INPUT_OK);
	ck_assert_int_eq(
	    fcgi_input_scan(&in, input_records + 21, 8), FCGI_INPUT_ABORTED);
}
END_TEST

START_TEST(test_fcgi_input_abort_byte_by_byte)
{
	struct fcgi_input in = {0};
	size_t            i;

	for (i = 0; i + 1 < sizeof input_records; i++)
		ck_assert_int_eq(
		    fcgi_input_scan(&in, input_records + i, 1), FCGI_INPUT_OK);
	ck_assert_int_eq(
	    fcgi_input_scan(&in, input_records + i, 1), FCGI_INPUT_ABORTED);
}
END_TEST

START_TEST(test_fcgi_input_body_ends_the_stream)
{
	static const unsigned char body[] = {1, 5, 0, 1, 0, 1, 0, 0, 'x'};
	struct fcgi_input          in = {0};
	size_t                     i;

	/* Known from the header alone: the content is never waited for. */
	for (i = 0; i + 2 < sizeof body; i++)
		ck_assert_int_eq(
		    fcgi_input_scan(&in, body + i, 1), FCGI_INPUT_OK);
	ck_assert_int_eq(fcgi_input_scan(&in, body + i, 1), FCGI_INPUT_BODY);
	/* And it stays so. */
	ck_assert_int_eq(
	    fcgi_input_scan(&in, input_records, 8), FCGI_INPUT_BODY);
}
END_TEST

START_TEST(test_fcgi_input_garbage_is_broken)
{
	struct fcgi_input   in = {0};
	const unsigned char junk[] = "GET / HTTP/1.1\r\n";

	ck_assert_int_eq(
	    fcgi_input_scan(&in, junk, sizeof junk - 1), FCGI_INPUT_BROKEN);
	ck_assert_int_eq(
	    fcgi_input_scan(&in, input_records + 21, 8), FCGI_INPUT_BROKEN);
}
END_TEST

/* Appends one FastCGI name-value pair to p: 4-byte lengths over 127. */
static size_t
put_param(unsigned char *p, const char *name, const char *value)
{
	size_t n = strlen(name), v = strlen(value), at = 0;
	size_t lens[2] = {n, v};
	int    i;

	for (i = 0; i < 2; i++) {
		if (lens[i] < 128) {
			p[at++] = (unsigned char)lens[i];
		} else {
			p[at++] = (unsigned char)(0x80 | lens[i] >> 24);
			p[at++] = (unsigned char)(lens[i] >> 16);
			p[at++] = (unsigned char)(lens[i] >> 8);
			p[at++] = (unsigned char)lens[i];
		}
	}
	memcpy(p + at, name, n);
	memcpy(p + at + n, value, v);
	return at + n + v;
}

/* Appends a record header for request id and content_len bytes (padding pad).
 */
static size_t
put_header(unsigned char *p, int type, uint16_t id, size_t content_len, int pad)
{
	p[0] = 1;
	p[1] = (unsigned char)type;
	p[2] = (unsigned char)(id >> 8);
	p[3] = (unsigned char)id;
	p[4] = (unsigned char)(content_len >> 8);
	p[5] = (unsigned char)content_len;
	p[6] = (unsigned char)pad;
	p[7] = 0;
	return 8;
}

/*
 * Builds a GET request for request id: BEGIN_REQUEST, its parameters in
 * two PARAMS records (the second one padded, a pair split across them),
 * the empty PARAMS record, then an empty STDIN record.  Returns the length;
 * *end is where the request's records end (before STDIN).
 */
static size_t
build_request(unsigned char *req, uint16_t id, size_t *end)
{
	static const unsigned char begin[8] = {0, 1, 0, 0, 0, 0, 0, 0};
	unsigned char              params[1024], value[300];
	size_t                     plen = 0, len = 0, half;

	memset(value, 'v', sizeof value - 1);
	value[sizeof value - 1] = '\0';
	plen += put_param(params + plen, "REQUEST_METHOD", "GET");
	plen += put_param(params + plen, "QUERY_STRING", "channel=news");
	plen += put_param(params + plen, "HTTP_COOKIE", (const char *)value);
	len += put_header(req + len, FCGI_BEGIN_REQUEST, id, 8, 0);
	memcpy(req + len, begin, 8);
	len += 8;
	half = plen / 2;
	len += put_header(req + len, FCGI_PARAMS, id, half, 0);
	memcpy(req + len, params, half);
	len += half;
	len += put_header(req + len, FCGI_PARAMS, id, plen - half, 3);
	memcpy(req + len, params + half, plen - half);
	len += plen - half;
	memset(req + len, 0, 3);
	len += 3;
	len += put_header(req + len, FCGI_PARAMS, id, 0, 0);
	*end = len;
	len += put_header(req + len, FCGI_STDIN, id, 0, 0);
	return len;
}

START_TEST(test_fcgi_request_whole)
{
	unsigned char       req[2048];
	struct fcgi_request scan = {0};
	char                reason[256];
	size_t              end, len = build_request(req, 9, &end);

	ck_assert_int_eq(
	    fcgi_request_scan(&scan, req, len, reason, sizeof reason),
	    FCGI_REQUEST_DONE);
	ck_assert_uint_eq(scan.end, end);
	ck_assert_int_eq(scan.request_id, 9);
}
END_TEST

START_TEST(test_fcgi_request_byte_by_byte)
{
	unsigned char       req[2048];
	struct fcgi_request scan = {0};
	char                reason[256];
	size_t              end, i;

	build_request(req, 300, &end);
	/* Every prefix is incomplete; the last byte of the empty PARAMS
	 * completes it. */
	for (i = 1; i < end; i++)
		ck_assert_int_eq(
		    fcgi_request_scan(&scan, req, i, reason, sizeof reason),
		    FCGI_REQUEST_MORE);
	ck_assert_int_eq(
	    fcgi_request_scan(&scan, req, end, reason, sizeof reason),
	    FCGI_REQUEST_DONE);
	ck_assert_uint_eq(scan.end, end);
	ck_assert_int_eq(scan.request_id, 300);
}
END_TEST

/* Scans len bytes of req whole; returns the result and the reason. */
static int
scan_whole(const unsigned char *req, size_t len, char *reason, size_t size)
{
	struct fcgi_request scan = {0};

	reason[0] = '\0';
	return fcgi_request_scan(&scan, req, len, reason, size);
}

START_TEST(test_fcgi_request_refusals)
{
	unsigned char req[2048];
	char          reason[256];
	size_t        end, len;

	len = build_request(req, 9, &end);
	req[1] = FCGI_PARAMS; /* not BEGIN_REQUEST first */
	ck_assert_int_eq(
	    scan_whole(req, len, reason, sizeof reason), FCGI_REQUEST_BAD);
	ck_assert_ptr_nonnull(strstr(reason, "did not begin with"));

	len = build_request(req, 9, &end);
	req[9] = FCGI_AUTHORIZER;
	ck_assert_int_eq(
	    scan_whole(req, len, reason, sizeof reason), FCGI_REQUEST_BAD);
	ck_assert_ptr_nonnull(strstr(reason, "role 2 is not served"));

	len = build_request(req, 9, &end);
	req[0] = 'G'; /* HTTP, not FastCGI: known from the first byte */
	ck_assert_int_eq(
	    scan_whole(req, 1, reason, sizeof reason), FCGI_REQUEST_MORE);
	ck_assert_int_eq(
	    scan_whole(req, 8, reason, sizeof reason), FCGI_REQUEST_BAD);
	ck_assert_ptr_nonnull(strstr(reason, "not a FastCGI record"));

	len = build_request(req, 9, &end);
	req[16 + 3] = 10; /* the first PARAMS record for request 10 */
	ck_assert_int_eq(
	    scan_whole(req, len, reason, sizeof reason), FCGI_REQUEST_BAD);
	ck_assert_ptr_nonnull(strstr(reason, "one request per connection"));

	len = build_request(req, 9, &end);
	req[16 + 1] = FCGI_STDIN; /* a body before the parameters' end */
	ck_assert_int_eq(
	    scan_whole(req, len, reason, sizeof reason), FCGI_REQUEST_BAD);
	ck_assert_ptr_nonnull(strstr(reason, "record type 5 before the end"));
}
END_TEST

/*
 * CVE-2025-23016: a name length of 0x7fffffff with a value length of 1
 * overflows libfcgi's nameLen + valueLen + 2 before its fix.  The scan
 * refuses any length that runs past the parameters, so libfcgi never sees
 * one, whatever its version.
 */
START_TEST(test_fcgi_request_length_past_the_end)
{
	static const unsigned char req[] = {
	    1,
	    1,
	    0,
	    1,
	    0,
	    8,
	    0,
	    0,
	    0,
	    1,
	    0,
	    0,
	    0,
	    0,
	    0,
	    0,
	    1,
	    4,
	    0,
	    1,
	    0,
	    8,
	    0,
	    0,
	    0xff,
	    0xff,
	    0xff,
	    0xff,
	    1,
	    'a',
	    'b',
	    'c',
	    1,
	    4,
	    0,
	    1,
	    0,
	    0,
	    0,
	    0,
	};
	char reason[256];

	ck_assert_int_eq(scan_whole(req, sizeof req, reason, sizeof reason),
	    FCGI_REQUEST_BAD);
	ck_assert_ptr_nonnull(strstr(reason, "runs past the end"));
}
END_TEST

START_TEST(test_fcgi_parse_with_libfcgi)
{
	unsigned char req[2048];
	FCGX_Request  fcgx;
	size_t        end;
	const char   *cookie;

	ck_assert_int_eq(FCGX_Init(), 0);
	build_request(req, 9, &end);
	ck_assert_int_eq(fcgi_parse(req, end, &fcgx), 0);
	ck_assert_int_eq(fcgx.requestId, 9);
	ck_assert_str_eq(FCGX_GetParam("REQUEST_METHOD", fcgx.envp), "GET");
	ck_assert_str_eq(
	    FCGX_GetParam("QUERY_STRING", fcgx.envp), "channel=news");
	cookie = FCGX_GetParam("HTTP_COOKIE", fcgx.envp);
	ck_assert_ptr_nonnull(cookie);
	ck_assert_uint_eq(strlen(cookie), 299);
	FCGX_Free(&fcgx, 1);
}
END_TEST

START_TEST(test_fcgi_parse_refusal_does_not_wait)
{
	unsigned char req[2048];
	FCGX_Request  fcgx;
	size_t        end;

	ck_assert_int_eq(FCGX_Init(), 0);
	build_request(req, 9, &end);
	req[1] = FCGI_PARAMS; /* libfcgi drops it and would accept the next */
	ck_assert_int_eq(fcgi_parse(req, end, &fcgx), -1);
	/* Note that libfcgi takes the end of its input where a name's length
	 * would start for the end of the parameters: only whole requests
	 * (fcgi_request_scan) are parsed. */
}
END_TEST

/* Builds the suite: one TCase per concern. */
static Suite *
fcgi_suite(void)
{
	Suite *s = suite_create("fcgi");
	TCase *tc;

	tc = tcase_create("records");
	tcase_add_test(tc, test_fcgi_stdout_one_record);
	tcase_add_test(tc, test_fcgi_stdout_split_records);
	tcase_add_test(tc, test_fcgi_stdout_empty_is_dropped);
	tcase_add_test(tc, test_fcgi_end_request_bytes);
	suite_add_tcase(s, tc);

	tc = tcase_create("input");
	tcase_add_test(tc, test_fcgi_input_abort_whole);
	tcase_add_test(tc, test_fcgi_input_abort_byte_by_byte);
	tcase_add_test(tc, test_fcgi_input_body_ends_the_stream);
	tcase_add_test(tc, test_fcgi_input_garbage_is_broken);
	suite_add_tcase(s, tc);

	tc = tcase_create("request");
	tcase_add_test(tc, test_fcgi_request_whole);
	tcase_add_test(tc, test_fcgi_request_byte_by_byte);
	tcase_add_test(tc, test_fcgi_request_refusals);
	tcase_add_test(tc, test_fcgi_request_length_past_the_end);
	suite_add_tcase(s, tc);

	tc = tcase_create("libfcgi");
	tcase_add_test(tc, test_fcgi_parse_with_libfcgi);
	tcase_add_test(tc, test_fcgi_parse_refusal_does_not_wait);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(fcgi_suite());
	int      failed;

	/* Writes to a client gone give EPIPE, as in the daemons (proc_signals).
	 */
	signal(SIGPIPE, SIG_IGN);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
