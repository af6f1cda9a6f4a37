/* fcgi.h: the FastCGI records litepush-sse writes and reads itself, after libfcgi's accept. */
#ifndef LITEPUSH_FCGI_H
#define LITEPUSH_FCGI_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/*
 * libfcgi accepts a connection and parses BEGIN_REQUEST and PARAMS; the
 * stream is then handed to the event loop, which writes FCGI_STDOUT records
 * itself (non-blocking, many events in one record) and watches the
 * connection for FCGI_ABORT_REQUEST or end of file.  These helpers are pure:
 * bytes in, bytes out.
 */

#define FCGI_HEADER_LEN     8
#define FCGI_MAX_CONTENT    65535
#define FCGI_END_REQUEST    3
#define FCGI_ABORT_REQUEST  2
#define FCGI_STDOUT         6

/*
 * Starts a STDOUT record at the end of out: appends room for its header and
 * returns the offset (from the pending start) to pass to fcgi_stdout_end(),
 * or (size_t)-1 when memory ran out.  Append the content to out in between.
 */
size_t fcgi_stdout_begin(struct buf *out);

/*
 * Finishes the record begun at mark: writes its header and, when the content
 * is longer than a record can hold, splits it into several records.  Content
 * of length 0 is dropped (an empty STDOUT record would end the stream).
 * Returns 0, or -1 when memory ran out (out then ends at mark).
 */
int fcgi_stdout_end(struct buf *out, size_t mark, uint16_t request_id);

/*
 * Appends the end of a response: an empty STDOUT record, then END_REQUEST
 * with app_status and FCGI_REQUEST_COMPLETE.  Returns 0 or -1.
 */
int fcgi_end_request(struct buf *out, uint16_t request_id,
    uint32_t app_status);

/* What the web server has sent since the hand-off, as far as we care. */
struct fcgi_input {
	unsigned char header[FCGI_HEADER_LEN];
	size_t        header_len;
	size_t        skip;    /* content and padding left of this record */
	int           lost;    /* not at a record boundary: stop parsing */
	int           aborted; /* FCGI_ABORT_REQUEST seen */
};

/*
 * Scans len bytes read from the connection (records may be split anywhere)
 * and returns non-zero once FCGI_ABORT_REQUEST has been seen.  Bytes that do
 * not parse as records are ignored from there on: the end of the connection
 * still ends the stream.
 */
int fcgi_input_scan(struct fcgi_input *in, const unsigned char *data,
    size_t len);

typedef struct FCGX_Request FCGX_Request;

/*
 * Takes the connection out of a request that FCGX_Accept_r() accepted and
 * frees libfcgi's buffers for it (FCGX_Free without closing): returns the
 * descriptor, which the caller now owns, and leaves the request with no
 * connection, so the next FCGX_Accept_r() on it accepts a new one.  Note
 * that this relies on FCGX_Request.ipcFd, a field fcgiapp.h marks as
 * internal; it is kept in this one function, and tests/check_fcgi.c checks
 * it against the installed libfcgi.
 */
int fcgi_detach(FCGX_Request *request);

#endif
