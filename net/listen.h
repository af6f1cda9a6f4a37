/* listen.h: opening a listening socket from `unix:PATH` or `HOST:PORT`. */
#ifndef LITEPUSH_LISTEN_H
#define LITEPUSH_LISTEN_H

#include <stddef.h>

/*
 * Opens a non-blocking, close-on-exec listening socket for addr:
 * "unix:PATH", "HOST:PORT", "[V6]:PORT" or ":PORT"/"PORT" (127.0.0.1); PORT 0
 * picks a free port (getsockname() tells which).  For "unix:PATH" a stale
 * socket file (nothing accepts on it) is replaced, while a live socket or a
 * file that is not a socket is refused; the socket file gets the permissions
 * the umask leaves, so the caller sets them (chmod) and removes the file when
 * done.  TCP sockets use SO_REUSEADDR.  backlog <= 0 means SOMAXCONN.  Returns
 * the descriptor, or -1 with a one-line reason naming addr in errbuf (which
 * may be NULL).
 */
int listen_open(const char *addr, int backlog, char *errbuf, size_t errlen);

/*
 * Returns non-zero if addr parses as a listen address (no socket made, no
 * name resolved); a unix PATH too long for a socket address fails here too.
 */
int listen_valid(const char *addr);

#endif
