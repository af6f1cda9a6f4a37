/* buf.h: a growable byte buffer for output that is waiting to be written. */
#ifndef LITEPUSH_BUF_H
#define LITEPUSH_BUF_H

#include <sys/types.h>

#include <stddef.h>

/*
 * A zeroed struct buf is an empty buffer that owns no memory; memory is
 * allocated on the first append and given back by buf_free(), so an idle
 * connection that frees its buffer once drained costs nothing.
 * Appends return 0, or -1 when memory ran out (the buffer is then unchanged).
 */
struct buf {
	char  *data;
	size_t len; /* bytes held */
	size_t off; /* bytes already consumed from the front */
	size_t cap;
};

/* Makes room for at least more bytes after the end; returns 0 or -1. */
int buf_reserve(struct buf *buf, size_t more);

/* Appends len bytes. */
int buf_append(struct buf *buf, const void *data, size_t len);

/* Appends a NUL-terminated string (without the NUL). */
int buf_append_str(struct buf *buf, const char *str);

/* Appends printf-style formatted text. */
int buf_printf(struct buf *buf, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Appends data with every ill-formed UTF-8 sequence replaced by U+FFFD, one
 * replacement per maximal ill-formed subpart as the WHATWG UTF-8 decoder
 * does, so a browser decodes exactly what was sent.  Note that each call
 * stands alone: a sequence split across two calls is replaced in both.
 */
int buf_append_utf8(struct buf *buf, const char *data, size_t len);

/*
 * Returns how many bytes at the front of data are well-formed UTF-8; when
 * that is less than len, *bad is the length (1 to 3) of the maximal
 * ill-formed subpart that follows, as the WHATWG decoder counts it.
 */
size_t buf_utf8_valid(const char *data, size_t len, size_t *bad);

/*
 * Returns the bytes not yet consumed and their count.  A buffer without
 * memory gives NULL: an offset added to a null pointer, even 0, is
 * undefined behaviour.
 */
static inline const char *
buf_pending(const struct buf *buf)
{
	return buf->data != NULL ? buf->data + buf->off : NULL;
}
static inline size_t
buf_pending_len(const struct buf *buf)
{
	return buf->len - buf->off;
}

/* Marks n bytes at the front as consumed (written); at most all pending. */
void buf_consume(struct buf *buf, size_t n);

/* Empties the buffer and frees its memory. */
void buf_free(struct buf *buf);

/*
 * Writes len bytes of data to fd, retrying on EINTR, until all of it is
 * written or fd would block.  Returns the number of bytes written (less
 * than len only when fd would block), or -1 on another error with errno
 * set.  Note that a peer that has gone gives EPIPE only where SIGPIPE is
 * ignored, as proc_signals() does for the programs: the one way this
 * project avoids the signal, for sockets and pipes alike.
 */
ssize_t buf_write(int fd, const void *data, size_t len);

/*
 * Writes what buf holds to fd as buf_write() does and consumes it; once
 * everything is written the buffer's memory is freed (an idle connection
 * holds none).  Returns the number of bytes written (what fd did not
 * take stays in buf), or -1 on an error.
 */
ssize_t buf_flush(struct buf *buf, int fd);

/* A scratch buffer keeps up to this much memory between uses. */
#define BUF_KEEP_MAX (1024 * 1024)

/*
 * Empties a buffer that is reused (a scratch buffer): its memory stays for
 * the next use, unless one huge event made it larger than BUF_KEEP_MAX.
 */
void buf_clear(struct buf *buf);

#endif
