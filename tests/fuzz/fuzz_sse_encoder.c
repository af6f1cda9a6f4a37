/* fuzz_sse_encoder.c: libFuzzer target: SSE output as a browser reads it. */
#include "config.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fuzz.h"
#include "sse.h"
#include "whatwg_sse.h"

/*
 * The property: for any id, event name and data, what sse_encode_event()
 * writes is valid UTF-8, and a browser's EventSource reading it (the WHATWG
 * UTF-8 decoder, then the HTML "event stream interpretation") dispatches
 * exactly one event, NULL, with that id as its lastEventId, the name (cut at
 * its first CR or LF, "message" when there is none) as its type, and as its
 * data the input decoded with U+FFFD for what is not UTF-8 and every CRLF
 * and CR made LF.  No proper prefix of the output dispatches anything: the
 * output holds no CR and its only blank line is its end.
 *
 * The decoder and the parser are written from the specs, independently of
 * buf.c and sse.c (tests/whatwg_sse.c, which tests/check_sse.c uses too);
 * struct buf is only a container here.
 *
 * The input: byte 0 holds flags (1: no event name, 2: NULL data when it is
 * empty, 4: append after bytes already pending and partly consumed); bytes
 * 1-8 the id, little-endian; byte 9 the name's length n; the next n bytes
 * the name (a C string: a NUL ends it); the rest the data.  Missing bytes
 * count as zero.
 */

#define FLAG_NO_EVENT  1
#define FLAG_NULL_DATA 2
#define FLAG_PENDING   4

/* Appends len bytes to b; aborts when memory runs out. */
static void
append(struct buf *b, const void *data, size_t len)
{
	FUZZ_REQUIRE(buf_append(b, data, len) == 0);
}

/* Makes every CRLF and lone CR in b a LF, in place. */
static void
normalise_line_ends(struct buf *b)
{
	size_t i, j = 0;

	for (i = 0; i < b->len; i++) {
		if (b->data[i] == '\r') {
			if (i + 1 < b->len && b->data[i + 1] == '\n')
				continue; /* the LF comes next */
			b->data[j++] = '\n';
		} else
			b->data[j++] = b->data[i];
	}
	b->len = j;
}

int LLVMFuzzerTestOneInput(const uint8_t *input, size_t size);

/* One input: an id, an event name and data (see the top). */
int
LLVMFuzzerTestOneInput(const uint8_t *input, size_t size)
{
	static const char        pending[] = "id: 0\ndata: before\n\n";
	unsigned char            head[10] = {0};
	struct buf               out = {0}, want_data = {0}, want_type = {0};
	struct whatwg_sse_parser p;
	char                    *name = NULL, id_text[32], shown[256];
	const char              *data, *encoded;
	size_t                   name_len, data_len, encoded_len, i, skip;
	int64_t                  id = 0;
	uint64_t                 raw = 0;

	memcpy(head, input, size < sizeof head ? size : sizeof head);
	skip = size < sizeof head ? size : sizeof head;
	for (i = 8; i > 0; i--)
		raw = raw << 8 | head[i];
	memcpy(&id, &raw, sizeof id);
	name_len = head[9];
	if (name_len > size - skip)
		name_len = size - skip;
	if (!(head[0] & FLAG_NO_EVENT)) {
		name = malloc(name_len + 1);
		FUZZ_REQUIRE(name != NULL);
		memcpy(name, input + skip, name_len);
		name[name_len] = '\0';
	}
	data = (const char *)input + skip + name_len;
	data_len = size - skip - name_len;
	if (data_len == 0 && (head[0] & FLAG_NULL_DATA))
		data = NULL;

	/* Something already there, its front written. */
	skip = 0;
	if (head[0] & FLAG_PENDING) {
		append(&out, pending, sizeof pending - 1);
		buf_consume(&out, 6);
		skip = sizeof pending - 1 - 6;
	}
	FUZZ_REQUIRE(
	    sse_encode_event(&out, id, name, NULL, data, data_len) == 0);
	FUZZ_REQUIRE(buf_pending_len(&out) >= skip);
	FUZZ_REQUIRE(memcmp(buf_pending(&out), pending + 6, skip) == 0);
	encoded = buf_pending(&out) + skip;
	encoded_len = buf_pending_len(&out) - skip;
	fuzz_escape(shown, sizeof shown, encoded, encoded_len);

	/* Valid UTF-8, no CR, one blank line and that at the end. */
	FUZZ_REQUIRE(whatwg_sse_utf8_is_valid(encoded, encoded_len));
	FUZZ_REQUIREF(
	    memchr(encoded, '\r', encoded_len) == NULL, "CR in \"%s\"", shown);
	FUZZ_REQUIREF(encoded_len >= 2 &&
	                  memcmp(encoded + encoded_len - 2, "\n\n", 2) == 0,
	    "no blank line at the end of \"%s\"", shown);
	for (i = 0; i + 2 < encoded_len; i++)
		FUZZ_REQUIREF(encoded[i] != '\n' || encoded[i + 1] != '\n',
		    "blank line inside \"%s\"", shown);

	/* What the browser dispatches. */
	if (data_len != 0)
		whatwg_sse_utf8_sanitise(&want_data, data, data_len);
	normalise_line_ends(&want_data);
	if (name != NULL)
		whatwg_sse_utf8_sanitise(
		    &want_type, name, strcspn(name, "\r\n"));
	if (want_type.len == 0)
		append(&want_type, "message", 7);
	snprintf(id_text, sizeof id_text, "%" PRId64, id);

	whatwg_sse_parse(&p, encoded, encoded_len);
	FUZZ_REQUIREF(
	    p.nevents == 1, "%zu events from \"%s\"", p.nevents, shown);
	FUZZ_REQUIREF(
	    whatwg_sse_equal(&p.events[0].data, want_data.data, want_data.len),
	    "wrong data from \"%s\"", shown);
	FUZZ_REQUIREF(
	    whatwg_sse_equal(&p.events[0].type, want_type.data, want_type.len),
	    "wrong type from \"%s\"", shown);
	FUZZ_REQUIREF(whatwg_sse_equal(
	                  &p.events[0].last_event_id, id_text, strlen(id_text)),
	    "wrong id from \"%s\"", shown);
	FUZZ_REQUIRE(p.retry == -1);

	whatwg_sse_free(&p);
	buf_free(&out);
	buf_free(&want_data);
	buf_free(&want_type);
	free(name);
	return 0;
}
