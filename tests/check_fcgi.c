/* check_fcgi.c: unit tests of the FastCGI records and the hand-off from libfcgi. */
#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <check.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
		ck_assert_int_eq(data[off + 2] << 8 | data[off + 3], request_id);
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
	struct buf     out = { 0 };
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
	ck_assert_uint_eq(unframe((const unsigned char *)buf_pending(&out) + 2,
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
	struct buf out = { 0 };
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
		1, 6, 0, 7, 0, 0, 0, 0,             /* empty STDOUT */
		1, 3, 0, 7, 0, 8, 0, 0,             /* END_REQUEST header */
		0, 0, 1, 2, 0, 0, 0, 0,             /* appStatus 258, complete */
	};
	struct buf out = { 0 };

	ck_assert_int_eq(fcgi_end_request(&out, 7, 258), 0);
	ck_assert_uint_eq(out.len, sizeof expected);
	ck_assert_mem_eq(out.data, expected, sizeof expected);
	buf_free(&out);
}
END_TEST

/* An empty STDIN record, a record with content and padding, then an abort. */
static const unsigned char input_records[] = {
	1, 5, 0, 1, 0, 0, 0, 0,
	1, 5, 0, 1, 0, 3, 2, 0, 'a', 'b', 'c', 0, 0,
	1, 2, 0, 1, 0, 0, 0, 0,
};

START_TEST(test_fcgi_input_abort_whole)
{
	struct fcgi_input in = { 0 };

	ck_assert_int_eq(fcgi_input_scan(&in, input_records, 21), 0);
	ck_assert_int_ne(fcgi_input_scan(&in, input_records + 21, 8), 0);
}
END_TEST

START_TEST(test_fcgi_input_abort_byte_by_byte)
{
	struct fcgi_input in = { 0 };
	size_t            i;

	for (i = 0; i + 1 < sizeof input_records; i++)
		ck_assert_int_eq(fcgi_input_scan(&in, input_records + i, 1), 0);
	ck_assert_int_ne(fcgi_input_scan(&in, input_records + i, 1), 0);
}
END_TEST

START_TEST(test_fcgi_input_garbage_is_ignored)
{
	struct fcgi_input   in = { 0 };
	const unsigned char junk[] = "GET / HTTP/1.1\r\n";

	ck_assert_int_eq(fcgi_input_scan(&in, junk, sizeof junk - 1), 0);
	ck_assert_int_ne(in.lost, 0);
	/* Once lost, even a real abort record is not trusted. */
	ck_assert_int_eq(fcgi_input_scan(&in, input_records + 21, 8), 0);
}
END_TEST

/* Appends one FastCGI name-value pair (short lengths) to p. */
static size_t
put_param(unsigned char *p, const char *name, const char *value)
{
	size_t n = strlen(name), v = strlen(value);

	p[0] = (unsigned char)n;
	p[1] = (unsigned char)v;
	memcpy(p + 2, name, n);
	memcpy(p + 2 + n, value, v);
	return 2 + n + v;
}

/* Plays a web server: connects to path and sends one GET request. */
static int
send_request(const char *path, uint16_t id)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	unsigned char      req[256], params[200];
	size_t             plen = 0, len = 0;
	int                fd = socket(AF_UNIX, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	strncpy(addr.sun_path, path, sizeof addr.sun_path - 1);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&addr, sizeof addr), 0);
	plen += put_param(params + plen, "REQUEST_METHOD", "GET");
	plen += put_param(params + plen, "QUERY_STRING", "channel=news");
	/* BEGIN_REQUEST: responder role, no keep-alive. */
	memcpy(req + len, (unsigned char[]){ 1, 1, id >> 8, id & 255, 0, 8, 0, 0,
				   0, 1, 0, 0, 0, 0, 0, 0 },
	    16);
	len += 16;
	memcpy(req + len, (unsigned char[]){ 1, 4, id >> 8, id & 255, 0,
				   (unsigned char)plen, 0, 0 },
	    8);
	len += 8;
	memcpy(req + len, params, plen);
	len += plen;
	memcpy(req + len, (unsigned char[]){ 1, 4, id >> 8, id & 255, 0, 0, 0, 0 },
	    8);
	len += 8;
	memcpy(req + len, (unsigned char[]){ 1, 5, id >> 8, id & 255, 0, 0, 0, 0 },
	    8);
	len += 8;
	ck_assert_int_eq(write(fd, req, len), (ssize_t)len);
	return fd;
}

START_TEST(test_fcgi_detach_takes_the_connection)
{
	char         path[512];
	FCGX_Request request;
	int          listen_fd, client, fd, second;
	char         reply[8];

	ck_assert_int_eq(FCGX_Init(), 0);
	testutil_path(path, sizeof path, "fcgi.sock");
	listen_fd = FCGX_OpenSocket(path, 5);
	ck_assert_int_ge(listen_fd, 0);
	ck_assert_int_eq(FCGX_InitRequest(&request, listen_fd, 0), 0);

	client = send_request(path, 9);
	ck_assert_int_eq(FCGX_Accept_r(&request), 0);
	ck_assert_int_eq(request.requestId, 9);
	ck_assert_str_eq(FCGX_GetParam("QUERY_STRING", request.envp),
	    "channel=news");
	fd = fcgi_detach(&request);
	ck_assert_int_ge(fd, 0);

	/* The descriptor is the connection: what we write, the client reads. */
	ck_assert_int_eq(write(fd, "hello", 5), 5);
	ck_assert_int_eq(read(client, reply, sizeof reply), 5);
	ck_assert_mem_eq(reply, "hello", 5);

	/* The next accept on the same request takes a new connection and
	 * leaves ours open. */
	second = send_request(path, 10);
	ck_assert_int_eq(FCGX_Accept_r(&request), 0);
	ck_assert_int_eq(request.requestId, 10);
	ck_assert_int_eq(write(fd, "still", 5), 5);
	ck_assert_int_eq(read(client, reply, sizeof reply), 5);
	ck_assert_mem_eq(reply, "still", 5);
	FCGX_Finish_r(&request);
	close(fd);
	ck_assert_int_eq(read(client, reply, sizeof reply), 0);
	close(client);
	close(second);
	close(listen_fd);
}
END_TEST

/* Fixture: a temporary directory for the socket. */
static void
setup(void)
{
	testutil_tmpdir_create();
}

/* Removes the temporary directory. */
static void
teardown(void)
{
	testutil_tmpdir_remove();
}

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
	tcase_add_test(tc, test_fcgi_input_garbage_is_ignored);
	suite_add_tcase(s, tc);

	tc = tcase_create("handoff");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_fcgi_detach_takes_the_connection);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(fcgi_suite());
	int      failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
