/* check_access.c: unit tests of the --private rules: patterns, {user}, the three verdicts. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "channel.h"
#include "query.h"
#include "ref_access.h"

/* Judges channel for user under one rule. */
static enum access_verdict
check_one(const char *pattern, const char *channel, const char *user)
{
	const char *patterns[] = {pattern};

	return access_check(patterns, 1, channel, user);
}

START_TEST(test_access_user_channel)
{
	ck_assert_int_eq(
	    check_one("user.{user}", "user.alice", "alice"), ACCESS_ALLOWED);
	ck_assert_int_eq(
	    check_one("user.{user}", "user.alice", "bob"), ACCESS_DENIED);
	ck_assert_int_eq(
	    check_one("user.{user}", "user.alice", NULL), ACCESS_DENIED);
	ck_assert_int_eq(
	    check_one("user.{user}", "user.alice", ""), ACCESS_DENIED);
	/* A prefix of the user's name is not the user. */
	ck_assert_int_eq(
	    check_one("user.{user}", "user.alice", "alic"), ACCESS_DENIED);
	ck_assert_int_eq(
	    check_one("user.{user}", "user.alicex", "alice"), ACCESS_DENIED);
	/* Not covered: public, whoever asks. */
	ck_assert_int_eq(check_one("user.{user}", "news", NULL), ACCESS_PUBLIC);
	ck_assert_int_eq(
	    check_one("user.{user}", "user.", NULL), ACCESS_PUBLIC);
	ck_assert_int_eq(
	    check_one("user.{user}", "users.alice", "alice"), ACCESS_PUBLIC);
}
END_TEST

START_TEST(test_access_stars_and_users)
{
	ck_assert_int_eq(check_one("room.*.{user}", "room.7.alice", "alice"),
	    ACCESS_ALLOWED);
	ck_assert_int_eq(
	    check_one("room.*.{user}", "room.7.alice", "bob"), ACCESS_DENIED);
	ck_assert_int_eq(
	    check_one("room.*.{user}", "room..alice", "alice"), ACCESS_ALLOWED);
	ck_assert_int_eq(
	    check_one("{user}:inbox", "bob:inbox", "bob"), ACCESS_ALLOWED);
	/* {user} twice: both must name the same user. */
	ck_assert_int_eq(
	    check_one("dm.{user}.{user}", "dm.bob.bob", "bob"), ACCESS_ALLOWED);
	ck_assert_int_eq(
	    check_one("dm.{user}.{user}", "dm.bob.eve", "bob"), ACCESS_DENIED);
	/* A rule without {user} asks only for a login. */
	ck_assert_int_eq(
	    check_one("members.*", "members.news", "root"), ACCESS_ALLOWED);
	ck_assert_int_eq(
	    check_one("members.*", "members.news", NULL), ACCESS_DENIED);
	ck_assert_int_eq(
	    check_one("members.*", "members", "root"), ACCESS_PUBLIC);
	/* A user name with characters no channel has matches nothing. */
	ck_assert_int_eq(
	    check_one("user.{user}", "user.a", "a b"), ACCESS_DENIED);
}
END_TEST

/* Of several rules, any that covers the channel and names the user allows. */
START_TEST(test_access_several_rules)
{
	const char *rules[] = {
	    "user.{user}", "team.{user}.notes", "team.*.{user}"};

	ck_assert_int_eq(access_check(rules, 3, "team.alice.notes", "alice"),
	    ACCESS_ALLOWED);
	ck_assert_int_eq(
	    access_check(rules, 3, "team.alice.notes", "bob"), ACCESS_DENIED);
	/* Covered by the second rule and the third: either may allow. */
	ck_assert_int_eq(access_check(rules, 3, "team.alice.notes", "notes"),
	    ACCESS_ALLOWED);
	ck_assert_int_eq(
	    access_check(rules, 3, "team.x", "alice"), ACCESS_PUBLIC);
	ck_assert_int_eq(
	    access_check(rules, 3, "chat", "alice"), ACCESS_PUBLIC);
	ck_assert_int_eq(
	    access_check(rules, 0, "user.bob", NULL), ACCESS_PUBLIC);
}
END_TEST

START_TEST(test_access_pattern_valid)
{
	char reason[200];
	char longest[ACCESS_PATTERN_MAX + 2];

	ck_assert_int_eq(
	    access_pattern_valid("user.{user}", reason, sizeof reason), 0);
	ck_assert_int_eq(access_pattern_valid("*", reason, sizeof reason), 0);
	ck_assert_int_eq(
	    access_pattern_valid("a:b-c_d.*", reason, sizeof reason), 0);
	ck_assert_int_eq(access_pattern_valid("", reason, sizeof reason), -1);
	ck_assert_int_eq(
	    access_pattern_valid("user {user}", reason, sizeof reason), -1);
	ck_assert_str_eq(reason, "expected channel characters [A-Za-z0-9_.:-], "
	                         "'*' and \"{user}\"");
	ck_assert_int_eq(
	    access_pattern_valid("user.{usr}", reason, sizeof reason), -1);
	ck_assert_int_eq(
	    access_pattern_valid("user.{user", reason, sizeof reason), -1);
	memset(longest, 'a', ACCESS_PATTERN_MAX);
	longest[ACCESS_PATTERN_MAX] = '\0';
	ck_assert_int_eq(
	    access_pattern_valid(longest, reason, sizeof reason), 0);
	longest[ACCESS_PATTERN_MAX] = 'a';
	longest[ACCESS_PATTERN_MAX + 1] = '\0';
	ck_assert_int_eq(
	    access_pattern_valid(longest, reason, sizeof reason), -1);
	ck_assert_str_eq(reason, "longer than 128 bytes");
}
END_TEST

/* Random small rules and channels over {a, b, .}: the same verdicts. */
START_TEST(test_access_agrees_with_backtracking)
{
	static const char *const pieces[] = {"a", "b", ".", "*", "{user}"};
	static const char *const users[] = {NULL, "a", "b", "ab", "ba."};
	unsigned int             seed = 1;
	int                      round;

	for (round = 0; round < 20000; round++) {
		char   pattern[64] = "", channel[16] = "";
		size_t i, n;

		n = 1 + rand_r(&seed) % 6;
		for (i = 0; i < n; i++)
			strcat(pattern, pieces[rand_r(&seed) % 5]);
		n = 1 + rand_r(&seed) % 8;
		for (i = 0; i < n; i++)
			channel[i] = "ab."[rand_r(&seed) % 3];
		channel[n] = '\0';
		for (i = 0; i < 5; i++)
			ck_assert_msg(
			    check_one(pattern, channel, users[i]) ==
			        ref_access_verdict(pattern, channel, users[i]),
			    "pattern \"%s\", channel \"%s\", user %s", pattern,
			    channel, users[i] != NULL ? users[i] : "(none)");
	}
}
END_TEST

/* Many stars against the longest channel: answered, and rightly. */
START_TEST(test_access_many_stars)
{
	char pattern[ACCESS_PATTERN_MAX + 1], channel[CHANNEL_MAX + 1];
	int  i;

	for (i = 0; i < ACCESS_PATTERN_MAX - 1; i += 2) {
		pattern[i] = '*';
		pattern[i + 1] = 'a';
	}
	pattern[ACCESS_PATTERN_MAX - 2] = '*';
	pattern[ACCESS_PATTERN_MAX - 1] = 'b';
	pattern[ACCESS_PATTERN_MAX] = '\0';
	memset(channel, 'a', CHANNEL_MAX);
	channel[CHANNEL_MAX] = '\0';
	ck_assert_int_eq(check_one(pattern, channel, NULL), ACCESS_PUBLIC);
	channel[CHANNEL_MAX - 1] = 'b';
	ck_assert_int_eq(check_one("*a*a*a*b", channel, NULL), ACCESS_DENIED);
}
END_TEST

/* A subscription: every channel judged, the first refusal told. */
START_TEST(test_access_subscription)
{
	const char *const   patterns[] = {"user.{user}"};
	struct access_rules rules = {patterns, 1, 0};
	struct query        q;
	char                reason[200];

	ck_assert_int_eq(
	    query_parse("channel=news,user.alice", 23, &q, NULL, 0), 0);
	ck_assert_int_eq(
	    access_subscription(&rules, &q, "alice", reason, sizeof reason), 0);
	ck_assert_int_eq(
	    access_subscription(&rules, &q, "bob", reason, sizeof reason), 403);
	ck_assert_str_eq(
	    reason, "channel \"user.alice\" is not open to this login");
	ck_assert_int_eq(
	    access_subscription(&rules, &q, NULL, reason, sizeof reason), 401);
	ck_assert_str_eq(reason, "channel \"user.alice\" needs a login");
	ck_assert_int_eq(
	    access_subscription(&rules, &q, "", reason, sizeof reason), 401);
	ck_assert_int_eq(query_parse("channel=news", 12, &q, NULL, 0), 0);
	ck_assert_int_eq(
	    access_subscription(&rules, &q, NULL, reason, sizeof reason), 0);
	rules.require_login = 1;
	ck_assert_int_eq(
	    access_subscription(&rules, &q, NULL, reason, sizeof reason), 401);
	ck_assert_str_eq(reason, "channel \"news\" needs a login");
	ck_assert_int_eq(
	    access_subscription(&rules, &q, "bob", reason, sizeof reason), 0);
}
END_TEST

static Suite *
access_suite(void)
{
	Suite *s = suite_create("access");
	TCase *tc = tcase_create("rules");

	tcase_add_test(tc, test_access_user_channel);
	tcase_add_test(tc, test_access_stars_and_users);
	tcase_add_test(tc, test_access_several_rules);
	tcase_add_test(tc, test_access_pattern_valid);
	tcase_add_test(tc, test_access_agrees_with_backtracking);
	tcase_add_test(tc, test_access_many_stars);
	tcase_add_test(tc, test_access_subscription);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(access_suite());
	int      failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
