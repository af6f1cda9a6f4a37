/* query.c: parsing what a subscriber asks for (pure: bytes in, struct out). */
#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "query.h"
#include "quote.h"

/*
 * The query string comes from the network and may be as long as the web
 * server allows (a megabyte is not unheard of), so it is read once, front
 * to back, without allocating: each value is percent-decoded a byte at a
 * time and only what a decision needs is kept.  A channel longer than
 * CHANNEL_MAX bytes is invalid anyway, so the scratch buffer for an
 * item holds that much and merely counts the rest; numbers are accumulated
 * digit by digit, so even a megabyte of leading zeros costs no memory.
 * Duplicate channels are found by comparing with the at most
 * QUERY_MAX_CHANNELS kept so far: a bounded cost per item, so the whole
 * parse stays linear, and the 33rd distinct channel stops it at once.
 */

/* Room for the longest parameter name looked for, and one byte more. */
#define QUERY_NAME_MAX 16

/* What query_decoder_next() returns besides a byte. */
#define QUERY_END (-1) /* no more bytes */
#define QUERY_BAD (-2) /* a bad escape, at decoder->next */

/* The parameters the parser knows. */
enum query_name {
	QUERY_NAME_OTHER,
	QUERY_NAME_CHANNEL,
	QUERY_NAME_LAST_EVENT_ID,
	QUERY_NAME_BACKLOG
};

/* Reads percent-encoded bytes from next up to end. */
struct query_decoder {
	const char *next;
	const char *end;
};

/* The start of a decoded value (all of it when len fits) and its length. */
struct query_scratch {
	char   data[CHANNEL_MAX];
	size_t len; /* decoded length, which may be more than was kept */
};

/* Writes a reason to errbuf when there is one; returns -1. */
static int __attribute__((format(printf, 3, 4)))
query_error(char *errbuf, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (errbuf != NULL && errlen != 0) {
		va_start(ap, fmt);
		vsnprintf(errbuf, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* Returns the value of hex digit c, or -1. */
static int
query_hex(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * Returns the next decoded byte, QUERY_END or QUERY_BAD.  Note that on a
 * bad escape next stays at its '%', so the reason can point at it.
 */
static int
query_decoder_next(struct query_decoder *decoder)
{
	const char   *p = decoder->next;
	unsigned char c;
	int           high, low;

	if (p == decoder->end)
		return QUERY_END;
	c = (unsigned char)*p;
	if (c == '+') {
		decoder->next = p + 1;
		return ' ';
	}
	if (c != '%') {
		decoder->next = p + 1;
		return c;
	}
	if (decoder->end - p < 3)
		return QUERY_BAD;
	high = query_hex((unsigned char)p[1]);
	low = query_hex((unsigned char)p[2]);
	if (high < 0 || low < 0)
		return QUERY_BAD;
	decoder->next = p + 3;
	return high << 4 | low;
}

/*
 * Reports the bad escape at bad in the pair that runs from pair to end,
 * quoting the pair up to the end of the escape.
 */
static int
query_bad_escape(const char *pair, const char *end, const char *bad,
    char *errbuf, size_t errlen)
{
	char        quoted[QUOTE_SIZE];
	const char *stop;

	stop = end - bad > 3 ? bad + 3 : end;
	quote_value(quoted, pair, (size_t)(stop - pair),
	    QUOTE_KEEP_END | (stop < end ? QUOTE_MORE : 0));
	return query_error(
	    errbuf, errlen, "bad percent-encoding in query: \"%s\"", quoted);
}

/* Adds decoded byte c to scratch. */
static void
query_scratch_add(struct query_scratch *scratch, int c)
{
	if (scratch->len < sizeof scratch->data)
		scratch->data[scratch->len] = (char)c;
	scratch->len++;
}

/* Quotes what scratch holds (with "..." if it did not all fit). */
static void
query_scratch_quote(char out[QUOTE_SIZE], const struct query_scratch *scratch)
{
	size_t kept = scratch->len;

	if (kept > sizeof scratch->data)
		kept = sizeof scratch->data;
	quote_value(
	    out, scratch->data, kept, scratch->len > kept ? QUOTE_MORE : 0);
}

/* Adds decimal digit c to *value; returns -1 if not a digit or on overflow. */
static int
query_digit(int64_t *value, int c)
{
	int64_t digit;

	if (c < '0' || c > '9')
		return -1;
	digit = c - '0';
	if (*value > (INT64_MAX - digit) / 10)
		return -1;
	*value = *value * 10 + digit;
	return 0;
}

/* Decodes a parameter name and returns which one it is, or QUERY_BAD. */
static int
query_parse_name(struct query_decoder *decoder)
{
	static const struct {
		const char     *name;
		enum query_name which;
	} names[] = {
	    {"channel", QUERY_NAME_CHANNEL},
	    {"lastEventId", QUERY_NAME_LAST_EVENT_ID},
	    {"backlog", QUERY_NAME_BACKLOG},
	};
	char   name[QUERY_NAME_MAX];
	size_t len = 0, i;
	int    c;

	while ((c = query_decoder_next(decoder)) >= 0) {
		if (len < sizeof name)
			name[len] = (char)c;
		len++;
	}
	if (c == QUERY_BAD)
		return QUERY_BAD;
	for (i = 0; i < sizeof names / sizeof names[0]; i++) {
		if (len == strlen(names[i].name) &&
		    memcmp(name, names[i].name, len) == 0)
			return (int)names[i].which;
	}
	return QUERY_NAME_OTHER;
}

/* Adds one decoded channel item to q unless it is already there. */
static int
query_add_channel(struct query *q, const struct query_scratch *item,
    char *errbuf, size_t errlen)
{
	char   quoted[QUOTE_SIZE];
	size_t i;

	if (item->len == 0)
		return query_error(errbuf, errlen, "empty channel name");
	if (item->len > CHANNEL_MAX || !channel_valid(item->data, item->len)) {
		query_scratch_quote(quoted, item);
		return query_error(errbuf, errlen,
		    "bad channel \"%s\": use 1 to %d of A-Z a-z 0-9 _ . : -",
		    quoted, CHANNEL_MAX);
	}
	for (i = 0; i < q->nchannels; i++) {
		if (memcmp(q->channels[i], item->data, item->len) == 0 &&
		    q->channels[i][item->len] == '\0')
			return 0;
	}
	if (q->nchannels == QUERY_MAX_CHANNELS)
		return query_error(errbuf, errlen,
		    "too many channels (at most %d)", QUERY_MAX_CHANNELS);
	memcpy(q->channels[q->nchannels], item->data, item->len);
	q->channels[q->nchannels][item->len] = '\0';
	q->nchannels++;
	return 0;
}

/*
 * Adds the channels of one channel= value, split on ',' after decoding.
 * Returns 0, QUERY_BAD (the decoder is at the bad escape) or -1.
 */
static int
query_parse_channels(
    struct query *q, struct query_decoder *decoder, char *errbuf, size_t errlen)
{
	struct query_scratch item;
	int                  c;

	item.len = 0;
	for (;;) {
		c = query_decoder_next(decoder);
		if (c == QUERY_BAD)
			return QUERY_BAD;
		if (c != QUERY_END && c != ',') {
			query_scratch_add(&item, c);
			continue;
		}
		if (query_add_channel(q, &item, errbuf, errlen) != 0)
			return -1;
		if (c == QUERY_END)
			return 0;
		item.len = 0;
	}
}

/*
 * Parses one decimal value into *has and *value (an empty one is absent);
 * name and expected word the reason.  Returns 0, QUERY_BAD or -1.
 */
static int
query_parse_number(struct query_decoder *decoder, int *has, int64_t *value,
    const char *name, const char *expected, char *errbuf, size_t errlen)
{
	struct query_scratch text;
	char                 quoted[QUOTE_SIZE];
	int64_t              number = 0;
	int                  c, valid = 1;

	text.len = 0;
	while ((c = query_decoder_next(decoder)) >= 0) {
		query_scratch_add(&text, c);
		if (valid && query_digit(&number, c) != 0)
			valid = 0;
	}
	if (c == QUERY_BAD)
		return QUERY_BAD;
	if (text.len == 0) {
		*has = 0;
		*value = 0;
		return 0;
	}
	if (!valid) {
		query_scratch_quote(quoted, &text);
		return query_error(errbuf, errlen, "bad %s \"%s\": expected %s",
		    name, quoted, expected);
	}
	*has = 1;
	*value = number;
	return 0;
}

/* Parses one non-empty name=value pair running from pair to end. */
static int
query_parse_pair(struct query *q, const char *pair, const char *end,
    char *errbuf, size_t errlen)
{
	struct query_decoder decoder;
	const char          *equals;
	int                  which, rc;

	equals = memchr(pair, '=', (size_t)(end - pair));
	decoder.next = pair;
	decoder.end = equals != NULL ? equals : end;
	which = query_parse_name(&decoder);
	if (which == QUERY_BAD)
		return query_bad_escape(
		    pair, end, decoder.next, errbuf, errlen);

	decoder.next = decoder.end = end;
	if (equals != NULL)
		decoder.next = equals + 1;
	switch (which) {
	case QUERY_NAME_CHANNEL:
		rc = query_parse_channels(q, &decoder, errbuf, errlen);
		break;
	case QUERY_NAME_LAST_EVENT_ID:
		rc = query_parse_number(&decoder, &q->has_last_id, &q->last_id,
		    "lastEventId", "a decimal id", errbuf, errlen);
		break;
	case QUERY_NAME_BACKLOG:
		rc = query_parse_number(&decoder, &q->has_backlog, &q->backlog,
		    "backlog", "a number of events", errbuf, errlen);
		break;
	default:
		/* Ignored, but still held to well-formed escapes. */
		while ((rc = query_decoder_next(&decoder)) >= 0)
			;
		if (rc == QUERY_END)
			rc = 0;
		break;
	}
	if (rc == QUERY_BAD)
		return query_bad_escape(
		    pair, end, decoder.next, errbuf, errlen);
	return rc;
}

/* Parses a query string into q. */
int
query_parse(
    const char *qs, size_t len, struct query *q, char *errbuf, size_t errlen)
{
	const char *pair, *end, *pair_end;

	memset(q, 0, sizeof *q);
	if (errbuf != NULL && errlen != 0)
		errbuf[0] = '\0';

	if (qs != NULL && len != 0) {
		pair = qs;
		end = qs + len;
		for (;;) {
			pair_end = memchr(pair, '&', (size_t)(end - pair));
			if (pair_end == NULL)
				pair_end = end;
			if (pair_end != pair &&
			    query_parse_pair(
			        q, pair, pair_end, errbuf, errlen) != 0) {
				memset(q, 0, sizeof *q);
				return -1;
			}
			if (pair_end == end)
				break;
			pair = pair_end + 1;
		}
	}

	if (q->nchannels == 0) {
		memcpy(q->channels[0], "default", sizeof "default");
		q->nchannels = 1;
	}
	return 0;
}

/* Parses a Last-Event-ID header value. */
int
query_parse_last_event_id(
    const char *value, int64_t *idp, char *errbuf, size_t errlen)
{
	char    quoted[QUOTE_SIZE];
	size_t  start = 0, end, i;
	int64_t id = 0;

	*idp = 0;
	if (errbuf != NULL && errlen != 0)
		errbuf[0] = '\0';
	if (value == NULL)
		return 1;

	end = strlen(value);
	while (start < end && (value[start] == ' ' || value[start] == '\t'))
		start++;
	while (end > start && (value[end - 1] == ' ' || value[end - 1] == '\t'))
		end--;
	if (start == end)
		return 1;

	for (i = start; i < end; i++) {
		if (query_digit(&id, (unsigned char)value[i]) != 0) {
			quote_value(quoted, value + start, end - start, 0);
			return query_error(errbuf, errlen,
			    "bad Last-Event-ID \"%s\": expected a decimal id",
			    quoted);
		}
	}
	*idp = id;
	return 0;
}
