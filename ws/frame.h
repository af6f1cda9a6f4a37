/* frame.h: WebSocket frames as bytes (RFC 6455, section 5): follows the client's, writes the server's. */
#ifndef LITEPUSH_FRAME_H
#define LITEPUSH_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/*
 * Pure code, no sockets: wslay parses and checks the client's frames;
 * this module only follows where they begin and end (so that a wslay
 * context is freed only at a boundary, and a new one starts in step) and
 * writes the server's frames where wslay is not involved.
 */

/* The opcodes the server writes itself. */
#define FRAME_TEXT  0x1
#define FRAME_CLOSE 0x8
#define FRAME_PING  0x9

/* The longest payload of a control frame. */
#define FRAME_CONTROL_MAX 125

/* Where a stream of client frames stands. */
enum frame_state {
	FRAME_HEADER1,  /* FIN, RSV and opcode; a frame boundary */
	FRAME_HEADER2,  /* MASK and the 7-bit length */
	FRAME_LENGTH,   /* the 16- or 64-bit extended length */
	FRAME_MASK_KEY, /* the 4-byte masking key */
	FRAME_PAYLOAD,
};

/* Follows a stream of frames; zero it to start at a boundary. */
struct frame_tracker {
	enum frame_state state;
	uint64_t         left;   /* bytes left in this part */
	uint64_t         length; /* the payload length so far */
	int              masked;
	int              fragmented; /* a data message lacks its FIN */
};

/*
 * Follows the frames over len more bytes of the stream, in pieces of any
 * size.  Note that it checks nothing: wslay rejects what is invalid.
 */
void frame_track(
    struct frame_tracker *tracker, const uint8_t *data, size_t len);

/*
 * Returns non-zero if the bytes so far end at a frame boundary outside a
 * fragmented message (a parser started now would be in step).
 */
int frame_at_boundary(const struct frame_tracker *tracker);

/*
 * Appends one unmasked frame with FIN set (opcode, then len bytes of
 * payload) to out.  Returns 0, or -1 when memory ran out (out unchanged).
 */
int frame_append(
    struct buf *out, unsigned opcode, const void *payload, size_t len);

/*
 * Appends a close frame with code and reason, the reason cut to fit a
 * control frame.  Returns 0 or -1 as frame_append().
 */
int frame_append_close(struct buf *out, uint16_t code, const char *reason);

/*
 * Returns non-zero for the close codes registered at IANA after RFC 6455
 * (1012 service restart, 1013 try again later, 1014 bad gateway), which a
 * client may send and wslay does not know: it answers them with 1002.
 */
int frame_close_code_late(uint16_t code);

#endif
