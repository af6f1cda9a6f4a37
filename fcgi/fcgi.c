/* fcgi.c: the FastCGI records litepush-sse reads and writes itself, around libfcgi's parser. */
#include "config.h"

#include <sys/mman.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "fcgi.h"

/* Writes a record header for content_len bytes to p. */
static void
fcgi_header(unsigned char *p, int type, uint16_t request_id, size_t content_len)
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
		size_t len = i == records - 1 ? content - i * FCGI_MAX_CONTENT
		                              : FCGI_MAX_CONTENT;
		size_t to = from + i * FCGI_HEADER_LEN;

		memmove(base + to, base + from, len);
		fcgi_header(
		    base + to - FCGI_HEADER_LEN, FCGI_STDOUT, request_id, len);
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

/* A name's or a value's length has been read: the pair goes on. */
static void
fcgi_pair_length(struct fcgi_request *req)
{
	if (!req->pair_value) {
		req->pair_name = req->pair_len;
		req->pair_value = 1;
	} else {
		req->pair_skip = (uint64_t)req->pair_name + req->pair_len;
		req->pair_value = 0;
	}
	req->pair_len = 0;
}

/*
 * Follows the name-value pairs through n bytes of PARAMS content: a length
 * is one byte, or four with the top bit set (the FastCGI specification,
 * 3.4); the name and value bytes are skipped.
 */
static void
fcgi_pairs(struct fcgi_request *req, const unsigned char *p, size_t n)
{
	while (n > 0) {
		if (req->pair_skip > 0) {
			size_t k =
			    n < req->pair_skip ? n : (size_t)req->pair_skip;

			req->pair_skip -= k;
			p += k;
			n -= k;
		} else if (req->pair_bytes > 0) {
			req->pair_len = req->pair_len << 8 | *p++;
			n--;
			if (--req->pair_bytes == 0)
				fcgi_pair_length(req);
		} else if (*p & 0x80) {
			req->pair_len = *p++ & 0x7fu;
			req->pair_bytes = 3;
			n--;
		} else {
			req->pair_len = *p++;
			n--;
			fcgi_pair_length(req);
		}
	}
}

/* Scans a new connection's bytes for its request's records. */
int
fcgi_request_scan(struct fcgi_request *req, const unsigned char *data,
    size_t len, char *reason, size_t reason_len)
{
	while (len - req->next >= FCGI_HEADER_LEN) {
		const unsigned char *h = data + req->next, *content = h + 8;
		size_t               content_len = (size_t)(h[4] << 8 | h[5]);
		size_t   total = FCGI_HEADER_LEN + content_len + h[6];
		uint16_t id = (uint16_t)(h[2] << 8 | h[3]);

		if (h[0] != FCGI_VERSION_1) {
			snprintf(reason, reason_len,
			    "not a FastCGI record (version byte %u)", h[0]);
			return FCGI_REQUEST_BAD;
		}
		if (len - req->next < total)
			break;
		if (!req->begun) {
			if (h[1] != FCGI_BEGIN_REQUEST || content_len < 8 ||
			    id == FCGI_NULL_REQUEST_ID) {
				snprintf(reason, reason_len,
				    "the connection did not begin with "
				    "FCGI_BEGIN_REQUEST (record type %u)",
				    h[1]);
				return FCGI_REQUEST_BAD;
			}
			if ((content[0] << 8 | content[1]) != FCGI_RESPONDER) {
				snprintf(reason, reason_len,
				    "role %u is not served: litepush-sse is a "
				    "responder",
				    content[0] << 8 | content[1]);
				return FCGI_REQUEST_BAD;
			}
			req->begun = 1;
			req->request_id = id;
		} else if (id != req->request_id) {
			snprintf(reason, reason_len,
			    "a record for request %u inside request %u "
			    "(one request per connection)",
			    id, req->request_id);
			return FCGI_REQUEST_BAD;
		} else if (h[1] != FCGI_PARAMS) {
			snprintf(reason, reason_len,
			    "record type %u before the end of the parameters",
			    h[1]);
			return FCGI_REQUEST_BAD;
		} else if (content_len == 0) {
			if (req->pair_value || req->pair_bytes > 0 ||
			    req->pair_skip > 0) {
				snprintf(reason, reason_len,
				    "a parameter runs past the end of the "
				    "parameters");
				return FCGI_REQUEST_BAD;
			}
			req->next += total;
			req->end = req->next;
			return FCGI_REQUEST_DONE;
		} else
			fcgi_pairs(req, content, content_len);
		req->next += total;
	}
	return FCGI_REQUEST_MORE;
}

/* Scans what the web server sends after the request's records. */
int
fcgi_input_scan(struct fcgi_input *in, const unsigned char *data, size_t len)
{
	while (len > 0 && in->end == FCGI_INPUT_OK) {
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
		in->skip = ((size_t)in->header[4] << 8 | in->header[5]) +
		           in->header[6];
		if (in->header[0] != FCGI_VERSION_1)
			in->end = FCGI_INPUT_BROKEN;
		else if (in->header[1] == FCGI_ABORT_REQUEST)
			in->end = FCGI_INPUT_ABORTED;
		else if (in->header[1] == FCGI_STDIN &&
		         (in->header[4] | in->header[5]) != 0)
			in->end = FCGI_INPUT_BODY;
	}
	return in->end;
}

/*
 * Parses a request's records with libfcgi.  If libfcgi refuses them, it
 * closes the memory file and then tries to accept a new connection on
 * listen_sock -1, which fails at once: FCGX_Accept_r() returns an error
 * rather than waiting.
 */
int
fcgi_parse(const unsigned char *records, size_t len, FCGX_Request *req)
{
	int fd = memfd_create("litepush-request", MFD_CLOEXEC);

	if (fd < 0)
		return -1;
	if (buf_write(fd, records, len) != (ssize_t)len ||
	    lseek(fd, 0, SEEK_SET) != 0) {
		close(fd);
		return -1;
	}
	FCGX_InitRequest(req, -1, 0);
	req->ipcFd = fd;
	req->keepConnection = 1;
	if (FCGX_Accept_r(req) < 0) {
		FCGX_Free(req, 1);
		errno = EPROTO;
		return -1;
	}
	return 0;
}
