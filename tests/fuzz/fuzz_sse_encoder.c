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

/*
 * The property: for any id, event name and data, what sse_encode_event()
 * writes is valid UTF-8, and a browser's EventSource reading it (the WHATWG
 * UTF-8 decoder, then the HTML "event stream interpretation") dispatches
 * exactly one event, with that id as its lastEventId, the name (cut at its
 * first CR or LF, "message" when there is none) as its type, and as its
 * data the input decoded with U+FFFD for what is not UTF-8 and every CRLF
 * and CR made LF.  No proper prefix of the output dispatches anything: the
 * output holds no CR and its only blank line is its end.
 *
 * The decoder and the parser are written from the specs, independently of
 * buf.c and sse.c (adapted from tests/check_sse.c); struct buf is only a
 * container here.
 *
 * The input: byte 0 holds flags (1: no event name, 2: NULL data when it is
 * empty, 4: append after bytes already pending and partly consumed); bytes
 * 1-8 the id, little-endian; byte 9 the name's length n; the next n bytes
 * the name (a C string: a NUL ends it); the rest the data.  Missing bytes
 * count as zero.
 */

#define FLAG_NO_EVENT 1
#define FLAG_NULL_DATA 2
#define FLAG_PENDING 4

/* Appends len bytes to b; aborts when memory runs out. */
static void
append(struct buf *b, const void *data, size_t len)
{
	FUZZ_REQUIRE(buf_append(b, data, len) == 0);
}

/*
 * The WHATWG UTF-8 decoder, step by step as the Encoding Standard writes
 * it.  Decodes len bytes to code points in out (room for len + 1); returns
 * how many, and sets *errors to how many U+FFFD came from errors.
 */
static size_t
utf8_decode(const unsigned char *in, size_t len, uint32_t *out, size_t *errors)
{
	uint32_t code_point = 0;
	unsigned bytes_needed = 0, bytes_seen = 0;
	unsigned lower = 0x80, upper = 0xBF;
	size_t   i = 0, n = 0;

	*errors = 0;
	while (i < len) {
		unsigned byte = in[i];

		if (bytes_needed == 0) {
			i++;
			if (byte <= 0x7F)
				out[n++] = byte;
			else if (byte >= 0xC2 && byte <= 0xDF) {
				bytes_needed = 1;
				code_point = byte & 0x1F;
			} else if (byte >= 0xE0 && byte <= 0xEF) {
				if (byte == 0xE0)
					lower = 0xA0;
				if (byte == 0xED)
					upper = 0x9F;
				bytes_needed = 2;
				code_point = byte & 0xF;
			} else if (byte >= 0xF0 && byte <= 0xF4) {
				if (byte == 0xF0)
					lower = 0x90;
				if (byte == 0xF4)
					upper = 0x8F;
				bytes_needed = 3;
				code_point = byte & 0x7;
			} else {
				out[n++] = 0xFFFD;
				(*errors)++;
			}
			continue;
		}
		if (byte < lower || byte > upper) {
			/* Error: the byte is read again ("prepended"). */
			code_point = bytes_needed = bytes_seen = 0;
			lower = 0x80;
			upper = 0xBF;
			out[n++] = 0xFFFD;
			(*errors)++;
			continue;
		}
		i++;
		lower = 0x80;
		upper = 0xBF;
		code_point = (code_point << 6) | (byte & 0x3F);
		if (++bytes_seen == bytes_needed) {
			out[n++] = code_point;
			code_point = bytes_needed = bytes_seen = 0;
		}
	}
	if (bytes_needed != 0) {
		out[n++] = 0xFFFD;
		(*errors)++;
	}
	return n;
}

/* Appends the UTF-8 form of n code points to b. */
static void
utf8_encode(struct buf *b, const uint32_t *cps, size_t n)
{
	unsigned char s[4];
	size_t        i, k;

	for (i = 0; i < n; i++) {
		uint32_t c = cps[i];

		if (c < 0x80) {
			s[0] = (unsigned char)c;
			k = 1;
		} else if (c < 0x800) {
			s[0] = (unsigned char)(0xC0 | c >> 6);
			s[1] = (unsigned char)(0x80 | (c & 0x3F));
			k = 2;
		} else if (c < 0x10000) {
			s[0] = (unsigned char)(0xE0 | c >> 12);
			s[1] = (unsigned char)(0x80 | ((c >> 6) & 0x3F));
			s[2] = (unsigned char)(0x80 | (c & 0x3F));
			k = 3;
		} else {
			s[0] = (unsigned char)(0xF0 | c >> 18);
			s[1] = (unsigned char)(0x80 | ((c >> 12) & 0x3F));
			s[2] = (unsigned char)(0x80 | ((c >> 6) & 0x3F));
			s[3] = (unsigned char)(0x80 | (c & 0x3F));
			k = 4;
		}
		append(b, s, k);
	}
}

/* Appends what the decoder makes of data, re-encoded; returns the errors. */
static size_t
utf8_sanitise(struct buf *b, const char *data, size_t len)
{
	uint32_t *cps = malloc((len + 1) * sizeof *cps);
	size_t    n, errors;

	FUZZ_REQUIRE(cps != NULL);
	n = utf8_decode((const unsigned char *)data, len, cps, &errors);
	utf8_encode(b, cps, n);
	free(cps);
	return errors;
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

/* The HTML spec's event stream parser: its buffers and the first event. */
struct parser {
	struct buf data; /* the data buffer */
	struct buf type; /* the event type buffer */
	struct buf id;   /* the last event ID buffer */
	int        retry_set;
	size_t     nevents;
	struct buf event_type, event_data, event_id; /* of the first event */
};

/* Copies len bytes into a freshly emptied buffer. */
static void
set(struct buf *b, const char *data, size_t len)
{
	b->len = b->off = 0;
	append(b, data, len);
}

/* Dispatches the event, per "dispatch the event" in the HTML spec. */
static void
parser_dispatch(struct parser *p)
{
	if (p->data.len == 0) {
		p->type.len = 0;
		return;
	}
	if (p->data.data[p->data.len - 1] == '\n')
		p->data.len--;
	if (p->nevents++ == 0) {
		if (p->type.len != 0)
			set(&p->event_type, p->type.data, p->type.len);
		else
			set(&p->event_type, "message", 7);
		set(&p->event_data, p->data.data, p->data.len);
		set(&p->event_id, p->id.data, p->id.len);
	}
	p->data.len = 0;
	p->type.len = 0;
}

/* Processes one line (without its end), per the HTML spec. */
static void
parser_line(struct parser *p, const char *line, size_t len)
{
	const char *colon, *value = "";
	size_t      field_len = len, value_len = 0, i;

	if (len == 0) {
		parser_dispatch(p);
		return;
	}
	if (line[0] == ':')
		return;
	colon = memchr(line, ':', len);
	if (colon != NULL) {
		field_len = (size_t)(colon - line);
		value = colon + 1;
		value_len = len - field_len - 1;
		if (value_len != 0 && value[0] == ' ') {
			value++;
			value_len--;
		}
	}
	if (field_len == 5 && memcmp(line, "event", 5) == 0)
		set(&p->type, value, value_len);
	else if (field_len == 4 && memcmp(line, "data", 4) == 0) {
		append(&p->data, value, value_len);
		append(&p->data, "\n", 1);
	} else if (field_len == 2 && memcmp(line, "id", 2) == 0) {
		if (memchr(value, '\0', value_len) == NULL)
			set(&p->id, value, value_len);
	} else if (field_len == 5 && memcmp(line, "retry", 5) == 0) {
		for (i = 0; i < value_len; i++)
			if (value[i] < '0' || value[i] > '9')
				return;
		if (value_len != 0)
			p->retry_set = 1;
	}
}

/* Parses a whole stream; a last line or event left unfinished is dropped. */
static void
parse(struct parser *p, const char *stream, size_t len)
{
	size_t start = 0, i;

	memset(p, 0, sizeof *p);
	for (i = 0; i < len; i++) {
		if (stream[i] != '\r' && stream[i] != '\n')
			continue;
		parser_line(p, stream + start, i - start);
		if (stream[i] == '\r' && i + 1 < len && stream[i + 1] == '\n')
			i++;
		start = i + 1;
	}
}

/* Frees what the parser holds. */
static void
parser_free(struct parser *p)
{
	buf_free(&p->data);
	buf_free(&p->type);
	buf_free(&p->id);
	buf_free(&p->event_type);
	buf_free(&p->event_data);
	buf_free(&p->event_id);
}

/* Returns whether b holds exactly the len bytes at s. */
static int
equal(const struct buf *b, const char *s, size_t len)
{
	return b->len == len && (len == 0 || memcmp(b->data, s, len) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *input, size_t size);

/* One input: an id, an event name and data (see the top). */
int
LLVMFuzzerTestOneInput(const uint8_t *input, size_t size)
{
	static const char pending[] = "id: 0\ndata: before\n\n";
	unsigned char     head[10] = {0};
	struct buf        out = {0}, want_data = {0}, want_type = {0};
	struct parser     p;
	char             *name = NULL, id_text[32], shown[256];
	const char       *data, *encoded;
	size_t            name_len, data_len, encoded_len, i, skip;
	int64_t           id = 0;
	uint64_t          raw = 0;

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
	FUZZ_REQUIRE(sse_encode_event(&out, id, name, data, data_len) == 0);
	FUZZ_REQUIRE(buf_pending_len(&out) >= skip);
	FUZZ_REQUIRE(memcmp(buf_pending(&out), pending + 6, skip) == 0);
	encoded = buf_pending(&out) + skip;
	encoded_len = buf_pending_len(&out) - skip;
	fuzz_escape(shown, sizeof shown, encoded, encoded_len);

	/* Valid UTF-8, no CR, one blank line and that at the end. */
	FUZZ_REQUIRE(utf8_sanitise(&want_data, encoded, encoded_len) == 0);
	FUZZ_REQUIREF(
	    memchr(encoded, '\r', encoded_len) == NULL, "CR in \"%s\"", shown);
	FUZZ_REQUIREF(encoded_len >= 2 &&
	                  memcmp(encoded + encoded_len - 2, "\n\n", 2) == 0,
	    "no blank line at the end of \"%s\"", shown);
	for (i = 0; i + 2 < encoded_len; i++)
		FUZZ_REQUIREF(encoded[i] != '\n' || encoded[i + 1] != '\n',
		    "blank line inside \"%s\"", shown);

	/* What the browser dispatches. */
	want_data.len = 0;
	if (data_len != 0)
		utf8_sanitise(&want_data, data, data_len);
	normalise_line_ends(&want_data);
	if (name != NULL)
		utf8_sanitise(&want_type, name, strcspn(name, "\r\n"));
	if (want_type.len == 0)
		append(&want_type, "message", 7);
	snprintf(id_text, sizeof id_text, "%" PRId64, id);

	parse(&p, encoded, encoded_len);
	FUZZ_REQUIREF(
	    p.nevents == 1, "%zu events from \"%s\"", p.nevents, shown);
	FUZZ_REQUIREF(equal(&p.event_data, want_data.data, want_data.len),
	    "wrong data from \"%s\"", shown);
	FUZZ_REQUIREF(equal(&p.event_type, want_type.data, want_type.len),
	    "wrong type from \"%s\"", shown);
	FUZZ_REQUIREF(equal(&p.event_id, id_text, strlen(id_text)),
	    "wrong id from \"%s\"", shown);
	FUZZ_REQUIRE(!p.retry_set);

	parser_free(&p);
	buf_free(&out);
	buf_free(&want_data);
	buf_free(&want_type);
	free(name);
	return 0;
}
