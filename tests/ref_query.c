/* ref_query.c: query strings and Last-Event-ID parsed the obvious way. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query.h"
#include "ref_query.h"
#include "store.h"

const char ref_query_channel_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.:-";

/* Returns the value of hex digit c, or -1. */
static int
ref_query_hex(unsigned char c)
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
ref_query_decode(const char *s, size_t n, char *out, size_t *outlen)
{
	size_t i = 0, used = 0;

	while (i < n) {
		if (s[i] == '+') {
			out[used++] = ' ';
			i++;
		} else if (s[i] != '%')
			out[used++] = s[i++];
		else if (i + 2 < n &&
		         ref_query_hex((unsigned char)s[i + 1]) >= 0 &&
		         ref_query_hex((unsigned char)s[i + 2]) >= 0) {
			out[used++] =
			    (char)(ref_query_hex((unsigned char)s[i + 1]) << 4 |
			           ref_query_hex((unsigned char)s[i + 2]));
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
ref_query_number(const char *s, size_t n, int64_t *value)
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
ref_query_add(struct query *q, const char *s, size_t n, const char **kind)
{
	size_t i;

	if (n == 0) {
		*kind = REF_QUERY_KIND_EMPTY;
		return -1;
	}
	for (i = 0; i < n; i++)
		if (s[i] == '\0' ||
		    strchr(ref_query_channel_chars, s[i]) == NULL)
			break;
	if (n > CHANNEL_MAX || i < n) {
		*kind = REF_QUERY_KIND_CHANNEL;
		return -1;
	}
	for (i = 0; i < q->nchannels; i++)
		if (strlen(q->channels[i]) == n &&
		    memcmp(q->channels[i], s, n) == 0)
			return 0;
	if (q->nchannels == QUERY_MAX_CHANNELS) {
		*kind = REF_QUERY_KIND_TOO_MANY;
		return -1;
	}
	memcpy(q->channels[q->nchannels++], s, n);
	return 0;
}

/* Sets one number parameter from its decoded value; 0 or -1 with *kind. */
static int
ref_query_set(const char *value, size_t n, int *has, int64_t *number,
    const char *error, const char **kind)
{
	if (n == 0) {
		*has = 0;
		*number = 0;
		return 0;
	}
	if (ref_query_number(value, n, number) != 0) {
		*kind = error;
		return -1;
	}
	*has = 1;
	return 0;
}

/* Takes one pair of n bytes; 0 or -1 with *kind. */
static int
ref_query_pair(const char *p, size_t n, struct query *q, const char **kind)
{
	const char *equals = memchr(p, '=', n);
	size_t      raw_name = equals != NULL ? (size_t)(equals - p) : n;
	size_t      raw_value = equals != NULL ? n - raw_name - 1 : 0;
	char       *name = malloc(raw_name + 1), *value = malloc(raw_value + 1);
	size_t      name_len, value_len, start = 0, i;
	int         bad, rc = -1;

	if (name == NULL || value == NULL) {
		fputs("ref_query: out of memory\n", stderr);
		abort();
	}
	*kind = REF_QUERY_KIND_PERCENT;
	if (ref_query_decode(p, raw_name, name, &name_len) != 0)
		goto out;
	bad = ref_query_decode(
	          p + raw_name + 1, raw_value, value, &value_len) != 0;
	if (name_len == 7 && memcmp(name, "channel", 7) == 0) {
		/* Items before a bad escape are taken first. */
		for (i = 0; i < value_len; i++) {
			if (value[i] != ',')
				continue;
			if (ref_query_add(q, value + start, i - start, kind) !=
			    0)
				goto out;
			start = i + 1;
		}
		if (bad) {
			*kind = REF_QUERY_KIND_PERCENT;
			goto out;
		}
		if (ref_query_add(q, value + start, value_len - start, kind) !=
		    0)
			goto out;
	} else if (bad)
		goto out;
	else if (name_len == 11 && memcmp(name, "lastEventId", 11) == 0) {
		if (ref_query_set(value, value_len, &q->has_last_id,
		        &q->last_id, REF_QUERY_KIND_LAST_ID, kind) != 0)
			goto out;
	} else if (name_len == 7 && memcmp(name, "backlog", 7) == 0) {
		if (ref_query_set(value, value_len, &q->has_backlog,
		        &q->backlog, REF_QUERY_KIND_BACKLOG, kind) != 0)
			goto out;
	}
	rc = 0;
out:
	free(name);
	free(value);
	return rc;
}

/* The reference query parser; on error *kind is the reason's start. */
int
ref_query_parse(const char *qs, size_t len, struct query *q, const char **kind)
{
	size_t i = 0, j;

	memset(q, 0, sizeof *q);
	*kind = NULL;
	while (i <= len) {
		for (j = i; j < len && qs[j] != '&'; j++)
			;
		if (j > i && ref_query_pair(qs + i, j - i, q, kind) != 0) {
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
int
ref_query_last_event_id(const char *value, int64_t *id)
{
	size_t start = 0, end = strlen(value);

	*id = 0;
	while (start < end && (value[start] == ' ' || value[start] == '\t'))
		start++;
	while (end > start && (value[end - 1] == ' ' || value[end - 1] == '\t'))
		end--;
	if (start == end)
		return 1;
	if (ref_query_number(value + start, end - start, id) != 0) {
		*id = 0;
		return -1;
	}
	return 0;
}
