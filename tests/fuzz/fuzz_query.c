/* fuzz_query.c: libFuzzer target for the query string and Last-Event-ID. */
#include "config.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "query.h"
#include "ref_query.h"
#include "store.h"

/*
 * The input is a query string, exactly as long as libFuzzer made it (no
 * NUL after it, so ASan sees any read past len), and also, cut at its
 * first NUL, a Last-Event-ID header value.  Besides what always holds (1
 * to 32 distinct valid channels on success, a zeroed query and one short
 * printable line on error), each result is compared with a reference
 * written the obvious way (tests/ref_query.c, which tests/check_query.c
 * uses too): decode a whole pair into malloc'd memory, then split it.  The
 * parser must agree on the outcome, on every field, and on which kind of
 * error comes first.
 */

/* A reason longer than this would be cut in an errbuf of QUERY_ERRLEN. */
#define REASON_MAX (QUERY_ERRLEN - 1)

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
	want_rc = ref_query_parse(qs, len, &want, &kind);
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
			n = strnlen(got.channels[i], CHANNEL_MAX + 1);
			FUZZ_REQUIRE(n <= CHANNEL_MAX);
			FUZZ_REQUIREF(channel_valid(got.channels[i], n),
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
	want_rc = ref_query_last_event_id(value, &want_id);
	FUZZ_REQUIREF(rc == want_rc && id == want_id,
	    "Last-Event-ID \"%s\": Expected: rc %d id %" PRId64
	    " But got: rc %d id %" PRId64 " (%s)",
	    shown, want_rc, want_id, rc, id, rc < 0 ? errbuf : "");
	if (rc < 0)
		check_reason(errbuf, REF_QUERY_KIND_HEADER, shown);
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
