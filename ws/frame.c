/* frame.c: WebSocket frames as bytes (RFC 6455, section 5): follows the client's, writes the server's. */
#include "config.h"

#include <string.h>

#include "frame.h"

/* A frame's length is known: the masking key or the payload comes next. */
static void
frame_length_done(struct frame_tracker *f)
{
	if (f->masked) {
		f->state = FRAME_MASK_KEY;
		f->left = 4;
	} else if (f->length > 0) {
		f->state = FRAME_PAYLOAD;
		f->left = f->length;
	} else
		f->state = FRAME_HEADER1;
}

/* Follows the frames over len more bytes. */
void
frame_track(struct frame_tracker *f, const uint8_t *data, size_t len)
{
	size_t i = 0, n;

	while (i < len) {
		switch (f->state) {
		case FRAME_HEADER1:
			/* Opcodes 0-2 are data: continuation, text, binary. */
			if ((data[i] & 0x0f) < 8)
				f->fragmented = (data[i] & 0x80) == 0;
			f->state = FRAME_HEADER2;
			i++;
			break;
		case FRAME_HEADER2:
			f->masked = (data[i] & 0x80) != 0;
			f->length = data[i] & 0x7f;
			i++;
			if (f->length >= 126) {
				f->state = FRAME_LENGTH;
				f->left = f->length == 126 ? 2 : 8;
				f->length = 0;
			} else
				frame_length_done(f);
			break;
		case FRAME_LENGTH:
			f->length = f->length << 8 | data[i++];
			if (--f->left == 0)
				frame_length_done(f);
			break;
		case FRAME_MASK_KEY:
			i++;
			if (--f->left == 0) {
				f->masked = 0;
				frame_length_done(f);
			}
			break;
		case FRAME_PAYLOAD:
			n = len - i < f->left ? len - i : (size_t)f->left;
			i += n;
			f->left -= n;
			if (f->left == 0)
				f->state = FRAME_HEADER1;
			break;
		}
	}
}

/* Returns non-zero at a frame boundary outside a fragmented message. */
int
frame_at_boundary(const struct frame_tracker *f)
{
	return f->state == FRAME_HEADER1 && !f->fragmented;
}

/* Appends one unmasked frame with FIN set. */
int
frame_append(struct buf *out, unsigned opcode, const void *payload, size_t len)
{
	unsigned char head[10];
	size_t        head_len = 2;
	int           i;

	head[0] = (unsigned char)(0x80 | opcode);
	if (len < 126)
		head[1] = (unsigned char)len;
	else if (len <= 0xffff) {
		head[1] = 126;
		head[2] = (unsigned char)(len >> 8);
		head[3] = (unsigned char)len;
		head_len = 4;
	} else {
		head[1] = 127;
		for (i = 0; i < 8; i++)
			head[2 + i] =
			    (unsigned char)((uint64_t)len >> (56 - 8 * i));
		head_len = 10;
	}
	if (buf_reserve(out, head_len + len) != 0)
		return -1;
	buf_append(out, head, head_len);
	if (len > 0)
		buf_append(out, payload, len);
	return 0;
}

/* Appends a close frame with code and reason. */
int
frame_append_close(struct buf *out, uint16_t code, const char *reason)
{
	unsigned char payload[FRAME_CONTROL_MAX] = {
	    (unsigned char)(code >> 8), (unsigned char)code};
	size_t len = strlen(reason);

	if (len > sizeof payload - 2)
		len = sizeof payload - 2;
	memcpy(payload + 2, reason, len);
	return frame_append(out, FRAME_CLOSE, payload, 2 + len);
}

/* Returns non-zero for the close codes IANA registered after RFC 6455. */
int
frame_close_code_late(uint16_t code)
{
	return code >= 1012 && code <= 1014;
}
