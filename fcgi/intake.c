/* intake.c: new FastCGI connections, their request read on the loop with a deadline, then parsed by libfcgi. */
#include "config.h"

#include <sys/epoll.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "fcgi.h"
#include "intake.h"
#include "loop.h"

#define INTAKE_READ_CHUNK 16384 /* bytes read per read() */
#define INTAKE_BACKOFF_MS 100   /* no accept() for this long after EMFILE */
#define INTAKE_LOG_MS     1000  /* at most INTAKE_LOG_LINES drops logged */
#define INTAKE_LOG_LINES  10    /* per INTAKE_LOG_MS */

/* A connection whose request has not come yet. */
struct intake_conn {
	TAILQ_ENTRY(intake_conn) entry;
	struct intake           *intake;
	int                      fd;
	struct loop_io           io;
	struct loop_timer        deadline;
	struct buf               in;
	struct fcgi_request      scan;
};
TAILQ_HEAD(intake_list, intake_conn);

struct intake {
	struct loop       *loop;
	int                listen_fd;
	struct loop_io     listen_io;
	struct loop_timer  backoff;
	struct intake_list pending; /* oldest first */
	size_t             npending;
	intake_fn          fn;
	intake_log_fn      log;
	void              *arg;
	const char        *web_servers; /* FCGI_WEB_SERVER_ADDRS, or NULL */
	uint64_t           log_window;  /* when the current log window began */
	int                log_lines;   /* lines logged in it */
	unsigned long      unlogged;    /* drops in it beyond those */
	struct loop_timer  log_timer;   /* the window's end: says how many */
};

/*
 * Logs a dropped connection, at most INTAKE_LOG_LINES a second: a flood of
 * bad peers must not become a flood of log lines.  How many went unlogged
 * is said at the end of the second.
 */
static void __attribute__((format(printf, 2, 3)))
intake_log_drop(struct intake *intake, const char *fmt, ...)
{
	uint64_t now = loop_now(intake->loop);
	char     line[512];
	va_list  ap;

	if (intake->log_lines == 0 ||
	    now - intake->log_window >= INTAKE_LOG_MS) {
		intake->log_window = now;
		intake->log_lines = 0;
	}
	if (intake->log_lines == INTAKE_LOG_LINES) {
		if (intake->unlogged++ == 0)
			loop_timer_start(intake->loop, &intake->log_timer,
			    intake->log_window + INTAKE_LOG_MS - now);
		return;
	}
	intake->log_lines++;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	intake->log(line, intake->arg);
}

/* The end of a log window in which drops went unlogged. */
static void
intake_log_summary(struct loop_timer *timer)
{
	struct intake *intake = timer->arg;
	char           line[128];

	snprintf(line, sizeof line,
	    "dropped or refused %lu more FastCGI "
	    "connections in that second",
	    intake->unlogged);
	intake->unlogged = 0;
	intake->log_lines = 0;
	intake->log(line, intake->arg);
}

/* Forgets a pending connection; closes it unless keep_fd. */
static void
intake_conn_free(struct intake_conn *c, int keep_fd)
{
	struct intake *intake = c->intake;

	loop_io_stop(intake->loop, &c->io);
	loop_timer_stop(intake->loop, &c->deadline);
	if (!keep_fd)
		close(c->fd);
	buf_free(&c->in);
	TAILQ_REMOVE(&intake->pending, c, entry);
	intake->npending--;
	free(c);
}

/* Drops a connection that did not send a request we serve, and logs why. */
static void
intake_drop(struct intake_conn *c, const char *why)
{
	intake_log_drop(c->intake,
	    "dropped a FastCGI connection after %zu "
	    "bytes: %s",
	    buf_pending_len(&c->in), why);
	intake_conn_free(c, 0);
}

/* The deadline: the whole request did not come in time. */
static void
intake_deadline(struct loop_timer *timer)
{
	char why[128];

	snprintf(why, sizeof why, "no complete request within %d ms",
	    INTAKE_DEADLINE_MS);
	intake_drop(timer->arg, why);
}

/* The request's records are all here: libfcgi parses them, fn takes it. */
static void
intake_parse(struct intake_conn *c)
{
	struct intake        *intake = c->intake;
	struct intake_request req;
	FCGX_Request          fcgx;
	const unsigned char  *data = (const unsigned char *)buf_pending(&c->in);
	size_t                len = buf_pending_len(&c->in);

	if (fcgi_parse(data, c->scan.end, &fcgx) != 0) {
		intake_drop(c,
		    errno == EPROTO
		        ? "libfcgi refused its records"
		        : "cannot make a memory file to parse its records in");
		return;
	}
	/* The connection is the callee's from here: it watches it itself. */
	loop_io_stop(intake->loop, &c->io);
	req.fd = c->fd;
	req.request_id = c->scan.request_id;
	req.envp = fcgx.envp;
	req.too_large = NULL;
	req.input = data + c->scan.end;
	req.input_len = len - c->scan.end;
	intake->fn(&req, intake->arg);
	FCGX_Free(&fcgx, 1);
	intake_conn_free(c, 1);
}

/*
 * The request is over INTAKE_REQUEST_MAX: answered (431) once its
 * BEGIN_REQUEST says which request it is, else dropped.
 */
static void
intake_too_large(struct intake_conn *c)
{
	struct intake        *intake = c->intake;
	struct intake_request req;
	char                  why[128];

	snprintf(why, sizeof why, "the request's parameters are over %d KiB",
	    INTAKE_REQUEST_MAX / 1024);
	if (!c->scan.begun) {
		intake_drop(c, why);
		return;
	}
	loop_io_stop(intake->loop, &c->io);
	memset(&req, 0, sizeof req);
	req.fd = c->fd;
	req.request_id = c->scan.request_id;
	req.too_large = why;
	/* From the first record not read whole: the stream goes on from it. */
	req.input = (const unsigned char *)buf_pending(&c->in) + c->scan.next;
	req.input_len = buf_pending_len(&c->in) - c->scan.next;
	intake->fn(&req, intake->arg);
	intake_conn_free(c, 1);
}

/* Reads what has come on a pending connection. */
static void
intake_conn_io(struct loop_io *io, uint32_t events)
{
	struct intake_conn *c = io->arg;
	char                why[256];
	int                 rc = FCGI_REQUEST_MORE;

	(void)events;
	while (rc == FCGI_REQUEST_MORE) {
		ssize_t n;

		if (buf_pending_len(&c->in) >= INTAKE_REQUEST_MAX) {
			intake_too_large(c);
			return;
		}
		if (buf_reserve(&c->in, INTAKE_READ_CHUNK) != 0) {
			intake_drop(c, "out of memory");
			return;
		}
		n = read(c->fd, c->in.data + c->in.len, INTAKE_READ_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			/* A health check that connects and goes is no news. */
			if (n == 0 && buf_pending_len(&c->in) == 0)
				intake_conn_free(c, 0);
			else
				intake_drop(
				    c, n == 0 ? "the peer closed it "
				                "before the end of its request"
				              : strerror(errno));
			return;
		}
		c->in.len += (size_t)n;
		rc = fcgi_request_scan(&c->scan,
		    (const unsigned char *)buf_pending(&c->in),
		    buf_pending_len(&c->in), why, sizeof why);
	}
	if (rc == FCGI_REQUEST_BAD)
		intake_drop(c, why);
	else
		intake_parse(c);
}

/* Returns non-zero if FCGI_WEB_SERVER_ADDRS lets the peer at addr in. */
static int
intake_peer_allowed(const struct intake *intake, const struct sockaddr *addr)
{
	char        text[INET_ADDRSTRLEN];
	const char *p;
	size_t      len;

	if (intake->web_servers == NULL || addr->sa_family != AF_INET)
		return 1;
	if (inet_ntop(AF_INET, &((const struct sockaddr_in *)addr)->sin_addr,
	        text, sizeof text) == NULL)
		return 0;
	len = strlen(text);
	for (p = intake->web_servers; *p != '\0';) {
		size_t n = strcspn(p, ",");

		if (n == len && strncmp(p, text, len) == 0)
			return 1;
		p += n;
		if (*p == ',')
			p++;
	}
	return 0;
}

/* Takes a new connection into the pending list. */
static void
intake_take(struct intake *intake, int fd, const struct sockaddr *addr)
{
	struct intake_conn *c;
	int                 one = 1;

	if (!intake_peer_allowed(intake, addr)) {
		intake_log_drop(intake, "refused a FastCGI connection from an "
		                        "address not in FCGI_WEB_SERVER_ADDRS");
		close(fd);
		return;
	}
	if (addr->sa_family == AF_INET || addr->sa_family == AF_INET6)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (intake->npending >= INTAKE_PENDING_MAX)
		intake_drop(TAILQ_FIRST(&intake->pending),
		    "the oldest of too many connections without a request");
	c = calloc(1, sizeof *c);
	if (c == NULL) {
		close(fd);
		return;
	}
	c->intake = intake;
	c->fd = fd;
	loop_timer_init(&c->deadline, intake_deadline, c);
	if (loop_io_start(intake->loop, &c->io, fd, EPOLLIN | EPOLLRDHUP,
	        intake_conn_io, c) != 0) {
		close(fd);
		free(c);
		return;
	}
	TAILQ_INSERT_TAIL(&intake->pending, c, entry);
	intake->npending++;
	loop_timer_start(intake->loop, &c->deadline, INTAKE_DEADLINE_MS);
}

/* The back-off after running out of descriptors is over. */
static void
intake_resume(struct loop_timer *timer)
{
	struct intake *intake = timer->arg;

	loop_io_modify(intake->loop, &intake->listen_io, EPOLLIN);
}

/* Accepts every connection that is waiting. */
static void
intake_accept(struct loop_io *io, uint32_t events)
{
	struct intake *intake = io->arg;

	(void)events;
	for (;;) {
		struct sockaddr_storage addr;
		socklen_t               len = sizeof addr;
		int                     fd;

		memset(&addr, 0, sizeof addr);
		fd = accept4(intake->listen_fd, (struct sockaddr *)&addr, &len,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0) {
			intake_take(intake, fd, (struct sockaddr *)&addr);
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
		    errno == ENOMEM) {
			/* Stop watching for a while rather than spin. */
			intake_log_drop(intake,
			    "cannot accept a FastCGI "
			    "connection: %s",
			    strerror(errno));
			loop_io_modify(intake->loop, &intake->listen_io, 0);
			loop_timer_start(
			    intake->loop, &intake->backoff, INTAKE_BACKOFF_MS);
		}
		return; /* EAGAIN, or nothing better to do */
	}
}

struct intake *
intake_create(struct loop *loop, int listen_fd, intake_fn fn, intake_log_fn log,
    void *arg)
{
	struct intake *intake = calloc(1, sizeof *intake);
	const char    *addrs = getenv("FCGI_WEB_SERVER_ADDRS");
	int            flags = fcntl(listen_fd, F_GETFL);

	if (intake == NULL)
		return NULL;
	intake->loop = loop;
	intake->listen_fd = listen_fd;
	intake->fn = fn;
	intake->log = log;
	intake->arg = arg;
	intake->web_servers = addrs != NULL && *addrs != '\0' ? addrs : NULL;
	TAILQ_INIT(&intake->pending);
	loop_timer_init(&intake->backoff, intake_resume, intake);
	loop_timer_init(&intake->log_timer, intake_log_summary, intake);
	if (flags == -1 || fcntl(listen_fd, F_SETFL, flags | O_NONBLOCK) != 0 ||
	    loop_io_start(loop, &intake->listen_io, listen_fd, EPOLLIN,
	        intake_accept, intake) != 0) {
		free(intake);
		return NULL;
	}
	return intake;
}

size_t
intake_pending(const struct intake *intake)
{
	return intake->npending;
}

void
intake_free(struct intake *intake)
{
	if (intake == NULL)
		return;
	while (!TAILQ_EMPTY(&intake->pending))
		intake_conn_free(TAILQ_FIRST(&intake->pending), 0);
	loop_io_stop(intake->loop, &intake->listen_io);
	loop_timer_stop(intake->loop, &intake->backoff);
	loop_timer_stop(intake->loop, &intake->log_timer);
	free(intake);
}
