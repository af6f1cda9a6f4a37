/* check_cors.c: unit tests of the --cors-origin list: checking and normalising origins, matching, the header lines. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cors.h"

/* A list of the one origin, configured with flags. */
static struct cors *
cors_of(const char *origin, unsigned flags)
{
	struct cors *cors = cors_create();
	char         reason[200];

	ck_assert_ptr_nonnull(cors);
	ck_assert_msg(cors_add(cors, origin, reason, sizeof reason) == 0,
	    "%s: %s", origin, reason);
	ck_assert_msg(cors_configure(cors, flags, reason, sizeof reason) == 0,
	    "%s", reason);
	return cors;
}

/* Returns non-zero if configured as origin, the Origin request is allowed. */
static int
allows(const char *origin, const char *request)
{
	struct cors *cors = cors_of(origin, 0);
	int          allowed = cors_allowed(cors, request);

	cors_free(cors);
	return allowed;
}

/* Checks that origin is refused, with a reason containing why. */
static void
expect_bad(const char *origin, const char *why)
{
	struct cors *cors = cors_create();
	char         reason[200] = "";

	ck_assert_msg(cors_add(cors, origin, reason, sizeof reason) == -1,
	    "\"%s\" was taken", origin);
	ck_assert_msg(strstr(reason, why) != NULL, "\"%s\": \"%s\", not \"%s\"",
	    origin, reason, why);
	ck_assert(!cors_enabled(cors));
	cors_free(cors);
}

START_TEST(test_cors_exact_match)
{
	ck_assert(allows("https://app.example.com", "https://app.example.com"));
	ck_assert(allows("http://127.0.0.1:8080", "http://127.0.0.1:8080"));
	ck_assert(allows("http://[::1]:8080", "http://[::1]:8080"));
	/* Another scheme, host, port, or a longer or shorter name. */
	ck_assert(!allows("https://app.example.com", "http://app.example.com"));
	ck_assert(
	    !allows("https://app.example.com", "https://app.example.com:8443"));
	ck_assert(!allows("https://app.example.com", "https://example.com"));
	ck_assert(!allows(
	    "https://app.example.com", "https://app.example.com.evil.test"));
	ck_assert(!allows("https://app.example.com", "https://app.example.co"));
	ck_assert(
	    !allows("https://app.example.com", "https://app.example.com/"));
	ck_assert(!allows("https://app.example.com", "null"));
	ck_assert(!allows("https://app.example.com", ""));
	ck_assert(!allows("https://app.example.com", NULL));
}
END_TEST

/*
 * The list is kept as a browser serialises an origin: lower case, no
 * default port.  A request's Origin is compared exactly, since a browser
 * always sends that form.
 */
START_TEST(test_cors_normalised)
{
	ck_assert(allows("HTTPS://App.Example.COM", "https://app.example.com"));
	ck_assert(
	    allows("https://app.example.com:443", "https://app.example.com"));
	ck_assert(
	    allows("http://app.example.com:80", "http://app.example.com"));
	ck_assert(
	    allows("http://app.example.com:0080", "http://app.example.com"));
	ck_assert(allows("http://[::1]", "http://[::1]"));
	ck_assert(allows("http://[FE80::1]:81", "http://[fe80::1]:81"));
	ck_assert(allows("http://[0:0:0:0:0:0:0:1]", "http://[::1]"));
	ck_assert(allows(
	    "http://[2001:db8:0:0:1:0:0:1]", "http://[2001:db8::1:0:0:1]"));
	/* Another scheme's default port is kept. */
	ck_assert(
	    allows("https://app.example.com:80", "https://app.example.com:80"));
	ck_assert(
	    !allows("https://app.example.com:80", "https://app.example.com"));
	/* A request's Origin in another case is not what a browser sends. */
	ck_assert(
	    !allows("https://app.example.com", "https://App.example.com"));
	ck_assert(
	    !allows("https://app.example.com", "https://app.example.com:443"));
}
END_TEST

START_TEST(test_cors_bad_values)
{
	expect_bad("", "not an origin");
	expect_bad("app.example.com", "not an origin");
	expect_bad("//app.example.com", "not an origin");
	expect_bad("://app.example.com", "scheme must be http or https");
	expect_bad("ftp://app.example.com", "scheme must be http or https");
	expect_bad("httpx://app.example.com", "scheme must be http or https");
	expect_bad("https://", "no host");
	expect_bad("https://:8080", "no host");
	expect_bad("https://app.example.com/", "no path");
	expect_bad("https://app.example.com/app", "no path");
	expect_bad("https://app.example.com?x", "no path");
	expect_bad("https://app.example.com#x", "no path");
	expect_bad("https://user@app.example.com", "no user name");
	expect_bad("https://app example.com", "bad character");
	expect_bad("https://app.example.com\r\nX-Evil: 1", "bad character");
	expect_bad("https://\xc3\xa9t\xc3\xa9.example", "no host");
	expect_bad("https://app.example.com:", "port must be 1 to 65535");
	expect_bad("https://app.example.com:0", "port must be 1 to 65535");
	expect_bad("https://app.example.com:65536", "port must be 1 to 65535");
	expect_bad("https://app.example.com:123456", "port must be 1 to 65535");
	expect_bad("https://app.example.com:8x", "bad character");
	expect_bad("http://[::1", "bad IPv6 address");
	expect_bad("http://[]", "bad IPv6 address");
	expect_bad("http://[example.com]", "bad IPv6 address");
	expect_bad("http://[::ffff:1.2.3.4]", "bad IPv6 address");
	expect_bad("null", "cannot be allowed");
}
END_TEST

START_TEST(test_cors_limits)
{
	struct cors *cors = cors_create();
	char         origin[CORS_ORIGIN_MAX + 40], reason[200];
	int          i;

	/* The longest origin taken, and one byte more. */
	memcpy(origin, "http://", 7);
	memset(origin + 7, 'a', CORS_ORIGIN_MAX - 7);
	origin[CORS_ORIGIN_MAX] = '\0';
	ck_assert_int_eq(cors_add(cors, origin, reason, sizeof reason), 0);
	ck_assert(cors_allowed(cors, origin));
	memset(origin + 7, 'a', CORS_ORIGIN_MAX - 6);
	origin[CORS_ORIGIN_MAX + 1] = '\0';
	ck_assert_int_eq(cors_add(cors, origin, reason, sizeof reason), -1);
	ck_assert_ptr_nonnull(strstr(reason, "longer than"));
	/* CORS_ORIGINS_MAX in all. */
	for (i = 1; i < CORS_ORIGINS_MAX; i++) {
		snprintf(origin, sizeof origin, "http://h%d.test", i);
		ck_assert_int_eq(
		    cors_add(cors, origin, reason, sizeof reason), 0);
	}
	ck_assert_int_eq(
	    cors_add(cors, "http://one.more", reason, sizeof reason), -1);
	ck_assert_ptr_nonnull(strstr(reason, "more than"));
	ck_assert(cors_allowed(cors, "http://h63.test"));
	cors_free(cors);
	cors_free(NULL);
}
END_TEST

/* "*" allows every origin but "null", and never with credentials. */
START_TEST(test_cors_any)
{
	struct cors *cors = cors_create();
	char         reason[200], out[CORS_HEADERS_MAX];

	ck_assert_int_eq(cors_add(cors, "*", reason, sizeof reason), 0);
	ck_assert_int_eq(
	    cors_configure(cors, CORS_CREDENTIALS, reason, sizeof reason), -1);
	ck_assert_ptr_nonnull(strstr(reason, "credentials"));
	ck_assert_int_eq(cors_configure(cors, 0, reason, sizeof reason), 0);
	ck_assert(cors_allowed(cors, "https://anywhere.test"));
	ck_assert(!cors_allowed(cors, "null"));
	ck_assert(!cors_allowed(cors, NULL));
	ck_assert_int_eq(
	    cors_headers(cors, "https://anywhere.test", 0, out, sizeof out), 1);
	ck_assert_str_eq(
	    out, "Vary: Origin\r\nAccess-Control-Allow-Origin: *\r\n");
	cors_free(cors);
}
END_TEST

START_TEST(test_cors_preflight_detected)
{
	ck_assert(cors_is_preflight("OPTIONS", "http://a.test", "GET"));
	ck_assert(cors_is_preflight("OPTIONS", "http://a.test", "POST"));
	ck_assert(!cors_is_preflight("OPTIONS", NULL, "GET"));
	ck_assert(!cors_is_preflight("OPTIONS", "http://a.test", NULL));
	ck_assert(!cors_is_preflight("GET", "http://a.test", "GET"));
	ck_assert(!cors_is_preflight("options", "http://a.test", "GET"));
	ck_assert(!cors_is_preflight(NULL, "http://a.test", "GET"));
}
END_TEST

START_TEST(test_cors_headers)
{
	struct cors *cors = cors_of("http://127.0.0.1:8080", 0);
	char         out[CORS_HEADERS_MAX];

	ck_assert_int_eq(
	    cors_headers(cors, "http://127.0.0.1:8080", 0, out, sizeof out), 1);
	ck_assert_str_eq(out,
	    "Vary: Origin\r\n"
	    "Access-Control-Allow-Origin: http://127.0.0.1:8080\r\n");
	/* Another origin, or none: the Vary alone. */
	ck_assert_int_eq(
	    cors_headers(cors, "http://127.0.0.1:8081", 0, out, sizeof out), 0);
	ck_assert_str_eq(out, "Vary: Origin\r\n");
	ck_assert_int_eq(cors_headers(cors, NULL, 1, out, sizeof out), 0);
	ck_assert_str_eq(out, "Vary: Origin\r\n");
	ck_assert_int_eq(
	    cors_headers(cors, "http://127.0.0.1:8080", 1, out, sizeof out), 1);
	ck_assert_str_eq(out,
	    "Vary: Origin\r\n"
	    "Access-Control-Allow-Origin: http://127.0.0.1:8080\r\n"
	    "Access-Control-Allow-Methods: GET\r\n"
	    "Access-Control-Allow-Headers: Last-Event-ID\r\n"
	    "Access-Control-Max-Age: 600\r\n");
	cors_free(cors);
}
END_TEST

START_TEST(test_cors_headers_with_credentials)
{
	struct cors *cors = cors_of(
	    "https://app.example.com", CORS_CREDENTIALS | CORS_AUTHORIZATION);
	char out[CORS_HEADERS_MAX];

	ck_assert_int_eq(
	    cors_headers(cors, "https://app.example.com", 0, out, sizeof out),
	    1);
	ck_assert_str_eq(out,
	    "Vary: Origin\r\n"
	    "Access-Control-Allow-Origin: https://app.example.com\r\n"
	    "Access-Control-Allow-Credentials: true\r\n");
	ck_assert_int_eq(
	    cors_headers(cors, "https://app.example.com", 1, out, sizeof out),
	    1);
	ck_assert_str_eq(out,
	    "Vary: Origin\r\n"
	    "Access-Control-Allow-Origin: https://app.example.com\r\n"
	    "Access-Control-Allow-Credentials: true\r\n"
	    "Access-Control-Allow-Methods: GET\r\n"
	    "Access-Control-Allow-Headers: Last-Event-ID, Authorization\r\n"
	    "Access-Control-Max-Age: 600\r\n");
	/* No credentials for an origin not listed. */
	ck_assert_int_eq(
	    cors_headers(cors, "https://evil.test", 1, out, sizeof out), 0);
	ck_assert_str_eq(out, "Vary: Origin\r\n");
	cors_free(cors);
}
END_TEST

/* Without --cors-origin nothing at all; too little room is an error. */
START_TEST(test_cors_headers_off_and_short)
{
	struct cors *cors = cors_create();
	char         out[CORS_HEADERS_MAX], reason[200];

	ck_assert_int_eq(
	    cors_configure(cors, CORS_CREDENTIALS, reason, sizeof reason), 0);
	ck_assert(!cors_enabled(cors));
	ck_assert_int_eq(
	    cors_headers(cors, "http://a.test", 1, out, sizeof out), 0);
	ck_assert_str_eq(out, "");
	cors_free(cors);
	cors = cors_of("http://a.test", 0);
	ck_assert_int_eq(cors_headers(cors, "http://a.test", 0, out, 20), -1);
	ck_assert_int_eq(cors_headers(cors, "http://a.test", 0, out, 0), -1);
	cors_free(cors);
}
END_TEST

static Suite *
cors_suite(void)
{
	Suite *s = suite_create("cors");
	TCase *tc = tcase_create("origins");

	tcase_add_test(tc, test_cors_exact_match);
	tcase_add_test(tc, test_cors_normalised);
	tcase_add_test(tc, test_cors_bad_values);
	tcase_add_test(tc, test_cors_limits);
	tcase_add_test(tc, test_cors_any);
	suite_add_tcase(s, tc);
	tc = tcase_create("headers");
	tcase_add_test(tc, test_cors_preflight_detected);
	tcase_add_test(tc, test_cors_headers);
	tcase_add_test(tc, test_cors_headers_with_credentials);
	tcase_add_test(tc, test_cors_headers_off_and_short);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(cors_suite());
	int      failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
