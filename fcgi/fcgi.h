/* fcgi.h: the FastCGI records litepush-sse reads and writes itself, around libfcgi's parser. */
#ifndef LITEPUSH_FCGI_H
#define LITEPUSH_FCGI_H

#include <stddef.h>
#include <stdint.h>

#include <fastcgi.h>

#include "buf.h"

/*
 * The event loop reads a new connection's request records (fcgi_request_scan
 * says when they are complete and sound) and libfcgi parses them; the stream
 * then writes FCGI_STDOUT records itself (non-blocking, many events in one
 * record) and watches the connection for FCGI_ABORT_REQUEST, a request body
 * or end of file.  These helpers are pure: bytes in, bytes out.
 */

#define FCGI_MAX_CONTENT FCGI_MAX_LENGTH

/*
 * Where a new connection's request stands: zero it, then pass every byte
 * received so far (from the first) to fcgi_request_scan() each time more
 * has come.  Each record is looked at once.
 */
struct fcgi_request {
	size_t   next;       /* offset of the first record not yet scanned */
	size_t   end;        /* once complete: the bytes its records take */
	uint16_t request_id; /* once BEGIN_REQUEST has come */
	int      begun;
	/* The name-value pairs, across the PARAMS records' contents. */
	int      pair_value; /* 0: a name's length comes next, 1: a value's */
	int      pair_bytes; /* bytes of a 4-byte length still to come */
	uint32_t pair_len;   /* the length being read */
	uint32_t pair_name;  /* the name length of the pair being read */
	uint64_t pair_skip;  /* name and value bytes still to come */
};

#define FCGI_REQUEST_MORE 0  /* incomplete: wait for more bytes */
#define FCGI_REQUEST_DONE 1  /* complete: its records end at ->end */
#define FCGI_REQUEST_BAD  -1 /* not a request we serve: reason says why */

/*
 * Scans the len bytes received from a connection (records may be split
 * anywhere).  A request is BEGIN_REQUEST for the responder role, then
 * PARAMS records of the same request id up to an empty one, whose
 * name-value pairs must end exactly where the parameters end (so no length
 * in them can claim more bytes than there are, whatever the parser after
 * us does with it).  Returns one of FCGI_REQUEST_*.
 */
int fcgi_request_scan(struct fcgi_request *req, const unsigned char *data,
    size_t len, char *reason, size_t reason_len);

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
int fcgi_end_request(struct buf *out, uint16_t request_id, uint32_t app_status);

typedef struct FCGX_Request FCGX_Request;

/*
 * Has libfcgi parse a complete request, len bytes of records that
 * fcgi_request_scan() found DONE, from a memory file (libfcgi's API reads
 * its own descriptor with blocking reads; this one never blocks).  Returns
 * 0 with req holding the request (FCGX_GetParam() on req->envp; release
 * it with FCGX_Free(req, 1)), or -1 with errno set.  Note that this relies
 * on two fields of FCGX_Request that fcgiapp.h exposes but does not
 * document: ipcFd (the "connection" is already open, so libfcgi accepts
 * none) and keepConnection (so the "finish the previous request" step at
 * the start of FCGX_Accept_r() does not close it).  tests/check_fcgi.c
 * checks both against the installed libfcgi.
 */
int fcgi_parse(const unsigned char *records, size_t len, FCGX_Request *req);

/* What the web server sends after the request's records, as far as we care. */
struct fcgi_input {
	unsigned char header[FCGI_HEADER_LEN];
	size_t        header_len;
	size_t        skip; /* content and padding left of this record */
	int           end;  /* FCGI_INPUT_* once the stream must end */
};

#define FCGI_INPUT_OK      0 /* nothing that ends the stream */
#define FCGI_INPUT_ABORTED 1 /* FCGI_ABORT_REQUEST */
#define FCGI_INPUT_BODY    2 /* STDIN with content: a GET has no body */
#define FCGI_INPUT_BROKEN  3 /* bytes that are not FastCGI records */

/*
 * Scans len bytes read from the connection, which starts at a record
 * boundary (records may be split anywhere), and returns FCGI_INPUT_OK, or
 * why the stream must end; once not OK, it stays so.  The empty STDIN
 * record and records of other types are skipped.
 */
int fcgi_input_scan(
    struct fcgi_input *in, const unsigned char *data, size_t len);

#endif
