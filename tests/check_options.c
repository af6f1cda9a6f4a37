/* check_options.c: unit tests of the options that also come from LITEPUSH_<NAME> variables. */
#include "config.h"

#include <check.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"

/*
 * Each test runs in its own process (Check's fork mode), so setenv() and
 * getopt's globals do not leak from one test into the next.
 */

/* A daemon's options: some with an argument, one without, one optional. */
static const struct option test_options[] = {
    {"db", required_argument, NULL, 'd'},
    {"listen", required_argument, NULL, 'l'},
    {"max-streams", required_argument, NULL, 'm'},
    {"publish", required_argument, NULL, 'p'},
    {"verbose", no_argument, NULL, 'v'},
    {"color", optional_argument, NULL, 'c'}, {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0}};

/* Every variable the options above could read. */
static const char *const test_variables[] = {
    "LITEPUSH_DB",
    "LITEPUSH_LISTEN",
    "LITEPUSH_MAX_STREAMS",
    "LITEPUSH_PUBLISH",
    "LITEPUSH_VERBOSE",
    "LITEPUSH_COLOR",
    "LITEPUSH_HELP",
};

/* Starts each test with none of the variables set. */
static void
setup(void)
{
	size_t i;

	for (i = 0; i < sizeof test_variables / sizeof test_variables[0]; i++)
		unsetenv(test_variables[i]);
}

/* Returns a modifiable copy of the NULL-terminated args, as main() gets them.
 */
static char **
args_copy(const char *const *args)
{
	char **copy;
	int    n = 0, i;

	while (args[n] != NULL)
		n++;
	copy = calloc((size_t)n + 1, sizeof *copy);
	ck_assert_ptr_nonnull(copy);
	for (i = 0; i < n; i++)
		ck_assert_ptr_nonnull(copy[i] = strdup(args[i]));
	return copy;
}

/*
 * Calls options_with_env() on the NULL-terminated args and checks that the
 * result is exactly the NULL-terminated want.
 */
static void
expect_args(const char *const *args, const char *const *want)
{
	char **argv = args_copy(args), **out;
	int    argc = 0, n = -1, i;

	while (argv[argc] != NULL)
		argc++;
	out = options_with_env(argc, argv, "h", test_options, &n);
	ck_assert_ptr_nonnull(out);
	for (i = 0; want[i] != NULL; i++) {
		ck_assert_msg(out[i] != NULL,
		    "argument %d missing, want \"%s\"", i, want[i]);
		ck_assert_str_eq(out[i], want[i]);
		if (i > 0 && i < argc)
			ck_assert_ptr_ne(out[i], argv[i]); /* copies */
	}
	ck_assert_msg(out[i] == NULL, "extra argument \"%s\"", out[i]);
	ck_assert_int_eq(n, i);
	options_free(out);
	options_free(argv);
}

/* NULL-terminated lists of arguments, given and wanted. */
#define ARGV(...) ((const char *const[]){__VA_ARGS__, NULL})
#define WANT(...) ((const char *const[]){__VA_ARGS__, NULL})

/* -------------------------------------------------------------- number */

/* Parses value in [min, max]; returns the result, *got set only on 0. */
static int
number(const char *value, int64_t min, int64_t max, int64_t *got)
{
	*got = -12345;
	return options_number(value, min, max, got);
}

START_TEST(test_options_number_valid)
{
	int64_t v;

	ck_assert_int_eq(number("0", 0, 10, &v), 0);
	ck_assert_int_eq(v, 0);
	ck_assert_int_eq(number("10", 0, 10, &v), 0);
	ck_assert_int_eq(v, 10);
	ck_assert_int_eq(number("1", 1, 1, &v), 0);
	ck_assert_int_eq(v, 1);
	ck_assert_int_eq(number("007", 0, 10, &v), 0);
	ck_assert_int_eq(v, 7);
	ck_assert_int_eq(number("9223372036854775807", 0, INT64_MAX, &v), 0);
	ck_assert_int_eq(v, INT64_MAX);
	ck_assert_int_eq(
	    number("9223372036854775", 1, INT64_MAX / 1000, &v), 0);
	ck_assert_int_eq(v, INT64_MAX / 1000);
}
END_TEST

START_TEST(test_options_number_refused)
{
	static const char *const bad[] = {
	    "",
	    "-1",
	    "+1",
	    " 1",
	    "1 ",
	    "1x",
	    "x1",
	    "0x10",
	    "1.5",
	    "1e3",
	    "abc",
	    "\t2",
	    "2\n",
	    "\xef\xbc\x91" /* a fullwidth 1 */,
	};
	int64_t v;
	size_t  i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		ck_assert_msg(
		    number(bad[i], 0, INT64_MAX, &v) == -1, "\"%s\"", bad[i]);
		ck_assert_msg(v == -12345, "\"%s\" wrote %" PRId64, bad[i], v);
	}
	ck_assert_int_eq(number(NULL, 0, 10, &v), -1);
	ck_assert_int_eq(v, -12345);
}
END_TEST

START_TEST(test_options_number_range)
{
	int64_t v;

	ck_assert_int_eq(number("0", 1, 10, &v), -1);
	ck_assert_int_eq(number("11", 1, 10, &v), -1);
	ck_assert_int_eq(
	    number("9223372036854776", 1, INT64_MAX / 1000, &v), -1);
	/* Beyond int64_t: strtoll's ERANGE, not a clamped INT64_MAX. */
	ck_assert_int_eq(number("9223372036854775808", 0, INT64_MAX, &v), -1);
	ck_assert_int_eq(
	    number("99999999999999999999999", 0, INT64_MAX, &v), -1);
	ck_assert_int_eq(v, -12345);
	/* A negative minimum: still no sign accepted. */
	ck_assert_int_eq(number("5", -10, 10, &v), 0);
	ck_assert_int_eq(v, 5);
	ck_assert_int_eq(number("-5", -10, 10, &v), -1);
}
END_TEST

/* ----------------------------------------------------------------- env */

START_TEST(test_options_env_fills_absent_options)
{
	setenv("LITEPUSH_DB", "/env/events.db", 1);
	setenv("LITEPUSH_MAX_STREAMS", "5", 1);
	/* In the order of the options, before the command line. */
	expect_args(ARGV("litepush-sse", "--listen", "unix:/s"),
	    WANT("litepush-sse", "--db=/env/events.db", "--max-streams=5",
	        "--listen", "unix:/s"));
}
END_TEST

START_TEST(test_options_env_none)
{
	expect_args(ARGV("prog", "-h", "x"), WANT("prog", "-h", "x"));
	expect_args(ARGV("prog"), WANT("prog"));
}
END_TEST

/* The variable's name: upper case, '-' as '_', nothing else matches. */
START_TEST(test_options_env_variable_names)
{
	setenv("LITEPUSH_max_streams", "1", 1);
	setenv("LITEPUSH_MAX-STREAMS", "2", 1);
	setenv("MAX_STREAMS", "3", 1);
	expect_args(ARGV("prog"), WANT("prog"));
	setenv("LITEPUSH_MAX_STREAMS", "4", 1);
	expect_args(ARGV("prog"), WANT("prog", "--max-streams=4"));
}
END_TEST

/* Options without an argument never come from the environment. */
START_TEST(test_options_env_skips_flags)
{
	setenv("LITEPUSH_VERBOSE", "1", 1);
	setenv("LITEPUSH_HELP", "yes", 1);
	setenv("LITEPUSH_COLOR", "never", 1);
	expect_args(ARGV("prog"), WANT("prog", "--color=never"));
}
END_TEST

/* A value is passed as it is, empty, with blanks or '=' in it. */
START_TEST(test_options_env_values_verbatim)
{
	setenv("LITEPUSH_DB", "", 1);
	setenv("LITEPUSH_LISTEN", " a=b c ", 1);
	expect_args(ARGV("prog"), WANT("prog", "--db=", "--listen= a=b c "));
}
END_TEST

/* The command line wins, in every spelling getopt_long accepts. */
START_TEST(test_options_command_line_wins)
{
	setenv("LITEPUSH_DB", "/env", 1);
	setenv("LITEPUSH_PUBLISH", "env*", 1);
	setenv("LITEPUSH_COLOR", "never", 1);
	expect_args(ARGV("prog", "--db=/cli"),
	    WANT("prog", "--publish=env*", "--color=never", "--db=/cli"));
	expect_args(ARGV("prog", "--db", "/cli"),
	    WANT("prog", "--publish=env*", "--color=never", "--db", "/cli"));
	/* Abbreviations, and a repeatable option given once drops the list. */
	expect_args(ARGV("prog", "--d", "/cli", "--pub", "a*", "--pub=b*"),
	    WANT("prog", "--color=never", "--d", "/cli", "--pub", "a*",
	        "--pub=b*"));
	/* An optional argument left out still counts as given. */
	expect_args(ARGV("prog", "--color", "--db=/cli", "--publish=x"),
	    WANT("prog", "--color", "--db=/cli", "--publish=x"));
}
END_TEST

/* What only looks like an option is not one: a value, or after "--". */
START_TEST(test_options_lookalikes_do_not_count)
{
	setenv("LITEPUSH_DB", "/env", 1);
	expect_args(ARGV("prog", "--listen", "--db=/value"),
	    WANT("prog", "--db=/env", "--listen", "--db=/value"));
	expect_args(ARGV("prog", "--", "--db=/after"),
	    WANT("prog", "--db=/env", "--", "--db=/after"));
	/* Unknown options are left for the caller's parse to refuse. */
	expect_args(ARGV("prog", "--bogus", "-z"),
	    WANT("prog", "--db=/env", "--bogus", "-z"));
}
END_TEST

START_TEST(test_options_argc_zero)
{
	char  *empty[] = {NULL};
	char **out;
	int    n = -1;

	setenv("LITEPUSH_DB", "/env", 1);
	out = options_with_env(0, empty, "h", test_options, &n);
	ck_assert_ptr_nonnull(out);
	ck_assert_int_eq(n, 2);
	ck_assert_str_eq(out[0], "litepush");
	ck_assert_str_eq(out[1], "--db=/env");
	ck_assert_ptr_null(out[2]);
	options_free(out);
	options_free(NULL);
}
END_TEST

/*
 * The caller's own getopt_long() parse of the result works from the start
 * (getopt is left to be initialised again), sees the command line's value
 * last, and opterr is as the caller set it.
 */
START_TEST(test_options_parse_after)
{
	char **argv =
	         args_copy(ARGV("prog", "--listen", "unix:/cli", "--verbose")),
	     **out;
	const char *db = NULL, *listen = NULL;
	int         n, c, verbose = 0;

	setenv("LITEPUSH_DB", "/env", 1);
	setenv("LITEPUSH_LISTEN", "unix:/env", 1);
	opterr = 1;
	optind = 3; /* as a previous parse may have left it */
	out = options_with_env(4, argv, "h", test_options, &n);
	ck_assert_ptr_nonnull(out);
	ck_assert_int_eq(opterr, 1);
	while ((c = getopt_long(n, out, "h", test_options, NULL)) != -1) {
		switch (c) {
		case 'd':
			db = optarg;
			break;
		case 'l':
			listen = optarg;
			break;
		case 'v':
			verbose++;
			break;
		default:
			ck_abort_msg("unexpected option %d", c);
		}
	}
	ck_assert_int_eq(optind, n);
	ck_assert_str_eq(db, "/env");
	ck_assert_str_eq(listen, "unix:/cli");
	ck_assert_int_eq(verbose, 1);
	options_free(out);
	options_free(argv);
}
END_TEST

/* Builds the suite: one case per concern. */
static Suite *
check_options_suite(void)
{
	Suite *s = suite_create("options");
	TCase *tc;

	tc = tcase_create("number");
	tcase_add_test(tc, test_options_number_valid);
	tcase_add_test(tc, test_options_number_refused);
	tcase_add_test(tc, test_options_number_range);
	suite_add_tcase(s, tc);

	tc = tcase_create("env");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_options_env_fills_absent_options);
	tcase_add_test(tc, test_options_env_none);
	tcase_add_test(tc, test_options_env_variable_names);
	tcase_add_test(tc, test_options_env_skips_flags);
	tcase_add_test(tc, test_options_env_values_verbatim);
	tcase_add_test(tc, test_options_command_line_wins);
	tcase_add_test(tc, test_options_lookalikes_do_not_count);
	tcase_add_test(tc, test_options_argc_zero);
	tcase_add_test(tc, test_options_parse_after);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(check_options_suite());
	int      failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
