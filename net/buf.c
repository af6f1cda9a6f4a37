/* buf.c: a growable byte buffer for output that is waiting to be written. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"

/*
 * Output is appended at the end and written from the front, so the buffer
 * is a window [off, len) over data.  Growth doubles the capacity, so n
 * appends cost O(n) copying in all.  The consumed front is given back by
 * sliding the pending bytes down, but only once at least as many bytes were
 * consumed as are still pending: each memmove then moves no more than was
 * consumed since the last one, which keeps it O(1) per byte written too.
 */

/* The first allocation: room for a few ordinary events. */
#define BUF_INITIAL_SIZE 256

/* A consumed front smaller than this is not worth a memmove by itself. */
#define BUF_COMPACT_MIN 4096

/* U+FFFD REPLACEMENT CHARACTER in UTF-8. */
static const char buf_replacement[3] = {'\xEF', '\xBF', '\xBD'};

/* Moves the pending bytes to the front of the memory. */
static void
buf_compact(struct buf *buf)
{
	size_t pending = buf->len - buf->off;

	if (buf->off == 0)
		return;
	if (pending != 0)
		memmove(buf->data, buf->data + buf->off, pending);
	buf->len = pending;
	buf->off = 0;
}

/* Makes room for at least more bytes after the end. */
int
buf_reserve(struct buf *buf, size_t more)
{
	size_t pending = buf->len - buf->off;
	size_t need, cap;
	char  *data;

	if (more <= buf->cap - buf->len)
		return 0;
	if (more > SIZE_MAX - pending)
		return -1;
	need = pending + more;

	/* Reuse the consumed front when that is cheap (see the top). */
	if (need <= buf->cap && buf->off >= pending) {
		buf_compact(buf);
		return 0;
	}

	cap = buf->cap != 0 ? buf->cap : BUF_INITIAL_SIZE;
	while (cap < need) {
		if (cap > SIZE_MAX / 2) {
			cap = need;
			break;
		}
		cap *= 2;
	}
	data = realloc(buf->data, cap);
	if (data == NULL)
		return -1;
	buf->data = data;
	buf->cap = cap;
	buf_compact(buf);
	return 0;
}

/* Appends len bytes. */
int
buf_append(struct buf *buf, const void *data, size_t len)
{
	if (len == 0)
		return 0;
	if (buf_reserve(buf, len) != 0)
		return -1;
	memcpy(buf->data + buf->len, data, len);
	buf->len += len;
	return 0;
}

/* Appends a NUL-terminated string. */
int
buf_append_str(struct buf *buf, const char *str)
{
	return buf_append(buf, str, strlen(str));
}

/* Appends printf-style formatted text. */
int
buf_printf(struct buf *buf, const char *fmt, ...)
{
	va_list ap;
	size_t  room = buf->cap - buf->len;
	int     n;

	/* Try the room already there first; format again only if too small. */
	va_start(ap, fmt);
	n = vsnprintf(room != 0 ? buf->data + buf->len : NULL, room, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if ((size_t)n < room) {
		buf->len += (size_t)n;
		return 0;
	}

	/* Note that vsnprintf writes a NUL, so reserve one byte more. */
	if (buf_reserve(buf, (size_t)n + 1) != 0)
		return -1;
	va_start(ap, fmt);
	n = vsnprintf(buf->data + buf->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	buf->len += (size_t)n;
	return 0;
}

/* Returns whether the eight bytes at p are all ASCII. */
static int
buf_is_ascii8(const unsigned char *p)
{
	uint64_t word;

	memcpy(&word, p, sizeof word);
	return (word & UINT64_C(0x8080808080808080)) == 0;
}

/*
 * Returns how many bytes at the front of p are well-formed UTF-8.  When
 * that is less than len, *bad is set to the length of the maximal subpart
 * of an ill-formed sequence that follows (1 to 3 bytes), else to 0.
 *
 * This is the WHATWG UTF-8 decoder: a lead byte sets how many continuation
 * bytes are needed and the range the first of them must be in (which rules
 * out overlongs, surrogates and values above U+10FFFF); the first byte out
 * of range ends the subpart and is looked at again as a lead byte.
 */
size_t
buf_utf8_valid(const char *data, size_t len, size_t *bad)
{
	const unsigned char *p = (const unsigned char *)data;
	size_t               i = 0, needed, seen;
	unsigned char        c, lower, upper;

	while (i < len) {
		c = p[i];
		if (c < 0x80) {
			i++;
			while (len - i >= 8 && buf_is_ascii8(p + i))
				i += 8;
			continue;
		}

		lower = 0x80;
		upper = 0xBF;
		if (c >= 0xC2 && c <= 0xDF)
			needed = 1;
		else if (c >= 0xE0 && c <= 0xEF) {
			if (c == 0xE0)
				lower = 0xA0;
			else if (c == 0xED)
				upper = 0x9F;
			needed = 2;
		} else if (c >= 0xF0 && c <= 0xF4) {
			if (c == 0xF0)
				lower = 0x90;
			else if (c == 0xF4)
				upper = 0x8F;
			needed = 3;
		} else {
			*bad = 1;
			return i;
		}

		for (seen = 1; seen <= needed; seen++) {
			if (i + seen == len || p[i + seen] < lower ||
			    p[i + seen] > upper) {
				*bad = seen;
				return i;
			}
			lower = 0x80;
			upper = 0xBF;
		}
		i += needed + 1;
	}
	*bad = 0;
	return len;
}

/* Appends data with ill-formed UTF-8 replaced by U+FFFD. */
int
buf_append_utf8(struct buf *buf, const char *data, size_t len)
{
	const unsigned char *p = (const unsigned char *)data;
	size_t               pending = buf->len - buf->off;
	size_t               valid, bad;

	valid = buf_utf8_valid((const char *)p, len, &bad);
	if (bad == 0)
		return buf_append(buf, p, len);

	if (buf_reserve(buf, len) != 0)
		return -1;
	do {
		if (buf_append(buf, p, valid) != 0 ||
		    buf_append(buf, buf_replacement, sizeof buf_replacement) !=
		        0)
			goto fail;
		p += valid + bad;
		len -= valid + bad;
		valid = buf_utf8_valid((const char *)p, len, &bad);
	} while (bad != 0);
	if (buf_append(buf, p, valid) != 0)
		goto fail;
	return 0;

fail:
	/* buf_reserve may have moved the pending bytes, never changed them. */
	buf->len = buf->off + pending;
	return -1;
}

/* Marks n bytes at the front as consumed. */
void
buf_consume(struct buf *buf, size_t n)
{
	size_t pending = buf->len - buf->off;

	if (n > pending)
		n = pending;
	buf->off += n;
	if (buf->off == buf->len) {
		buf->off = 0;
		buf->len = 0;
		return;
	}
	if (buf->off >= BUF_COMPACT_MIN && buf->off >= buf->len - buf->off)
		buf_compact(buf);
}

/* Empties the buffer and frees its memory. */
void
buf_free(struct buf *buf)
{
	free(buf->data);
	memset(buf, 0, sizeof *buf);
}

void
buf_clear(struct buf *buf)
{
	if (buf->cap > BUF_KEEP_MAX)
		buf_free(buf);
	buf->len = buf->off = 0;
}

/* Writes data to fd until done or fd would block. */
ssize_t
buf_write(int fd, const void *data, size_t len)
{
	const char *p = data;
	size_t      done = 0;

	while (done < len) {
		ssize_t n = write(fd, p + done, len - done);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			return -1;
		}
		done += (size_t)n;
	}
	return (ssize_t)done;
}

/* Writes what buf holds to fd and consumes it. */
ssize_t
buf_flush(struct buf *buf, int fd)
{
	ssize_t n = buf_write(fd, buf_pending(buf), buf_pending_len(buf));

	if (n < 0)
		return -1;
	buf_consume(buf, (size_t)n);
	if (buf_pending_len(buf) == 0)
		buf_free(buf);
	return n;
}
