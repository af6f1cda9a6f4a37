/* whatwg_sse.c: the UTF-8 decoder and event stream parser of the specs. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "whatwg_sse.h"

/* Aborts: memory ran out (see whatwg_sse.h). */
static void __attribute__((noreturn)) whatwg_sse_out_of_memory(void)
{
	fputs("whatwg_sse: out of memory\n", stderr);
	abort();
}

/* Appends len bytes to b; aborts when memory runs out. */
static void
whatwg_sse_append(struct buf *b, const void *data, size_t len)
{
	if (buf_append(b, data, len) != 0)
		whatwg_sse_out_of_memory();
}

/* The decoder step by step as the Encoding Standard writes it. */
size_t
whatwg_sse_utf8_decode(
    const unsigned char *in, size_t len, uint32_t *out, size_t *errors)
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
void
whatwg_sse_utf8_encode(struct buf *b, const uint32_t *cps, size_t n)
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
		whatwg_sse_append(b, s, k);
	}
}

/* Appends what the decoder makes of data, re-encoded; returns the errors. */
size_t
whatwg_sse_utf8_sanitise(struct buf *b, const char *data, size_t len)
{
	uint32_t *cps = malloc((len + 1) * sizeof *cps);
	size_t    n, errors;

	if (cps == NULL)
		whatwg_sse_out_of_memory();
	n = whatwg_sse_utf8_decode(
	    (const unsigned char *)data, len, cps, &errors);
	whatwg_sse_utf8_encode(b, cps, n);
	free(cps);
	return errors;
}

/* Returns whether len bytes are well-formed UTF-8 for the decoder. */
int
whatwg_sse_utf8_is_valid(const char *data, size_t len)
{
	struct buf b = {0};
	size_t     errors;

	errors = whatwg_sse_utf8_sanitise(&b, data, len);
	buf_free(&b);
	return errors == 0;
}

/* Copies len bytes into a freshly emptied buffer. */
static void
whatwg_sse_set(struct buf *b, const char *data, size_t len)
{
	b->len = b->off = 0;
	whatwg_sse_append(b, data, len);
}

/* Dispatches the event, per "dispatch the event" in the HTML spec. */
static void
whatwg_sse_dispatch(struct whatwg_sse_parser *p)
{
	struct whatwg_sse_event *e;

	if (p->data.len == 0) {
		p->type.len = 0;
		return;
	}
	if (p->data.data[p->data.len - 1] == '\n')
		p->data.len--;
	if (p->nevents == p->cap) {
		p->cap = p->cap != 0 ? p->cap * 2 : 16;
		p->events = realloc(p->events, p->cap * sizeof *p->events);
		if (p->events == NULL)
			whatwg_sse_out_of_memory();
	}
	e = &p->events[p->nevents++];
	memset(e, 0, sizeof *e);
	if (p->type.len != 0)
		whatwg_sse_set(&e->type, p->type.data, p->type.len);
	else
		whatwg_sse_set(&e->type, "message", 7);
	whatwg_sse_set(&e->data, p->data.data, p->data.len);
	whatwg_sse_set(&e->last_event_id, p->id.data, p->id.len);
	p->data.len = 0;
	p->type.len = 0;
}

/* Processes one line (without its end), per the HTML spec. */
static void
whatwg_sse_line(struct whatwg_sse_parser *p, const char *line, size_t len)
{
	const char *colon, *value = "";
	size_t      field_len = len, value_len = 0, i;

	if (len == 0) {
		whatwg_sse_dispatch(p);
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
		whatwg_sse_set(&p->type, value, value_len);
	else if (field_len == 4 && memcmp(line, "data", 4) == 0) {
		whatwg_sse_append(&p->data, value, value_len);
		whatwg_sse_append(&p->data, "\n", 1);
	} else if (field_len == 2 && memcmp(line, "id", 2) == 0) {
		if (memchr(value, '\0', value_len) == NULL)
			whatwg_sse_set(&p->id, value, value_len);
	} else if (field_len == 5 && memcmp(line, "retry", 5) == 0) {
		for (i = 0; i < value_len; i++) {
			if (value[i] < '0' || value[i] > '9')
				return;
		}
		if (value_len != 0)
			p->retry = strtol(value, NULL, 10);
	}
}

/* Parses a whole stream; a last line or event left unfinished is dropped. */
void
whatwg_sse_parse(struct whatwg_sse_parser *p, const char *stream, size_t len)
{
	size_t start = 0, i;

	memset(p, 0, sizeof *p);
	p->retry = -1;
	for (i = 0; i < len; i++) {
		if (stream[i] != '\r' && stream[i] != '\n')
			continue;
		whatwg_sse_line(p, stream + start, i - start);
		if (stream[i] == '\r' && i + 1 < len && stream[i + 1] == '\n')
			i++;
		start = i + 1;
	}
}

/* Frees what the parser holds. */
void
whatwg_sse_free(struct whatwg_sse_parser *p)
{
	size_t i;

	for (i = 0; i < p->nevents; i++) {
		buf_free(&p->events[i].type);
		buf_free(&p->events[i].data);
		buf_free(&p->events[i].last_event_id);
	}
	free(p->events);
	buf_free(&p->data);
	buf_free(&p->type);
	buf_free(&p->id);
}

/* Returns whether b holds exactly the string s (of len bytes). */
int
whatwg_sse_equal(const struct buf *b, const char *s, size_t len)
{
	return buf_pending_len(b) == len &&
	       (len == 0 || memcmp(buf_pending(b), s, len) == 0);
}
