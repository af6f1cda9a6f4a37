/* envelope.c: litepush-ws JSON: events out, publish requests in. */
#include "config.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "envelope.h"
#include "store.h"

/*
 * Outbound messages are written by hand: every event goes to every
 * subscriber of its channel, and an encoder that appends into the
 * connection's buffer costs one pass over the data and no allocation,
 * where building a jansson tree would cost several per event.  Inbound
 * messages are rare (publishing) and come from untrusted clients, so they
 * are parsed with jansson, which gets the edge cases of JSON right.
 */

/* U+FFFD REPLACEMENT CHARACTER in UTF-8. */
static const char envelope_replacement[3] = {'\xEF', '\xBF', '\xBD'};

/*
 * Returns the length of the well-formed UTF-8 sequence at p (2 to 4), or
 * 0 with *bad set to the length of the maximal ill-formed subpart (1 to 3),
 * by buf_utf8_valid()'s WHATWG rules over the bytes the lead byte asks for.
 */
static size_t
envelope_utf8_sequence(const unsigned char *p, size_t len, size_t *bad)
{
	size_t want = p[0] < 0xE0 ? 2 : p[0] < 0xF0 ? 3 : 4;

	if (want > len)
		want = len;
	if (buf_utf8_valid((const char *)p, want, bad) == want && want >= 2)
		return want;
	if (*bad == 0)
		*bad = want; /* a sequence cut short by the end of the data */
	return 0;
}

/* Appends len bytes as a quoted JSON string. */
int
envelope_json_string(struct buf *out, const char *data, size_t len)
{
	static const char    hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)data;
	size_t               i = 0, run = 0, n, bad;
	char                 esc[6];

	/* Most data needs no escape: room for it all, then runs are copied. */
	if (buf_reserve(out, len + 2) != 0 || buf_append(out, "\"", 1) != 0)
		return -1;
	while (i < len) {
		unsigned char c = p[i];
		const char   *add;
		size_t        add_len, skip;

		if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
			i++;
			continue;
		}
		if (c >= 0x80) {
			n = envelope_utf8_sequence(p + i, len - i, &bad);
			if (n == 3 && c == 0xE2 && p[i + 1] == 0x80 &&
			    (p[i + 2] == 0xA8 || p[i + 2] == 0xA9)) {
				add = p[i + 2] == 0xA8 ? "\\u2028" : "\\u2029";
				add_len = 6;
				skip = 3;
			} else if (n > 0) {
				i += n;
				continue;
			} else {
				add = envelope_replacement;
				add_len = sizeof envelope_replacement;
				skip = bad;
			}
		} else {
			add = esc;
			add_len = 2;
			skip = 1;
			esc[0] = '\\';
			switch (c) {
			case '"':
			case '\\':
				esc[1] = (char)c;
				break;
			case '\n':
				esc[1] = 'n';
				break;
			case '\r':
				esc[1] = 'r';
				break;
			case '\t':
				esc[1] = 't';
				break;
			case '\b':
				esc[1] = 'b';
				break;
			case '\f':
				esc[1] = 'f';
				break;
			default:
				memcpy(esc, "\\u00", 4);
				esc[4] = hex[c >> 4];
				esc[5] = hex[c & 15];
				add_len = 6;
				break;
			}
		}
		if (buf_append(out, p + run, i - run) != 0 ||
		    buf_append(out, add, add_len) != 0)
			return -1;
		i += skip;
		run = i;
	}
	if (buf_append(out, p + run, i - run) != 0 ||
	    buf_append(out, "\"", 1) != 0)
		return -1;
	return 0;
}

/* Appends one event as a JSON object. */
int
envelope_encode_event(struct buf *out, const struct store_event *ev)
{
	if (buf_printf(out, "{\"id\":%" PRId64 ",\"channel\":", ev->id) != 0 ||
	    envelope_json_string(out, ev->channel, strlen(ev->channel)) != 0 ||
	    buf_append_str(out, ",\"event\":") != 0 ||
	    (ev->event != NULL
	            ? envelope_json_string(out, ev->event, strlen(ev->event))
	            : buf_append_str(out, "null")) != 0 ||
	    (ev->sender != NULL && (buf_append_str(out, ",\"user\":") != 0 ||
	                               envelope_json_string(out, ev->sender,
	                                   strlen(ev->sender)) != 0)) ||
	    buf_append_str(out, ",\"data\":") != 0 ||
	    envelope_json_string(out, ev->data, ev->data_len) != 0 ||
	    buf_append(out, "}", 1) != 0)
		return -1;
	return 0;
}

/* Appends {"ack":ID}. */
int
envelope_encode_ack(struct buf *out, int64_t id)
{
	return buf_printf(out, "{\"ack\":%" PRId64 "}", id);
}

/* Appends {"position":N}. */
int
envelope_encode_position(struct buf *out, int64_t id)
{
	return buf_printf(out, "{\"position\":%" PRId64 "}", id);
}

/* Appends {"reset":{"oldest":N,"newest":M}}. */
int
envelope_encode_reset(struct buf *out, int64_t oldest, int64_t newest)
{
	return buf_printf(out,
	    "{\"reset\":{\"oldest\":%" PRId64 ",\"newest\":%" PRId64 "}}",
	    oldest, newest);
}

/* Appends {"error":"REASON"}. */
int
envelope_encode_error(struct buf *out, const char *reason)
{
	if (buf_append_str(out, "{\"error\":") != 0 ||
	    envelope_json_string(out, reason, strlen(reason)) != 0 ||
	    buf_append(out, "}", 1) != 0)
		return -1;
	return 0;
}

/* Writes a reason and returns -1. */
static int __attribute__((format(printf, 3, 4)))
envelope_error(char *errbuf, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (errbuf != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(errbuf, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* Returns what a JSON value is, for reasons. */
static const char *
envelope_type_name(const json_t *value)
{
	switch (json_typeof(value)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	default:
		return "null";
	}
}

/* Parses a client's text message as a publish request. */
int
envelope_parse_publish(const char *msg, size_t len,
    struct envelope_publish *pub, char *errbuf, size_t errlen)
{
	json_error_t error;
	json_t      *root, *channel, *event, *data;
	const char  *name;
	size_t       name_len;

	memset(pub, 0, sizeof *pub);
	root = json_loadb(msg, len,
	    JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL | JSON_DECODE_ANY, &error);
	if (root == NULL)
		return envelope_error(errbuf, errlen,
		    "not JSON: %s (at byte %d)", error.text, error.position);
	if (!json_is_object(root)) {
		envelope_error(errbuf, errlen,
		    "expected a JSON object like "
		    "{\"channel\":\"...\",\"data\":\"...\"}, got %s",
		    envelope_type_name(root));
		goto fail;
	}
	channel = json_object_get(root, "channel");
	event = json_object_get(root, "event");
	data = json_object_get(root, "data");
	if (channel == NULL || !json_is_string(channel)) {
		envelope_error(errbuf, errlen, "\"channel\" must be a string%s",
		    channel == NULL ? " and is missing" : "");
		goto fail;
	}
	name = json_string_value(channel);
	name_len = json_string_length(channel);
	if (!channel_valid(name, name_len) || strlen(name) != name_len) {
		envelope_error(errbuf, errlen,
		    "bad channel: 1 to %d of A-Z a-z 0-9 _ . : - expected",
		    CHANNEL_MAX);
		goto fail;
	}
	if (event != NULL && !json_is_null(event)) {
		const char *value;

		if (!json_is_string(event)) {
			envelope_error(errbuf, errlen,
			    "\"event\" must be a string or null, got %s",
			    envelope_type_name(event));
			goto fail;
		}
		value = json_string_value(event);
		if (json_string_length(event) > STORE_EVENT_MAX ||
		    strlen(value) != json_string_length(event) ||
		    strpbrk(value, "\r\n") != NULL) {
			envelope_error(errbuf, errlen,
			    "bad event name: at most %d bytes, without line "
			    "breaks or NUL",
			    STORE_EVENT_MAX);
			goto fail;
		}
		if (store_event_reserved(value)) {
			envelope_error(errbuf, errlen,
			    "bad event name: \"%s\" is the protocol's own",
			    value);
			goto fail;
		}
		pub->event = value;
	}
	if (data == NULL || !json_is_string(data)) {
		envelope_error(errbuf, errlen, "\"data\" must be a string%s",
		    data == NULL ? " and is missing" : "");
		goto fail;
	}
	pub->channel = name;
	pub->data = json_string_value(data);
	pub->data_len = json_string_length(data);
	pub->json = root;
	if (errbuf != NULL && errlen > 0)
		errbuf[0] = '\0';
	return 0;

fail:
	json_decref(root);
	memset(pub, 0, sizeof *pub);
	return -1;
}

/* Frees a parsed publish request. */
void
envelope_publish_free(struct envelope_publish *pub)
{
	if (pub->json != NULL)
		json_decref(pub->json);
	memset(pub, 0, sizeof *pub);
}
