/* listen.c: opening a listening socket from `unix:PATH` or `HOST:PORT`. */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "listen.h"

/* Where a listen address points, split from its text. */
struct listen_addr {
	int  is_unix;
	char path[sizeof((struct sockaddr_un *)0)->sun_path];
	char host[256]; /* without brackets; "127.0.0.1" when omitted */
	char port[6];
};

/* Writes a printf-style one-line reason to errbuf, if there is one. */
static void __attribute__((format(printf, 3, 4)))
listen_error(char *errbuf, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (errbuf == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(errbuf, errlen, fmt, ap);
	va_end(ap);
}

/* Checks that port is 0..65535 in decimal and copies it; returns 0 or -1. */
static int
listen_parse_port(const char *port, struct listen_addr *la)
{
	size_t   len = strlen(port), i;
	unsigned value = 0;

	if (len == 0 || len >= sizeof la->port)
		return -1;
	for (i = 0; i < len; i++) {
		if (port[i] < '0' || port[i] > '9')
			return -1;
		value = value * 10 + (unsigned)(port[i] - '0');
	}
	if (value > 65535)
		return -1;
	memcpy(la->port, port, len + 1);
	return 0;
}

/*
 * Splits addr into la; returns 0, or -1 with why it does not parse in errbuf.
 * Note that an IPv6 host must be in brackets: "::1:80" is ambiguous.
 */
static int
listen_parse(
    const char *addr, struct listen_addr *la, char *errbuf, size_t errlen)
{
	const char *colon, *host, *bracket;
	size_t      len;

	memset(la, 0, sizeof *la);

	if (strncmp(addr, "unix:", 5) == 0) {
		len = strlen(addr + 5);
		if (len == 0) {
			listen_error(errbuf, errlen,
			    "\"%s\": empty unix socket path", addr);
			return -1;
		}
		if (len >= sizeof la->path) {
			listen_error(errbuf, errlen,
			    "%s: path too long for a unix socket (%zu bytes, "
			    "at most %zu)",
			    addr + 5, len, sizeof la->path - 1);
			return -1;
		}
		la->is_unix = 1;
		memcpy(la->path, addr + 5, len + 1);
		return 0;
	}

	if (*addr == '[') {
		bracket = strchr(addr, ']');
		if (bracket == NULL || bracket[1] != ':' || bracket == addr + 1)
			goto bad_syntax;
		host = addr + 1;
		len = (size_t)(bracket - host);
		colon = bracket + 1;
	} else {
		colon = strrchr(addr, ':');
		if (colon == NULL) {
			/* A bare PORT. */
			if (listen_parse_port(addr, la) == -1)
				goto bad_syntax;
			strcpy(la->host, "127.0.0.1");
			return 0;
		}
		host = addr;
		len = (size_t)(colon - host);
		if (memchr(host, ':', len) != NULL) {
			listen_error(errbuf, errlen,
			    "\"%s\": an IPv6 address needs brackets: [V6]:PORT",
			    addr);
			return -1;
		}
	}

	if (len >= sizeof la->host) {
		listen_error(
		    errbuf, errlen, "\"%.32s...\": host name too long", addr);
		return -1;
	}
	if (len == 0)
		strcpy(la->host, "127.0.0.1");
	else {
		memcpy(la->host, host, len);
		la->host[len] = '\0';
	}
	if (listen_parse_port(colon + 1, la) == -1) {
		listen_error(errbuf, errlen,
		    "\"%s\": bad port \"%s\" (expected 0 to 65535)", addr,
		    colon + 1);
		return -1;
	}
	return 0;

bad_syntax:
	listen_error(errbuf, errlen,
	    "\"%s\": bad listen address (expected unix:PATH, HOST:PORT, "
	    "[V6]:PORT or PORT)",
	    addr);
	return -1;
}

/* Returns non-zero if addr parses as a listen address. */
int
listen_valid(const char *addr)
{
	struct listen_addr la;

	return addr != NULL && listen_parse(addr, &la, NULL, 0) == 0;
}

/*
 * Makes a unix stream socket (close-on-exec, with flags) and fills *sa
 * with path's address; returns the socket or -1 with errbuf set.  path
 * fits: listen_parse() checked its length.
 */
static int
listen_unix_socket(const char *path, int flags, struct sockaddr_un *sa,
    char *errbuf, size_t errlen)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | flags, 0);

	if (fd == -1) {
		listen_error(
		    errbuf, errlen, "%s: socket: %s", path, strerror(errno));
		return -1;
	}
	memset(sa, 0, sizeof *sa);
	sa->sun_family = AF_UNIX;
	memcpy(sa->sun_path, path, strlen(path) + 1);
	return fd;
}

/*
 * Checks an existing file at path: removes a stale socket, refuses a live
 * one or anything else; returns 0 or -1 with errbuf set.
 */
static int
listen_unix_clear(const char *path, char *errbuf, size_t errlen)
{
	struct sockaddr_un sa;
	struct stat        sb;
	int                fd, error;

	if (lstat(path, &sb) == -1) {
		if (errno == ENOENT)
			return 0;
		listen_error(errbuf, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(sb.st_mode)) {
		listen_error(
		    errbuf, errlen, "%s: exists and is not a socket", path);
		return -1;
	}

	/* Something listening accepts the connection; a stale file refuses. */
	fd = listen_unix_socket(path, 0, &sa, errbuf, errlen);
	if (fd == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0)
		error = 0;
	else
		error = errno;
	close(fd);

	switch (error) {
	case ECONNREFUSED:
		/*
		 * Note that two servers starting at once may both find the
		 * socket stale; the second bind() then fails cleanly.
		 */
		if (unlink(path) == -1 && errno != ENOENT) {
			listen_error(errbuf, errlen,
			    "%s: cannot remove stale socket: %s", path,
			    strerror(errno));
			return -1;
		}
		return 0;
	case ENOENT:
		return 0;
	case 0:
	case EAGAIN:     /* listening, backlog full */
	case EPROTOTYPE: /* a live socket of another type */
		listen_error(errbuf, errlen, "%s: address in use", path);
		return -1;
	default:
		listen_error(errbuf, errlen,
		    "%s: cannot check existing socket: %s", path,
		    strerror(error));
		return -1;
	}
}

/* Opens a listening unix socket at path. */
static int
listen_open_unix(const char *path, int backlog, char *errbuf, size_t errlen)
{
	struct sockaddr_un sa;
	int                fd;

	if (listen_unix_clear(path, errbuf, errlen) == -1)
		return -1;

	fd = listen_unix_socket(path, SOCK_NONBLOCK, &sa, errbuf, errlen);
	if (fd == -1)
		return -1;
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) == -1) {
		listen_error(
		    errbuf, errlen, "%s: bind: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (listen(fd, backlog) == -1) {
		listen_error(
		    errbuf, errlen, "%s: listen: %s", path, strerror(errno));
		close(fd);
		unlink(path);
		return -1;
	}
	return fd;
}

/* Opens a listening TCP socket on the first address host:port resolves to. */
static int
listen_open_tcp(const char *addr, const struct listen_addr *la, int backlog,
    char *errbuf, size_t errlen)
{
	struct addrinfo hints, *res, *ai;
	const char     *step = "bind";
	int             fd = -1, error, one = 1, saved = 0;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	error = getaddrinfo(la->host, la->port, &hints, &res);
	if (error != 0) {
		listen_error(errbuf, errlen, "%s: %s", addr,
		    error == EAI_SYSTEM ? strerror(errno)
		                        : gai_strerror(error));
		return -1;
	}

	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family,
		    ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd == -1) {
			step = "socket";
			saved = errno;
			continue;
		}
		/* Restarts must not wait for old connections in TIME_WAIT. */
		if (setsockopt(
		        fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == -1) {
			step = "setsockopt";
		} else if (bind(fd, ai->ai_addr, ai->ai_addrlen) == -1) {
			step = "bind";
		} else if (listen(fd, backlog) == -1) {
			step = "listen";
		} else
			break;
		saved = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);

	if (fd == -1)
		listen_error(
		    errbuf, errlen, "%s: %s: %s", addr, step, strerror(saved));
	return fd;
}

/* Opens a non-blocking, close-on-exec listening socket for addr. */
int
listen_open(const char *addr, int backlog, char *errbuf, size_t errlen)
{
	struct listen_addr la;

	if (errbuf != NULL && errlen > 0)
		*errbuf = '\0';
	if (addr == NULL)
		addr = "";
	if (listen_parse(addr, &la, errbuf, errlen) == -1)
		return -1;
	if (backlog <= 0)
		backlog = SOMAXCONN;

	if (la.is_unix)
		return listen_open_unix(la.path, backlog, errbuf, errlen);
	return listen_open_tcp(addr, &la, backlog, errbuf, errlen);
}
