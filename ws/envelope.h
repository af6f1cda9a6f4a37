/* envelope.h: litepush-ws JSON: events out, publish requests in. */
#ifndef LITEPUSH_ENVELOPE_H
#define LITEPUSH_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "store.h"

/* An errbuf this size always holds the whole of any reason written here. */
#define ENVELOPE_REASON_MAX 256

/*
 * Appends len bytes as a quoted JSON string.  Ill-formed UTF-8 becomes
 * U+FFFD exactly as buf_append_utf8() does it (the WHATWG decoder), '"' and
 * '\' are backslashed, control characters are escaped (\n, \r, \t, \b, \f,
 * else \u00XX) and so are U+2028 and U+2029 (legal in JSON, but not in
 * older JavaScript string literals); every other character is copied as
 * is.  Returns 0, or -1 when memory ran out (out may then hold part of it).
 */
int envelope_json_string(struct buf *out, const char *data, size_t len);

/*
 * Appends one event as the text of a WebSocket message:
 * {"id":42,"channel":"news","event":"add","data":"hello"}, with "event":null
 * when the row has none, and "user":"alice" before "data" when the row
 * records its sender (absent otherwise).  Returns 0 or -1 (memory).
 */
int envelope_encode_event(struct buf *out, const struct store_event *ev);

/* Appends {"ack":ID}; returns 0 or -1. */
int envelope_encode_ack(struct buf *out, int64_t id);

/*
 * Appends {"position":N}, the first text of every connection: the id
 * after which its events start, so that a client that gets no event
 * before it reconnects resumes from there (as SSE's id-only block does
 * for an EventSource).  Returns 0 or -1.
 */
int envelope_encode_position(struct buf *out, int64_t id);

/*
 * Appends {"reset":{"oldest":N,"newest":M}}, sent before the first event
 * when the client's resume point is gone; returns 0 or -1.
 */
int envelope_encode_reset(struct buf *out, int64_t oldest, int64_t newest);

/* Appends {"error":"REASON"}; returns 0 or -1. */
int envelope_encode_error(struct buf *out, const char *reason);

/*
 * A publish request: {"channel":"chat","event":"msg","data":"hi"}.  The
 * strings are borrowed from the parse and valid until
 * envelope_publish_free(); data may hold NUL bytes (data_len counts them).
 */
struct envelope_publish {
	const char *channel; /* a valid channel name */
	const char *event;   /* NULL when absent or null */
	const char *data;
	size_t      data_len;
	void       *json; /* private: the parsed document */
};

/*
 * Parses a client's text message as a publish request: a JSON object with
 * "channel" (a string, a valid channel name), "data" (a string) and
 * optionally "event" (a string of at most STORE_EVENT_MAX bytes without CR,
 * LF or NUL, or null).  Other members are ignored; a member given twice is
 * an error.  Returns 0 (free *pub with envelope_publish_free()), or -1 with
 * a one-line reason in errbuf and nothing to free.
 */
int envelope_parse_publish(const char *msg, size_t len,
    struct envelope_publish *pub, char *errbuf, size_t errlen);

/* Frees a parsed publish request; a zeroed one is ignored. */
void envelope_publish_free(struct envelope_publish *pub);

#endif
