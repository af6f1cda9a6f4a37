/* sse.h: the text/event-stream encoder (pure: bytes in, bytes out). */
#ifndef LITEPUSH_SSE_H
#define LITEPUSH_SSE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/*
 * Appends one event: "id: N", "event: NAME" (omitted when event is NULL),
 * "user: NAME" (omitted when user is NULL: who published it, as the server
 * vouches; a field EventSource ignores, as it does every name it does not
 * know, so a plain browser client is not disturbed by it), one "data: " line
 * per line of data (CRLF, CR and LF all end a line, so "a\n" gives "data: a"
 * and "data: "; empty data gives one "data: " line), then a blank line.  Data
 * that is not valid UTF-8 is sent with U+FFFD for the bad bytes.  An event
 * name or user is cut at its first CR or LF (the schema refuses those).
 * Returns 0, or -1 when memory ran out.
 */
int sse_encode_event(struct buf *out, int64_t id, const char *event,
    const char *user, const char *data, size_t data_len);

/* Appends "retry: MS\n\n". */
int sse_encode_retry(struct buf *out, long retry_ms);

/* Appends a comment line ": TEXT\n\n" (text must hold no CR/LF). */
int sse_encode_comment(struct buf *out, const char *text);

/*
 * Appends an id-only block, "id: N\n\n": it sets a browser's last event id
 * without firing an event, so a client that has had no event yet still
 * resumes from its position.
 */
int sse_encode_position(struct buf *out, int64_t id);

/*
 * Appends the reset event, "event: reset\ndata: {"oldest":N,"newest":M}\n\n",
 * with no id line (the client's last event id stays until the next event).
 */
int sse_encode_reset(struct buf *out, int64_t oldest, int64_t newest);

/*
 * Appends the pause event with the retry that a plain EventSource obeys:
 * "retry: <retry_ms>\nevent: pause\ndata: <at_ms>\n\n".
 */
int sse_encode_pause(struct buf *out, int64_t at_ms, long retry_ms);

#endif
