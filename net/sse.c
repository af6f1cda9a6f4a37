/* sse.c: the text/event-stream encoder (pure: bytes in, bytes out). */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "sse.h"

/*
 * What a browser reads back is fixed by the WHATWG "event stream
 * interpretation": lines end at CRLF, CR or LF; a field's value loses one
 * leading space; each "data" line adds its value and a LF, and a blank line
 * dispatches the event without the last LF.  So the encoder writes every
 * line of data as its own "data: " line (always with the space, so data
 * that starts with a space keeps it) and never lets a CR or LF into a
 * field's value.  The stream is decoded as UTF-8 with replacement, so every
 * value goes through buf_append_utf8() and the bytes sent are exactly what
 * the browser's decoder yields.
 *
 * On failure each function puts the buffer's length back to what it was, so
 * a half-written event never reaches the wire.
 */

/* Holds the decimal form of any int64_t. */
#define SSE_NUMBER_SIZE 24

/* Writes value in decimal so that it ends at end; returns where it starts. */
static char *
sse_format_number(char *end, int64_t value)
{
	uint64_t magnitude;

	magnitude = value < 0 ? -(uint64_t)value : (uint64_t)value;
	do {
		*--end = (char)('0' + magnitude % 10);
		magnitude /= 10;
	} while (magnitude != 0);
	if (value < 0)
		*--end = '-';
	return end;
}

/* Appends prefix, value in decimal, then suffix. */
static int
sse_append_number(
    struct buf *out, const char *prefix, int64_t value, const char *suffix)
{
	char  number[SSE_NUMBER_SIZE];
	char *end = number + sizeof number;
	char *start;

	start = sse_format_number(end, value);
	if (buf_append_str(out, prefix) != 0 ||
	    buf_append(out, start, (size_t)(end - start)) != 0 ||
	    buf_append_str(out, suffix) != 0)
		return -1;
	return 0;
}

/* Returns the length of a field value up to its first CR or LF. */
static size_t
sse_field_length(const char *value)
{
	return strcspn(value, "\r\n");
}

/* Puts the buffer back to holding pending bytes; returns -1. */
static int
sse_rollback(struct buf *out, size_t pending)
{
	out->len = out->off + pending;
	return -1;
}

/* Returns the position of the next c in data at or after from, or len. */
static size_t
sse_find(const char *data, size_t from, size_t len, char c)
{
	const char *found;

	if (from >= len)
		return len;
	found = memchr(data + from, c, len - from);
	return found != NULL ? (size_t)(found - data) : len;
}

/*
 * Appends one "data: " line per line of data.  Note that the next CR and
 * the next LF are looked up with memchr and kept until passed, so the whole
 * of data is scanned once for each, however many lines it has.
 */
static int
sse_append_data(struct buf *out, const char *data, size_t len)
{
	size_t start = 0, end, next_cr, next_lf;

	next_cr = sse_find(data, 0, len, '\r');
	next_lf = sse_find(data, 0, len, '\n');
	for (;;) {
		end = next_cr < next_lf ? next_cr : next_lf;
		if (buf_append(out, "data: ", 6) != 0 ||
		    buf_append_utf8(out, data + start, end - start) != 0 ||
		    buf_append(out, "\n", 1) != 0)
			return -1;
		if (end == len)
			return 0;

		start = end + 1;
		if (data[end] == '\r' && start < len && data[start] == '\n')
			start++;
		if (next_cr < start)
			next_cr = sse_find(data, start, len, '\r');
		if (next_lf < start)
			next_lf = sse_find(data, start, len, '\n');
	}
}

/*
 * Appends one event.  Note that an event name or user holding CR or LF
 * (which the schema's CHECKs refuse) is cut at the first one rather than
 * let it break the framing; an empty name is left out, as browsers treat
 * it as "message" anyway, and an empty user too.
 */
int
sse_encode_event(struct buf *out, int64_t id, const char *event,
    const char *user, const char *data, size_t data_len)
{
	size_t pending = buf_pending_len(out);
	size_t event_len = 0, user_len = 0, more;

	if (data == NULL)
		data = "";
	if (event != NULL)
		event_len = sse_field_length(event);
	if (user != NULL)
		user_len = sse_field_length(user);

	/*
	 * Reserve once for the usual case: the fields, the data, and "data: "
	 * and LF for a line per 32 bytes.  Counting the lines would be exact
	 * but costs a pass over data as long as the whole encoding (measured);
	 * more lines or replacement characters only make the buffer grow.
	 */
	if (data_len > SIZE_MAX / 2 || event_len > SIZE_MAX / 8 ||
	    user_len > SIZE_MAX / 8)
		return -1;
	more = sizeof "id: \n" + SSE_NUMBER_SIZE + sizeof "event: \n" +
	       event_len + sizeof "user: \n" + user_len + data_len +
	       7 * (data_len / 32 + 1) + 1;
	if (buf_reserve(out, more) != 0)
		return -1;

	if (sse_append_number(out, "id: ", id, "\n") != 0)
		return sse_rollback(out, pending);
	if (event_len != 0) {
		if (buf_append(out, "event: ", 7) != 0 ||
		    buf_append_utf8(out, event, event_len) != 0 ||
		    buf_append(out, "\n", 1) != 0)
			return sse_rollback(out, pending);
	}
	if (user_len != 0) {
		if (buf_append(out, "user: ", 6) != 0 ||
		    buf_append_utf8(out, user, user_len) != 0 ||
		    buf_append(out, "\n", 1) != 0)
			return sse_rollback(out, pending);
	}
	if (sse_append_data(out, data, data_len) != 0 ||
	    buf_append(out, "\n", 1) != 0)
		return sse_rollback(out, pending);
	return 0;
}

/*
 * Appends "retry: MS\n\n".  A negative time is sent as 0, since browsers
 * ignore a retry value that is not all digits.
 */
int
sse_encode_retry(struct buf *out, long retry_ms)
{
	size_t pending = buf_pending_len(out);

	if (retry_ms < 0)
		retry_ms = 0;
	if (sse_append_number(out, "retry: ", retry_ms, "\n\n") != 0)
		return sse_rollback(out, pending);
	return 0;
}

/* Appends ": TEXT\n\n"; text is cut at a CR or LF, like event names. */
int
sse_encode_comment(struct buf *out, const char *text)
{
	size_t pending = buf_pending_len(out);
	size_t text_len = text != NULL ? sse_field_length(text) : 0;

	if (buf_append(out, ": ", 2) != 0 ||
	    buf_append_utf8(out, text, text_len) != 0 ||
	    buf_append(out, "\n\n", 2) != 0)
		return sse_rollback(out, pending);
	return 0;
}

/*
 * Appends "id: N\n\n": a browser takes N as its last event id and fires no
 * event, since the block has no data.
 */
int
sse_encode_position(struct buf *out, int64_t id)
{
	size_t pending = buf_pending_len(out);

	if (sse_append_number(out, "id: ", id, "\n\n") != 0)
		return sse_rollback(out, pending);
	return 0;
}

/* Appends "event: reset\ndata: {"oldest":N,"newest":M}\n\n", with no id. */
int
sse_encode_reset(struct buf *out, int64_t oldest, int64_t newest)
{
	size_t pending = buf_pending_len(out);

	if (sse_append_number(out, "event: reset\ndata: {\"oldest\":", oldest,
	        ",\"newest\":") != 0 ||
	    sse_append_number(out, "", newest, "}\n\n") != 0)
		return sse_rollback(out, pending);
	return 0;
}

/*
 * Appends "retry: MS\nevent: pause\ndata: AT_MS\n\n".  The retry is what a
 * plain EventSource obeys (it knows nothing of pause events), so it gets
 * the time until at_ms too; a negative one is sent as 0.
 */
int
sse_encode_pause(struct buf *out, int64_t at_ms, long retry_ms)
{
	size_t pending = buf_pending_len(out);

	if (retry_ms < 0)
		retry_ms = 0;
	if (sse_append_number(out, "retry: ", retry_ms, "\n") != 0 ||
	    sse_append_number(out, "event: pause\ndata: ", at_ms, "\n\n") != 0)
		return sse_rollback(out, pending);
	return 0;
}
