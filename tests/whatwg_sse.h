/* whatwg_sse.h: a browser's reading of an event stream, as a test reference. */
#ifndef LITEPUSH_WHATWG_SSE_H
#define LITEPUSH_WHATWG_SSE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/*
 * What tests/check_sse.c and tests/fuzz/fuzz_sse_encoder.c compare the SSE
 * encoder with: the WHATWG UTF-8 decoder (the Encoding Standard's state
 * machine) and the HTML "event stream interpretation" parser, written from
 * the specs, independently of net/buf.c and net/sse.c.  struct buf is only
 * a container here.
 *
 * Note that running out of memory aborts: this is test code, and a Check
 * test (in its own process) and a fuzz target both report an abort.
 */

/* One event as a browser's EventSource would dispatch it. */
struct whatwg_sse_event {
	struct buf type;
	struct buf data;
	struct buf last_event_id;
};

/* The state of the HTML spec's event stream parser, and what it gave. */
struct whatwg_sse_parser {
	struct buf               data;  /* the data buffer */
	struct buf               type;  /* the event type buffer */
	struct buf               id;    /* the last event ID buffer */
	long                     retry; /* -1 until a valid retry field */
	struct whatwg_sse_event *events;
	size_t                   nevents;
	size_t                   cap;
};

/*
 * Decodes len bytes to code points in out (room for len) as the WHATWG
 * UTF-8 decoder does; returns how many, and sets *errors to how many
 * U+FFFD came from errors.
 */
size_t whatwg_sse_utf8_decode(
    const unsigned char *in, size_t len, uint32_t *out, size_t *errors);

/* Appends the UTF-8 form of n code points to b. */
void whatwg_sse_utf8_encode(struct buf *b, const uint32_t *cps, size_t n);

/*
 * Appends what the decoder makes of len bytes of data, re-encoded, to b;
 * returns how many U+FFFD came from errors.
 */
size_t whatwg_sse_utf8_sanitise(struct buf *b, const char *data, size_t len);

/* Returns whether len bytes of data are well-formed UTF-8. */
int whatwg_sse_utf8_is_valid(const char *data, size_t len);

/*
 * Parses a whole stream of len bytes into p (which it initialises); a last
 * line or event left unfinished is dropped.  Free p with whatwg_sse_free().
 */
void whatwg_sse_parse(
    struct whatwg_sse_parser *p, const char *stream, size_t len);

/* Frees what the parser holds. */
void whatwg_sse_free(struct whatwg_sse_parser *p);

/* Returns whether the pending bytes of b are exactly the len bytes at s. */
int whatwg_sse_equal(const struct buf *b, const char *s, size_t len);

#endif
