/* intake.h: new FastCGI connections, their request read on the loop with a deadline, then parsed by libfcgi. */
#ifndef LITEPUSH_INTAKE_H
#define LITEPUSH_INTAKE_H

#include <stddef.h>
#include <stdint.h>

#include <fcgiapp.h>

struct loop;

/*
 * libfcgi's FCGX_Accept_r() accepts and then reads the request with
 * blocking reads, so a peer that connects and sends nothing (or half a
 * record) holds whoever called it.  The intake accepts on the loop instead
 * and reads each connection's records as they come, non-blocking; a
 * connection whose request is not complete INTAKE_DEADLINE_MS after it
 * was accepted is dropped and logged, and so is the oldest one when
 * INTAKE_PENDING_MAX are waiting.  Once fcgi_request_scan() says the
 * records are complete and sound, libfcgi parses exactly those bytes (from
 * a memory file: it never touches the connection) and the request is
 * handed on with the connection, which then stands at the record boundary
 * after the parameters.  Everything runs on the loop's thread.
 */
#define INTAKE_DEADLINE_MS 5000
#define INTAKE_PENDING_MAX 1024
#define INTAKE_REQUEST_MAX (256 * 1024) /* bytes of BEGIN_REQUEST + PARAMS */

struct intake;

/*
 * A complete request, valid during the callback only; or, with envp NULL,
 * one whose parameters are over INTAKE_REQUEST_MAX (too_large says so in a
 * line), to be refused with 431.
 */
struct intake_request {
	int                  fd; /* the connection: the callee's now */
	uint16_t             request_id;
	FCGX_ParamArray      envp;      /* for FCGX_GetParam(), or NULL */
	const char          *too_large; /* when envp is NULL */
	const unsigned char *input;     /* bytes read past the parameters
	                                   (too large: from the first record
	                                   not read whole) */
	size_t input_len;
};

/* Takes a request; owns req->fd from here on. */
typedef void (*intake_fn)(const struct intake_request *req, void *arg);

/* Writes one line to the log (no trailing newline in msg). */
typedef void (*intake_log_fn)(const char *msg, void *arg);

/*
 * Starts accepting on listen_fd (a listening socket: made non-blocking
 * here; FCGI_WEB_SERVER_ADDRS is honoured as libfcgi does).  FCGX_Init()
 * must have run.  Returns NULL when memory ran out or listen_fd cannot be
 * watched.
 */
struct intake *intake_create(struct loop *loop, int listen_fd, intake_fn fn,
    intake_log_fn log, void *arg);

/* Returns the number of connections whose request has not come yet. */
size_t intake_pending(const struct intake *intake);

/* Closes every pending connection and frees the intake (not listen_fd). */
void intake_free(struct intake *intake);

#endif
