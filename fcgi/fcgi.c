/* fcgi.c: the FastCGI records litepush-sse writes and reads itself, after libfcgi's accept. */
#include "config.h"

#include <string.h>

#include <fcgiapp.h>

#include "fcgi.h"

/* Writes a record header for content_len bytes to p. */
static void
fcgi_header(unsigned char *p, int type, uint16_t request_id,
    size_t content_len)
{
	p[0] = 1; /* FCGI_VERSION_1 */
	p[1] = (unsigned char)type;
	p[2] = (unsigned char)(request_id >> 8);
	p[3] = (unsigned char)request_id;
	p[4] = (unsigned char)(content_len >> 8);
	p[5] = (unsigned char)content_len;
	p[6] = 0; /* no padding */
	p[7] = 0;
}

/* Starts a STDOUT record: room for its header. */
size_t
fcgi_stdout_begin(struct buf *out)
{
	static const unsigned char zero[FCGI_HEADER_LEN];
	size_t                     mark = buf_pending_len(out);

	if (buf_append(out, zero, sizeof zero) != 0)
		return (size_t)-1;
	return mark;
}

/*
 * Finishes the record begun at mark.  Note that content longer than 65535
 * bytes needs a header every 65535 bytes: the extra headers are made room
 * for at the end and the content is moved back from the last record to the
 * first, so nothing is copied twice.
 */
int
fcgi_stdout_end(struct buf *out, size_t mark, uint16_t request_id)
{
	size_t         content = buf_pending_len(out) - mark - FCGI_HEADER_LEN;
	size_t         records, extra, i;
	unsigned char *base;

	if (content == 0) {
		out->len = out->off + mark;
		return 0;
	}
	records = (content + FCGI_MAX_CONTENT - 1) / FCGI_MAX_CONTENT;
	extra = (records - 1) * FCGI_HEADER_LEN;
	if (extra > 0 && buf_reserve(out, extra) != 0) {
		out->len = out->off + mark;
		return -1;
	}
	/* Offsets are from the pending start: buf_reserve() may compact. */
	base = (unsigned char *)out->data + out->off + mark;
	for (i = records; i-- > 1;) {
		size_t from = FCGI_HEADER_LEN + i * FCGI_MAX_CONTENT;
		size_t len = i == records - 1 ? content - i * FCGI_MAX_CONTENT :
						FCGI_MAX_CONTENT;
		size_t to = from + i * FCGI_HEADER_LEN;

		memmove(base + to, base + from, len);
		fcgi_header(base + to - FCGI_HEADER_LEN, FCGI_STDOUT, request_id,
		    len);
	}
	fcgi_header(base, FCGI_STDOUT, request_id,
	    records == 1 ? content : FCGI_MAX_CONTENT);
	out->len += extra;
	return 0;
}

/* Appends an empty STDOUT record and END_REQUEST. */
int
fcgi_end_request(struct buf *out, uint16_t request_id, uint32_t app_status)
{
	unsigned char p[FCGI_HEADER_LEN * 3];

	fcgi_header(p, FCGI_STDOUT, request_id, 0);
	fcgi_header(p + FCGI_HEADER_LEN, FCGI_END_REQUEST, request_id, 8);
	p[16] = (unsigned char)(app_status >> 24);
	p[17] = (unsigned char)(app_status >> 16);
	p[18] = (unsigned char)(app_status >> 8);
	p[19] = (unsigned char)app_status;
	p[20] = 0; /* FCGI_REQUEST_COMPLETE */
	p[21] = p[22] = p[23] = 0;
	return buf_append(out, p, sizeof p);
}

/* Scans bytes from the web server for FCGI_ABORT_REQUEST. */
int
fcgi_input_scan(struct fcgi_input *in, const unsigned char *data, size_t len)
{
	while (len > 0 && !in->lost && !in->aborted) {
		size_t n;

		if (in->skip > 0) {
			n = len < in->skip ? len : in->skip;
			in->skip -= n;
			data += n;
			len -= n;
			continue;
		}
		n = FCGI_HEADER_LEN - in->header_len;
		if (n > len)
			n = len;
		memcpy(in->header + in->header_len, data, n);
		in->header_len += n;
		data += n;
		len -= n;
		if (in->header_len < FCGI_HEADER_LEN)
			break;
		in->header_len = 0;
		if (in->header[0] != 1) {
			in->lost = 1;
			break;
		}
		if (in->header[1] == FCGI_ABORT_REQUEST)
			in->aborted = 1;
		in->skip = ((size_t)in->header[4] << 8 | in->header[5]) +
		    in->header[6];
	}
	return in->aborted;
}

/* Takes the connection out of an accepted request. */
int
fcgi_detach(FCGX_Request *request)
{
	int fd = request->ipcFd;

	FCGX_Free(request, 0);
	request->ipcFd = -1;
	return fd;
}
