/* fuzz_access.c: libFuzzer target: the --private rules against a backtracking reference. */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "access.h"
#include "channel.h"
#include "fuzz.h"
#include "ref_access.h"

/*
 * The input is a pattern, a channel and a user, separated by newlines.
 * access_pattern_valid() must take any bytes; for a valid rule and channel
 * access_check() must give the reference's verdict (tests/ref_access.c,
 * plain backtracking: only run with at most four wildcards, since it is
 * exponential in them), and whatever the pattern: coverage does not depend
 * on the user, and nobody is never allowed.
 */

/* The most '*' and {user} the reference is run with. */
#define WILDCARDS_MAX 4

/* Copies up to the next newline (or the end) into out; returns the rest. */
static const uint8_t *
take_line(const uint8_t *p, const uint8_t *end, char *out, size_t size)
{
	size_t n = 0;

	while (p < end && *p != '\n') {
		if (n + 1 < size && *p != '\0')
			out[n++] = (char)*p;
		p++;
	}
	out[n] = '\0';
	return p < end ? p + 1 : p;
}

/* Counts the wildcards of a valid pattern. */
static int
wildcards(const char *pattern)
{
	const char *p;
	int         n = 0;

	for (p = pattern; *p != '\0'; p++)
		if (*p == '*' || *p == '{')
			n++;
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char                pattern[ACCESS_PATTERN_MAX + 8];
	char                channel[CHANNEL_MAX + 8], user[CHANNEL_MAX + 8];
	char                reason[256];
	const uint8_t      *p = data, *end = data + size;
	const char         *rules[1];
	const char         *who;
	enum access_verdict anybody, verdict;

	p = take_line(p, end, pattern, sizeof pattern);
	p = take_line(p, end, channel, sizeof channel);
	take_line(p, end, user, sizeof user);
	who = user[0] != '\0' ? user : NULL;

	if (access_pattern_valid(pattern, reason, sizeof reason) != 0) {
		FUZZ_REQUIRE(reason[0] != '\0');
		return 0;
	}
	if (!channel_valid(channel, strlen(channel)))
		return 0;
	rules[0] = pattern;
	anybody = access_check(rules, 1, channel, NULL);
	verdict = access_check(rules, 1, channel, who);
	FUZZ_REQUIREF(anybody != ACCESS_ALLOWED,
	    "nobody allowed: \"%s\" on \"%s\"", pattern, channel);
	FUZZ_REQUIREF((anybody == ACCESS_PUBLIC) == (verdict == ACCESS_PUBLIC),
	    "coverage depends on the user: \"%s\" on \"%s\" for \"%s\"",
	    pattern, channel, user);
	if (wildcards(pattern) <= WILDCARDS_MAX)
		FUZZ_REQUIREF(
		    verdict == ref_access_verdict(pattern, channel, who),
		    "\"%s\" on \"%s\" for \"%s\": %d, the reference %d",
		    pattern, channel, user, (int)verdict,
		    (int)ref_access_verdict(pattern, channel, who));
	return 0;
}
