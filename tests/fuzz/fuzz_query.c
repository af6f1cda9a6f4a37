/* fuzz_query.c: libFuzzer target for the query string and Last-Event-ID. */
#include "config.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "query.h"
#include "store.h"

/*
 * The input is a query string, exactly as long as libFuzzer made it (no
 * NUL after it, so ASan sees any read past len), and also, cut at its
 * first NUL, a Last-Event-ID header value.  Besides what always holds (1
 * to 32 distinct valid channels on success, a zeroed query and one short
 * printable line on error), each result is compared with a reference
 * written the obvious way: decode a whole pair into malloc'd memory, then
 * split it.  The parser must agree on the outcome, on every field, and on
 * which kind of error comes first.
 */

/* The starts of the reasons, one per kind of error. */
#define KIND_PERCENT "bad percent-encoding in query: \""
#define KIND_CHANNEL "bad channel \""
#define KIND_EMPTY "empty channel name"
#define KIND_TOO_MANY "too many channels (at most 32)"
#define KIND_LAST_ID "bad lastEventId \""
#define KIND_BACKLOG "bad backlog \""
#define KIND_HEADER "bad Last-Event-ID \""

/* A reason longer than this would be cut in an errbuf of QUERY_ERRLEN. */
#define REASON_MAX (QUERY_ERRLEN - 1)

/* The reference's characters of a channel name. */
static const char channel_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.:-";

/* Returns the value of hex digit c, or -1. */
static int
ref_hex(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * Decodes n bytes of s into out (room for n), stopping at the first bad
 * escape.  Returns 0, or -1 if it stopped at one.
 */
static int
ref_decode(const char *s, size_t n, char *out, size_t *outlen)
{
	size_t i = 0, used = 0;

	while (i < n) {
		if (s[i] == '+') {
			out[used++] = ' ';
			i++;
		} else if (s[i] != '%')
			out[used++] = s[i++];
		else if (i + 2 < n && ref_hex((unsigned char)s[i + 1]) >= 0 &&
		         ref_hex((unsigned char)s[i + 2]) >= 0) {
			out[used++] =
			    (char)(ref_hex((unsigned char)s[i + 1]) << 4 |
			           ref_hex((unsigned char)s[i + 2]));
			i += 3;
		} else {
			*outlen = used;
			return -1;
		}
	}
	*outlen = used;
	return 0;
}

/* Reads a decimal 0..INT64_MAX by comparing digit strings; 0 or -1. */
static int
ref_number(const char *s, size_t n, int64_t *value)
{
	size_t i, first = 0;

	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return -1;
	while (first < n && s[first] == '0')
		first++;
	if (n - first > 19 ||
	    (n - first == 19 &&
	        memcmp(s + first, "9223372036854775807", 19) > 0))
		return -1;
	*value = 0;
	for (i = first; i < n; i++)
		*value = *value * 10 + (s[i] - '0');
	return 0;
}

/* Adds one channel item to q unless it is there; 0 or -1 with *kind. */
static int
ref_add(struct query *q, const char *s, size_t n, const char **kind)
{
	size_t i;

	if (n == 0) {
		*kind = KIND_EMPTY;
		return -1;
	}
	for (i = 0; i < n; i++)
		if (s[i] == '\0' || strchr(channel_chars, s[i]) == NULL)
			break;
	if (n > STORE_CHANNEL_MAX || i < n) {
		*kind = KIND_CHANNEL;
		return -1;
	}
	for (i = 0; i < q->nchannels; i++)
		if (strlen(q->channels[i]) == n &&
		    memcmp(q->channels[i], s, n) == 0)
			return 0;
	if (q->nchannels == QUERY_MAX_CHANNELS) {
		*kind = KIND_TOO_MANY;
		return -1;
	}
	memcpy(q->channels[q->nchannels++], s, n);
	return 0;
}

/* Sets one number parameter from its decoded value; 0 or -1 with *kind. */
static int
ref_set(const char *value, size_t n, int *has, int64_t *number,
    const char *error, const char **kind)
{
	if (n == 0) {
		*has = 0;
		*number = 0;
		return 0;
	}
	if (ref_number(value, n, number) != 0) {
		*kind = error;
		return -1;
	}
	*has = 1;
	return 0;
}

/* Takes one pair of n bytes; 0 or -1 with *kind. */
static int
ref_pair(const char *p, size_t n, struct query *q, const char **kind)
{
	const char *equals = memchr(p, '=', n);
	size_t      raw_name = equals != NULL ? (size_t)(equals - p) : n;
	size_t      raw_value = equals != NULL ? n - raw_name - 1 : 0;
	char       *name = malloc(raw_name + 1), *value = malloc(raw_value + 1);
	size_t      name_len, value_len, start = 0, i;
	int         bad, rc = -1;

	FUZZ_REQUIRE(name != NULL && value != NULL);
	*kind = KIND_PERCENT;
	if (ref_decode(p, raw_name, name, &name_len) != 0)
		goto out;
	bad = ref_decode(p + raw_name + 1, raw_value, value, &value_len) != 0;
	if (name_len == 7 && memcmp(name, "channel", 7) == 0) {
		/* Items before a bad escape are taken first. */
		for (i = 0; i < value_len; i++) {
			if (value[i] != ',')
				continue;
			if (ref_add(q, value + start, i - start, kind) != 0)
				goto out;
			start = i + 1;
		}
		if (bad) {
			*kind = KIND_PERCENT;
			goto out;
		}
		if (ref_add(q, value + start, value_len - start, kind) != 0)
			goto out;
	} else if (bad)
		goto out;
	else if (name_len == 11 && memcmp(name, "lastEventId", 11) == 0) {
		if (ref_set(value, value_len, &q->has_last_id, &q->last_id,
		        KIND_LAST_ID, kind) != 0)
			goto out;
	} else if (name_len == 7 && memcmp(name, "backlog", 7) == 0) {
		if (ref_set(value, value_len, &q->has_backlog, &q->backlog,
		        KIND_BACKLOG, kind) != 0)
			goto out;
	}
	rc = 0;
out:
	free(name);
	free(value);
	return rc;
}

/* The reference query parser; on error *kind is the reason's start. */
static int
ref_query(const char *qs, size_t len, struct query *q, const char **kind)
{
	size_t i = 0, j;

	memset(q, 0, sizeof *q);
	*kind = NULL;
	while (i <= len) {
		for (j = i; j < len && qs[j] != '&'; j++)
			;
		if (j > i && ref_pair(qs + i, j - i, q, kind) != 0) {
			memset(q, 0, sizeof *q);
			return -1;
		}
		i = j + 1;
	}
	if (q->nchannels == 0) {
		strcpy(q->channels[0], "default");
		q->nchannels = 1;
	}
	return 0;
}

/* The reference Last-Event-ID parser: 0 with *id, 1 when empty, or -1. */
static int
ref_last_event_id(const char *value, int64_t *id)
{
	size_t start = 0, end = strlen(value);

	*id = 0;
	while (start < end && (value[start] == ' ' || value[start] == '\t'))
		start++;
	while (end > start && (value[end - 1] == ' ' || value[end - 1] == '\t'))
		end--;
	if (start == end)
		return 1;
	if (ref_number(value + start, end - start, id) != 0) {
		*id = 0;
		return -1;
	}
	return 0;
}

/* Returns non-zero if every byte of q is zero (what an error leaves). */
static int
query_is_zero(const struct query *q)
{
	static const struct query zero;

	return memcmp(q, &zero, sizeof zero) == 0;
}

/* Checks that a reason is one line of printable ASCII, not cut short. */
static void
check_reason(const char *reason, const char *kind, const char *input)
{
	size_t n = strlen(reason), i;

	FUZZ_REQUIREF(
	    n > 0 && n < REASON_MAX, "\"%s\": reason of %zu bytes", input, n);
	for (i = 0; i < n; i++)
		FUZZ_REQUIREF(reason[i] >= 0x20 && reason[i] <= 0x7e,
		    "\"%s\": unprintable reason \"%s\"", input, reason);
	FUZZ_REQUIREF(strncmp(reason, kind, strlen(kind)) == 0,
	    "\"%s\": Expected: a reason starting \"%s\" But got: \"%s\"", input,
	    kind, reason);
}

/* Parses the input as a query string and checks the result. */
static void
fuzz_query_string(const char *qs, size_t len, const char *shown)
{
	struct query got, want, again;
	char         errbuf[QUERY_ERRLEN * 2], small[QUERY_ERRLEN];
	const char  *kind;
	size_t       i, j, n, cut;
	int          rc, want_rc;

	memset(&got, 0xA5, sizeof got);
	memset(errbuf, 'z', sizeof errbuf);
	rc = query_parse(qs, len, &got, errbuf, sizeof errbuf);
	want_rc = ref_query(qs, len, &want, &kind);
	FUZZ_REQUIREF(rc == want_rc,
	    "\"%s\": Expected: rc %d (%s) But got: rc %d (%s)", shown, want_rc,
	    kind != NULL ? kind : "", rc, rc != 0 ? errbuf : "");

	if (rc != 0) {
		FUZZ_REQUIREF(
		    query_is_zero(&got), "\"%s\": q not zeroed", shown);
		check_reason(errbuf, kind, shown);
	} else {
		FUZZ_REQUIREF(
		    errbuf[0] == '\0', "\"%s\": errbuf \"%s\"", shown, errbuf);
		FUZZ_REQUIRE(
		    got.nchannels >= 1 && got.nchannels <= QUERY_MAX_CHANNELS);
		for (i = 0; i < got.nchannels; i++) {
			n = strnlen(got.channels[i], STORE_CHANNEL_MAX + 1);
			FUZZ_REQUIRE(n <= STORE_CHANNEL_MAX);
			FUZZ_REQUIREF(store_channel_valid(got.channels[i], n),
			    "\"%s\": channel %zu invalid", shown, i);
			for (j = 0; j < i; j++)
				FUZZ_REQUIREF(strcmp(got.channels[i],
				                  got.channels[j]) != 0,
				    "\"%s\": channel %s twice", shown,
				    got.channels[i]);
		}
		FUZZ_REQUIREF(got.nchannels == want.nchannels,
		    "\"%s\": Expected: %zu channels But got: %zu", shown,
		    want.nchannels, got.nchannels);
		for (i = 0; i < got.nchannels; i++)
			FUZZ_REQUIREF(
			    strcmp(got.channels[i], want.channels[i]) == 0,
			    "\"%s\": channel %zu: Expected: \"%s\" But got: "
			    "\"%s\"",
			    shown, i, want.channels[i], got.channels[i]);
		FUZZ_REQUIRE(got.has_last_id == want.has_last_id &&
		             got.last_id == want.last_id);
		FUZZ_REQUIRE(got.has_backlog == want.has_backlog &&
		             got.backlog == want.backlog);
	}

	/* No errbuf, or a short one: the same outcome, the reason cut. */
	memset(&again, 0x33, sizeof again);
	FUZZ_REQUIRE(query_parse(qs, len, &again, NULL, 0) == rc);
	FUZZ_REQUIRE(memcmp(&again, &got, sizeof got) == 0);
	memset(small, 'z', sizeof small);
	FUZZ_REQUIRE(query_parse(qs, len, &again, small, 0) == rc);
	FUZZ_REQUIRE(small[0] == 'z');
	cut = 1 + (size_t)(fuzz_seed(qs, len) % 80);
	FUZZ_REQUIRE(query_parse(qs, len, &again, small, cut) == rc);
	FUZZ_REQUIRE(small[cut] == 'z' && strnlen(small, cut) < cut);
	FUZZ_REQUIRE(strncmp(small, errbuf, strlen(small)) == 0);
}

/* Parses the input up to its first NUL as a Last-Event-ID header value. */
static void
fuzz_query_header(const char *data, size_t len, const char *shown)
{
	char   *value = malloc(len + 1);
	char    errbuf[QUERY_ERRLEN * 2];
	int64_t id = -5, want_id;
	int     rc, want_rc;

	FUZZ_REQUIRE(value != NULL);
	memcpy(value, data, len);
	value[len] = '\0';
	memset(errbuf, 'z', sizeof errbuf);
	rc = query_parse_last_event_id(value, &id, errbuf, sizeof errbuf);
	want_rc = ref_last_event_id(value, &want_id);
	FUZZ_REQUIREF(rc == want_rc && id == want_id,
	    "Last-Event-ID \"%s\": Expected: rc %d id %" PRId64
	    " But got: rc %d id %" PRId64 " (%s)",
	    shown, want_rc, want_id, rc, id, rc < 0 ? errbuf : "");
	if (rc < 0)
		check_reason(errbuf, KIND_HEADER, shown);
	else
		FUZZ_REQUIRE(errbuf[0] == '\0');
	FUZZ_REQUIRE(query_parse_last_event_id(value, &id, NULL, 0) == rc);
	free(value);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One input: a query string, and a Last-Event-ID value. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char shown[512];

	fuzz_escape(shown, sizeof shown, data, size);
	fuzz_query_string((const char *)data, size, shown);
	fuzz_query_header((const char *)data, size, shown);
	return 0;
}
