/* access.c: whom a channel belongs to: the --private rules, patterns where {user} stands for the authenticated user. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "access.h"
#include "channel.h"
#include "query.h"

/*
 * A pattern is matched as a list of tokens against the channel by dynamic
 * programming over (token, position): at most ACCESS_PATTERN_MAX tokens by
 * CHANNEL_MAX + 1 positions, so a pattern of many '*' costs the same as any
 * other, where backtracking would be exponential.  A token is a literal
 * byte, ACCESS_STAR or ACCESS_USER.
 */
#define ACCESS_STAR (-1)
#define ACCESS_USER (-2)

#define ACCESS_USER_TOKEN     "{user}"
#define ACCESS_USER_TOKEN_LEN (sizeof ACCESS_USER_TOKEN - 1)

/* Splits pattern into tokens; returns their count, or -1 if it is no rule. */
static int
access_tokens(const char *pattern, int *tokens)
{
	size_t i, n = 0;

	for (i = 0; pattern[i] != '\0'; i++) {
		if (n == ACCESS_PATTERN_MAX)
			return -1;
		if (pattern[i] == '*')
			tokens[n++] = ACCESS_STAR;
		else if (strncmp(pattern + i, ACCESS_USER_TOKEN,
		             ACCESS_USER_TOKEN_LEN) == 0) {
			tokens[n++] = ACCESS_USER;
			i += ACCESS_USER_TOKEN_LEN - 1;
		} else if (channel_valid(pattern + i, 1))
			tokens[n++] = (unsigned char)pattern[i];
		else
			return -1;
	}
	return n == 0 ? -1 : (int)n;
}

/* Checks that pattern is a rule. */
int
access_pattern_valid(const char *pattern, char *reason, size_t len)
{
	int tokens[ACCESS_PATTERN_MAX];

	if (strlen(pattern) > ACCESS_PATTERN_MAX) {
		snprintf(
		    reason, len, "longer than %d bytes", ACCESS_PATTERN_MAX);
		return -1;
	}
	if (access_tokens(pattern, tokens) < 0) {
		snprintf(reason, len,
		    "expected channel characters [A-Za-z0-9_.:-], '*' and "
		    "\"{user}\"");
		return -1;
	}
	return 0;
}

/*
 * Returns non-zero if the ntokens tokens match the whole channel: with user
 * NULL, {user} stands for any non-empty run (does a rule cover it?); with a
 * user, for exactly that user.
 */
static int
access_match(const int *tokens, int ntokens, const char *channel,
    size_t channel_len, const char *user)
{
	/* matches[i][j]: tokens i.. match channel[j..]. */
	unsigned char matches[ACCESS_PATTERN_MAX + 1][CHANNEL_MAX + 1];
	size_t        user_len = user != NULL ? strlen(user) : 0;
	size_t        j;
	int           i;

	for (j = 0; j <= channel_len; j++)
		matches[ntokens][j] = j == channel_len;
	for (i = ntokens - 1; i >= 0; i--) {
		for (j = channel_len + 1; j-- > 0;) {
			int more = j < channel_len, m;

			if (tokens[i] == ACCESS_STAR)
				m = matches[i + 1][j] ||
				    (more && matches[i][j + 1]);
			else if (tokens[i] == ACCESS_USER && user == NULL)
				m = more && (matches[i + 1][j + 1] ||
				                matches[i][j + 1]);
			else if (tokens[i] == ACCESS_USER)
				m = user_len > 0 &&
				    j + user_len <= channel_len &&
				    memcmp(channel + j, user, user_len) == 0 &&
				    matches[i + 1][j + user_len];
			else
				m = more &&
				    (unsigned char)channel[j] == tokens[i] &&
				    matches[i + 1][j + 1];
			matches[i][j] = (unsigned char)m;
		}
	}
	return matches[0][0];
}

/* Judges user's request for channel under the rules. */
enum access_verdict
access_check(const char *const *patterns, size_t npatterns, const char *channel,
    const char *user)
{
	int    tokens[ACCESS_PATTERN_MAX];
	size_t channel_len = strlen(channel), i;
	int    covered = 0, ntokens;

	if (channel_len > CHANNEL_MAX)
		return ACCESS_DENIED;
	if (user != NULL && *user == '\0')
		user = NULL;
	for (i = 0; i < npatterns; i++) {
		ntokens = access_tokens(patterns[i], tokens);
		if (ntokens < 0 ||
		    !access_match(tokens, ntokens, channel, channel_len, NULL))
			continue;
		covered = 1;
		if (user != NULL &&
		    access_match(tokens, ntokens, channel, channel_len, user))
			return ACCESS_ALLOWED;
	}
	return covered ? ACCESS_DENIED : ACCESS_PUBLIC;
}

/* Judges a subscription: 0, 401 or 403 with the reason. */
int
access_subscription(const struct access_rules *rules, const struct query *query,
    const char *user, char *reason, size_t len)
{
	return access_subscription_granted(
	    rules, query, user, NULL, NULL, reason, len);
}

/* Judges a subscription with a grant's channels too. */
int
access_subscription_granted(const struct access_rules *rules,
    const struct query *query, const char                            *user,
    int (*granted)(const void *arg, const char *channel), const void *arg,
    char *reason, size_t len)
{
	size_t i;

	if (user != NULL && *user == '\0')
		user = NULL;
	for (i = 0; i < query->nchannels; i++) {
		enum access_verdict verdict = access_check(rules->patterns,
		    rules->npatterns, query->channels[i], user);

		if (verdict == ACCESS_ALLOWED ||
		    (verdict == ACCESS_PUBLIC &&
		        (user != NULL || !rules->require_login)) ||
		    (granted != NULL && granted(arg, query->channels[i])))
			continue;
		if (user == NULL) {
			snprintf(reason, len, "channel \"%s\" needs a login",
			    query->channels[i]);
			return 401;
		}
		snprintf(reason, len,
		    "channel \"%s\" is not open to this login",
		    query->channels[i]);
		return 403;
	}
	return 0;
}
