/* check_query.c: unit tests for the query-string and Last-Event-ID parsers. */
#include "config.h"

#include <check.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "query.h"
#include "ref_query.h"
#include "store.h"

/*
 * Every case has exact expectations (channels, ids, the reason's text).
 * Besides, query_parse() is checked against a small reference written the
 * obvious way (tests/ref_query.c: decode a whole pair into malloc'd memory,
 * then split), which is what the prefix, byte-mutation and random tests
 * compare with: same result, and for errors the same kind of reason.
 * Every input is copied to a buffer of exactly its size, without a NUL, so
 * that ASan catches any read past len.
 */

/* The tail of every bad-channel reason. */
#define RULE ": use 1 to 64 of A-Z a-z 0-9 _ . : -"

/* The 64 and 65 byte channel names at the edge of the rule. */
#define A8  "aaaaaaaa"
#define A64 A8 A8 A8 A8 A8 A8 A8 A8
#define A65 A64 "a"

/*
 * Fails the test when cond is false.  Unlike ck_assert() it records nothing
 * when cond holds (Check's mark point costs a write), so loops can use it.
 */
#define REQUIRE(cond)                                                          \
	do {                                                                   \
		if (!(cond))                                                   \
			ck_abort_msg("line %d: %s", __LINE__, #cond);          \
	} while (0)

/* One query string and what query_parse() must make of it. */
struct check_query_case {
	const char *input;
	const char *channels; /* joined with ','; NULL when an error */
	int         has_last_id;
	int64_t     last_id;
	int         has_backlog;
	int64_t     backlog;
	const char *error; /* the whole reason, or NULL */
};

/* Returns a printable, C-escaped copy of len bytes (static storage). */
static const char *
check_query_escape(const char *data, size_t len)
{
	static char out[4][512];
	static int  which;
	char       *p;
	size_t      i, used = 0;

	which = (which + 1) % 4;
	p = out[which];
	for (i = 0; i < len && used + 8 < sizeof out[0]; i++) {
		unsigned char c = (unsigned char)data[i];

		if (c == '\\' || c == '"')
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

/* Returns a malloc'd copy of len bytes of data, exactly len bytes long. */
static char *
check_query_exact(const char *data, size_t len)
{
	char *copy = malloc(len != 0 ? len : 1);

	REQUIRE(copy != NULL);
	if (len != 0)
		memcpy(copy, data, len);
	return copy;
}

/* Parses len bytes of qs from an exactly-sized copy. */
static int
check_query_parse(
    const char *qs, size_t len, struct query *q, char *errbuf, size_t errlen)
{
	char *copy = check_query_exact(qs, len);
	int   rc;

	rc = query_parse(copy, len, q, errbuf, errlen);
	free(copy);
	return rc;
}

/* Returns non-zero if q holds nothing at all (what an error leaves). */
static int
check_query_is_zero(const struct query *q)
{
	size_t i, j;

	if (q->nchannels != 0 || q->has_last_id != 0 || q->last_id != 0 ||
	    q->has_backlog != 0 || q->backlog != 0)
		return 0;
	for (i = 0; i < QUERY_MAX_CHANNELS; i++) {
		for (j = 0; j <= CHANNEL_MAX; j++) {
			if (q->channels[i][j] != '\0')
				return 0;
		}
	}
	return 1;
}

/*
 * Checks what holds whatever the input: on success 1..32 distinct valid
 * channels and an empty errbuf, on error a zeroed q and a one-line,
 * printable ASCII reason that was not cut short.
 */
static void
check_query_sane(int rc, const struct query *q, const char *errbuf,
    const char *input, size_t len)
{
	size_t i, j, n;

	ck_assert_msg(rc == 0 || rc == -1, "\"%s\": rc %d",
	    check_query_escape(input, len), rc);
	if (rc == 0) {
		ck_assert_msg(errbuf[0] == '\0', "\"%s\": errbuf \"%s\"",
		    check_query_escape(input, len), errbuf);
		REQUIRE(
		    q->nchannels >= 1 && q->nchannels <= QUERY_MAX_CHANNELS);
		for (i = 0; i < q->nchannels; i++) {
			n = strnlen(q->channels[i], CHANNEL_MAX + 1);
			REQUIRE(n <= CHANNEL_MAX);
			REQUIRE(channel_valid(q->channels[i], n));
			for (j = 0; j < i; j++)
				REQUIRE(strcmp(q->channels[i],
				            q->channels[j]) != 0);
		}
		REQUIRE(q->has_last_id == 0 || q->has_last_id == 1);
		REQUIRE(q->has_last_id || q->last_id == 0);
		REQUIRE(q->last_id >= 0);
		REQUIRE(q->has_backlog == 0 || q->has_backlog == 1);
		REQUIRE(q->has_backlog || q->backlog == 0);
		REQUIRE(q->backlog >= 0);
		return;
	}
	ck_assert_msg(check_query_is_zero(q), "\"%s\": q not zeroed on error",
	    check_query_escape(input, len));
	n = strlen(errbuf);
	ck_assert_msg(n > 0 && n < 200, "\"%s\": reason of %zu bytes",
	    check_query_escape(input, len), n);
	for (i = 0; i < n; i++)
		ck_assert_msg(errbuf[i] >= 0x20 && errbuf[i] <= 0x7e,
		    "\"%s\": unprintable reason \"%s\"",
		    check_query_escape(input, len),
		    check_query_escape(errbuf, n));
}

/*
 * Parses len bytes of qs (exactly sized) and checks the result against the
 * reference and against what always holds.
 */
static void
check_query_against_reference(const char *qs, size_t len)
{
	struct query got, want;
	char         errbuf[QUERY_ERRLEN];
	const char  *kind;
	int          rc, want_rc;
	size_t       i;

	memset(&got, 0xA5, sizeof got);
	rc = check_query_parse(qs, len, &got, errbuf, sizeof errbuf);
	check_query_sane(rc, &got, errbuf, qs, len);
	want_rc = ref_query_parse(qs, len, &want, &kind);
	ck_assert_msg(rc == want_rc,
	    "\"%s\": Expected: rc %d (%s) But got: rc %d (%s)",
	    check_query_escape(qs, len), want_rc, kind != NULL ? kind : "", rc,
	    errbuf);
	if (rc != 0) {
		ck_assert_msg(strncmp(errbuf, kind, strlen(kind)) == 0,
		    "\"%s\": Expected: a reason starting \"%s\" But got: "
		    "\"%s\"",
		    check_query_escape(qs, len), kind, errbuf);
		return;
	}
	ck_assert_msg(got.nchannels == want.nchannels,
	    "\"%s\": Expected: %zu channels But got: %zu",
	    check_query_escape(qs, len), want.nchannels, got.nchannels);
	for (i = 0; i < got.nchannels; i++)
		ck_assert_msg(strcmp(got.channels[i], want.channels[i]) == 0,
		    "\"%s\": channel %zu: Expected: \"%s\" But got: \"%s\"",
		    check_query_escape(qs, len), i, want.channels[i],
		    got.channels[i]);
	REQUIRE(got.has_last_id == want.has_last_id);
	REQUIRE(got.last_id == want.last_id);
	REQUIRE(got.has_backlog == want.has_backlog);
	REQUIRE(got.backlog == want.backlog);
}

/* Checks that q holds exactly the channels joined in expected. */
static void
check_query_assert_channels(
    const struct query *q, const char *expected, const char *input)
{
	const char *p = expected, *comma;
	size_t      i = 0, n;

	for (;;) {
		comma = strchr(p, ',');
		n = comma != NULL ? (size_t)(comma - p) : strlen(p);
		ck_assert_msg(i < q->nchannels,
		    "\"%s\": Expected: channels \"%s\" But got: only %zu",
		    check_query_escape(input, strlen(input)), expected,
		    q->nchannels);
		ck_assert_msg(strlen(q->channels[i]) == n &&
		                  memcmp(q->channels[i], p, n) == 0,
		    "\"%s\": channel %zu: Expected: \"%.*s\" But got: \"%s\"",
		    check_query_escape(input, strlen(input)), i, (int)n, p,
		    q->channels[i]);
		i++;
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	ck_assert_msg(q->nchannels == i,
	    "\"%s\": Expected: %zu channels (\"%s\") But got: %zu",
	    check_query_escape(input, strlen(input)), i, expected,
	    q->nchannels);
}

/* Runs one case: exact result, the same with no errbuf, the reference. */
static void
check_query_run(const struct check_query_case *c)
{
	struct query q, again;
	char         errbuf[QUERY_ERRLEN];
	size_t       len = strlen(c->input);
	int          rc;

	memset(&q, 0x5A, sizeof q);
	rc = check_query_parse(c->input, len, &q, errbuf, sizeof errbuf);
	check_query_sane(rc, &q, errbuf, c->input, len);
	if (c->error != NULL) {
		ck_assert_msg(rc == -1 && strcmp(errbuf, c->error) == 0,
		    "\"%s\": Expected: \"%s\" But got: rc %d \"%s\"",
		    check_query_escape(c->input, len), c->error, rc, errbuf);
	} else {
		ck_assert_msg(rc == 0,
		    "\"%s\": Expected: success But got: \"%s\"",
		    check_query_escape(c->input, len), errbuf);
		check_query_assert_channels(&q, c->channels, c->input);
		ck_assert_msg(
		    q.has_last_id == c->has_last_id && q.last_id == c->last_id,
		    "\"%s\": Expected: last id %d/%" PRId64
		    " But got: %d/%" PRId64,
		    c->input, c->has_last_id, c->last_id, q.has_last_id,
		    q.last_id);
		ck_assert_msg(
		    q.has_backlog == c->has_backlog && q.backlog == c->backlog,
		    "\"%s\": Expected: backlog %d/%" PRId64
		    " But got: %d/%" PRId64,
		    c->input, c->has_backlog, c->backlog, q.has_backlog,
		    q.backlog);
	}

	/* No errbuf: the same outcome. */
	memset(&again, 0x33, sizeof again);
	REQUIRE(check_query_parse(c->input, len, &again, NULL, 0) == rc);
	REQUIRE(again.nchannels == q.nchannels);
	REQUIRE(memcmp(again.channels, q.channels, sizeof q.channels) == 0);
	REQUIRE(
	    again.has_last_id == q.has_last_id && again.last_id == q.last_id);
	REQUIRE(
	    again.has_backlog == q.has_backlog && again.backlog == q.backlog);

	check_query_against_reference(c->input, len);
}

/* Runs every case of a table (up to its NULL input). */
static void
check_query_run_table(const struct check_query_case *cases)
{
	const struct check_query_case *c;

	for (c = cases; c->input != NULL; c++)
		check_query_run(c);
}

#define RUN_TABLE(t) check_query_run_table(t)

/* The shape of requests, defaults, ignored parameters. */
static const struct check_query_case check_query_core_cases[] = {
    {"", "default", 0, 0, 0, 0, NULL}, {"channel=a", "a", 0, 0, 0, 0, NULL},
    {"channel=news", "news", 0, 0, 0, 0, NULL},
    {"lastEventId=42&backlog=10", "default", 1, 42, 1, 10, NULL},
    {"channel=a&lastEventId=7&backlog=3", "a", 1, 7, 1, 3, NULL},
    {"backlog=3&channel=a&lastEventId=7", "a", 1, 7, 1, 3, NULL},
    {"x=1&channel=a&y", "a", 0, 0, 0, 0, NULL},
    {"channels=a&channel=b", "b", 0, 0, 0, 0, NULL},
    {"channels=a", "default", 0, 0, 0, 0, NULL},
    {"channelx=a&chan=b&hannel=c", "default", 0, 0, 0, 0, NULL},
    {"Channel=a&CHANNEL=b", "default", 0, 0, 0, 0, NULL},
    {"lasteventid=1&LastEventId=2&last_event_id=3&Backlog=4", "default", 0, 0,
        0, 0, NULL},
    {"channel=a&&channel=b", "a,b", 0, 0, 0, 0, NULL},
    {"&", "default", 0, 0, 0, 0, NULL}, {"&&&", "default", 0, 0, 0, 0, NULL},
    {"&channel=a&", "a", 0, 0, 0, 0, NULL},
    {"channel=a;channel=b", NULL, 0, 0, 0, 0,
        "bad channel \"a;channel=b\"" RULE},
    {"=", "default", 0, 0, 0, 0, NULL}, {"=a", "default", 0, 0, 0, 0, NULL},
    {"==", "default", 0, 0, 0, 0, NULL}, {"x", "default", 0, 0, 0, 0, NULL},
    {"x=", "default", 0, 0, 0, 0, NULL},
    {"lastEventId", "default", 0, 0, 0, 0, NULL},
    {"backlog", "default", 0, 0, 0, 0, NULL},
    {"lastEventId=&backlog=", "default", 0, 0, 0, 0, NULL},
    {"x=a+b%20c%2C%26", "default", 0, 0, 0, 0, NULL},
    {"x=a=b=c&channel=d", "d", 0, 0, 0, 0, NULL},
    {"q=%E2%9C%93&channel=ok", "ok", 0, 0, 0, 0, NULL},
    {"_=1699999999999&channel=live", "live", 0, 0, 0, 0, NULL},
    {NULL, NULL, 0, 0, 0, 0, NULL}, /* end */
};

/* Percent-decoding and '+'. */
static const struct check_query_case check_query_decoding_cases[] = {
    {"channel=%61%62", "ab", 0, 0, 0, 0, NULL},
    {"channel=%4a%4B", "JK", 0, 0, 0, 0, NULL},
    {"c%68annel=a", "a", 0, 0, 0, 0, NULL},
    {"%63%68%61%6E%6E%65%6C=a", "a", 0, 0, 0, 0, NULL},
    {"%6castEventId=5", "default", 1, 5, 0, 0, NULL},
    {"channel=a%2Cb", "a,b", 0, 0, 0, 0, NULL},
    {"channel=a%2cb%2Cc", "a,b,c", 0, 0, 0, 0, NULL},
    {"channel=a%3Ab", "a:b", 0, 0, 0, 0, NULL},
    {"channel%3Da=b", "default", 0, 0, 0, 0, NULL},
    {"channel=a%26channel%3Db", NULL, 0, 0, 0, 0,
        "bad channel \"a&channel=b\"" RULE},
    {"channel=a+b", NULL, 0, 0, 0, 0, "bad channel \"a b\"" RULE},
    {"channel=a%20b", NULL, 0, 0, 0, 0, "bad channel \"a b\"" RULE},
    {"channel=a%2Bb", NULL, 0, 0, 0, 0, "bad channel \"a+b\"" RULE},
    {"channel+=a", "default", 0, 0, 0, 0, NULL},
    {"lastEventId=%34%32", "default", 1, 42, 0, 0, NULL},
    {"lastEventId=+1", NULL, 0, 0, 0, 0,
        "bad lastEventId \" 1\": expected a decimal id"},
    {"lastEventId=%2B1", NULL, 0, 0, 0, 0,
        "bad lastEventId \"+1\": expected a decimal id"},
    {"backlog=1%30", "default", 0, 0, 1, 10, NULL},
    {"x=%00%ff%FF", "default", 0, 0, 0, 0, NULL},
    {NULL, NULL, 0, 0, 0, 0, NULL}, /* end */
};

/* Lists, repeats, duplicates, the name rule. */
static const struct check_query_case check_query_channel_cases[] = {
    {"channel=a,b", "a,b", 0, 0, 0, 0, NULL},
    {"channel=a&channel=b", "a,b", 0, 0, 0, 0, NULL},
    {"channel=b&channel=a", "b,a", 0, 0, 0, 0, NULL},
    {"channel=a,b&channel=c,d", "a,b,c,d", 0, 0, 0, 0, NULL},
    {"channel=a,a", "a", 0, 0, 0, 0, NULL},
    {"channel=b,a,b&channel=a", "b,a", 0, 0, 0, 0, NULL},
    {"channel=a&channel=a&channel=a", "a", 0, 0, 0, 0, NULL},
    {"channel=a&channel=A", "a,A", 0, 0, 0, 0, NULL},
    {"channel=ab&channel=a&channel=abc", "ab,a,abc", 0, 0, 0, 0, NULL},
    {"channel=default&channel=x", "default,x", 0, 0, 0, 0, NULL},
    {"channel=A-z_0.9:x", "A-z_0.9:x", 0, 0, 0, 0, NULL},
    {"channel=-&channel=.&channel=:&channel=_", "-,.,:,_", 0, 0, 0, 0, NULL},
    {"channel=room:42.chat_log-1", "room:42.chat_log-1", 0, 0, 0, 0, NULL},
    {"channel=" A64, A64, 0, 0, 0, 0, NULL},
    {"channel=" A64 "," A64, A64, 0, 0, 0, 0, NULL},
    {"channel=" A65, NULL, 0, 0, 0, 0, "bad channel \"" A64 "...\"" RULE},
    {"channel=a," A65 ",b", NULL, 0, 0, 0, 0,
        "bad channel \"" A64 "...\"" RULE},
    {"channel=a/b", NULL, 0, 0, 0, 0, "bad channel \"a/b\"" RULE},
    {"channel=a=b", NULL, 0, 0, 0, 0, "bad channel \"a=b\"" RULE},
    {"channel=a b", NULL, 0, 0, 0, 0, "bad channel \"a b\"" RULE},
    {"channel=a*", NULL, 0, 0, 0, 0, "bad channel \"a*\"" RULE},
    {"channel=%00", NULL, 0, 0, 0, 0, "bad channel \"\\x00\"" RULE},
    {"channel=a%0Ab", NULL, 0, 0, 0, 0, "bad channel \"a\\x0Ab\"" RULE},
    {"channel=%22%5C", NULL, 0, 0, 0, 0, "bad channel \"\\\"\\\\\"" RULE},
    {"channel=%C3%A9t%C3%A9", NULL, 0, 0, 0, 0,
        "bad channel \"\\xC3\\xA9t\\xC3\\xA9\"" RULE},
    {"channel=%7F", NULL, 0, 0, 0, 0, "bad channel \"\\x7F\"" RULE},
    {"channel=ok,bad!", NULL, 0, 0, 0, 0, "bad channel \"bad!\"" RULE},
    {"channel=", NULL, 0, 0, 0, 0, "empty channel name"},
    {"channel", NULL, 0, 0, 0, 0, "empty channel name"},
    {"channel=a,,b", NULL, 0, 0, 0, 0, "empty channel name"},
    {"channel=a,", NULL, 0, 0, 0, 0, "empty channel name"},
    {"channel=,a", NULL, 0, 0, 0, 0, "empty channel name"},
    {"channel=,", NULL, 0, 0, 0, 0, "empty channel name"},
    {"channel=a%2C", NULL, 0, 0, 0, 0, "empty channel name"},
    {"channel=a&channel=", NULL, 0, 0, 0, 0, "empty channel name"},
    {"channel=a&channel", NULL, 0, 0, 0, 0, "empty channel name"},
    {NULL, NULL, 0, 0, 0, 0, NULL}, /* end */
};

/* lastEventId and backlog. */
static const struct check_query_case check_query_id_cases[] = {
    {"lastEventId=0", "default", 1, 0, 0, 0, NULL},
    {"lastEventId=42", "default", 1, 42, 0, 0, NULL},
    {"lastEventId=007", "default", 1, 7, 0, 0, NULL},
    {"lastEventId=9223372036854775807", "default", 1, INT64_MAX, 0, 0, NULL},
    {"lastEventId=09223372036854775807", "default", 1, INT64_MAX, 0, 0, NULL},
    {"lastEventId=", "default", 0, 0, 0, 0, NULL},
    {"lastEventId=1&lastEventId=2", "default", 1, 2, 0, 0, NULL},
    {"lastEventId=1&lastEventId=", "default", 0, 0, 0, 0, NULL},
    {"lastEventId=1&lastEventId", "default", 0, 0, 0, 0, NULL},
    {"lastEventId=&lastEventId=3", "default", 1, 3, 0, 0, NULL},
    {"backlog=0", "default", 0, 0, 1, 0, NULL},
    {"backlog=25", "default", 0, 0, 1, 25, NULL},
    {"backlog=5&backlog=6", "default", 0, 0, 1, 6, NULL},
    {"backlog=5&backlog=", "default", 0, 0, 0, 0, NULL},
    {"backlog=9223372036854775807", "default", 0, 0, 1, INT64_MAX, NULL},
    {"lastEventId=9223372036854775808", NULL, 0, 0, 0, 0,
        "bad lastEventId \"9223372036854775808\": expected a decimal id"},
    {"lastEventId=18446744073709551616", NULL, 0, 0, 0, 0,
        "bad lastEventId \"18446744073709551616\": expected a decimal id"},
    {"lastEventId=99999999999999999999", NULL, 0, 0, 0, 0,
        "bad lastEventId \"99999999999999999999\": expected a decimal id"},
    {"lastEventId=-1", NULL, 0, 0, 0, 0,
        "bad lastEventId \"-1\": expected a decimal id"},
    {"lastEventId=1 ", NULL, 0, 0, 0, 0,
        "bad lastEventId \"1 \": expected a decimal id"},
    {"lastEventId=%201", NULL, 0, 0, 0, 0,
        "bad lastEventId \" 1\": expected a decimal id"},
    {"lastEventId=0x10", NULL, 0, 0, 0, 0,
        "bad lastEventId \"0x10\": expected a decimal id"},
    {"lastEventId=1.5", NULL, 0, 0, 0, 0,
        "bad lastEventId \"1.5\": expected a decimal id"},
    {"lastEventId=1e3", NULL, 0, 0, 0, 0,
        "bad lastEventId \"1e3\": expected a decimal id"},
    {"lastEventId=abc", NULL, 0, 0, 0, 0,
        "bad lastEventId \"abc\": expected a decimal id"},
    {"lastEventId=%00", NULL, 0, 0, 0, 0,
        "bad lastEventId \"\\x00\": expected a decimal id"},
    {"lastEventId=1&lastEventId=x", NULL, 0, 0, 0, 0,
        "bad lastEventId \"x\": expected a decimal id"},
    {"lastEventId=x&lastEventId=1", NULL, 0, 0, 0, 0,
        "bad lastEventId \"x\": expected a decimal id"},
    {"backlog=-5", NULL, 0, 0, 0, 0,
        "bad backlog \"-5\": expected a number of events"},
    {"backlog=all", NULL, 0, 0, 0, 0,
        "bad backlog \"all\": expected a number of events"},
    {"backlog=9223372036854775808", NULL, 0, 0, 0, 0,
        "bad backlog \"9223372036854775808\": expected a number of events"},
    {"backlog=+3", NULL, 0, 0, 0, 0,
        "bad backlog \" 3\": expected a number of events"},
    {NULL, NULL, 0, 0, 0, 0, NULL}, /* end */
};

/* Escapes, and which error comes first. */
static const struct check_query_case check_query_error_cases[] = {
    {"channel=a%G1", NULL, 0, 0, 0, 0,
        "bad percent-encoding in query: \"channel=a%G1\""},
    {"channel=a%1G", NULL, 0, 0, 0, 0,
        "bad percent-encoding in query: \"channel=a%1G\""},
    {"channel=a%4", NULL, 0, 0, 0, 0,
        "bad percent-encoding in query: \"channel=a%4\""},
    {"channel=a%", NULL, 0, 0, 0, 0,
        "bad percent-encoding in query: \"channel=a%\""},
    {"channel=%4&channel=b", NULL, 0, 0, 0, 0,
        "bad percent-encoding in query: \"channel=%4\""},
    {"channel=a%G1b", NULL, 0, 0, 0, 0,
        "bad percent-encoding in query: \"channel=a%G1...\""},
    {"channel=%%41", NULL, 0, 0, 0, 0,
        "bad percent-encoding in query: \"channel=%%4...\""},
    {"channel=a,b%G1", NULL, 0, 0, 0, 0,
        "bad percent-encoding in query: \"channel=a,b%G1\""},
    {"chan%Gnel=a", NULL, 0, 0, 0, 0,
        "bad percent-encoding in query: \"chan%Gn...\""},
    {"%=1", NULL, 0, 0, 0, 0, "bad percent-encoding in query: \"%=1\""},
    {"%", NULL, 0, 0, 0, 0, "bad percent-encoding in query: \"%\""},
    {"x=%zz", NULL, 0, 0, 0, 0, "bad percent-encoding in query: \"x=%zz\""},
    {"x=1&y=%", NULL, 0, 0, 0, 0, "bad percent-encoding in query: \"y=%\""},
    {"lastEventId=%G1", NULL, 0, 0, 0, 0,
        "bad percent-encoding in query: \"lastEventId=%G1\""},
    {"lastEventId=x%G1", NULL, 0, 0, 0, 0,
        "bad percent-encoding in query: \"lastEventId=x%G1\""},
    {"backlog=%", NULL, 0, 0, 0, 0,
        "bad percent-encoding in query: \"backlog=%\""},
    {"channel=a%0", NULL, 0, 0, 0, 0,
        "bad percent-encoding in query: \"channel=a%0\""},
    {"x=%\x01\x7f", NULL, 0, 0, 0, 0,
        "bad percent-encoding in query: \"x=%\\x01\\x7F\""},
    {"x=\"%\"", NULL, 0, 0, 0, 0,
        "bad percent-encoding in query: \"x=\\\"%\\\"\""},
    {"x=" A64 "%GG", NULL, 0, 0, 0, 0,
        "bad percent-encoding in query: \"..." A8 A8 A8 A8 A8 A8 A8
        "aaaaa%GG\""},
    {"x=" A64 "%GGzz", NULL, 0, 0, 0, 0,
        "bad percent-encoding in query: \"..." A8 A8 A8 A8 A8 A8 A8
        "aaaaa%GG...\""},
    /* The first error in the query is the one reported. */
    {"channel=a/b&x=%G", NULL, 0, 0, 0, 0, "bad channel \"a/b\"" RULE},
    {"x=%G&channel=a/b", NULL, 0, 0, 0, 0,
        "bad percent-encoding in query: \"x=%G\""},
    {"channel=a/b,%G1", NULL, 0, 0, 0, 0, "bad channel \"a/b\"" RULE},
    {"channel=,%G1", NULL, 0, 0, 0, 0, "empty channel name"},
    {"channel=a/b%G1", NULL, 0, 0, 0, 0,
        "bad percent-encoding in query: \"channel=a/b%G1\""},
    {"lastEventId=x&backlog=y", NULL, 0, 0, 0, 0,
        "bad lastEventId \"x\": expected a decimal id"},
    {"backlog=y&lastEventId=x", NULL, 0, 0, 0, 0,
        "bad backlog \"y\": expected a number of events"},
    {"backlog=y&channel=", NULL, 0, 0, 0, 0,
        "bad backlog \"y\": expected a number of events"},
    {"channel=&backlog=y", NULL, 0, 0, 0, 0, "empty channel name"},
    {NULL, NULL, 0, 0, 0, 0, NULL}, /* end */
};

/* Every table, for the prefix and mutation tests. */
static const struct check_query_case *const check_query_tables[] = {
    check_query_core_cases,
    check_query_decoding_cases,
    check_query_channel_cases,
    check_query_id_cases,
    check_query_error_cases,
    NULL,
};

START_TEST(test_query_core)
{
	RUN_TABLE(check_query_core_cases);
}
END_TEST

START_TEST(test_query_percent_decoding)
{
	RUN_TABLE(check_query_decoding_cases);
}
END_TEST

/* A NULL query is an empty one; errbuf is cleared on success. */
START_TEST(test_query_empty_and_null)
{
	struct query q;
	char         errbuf[QUERY_ERRLEN];

	memset(&q, 0x77, sizeof q);
	strcpy(errbuf, "stale");
	ck_assert_int_eq(query_parse(NULL, 0, &q, errbuf, sizeof errbuf), 0);
	ck_assert_str_eq(errbuf, "");
	ck_assert_uint_eq(q.nchannels, 1);
	ck_assert_str_eq(q.channels[0], "default");
	ck_assert_int_eq(q.has_last_id, 0);
	ck_assert_int_eq(q.has_backlog, 0);
	ck_assert(q.last_id == 0 && q.backlog == 0);

	/* len 0 reads nothing, whatever qs points at. */
	ck_assert_int_eq(query_parse("channel=", 0, &q, NULL, 0), 0);
	ck_assert_str_eq(q.channels[0], "default");
}
END_TEST

/* q is wholly rewritten, on success as on error. */
START_TEST(test_query_reinitialised)
{
	struct query q;
	char         errbuf[QUERY_ERRLEN];
	size_t       i;

	memset(&q, 0x5A, sizeof q);
	ck_assert_int_eq(query_parse("", 0, &q, NULL, 0), 0);
	ck_assert_uint_eq(q.nchannels, 1);
	ck_assert_str_eq(q.channels[0], "default");
	for (i = 1; i < QUERY_MAX_CHANNELS; i++)
		ck_assert_int_eq(q.channels[i][0], '\0');
	ck_assert(!q.has_last_id && q.last_id == 0);
	ck_assert(!q.has_backlog && q.backlog == 0);

	ck_assert_int_eq(query_parse("channel=a,b&lastEventId=9", 25, &q,
	                     errbuf, sizeof errbuf),
	    0);
	ck_assert_uint_eq(q.nchannels, 2);
	ck_assert_int_eq(
	    query_parse("channel=c", 9, &q, errbuf, sizeof errbuf), 0);
	ck_assert_uint_eq(q.nchannels, 1);
	ck_assert_str_eq(q.channels[0], "c");
	ck_assert_int_eq(q.channels[1][0], '\0');
	ck_assert(!q.has_last_id && q.last_id == 0);

	/* A partly parsed request leaves nothing behind. */
	memset(&q, 0x5A, sizeof q);
	ck_assert_int_eq(query_parse("channel=a,b&lastEventId=9&backlog=x", 36,
	                     &q, errbuf, sizeof errbuf),
	    -1);
	ck_assert(check_query_is_zero(&q));
}
END_TEST

START_TEST(test_query_channels)
{
	RUN_TABLE(check_query_channel_cases);
}
END_TEST

/* Each of the 64 + 2 kinds of byte is judged by the channel rule. */
START_TEST(test_query_channel_bytes)
{
	char         qs[32], errbuf[QUERY_ERRLEN], expected[QUERY_ERRLEN];
	struct query q;
	int          c, rc;
	size_t       len;

	for (c = 0; c < 256; c++) {
		len = (size_t)snprintf(qs, sizeof qs, "channel=x%%%02Xy", c);
		rc = check_query_parse(qs, len, &q, errbuf, sizeof errbuf);
		check_query_sane(rc, &q, errbuf, qs, len);
		if (c != ',' && strchr(ref_query_channel_chars, c) != NULL &&
		    c != 0) {
			ck_assert_msg(rc == 0, "%s: %s", qs, errbuf);
			ck_assert_uint_eq(q.nchannels, 1);
			ck_assert_int_eq(q.channels[0][1], c);
		} else if (c == ',') {
			ck_assert_int_eq(rc, 0);
			ck_assert_uint_eq(q.nchannels, 2);
		} else {
			ck_assert_int_eq(rc, -1);
			if (c == '"' || c == '\\')
				snprintf(expected, sizeof expected,
				    "bad channel \"x\\%cy\"" RULE, c);
			else if (c < 0x20 || c > 0x7e)
				snprintf(expected, sizeof expected,
				    "bad channel \"x\\x%02Xy\"" RULE, c);
			else
				snprintf(expected, sizeof expected,
				    "bad channel \"x%cy\"" RULE, c);
			ck_assert_str_eq(errbuf, expected);
		}
	}
}
END_TEST

START_TEST(test_query_ids)
{
	RUN_TABLE(check_query_id_cases);
}
END_TEST

/* One Last-Event-ID header case. */
struct check_query_header_case {
	const char *value;
	int         rc;
	int64_t     id;
	const char *error;
};

static const struct check_query_header_case check_query_header_cases[] = {
    {"42", 0, 42, NULL},
    {" 42 ", 0, 42, NULL},
    {"\t42\t", 0, 42, NULL},
    {" \t 42\t ", 0, 42, NULL},
    {"0", 0, 0, NULL},
    {"007", 0, 7, NULL},
    {"9223372036854775807", 0, INT64_MAX, NULL},
    {"  9223372036854775807  ", 0, INT64_MAX, NULL},
    {"", 1, 0, NULL},
    {"  ", 1, 0, NULL},
    {"\t", 1, 0, NULL},
    {" \t \t", 1, 0, NULL},
    {"-1", -1, 0, "bad Last-Event-ID \"-1\": expected a decimal id"},
    {"+1", -1, 0, "bad Last-Event-ID \"+1\": expected a decimal id"},
    {"4x", -1, 0, "bad Last-Event-ID \"4x\": expected a decimal id"},
    {"4 2", -1, 0, "bad Last-Event-ID \"4 2\": expected a decimal id"},
    {" 4\t2 ", -1, 0, "bad Last-Event-ID \"4\\x092\": expected a decimal id"},
    {"42\r", -1, 0, "bad Last-Event-ID \"42\\x0D\": expected a decimal id"},
    {"\n42", -1, 0, "bad Last-Event-ID \"\\x0A42\": expected a decimal id"},
    {"9223372036854775808", -1, 0,
        "bad Last-Event-ID \"9223372036854775808\": expected a decimal id"},
    {"18446744073709551615", -1, 0,
        "bad Last-Event-ID \"18446744073709551615\": expected a decimal id"},
    {"abc", -1, 0, "bad Last-Event-ID \"abc\": expected a decimal id"},
    {"\"1\"", -1, 0, "bad Last-Event-ID \"\\\"1\\\"\": expected a decimal id"},
    {"\xC3\xA9", -1, 0,
        "bad Last-Event-ID \"\\xC3\\xA9\": expected a decimal id"},
    {A65, -1, 0, "bad Last-Event-ID \"" A64 "...\": expected a decimal id"},
};

/* Parses a header value from an exactly-sized copy (with its NUL). */
static int
check_query_header(
    const char *value, size_t len, int64_t *id, char *errbuf, size_t errlen)
{
	char *copy = check_query_exact(value, len + 1);
	int   rc;

	copy[len] = '\0';
	rc = query_parse_last_event_id(copy, id, errbuf, errlen);
	free(copy);
	return rc;
}

START_TEST(test_query_last_event_id_header)
{
	const struct check_query_header_case *c;
	char                                  errbuf[QUERY_ERRLEN];
	int64_t                               id;
	size_t                                i, n, len;
	int                                   rc;

	n = sizeof check_query_header_cases /
	    sizeof check_query_header_cases[0];
	for (i = 0; i < n; i++) {
		c = &check_query_header_cases[i];
		len = strlen(c->value);
		id = -5;
		strcpy(errbuf, "stale");
		rc = check_query_header(
		    c->value, len, &id, errbuf, sizeof errbuf);
		ck_assert_msg(rc == c->rc && id == c->id,
		    "\"%s\": Expected: rc %d id %" PRId64
		    " But got: rc %d id %" PRId64 " (%s)",
		    check_query_escape(c->value, len), c->rc, c->id, rc, id,
		    errbuf);
		if (c->error != NULL)
			ck_assert_msg(strcmp(errbuf, c->error) == 0,
			    "\"%s\": Expected: \"%s\" But got: \"%s\"",
			    check_query_escape(c->value, len), c->error,
			    errbuf);
		else
			ck_assert_str_eq(errbuf, "");
		ck_assert_int_eq(
		    query_parse_last_event_id(c->value, &id, NULL, 0), c->rc);
	}

	id = 9;
	ck_assert_int_eq(query_parse_last_event_id(NULL, &id, NULL, 0), 1);
	ck_assert(id == 0);
}
END_TEST

/* Long header values: leading zeros are fine, long numbers overflow. */
START_TEST(test_query_last_event_id_long)
{
	char   *value, errbuf[QUERY_ERRLEN];
	size_t  len = 100000;
	int64_t id;

	value = malloc(len + 1);
	ck_assert_ptr_nonnull(value);
	memset(value, '0', len);
	memcpy(value + len - 2, "42", 2);
	value[len] = '\0';
	ck_assert_int_eq(
	    query_parse_last_event_id(value, &id, errbuf, sizeof errbuf), 0);
	ck_assert(id == 42);

	memset(value, '1', len);
	ck_assert_int_eq(
	    query_parse_last_event_id(value, &id, errbuf, sizeof errbuf), -1);
	ck_assert_str_eq(errbuf,
	    "bad Last-Event-ID \"1111111111111111111111111111111111111111111"
	    "111111111111111111111...\": expected a decimal id");

	memset(value, ' ', len);
	value[len / 2] = '7';
	ck_assert_int_eq(
	    query_parse_last_event_id(value, &id, errbuf, sizeof errbuf), 0);
	ck_assert(id == 7);
	free(value);
}
END_TEST

START_TEST(test_query_errors)
{
	RUN_TABLE(check_query_error_cases);
}
END_TEST

/* errbuf: NULL, zero length, too short, and always enough at QUERY_ERRLEN. */
START_TEST(test_query_errbuf_sizes)
{
	static const char worst[] = "channel=%00%00%00%00%00%00%00%00%00%00"
	                            "%00%00%00%00%00%00%00%00%00%00";
	struct query      q;
	char              errbuf[QUERY_ERRLEN];
	size_t            len;
	int64_t           id;

	ck_assert_int_eq(query_parse("channel=", 8, &q, NULL, 0), -1);
	ck_assert_int_eq(query_parse("channel=", 8, &q, NULL, 100), -1);

	strcpy(errbuf, "untouched");
	ck_assert_int_eq(query_parse("channel=", 8, &q, errbuf, 0), -1);
	ck_assert_str_eq(errbuf, "untouched");

	memset(errbuf, 'z', sizeof errbuf);
	ck_assert_int_eq(query_parse("channel=", 8, &q, errbuf, 6), -1);
	ck_assert_str_eq(errbuf, "empty");
	ck_assert_int_eq(errbuf[6], 'z');

	memset(errbuf, 'z', sizeof errbuf);
	ck_assert_int_eq(query_parse_last_event_id("x", &id, errbuf, 4), -1);
	ck_assert_str_eq(errbuf, "bad");
	ck_assert_int_eq(errbuf[4], 'z');
	ck_assert_int_eq(query_parse_last_event_id("x", &id, NULL, 0), -1);

	/* The most escaping a reason can hold still fits, uncut. */
	ck_assert_int_eq(
	    query_parse(worst, strlen(worst), &q, errbuf, sizeof errbuf), -1);
	len = strlen(errbuf);
	ck_assert_str_eq(errbuf,
	    "bad channel \"\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00"
	    "\\x00\\x00\\x00\\x00\\x00\\x00...\"" RULE);
	ck_assert_uint_lt(len, QUERY_ERRLEN);
	ck_assert_int_eq(
	    query_parse_last_event_id(
	        "\"\"\"\"\"\"\"\"\"\"\"\""
	        "\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"",
	        &id, errbuf, sizeof errbuf),
	    -1);
	ck_assert_uint_lt(strlen(errbuf), QUERY_ERRLEN);
}
END_TEST

/* Appends the query "channel=c0,c1,..." with n names to a new string. */
static char *
check_query_channel_list(size_t n, const char *separator, size_t *lenp)
{
	size_t size = 16 + n * (20 + strlen(separator)), len;
	char  *qs = malloc(size);
	size_t i;

	ck_assert_ptr_nonnull(qs);
	len = (size_t)snprintf(qs, size, "channel=");
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(
		    qs + len, size - len, "%sc%zu", i == 0 ? "" : separator, i);
	*lenp = len;
	return qs;
}

/* 32 distinct channels are fine, the 33rd is refused; duplicates are free. */
START_TEST(test_query_max_channels)
{
	static const char *const separators[] = {",", "%2C", "&channel="};
	struct query             q;
	char                     errbuf[QUERY_ERRLEN], *qs, *more;
	size_t                   len, i, s;

	for (s = 0; s < 3; s++) {
		qs = check_query_channel_list(32, separators[s], &len);
		ck_assert_int_eq(
		    check_query_parse(qs, len, &q, errbuf, sizeof errbuf), 0);
		ck_assert_uint_eq(q.nchannels, QUERY_MAX_CHANNELS);
		for (i = 0; i < 32; i++) {
			char name[8];

			snprintf(name, sizeof name, "c%zu", i);
			ck_assert_str_eq(q.channels[i], name);
		}
		check_query_against_reference(qs, len);

		/* The same 32 again, and again in reverse: still 32. */
		more = malloc(len * 3 + 64);
		ck_assert_ptr_nonnull(more);
		len = (size_t)sprintf(more, "%s&%s&channel=c31,c0", qs, qs);
		ck_assert_int_eq(
		    check_query_parse(more, len, &q, errbuf, sizeof errbuf), 0);
		ck_assert_uint_eq(q.nchannels, 32);
		ck_assert_str_eq(q.channels[31], "c31");
		free(more);
		free(qs);

		qs = check_query_channel_list(33, separators[s], &len);
		ck_assert_int_eq(
		    check_query_parse(qs, len, &q, errbuf, sizeof errbuf), -1);
		ck_assert_str_eq(errbuf, "too many channels (at most 32)");
		ck_assert(check_query_is_zero(&q));
		check_query_against_reference(qs, len);
		free(qs);
	}
}
END_TEST

/* Returns the CPU seconds spent so far. */
static double
check_query_cpu(void)
{
	return (double)clock() / CLOCKS_PER_SEC;
}

/*
 * 10,000 channels in one request fail with the right reason, before
 * anything after the 33rd is even looked at (a bad escape at the end is not
 * what is reported).
 */
START_TEST(test_query_10000_channels)
{
	static const char *const separators[] = {",", "&channel="};
	struct query             q;
	char                     errbuf[QUERY_ERRLEN], *qs;
	size_t                   len, s;
	double                   start;

	for (s = 0; s < 2; s++) {
		qs = check_query_channel_list(10000, separators[s], &len);
		qs = realloc(qs, len + 8);
		ck_assert_ptr_nonnull(qs);
		memcpy(qs + len, "&x=%G", 5);
		len += 5;
		start = check_query_cpu();
		ck_assert_int_eq(
		    check_query_parse(qs, len, &q, errbuf, sizeof errbuf), -1);
		ck_assert_str_eq(errbuf, "too many channels (at most 32)");
		ck_assert_msg(check_query_cpu() - start < 1.0,
		    "10,000 channels took %.3f s", check_query_cpu() - start);
		free(qs);
	}
}
END_TEST

/* Returns a new string of prefix, n copies of unit, then suffix. */
static char *
check_query_repeat(const char *prefix, const char *unit, size_t n,
    const char *suffix, size_t *lenp)
{
	size_t plen = strlen(prefix), ulen = strlen(unit),
	       slen = strlen(suffix);
	char  *s = malloc(plen + ulen * n + slen + 1);
	size_t i, len = 0;

	ck_assert_ptr_nonnull(s);
	memcpy(s, prefix, plen);
	len = plen;
	for (i = 0; i < n; i++, len += ulen)
		memcpy(s + len, unit, ulen);
	memcpy(s + len, suffix, slen);
	len += slen;
	s[len] = '\0';
	*lenp = len;
	return s;
}

/* Parses qs of len bytes; checks rc and the reason (or the first channel). */
static void
check_query_big(
    const char *qs, size_t len, int rc, const char *expected, int line)
{
	struct query q;
	char         errbuf[QUERY_ERRLEN];
	double       start = check_query_cpu();
	int          got;

	got = check_query_parse(qs, len, &q, errbuf, sizeof errbuf);
	ck_assert_msg(check_query_cpu() - start < 2.0,
	    "line %d: %zu bytes took %.3f s", line, len,
	    check_query_cpu() - start);
	check_query_sane(got, &q, errbuf, qs, len);
	ck_assert_msg(got == rc, "line %d: Expected: rc %d But got: %d (%s)",
	    line, rc, got, errbuf);
	if (rc != 0)
		ck_assert_msg(strcmp(errbuf, expected) == 0,
		    "line %d: Expected: \"%s\" But got: \"%s\"", line, expected,
		    errbuf);
	else if (expected != NULL)
		ck_assert_msg(
		    strcmp(q.channels[q.nchannels - 1], expected) == 0,
		    "line %d: Expected: last channel \"%s\" But got: \"%s\"",
		    line, expected, q.channels[q.nchannels - 1]);
}

#define MIB (1024 * 1024)

/* A 1 MiB value in each place it can be. */
START_TEST(test_query_huge_value)
{
	struct query q;
	char        *qs, errbuf[QUERY_ERRLEN];
	size_t       len;

	qs = check_query_repeat("x=", "a", MIB, "&channel=z", &len);
	check_query_big(qs, len, 0, "z", __LINE__);
	free(qs);

	qs = check_query_repeat("", "a", MIB, "=1&channel=z", &len);
	check_query_big(qs, len, 0, "z", __LINE__);
	free(qs);

	qs = check_query_repeat("channel=", "a", MIB, "", &len);
	check_query_big(
	    qs, len, -1, "bad channel \"" A64 "...\"" RULE, __LINE__);
	free(qs);

	qs = check_query_repeat("channel=", "%41", MIB / 3, "", &len);
	check_query_big(qs, len, -1,
	    "bad channel \"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	    "AAAAAAAAAAAAA...\"" RULE,
	    __LINE__);
	free(qs);

	qs = check_query_repeat("channel=", ",", MIB, "", &len);
	check_query_big(qs, len, -1, "empty channel name", __LINE__);
	free(qs);

	qs = check_query_repeat("channel=", "a,", MIB / 2, "b", &len);
	check_query_big(qs, len, 0, "b", __LINE__);
	free(qs);

	qs = check_query_repeat("lastEventId=", "0", MIB, "42", &len);
	check_query_big(qs, len, 0, NULL, __LINE__);
	ck_assert_int_eq(
	    check_query_parse(qs, len, &q, errbuf, sizeof errbuf), 0);
	ck_assert(q.has_last_id && q.last_id == 42);
	free(qs);

	qs = check_query_repeat("backlog=", "9", MIB, "", &len);
	check_query_big(qs, len, -1,
	    "bad backlog \"999999999999999999999999999999999999999999999999999"
	    "9999999999999...\": expected a number of events",
	    __LINE__);
	free(qs);

	qs = check_query_repeat("x=", "a", MIB, "%G", &len);
	check_query_big(qs, len, -1,
	    "bad percent-encoding in query: \"..." A8 A8 A8 A8 A8 A8 A8
	    "aaaaaa%G\"",
	    __LINE__);
	free(qs);

	qs = check_query_repeat("", "+", MIB, "", &len);
	check_query_big(qs, len, 0, "default", __LINE__);
	free(qs);
}
END_TEST

/* 100k small pairs, and a megabyte of separators. */
START_TEST(test_query_many_pairs)
{
	struct query q;
	char        *qs, errbuf[QUERY_ERRLEN];
	size_t       len, i, used;

	qs = check_query_repeat("", "x=1&", 100000, "channel=z", &len);
	check_query_big(qs, len, 0, "z", __LINE__);
	free(qs);

	qs = check_query_repeat("", "channel=a&", 100000, "", &len);
	check_query_big(qs, len, 0, "a", __LINE__);
	ck_assert_int_eq(
	    check_query_parse(qs, len, &q, errbuf, sizeof errbuf), 0);
	ck_assert_uint_eq(q.nchannels, 1);
	free(qs);

	qs = check_query_repeat("", "&", MIB, "", &len);
	check_query_big(qs, len, 0, "default", __LINE__);
	free(qs);

	qs = check_query_repeat("", "&&=&", MIB / 4, "backlog=5", &len);
	check_query_big(qs, len, 0, "default", __LINE__);
	free(qs);

	/* The last of 100k lastEventIds wins. */
	qs = malloc(100000 * 24);
	ck_assert_ptr_nonnull(qs);
	for (i = 0, used = 0; i < 100000; i++)
		used += (size_t)sprintf(qs + used, "lastEventId=%zu&", i);
	check_query_big(qs, used, 0, "default", __LINE__);
	ck_assert_int_eq(
	    check_query_parse(qs, used, &q, errbuf, sizeof errbuf), 0);
	ck_assert(q.has_last_id && q.last_id == 99999);
	free(qs);

	/*
	 * The costliest duplicates: 32 long names alike but for their last
	 * byte, then a megabyte of the last one again.
	 */
	qs = malloc(2 * MIB);
	ck_assert_ptr_nonnull(qs);
	used = 0;
	for (i = 0; i < 32; i++)
		used += (size_t)sprintf(qs + used,
		    "channel=" A8 A8 A8 A8 A8 A8 A8 "aaaaaa%02zu&", i);
	while (used < MIB)
		used += (size_t)sprintf(qs + used,
		    "channel=" A8 A8 A8 A8 A8 A8  A8
		    "aaaaaa31," A8 A8 A8 A8 A8 A8 A8 "aaaaaa30&");
	check_query_big(qs, used, 0, A8 A8 A8 A8 A8 A8 A8 "aaaaaa31", __LINE__);
	free(qs);
}
END_TEST

/* Checks every prefix (exactly sized) of len bytes of input. */
static void
check_query_prefixes(const char *input, size_t len)
{
	size_t n;

	for (n = 0; n <= len; n++)
		check_query_against_reference(input, n);
}

/* Every prefix of every case parses or fails cleanly, as the reference. */
START_TEST(test_query_every_prefix)
{
	const struct check_query_case *const *table;
	const struct check_query_case        *c;

	for (table = check_query_tables; *table != NULL; table++) {
		for (c = *table; c->input != NULL; c++)
			check_query_prefixes(c->input, strlen(c->input));
	}
}
END_TEST

/* Every prefix of every header case, each with its NUL right after. */
START_TEST(test_query_header_every_prefix)
{
	const char *value;
	char        errbuf[QUERY_ERRLEN];
	int64_t     id;
	size_t      i, n, len, k;
	int         rc;

	n = sizeof check_query_header_cases /
	    sizeof check_query_header_cases[0];
	for (i = 0; i < n; i++) {
		value = check_query_header_cases[i].value;
		len = strlen(value);
		for (k = 0; k <= len; k++) {
			rc = check_query_header(
			    value, k, &id, errbuf, sizeof errbuf);
			REQUIRE(rc == 0 || rc == 1 || rc == -1);
			REQUIRE(rc == 0 || id == 0);
			REQUIRE((rc == -1) == (errbuf[0] != '\0'));
			REQUIRE(id >= 0);
		}
	}
}
END_TEST

/*
 * Every byte of every case replaced in turn by each byte that means
 * something to the parser (or nothing to anyone), then removed.
 */
START_TEST(test_query_byte_mutations)
{
	static const char replacements[] = "&=,%+ a0\x00\xff";
	const struct check_query_case *const *table;
	const struct check_query_case        *c;
	const char                           *input;
	char                                 *copy;
	size_t                                len, at, r;

	for (table = check_query_tables; *table != NULL; table++) {
		for (c = *table; c->input != NULL; c++) {
			input = c->input;
			len = strlen(input);
			copy = check_query_exact(input, len);
			for (at = 0; at < len; at++) {
				for (r = 0; r < sizeof replacements - 1; r++) {
					copy[at] = replacements[r];
					check_query_against_reference(
					    copy, len);
				}
				copy[at] = input[at];
				memmove(copy + at, copy + at + 1, len - at - 1);
				check_query_against_reference(copy, len - 1);
				memcpy(copy, input, len);
			}
			free(copy);
		}
	}
}
END_TEST

/* The query stops at len even when more follows, NUL bytes included. */
START_TEST(test_query_unterminated)
{
	static const char two[] = "channel=ab&channel=cd";
	static const char with_nul[] = "x=\0&channel=b\0c";
	struct query      q;
	char              errbuf[QUERY_ERRLEN];

	ck_assert_int_eq(
	    check_query_parse(two, 10, &q, errbuf, sizeof errbuf), 0);
	ck_assert_uint_eq(q.nchannels, 1);
	ck_assert_str_eq(q.channels[0], "ab");
	ck_assert_int_eq(query_parse(two, 9, &q, errbuf, sizeof errbuf), 0);
	ck_assert_str_eq(q.channels[0], "a");
	ck_assert_int_eq(query_parse(two, 11, &q, errbuf, sizeof errbuf), 0);
	ck_assert_str_eq(q.channels[0], "ab");
	ck_assert_int_eq(
	    query_parse("lastEventId=123", 13, &q, errbuf, sizeof errbuf), 0);
	ck_assert(q.last_id == 1);
	ck_assert_int_eq(
	    query_parse("channel=a%41", 11, &q, errbuf, sizeof errbuf), -1);
	ck_assert_str_eq(
	    errbuf, "bad percent-encoding in query: \"channel=a%4\"");

	/* NUL bytes are bytes like others: fine when ignored, bad in a name. */
	ck_assert_int_eq(
	    check_query_parse(with_nul, 13, &q, errbuf, sizeof errbuf), 0);
	ck_assert_str_eq(q.channels[0], "b");
	ck_assert_int_eq(check_query_parse(with_nul, sizeof with_nul - 1, &q,
	                     errbuf, sizeof errbuf),
	    -1);
	ck_assert_str_eq(errbuf, "bad channel \"b\\x00c\"" RULE);
	check_query_prefixes(with_nul, sizeof with_nul - 1);
}
END_TEST

/* Returns the next number of a fixed-seed xorshift64* generator. */
static uint64_t
check_query_random(uint64_t *state)
{
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return *state * UINT64_C(2685821657736338717);
}

/* Random queries made of meaningful pieces agree with the reference. */
START_TEST(test_query_random_against_reference)
{
	static const char *const pieces[] = {"channel", "lastEventId",
	    "backlog", "x", "=", "=", "&", "&", ",", ",", "a", "b", "Z9", "%2C",
	    "%2c", "%41", "%G", "%4", "%", "+", "0", "1", "42",
	    "9223372036854775807", "9223372036854775808", "-", "%00", " ",
	    "c%68annel",
	    "channel=", "&channel=", "lastEventId=", "backlog=", "\xff", ".:_-",
	    A8 A8 A8 A8 A8 A8 A8 "aaaaaaa", "k1", "k2", "k3", "k4", "k5", "k6",
	    "k7", "k8", "k9"};
	uint64_t                 state = UINT64_C(0x9E3779B97F4A7C15);
	char                     qs[4096], name[16];
	size_t                   len, n, k, round;

	for (round = 0; round < 30000; round++) {
		len = 0;
		n = check_query_random(&state) % 24;
		for (k = 0; k < n; k++) {
			const char *piece;
			uint64_t    pick = check_query_random(&state);

			if (pick % 4 == 0) {
				/* Many distinct names, to reach the limit. */
				snprintf(name, sizeof name, "n%u",
				    (unsigned)(pick >> 8) % 40);
				piece = name;
			} else
				piece =
				    pieces[(pick >> 8) %
				           (sizeof pieces / sizeof pieces[0])];
			if (len + strlen(piece) >= sizeof qs)
				break;
			memcpy(qs + len, piece, strlen(piece));
			len += strlen(piece);
		}
		check_query_against_reference(qs, len);
	}

	/* And long lists of names, mostly under the limit. */
	for (round = 0; round < 2000; round++) {
		n = check_query_random(&state) % 40;
		len = (size_t)snprintf(qs, sizeof qs, "channel=");
		for (k = 0; k < n; k++)
			len += (size_t)snprintf(qs + len, sizeof qs - len,
			    "%sn%u", k == 0 ? "" : (k % 3 ? "," : "&channel="),
			    (unsigned)(check_query_random(&state) % 36));
		check_query_against_reference(qs, len);
	}
}
END_TEST

/* Builds the suite. */
static Suite *
check_query_suite(void)
{
	Suite *s = suite_create("query");
	TCase *tc;

	tc = tcase_create("core");
	tcase_add_test(tc, test_query_core);
	tcase_add_test(tc, test_query_percent_decoding);
	tcase_add_test(tc, test_query_empty_and_null);
	tcase_add_test(tc, test_query_reinitialised);
	suite_add_tcase(s, tc);

	tc = tcase_create("channels");
	tcase_add_test(tc, test_query_channels);
	tcase_add_test(tc, test_query_channel_bytes);
	suite_add_tcase(s, tc);

	tc = tcase_create("ids");
	tcase_add_test(tc, test_query_ids);
	tcase_add_test(tc, test_query_last_event_id_header);
	tcase_add_test(tc, test_query_last_event_id_long);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_test(tc, test_query_errors);
	tcase_add_test(tc, test_query_errbuf_sizes);
	suite_add_tcase(s, tc);

	tc = tcase_create("limits");
	tcase_add_test(tc, test_query_max_channels);
	tcase_add_test(tc, test_query_10000_channels);
	tcase_add_test(tc, test_query_huge_value);
	tcase_add_test(tc, test_query_many_pairs);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);

	tc = tcase_create("incremental");
	tcase_add_test(tc, test_query_every_prefix);
	tcase_add_test(tc, test_query_header_every_prefix);
	tcase_add_test(tc, test_query_byte_mutations);
	tcase_add_test(tc, test_query_unterminated);
	tcase_add_test(tc, test_query_random_against_reference);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(check_query_suite());
	int      failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
