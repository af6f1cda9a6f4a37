/* listen.h: opening a listening socket from `unix:PATH` or `HOST:PORT`. */
#ifndef LITEPUSH_LISTEN_H
#define LITEPUSH_LISTEN_H

#include <stddef.h>

/*
 * Opens a non-blocking, close-on-exec listening socket for addr:
 * "unix:/path" (a stale socket file is replaced; the file is made
 * world-writable only if mode says so), "HOST:PORT", "[V6]:PORT" or
 * ":PORT"/"PORT" (127.0.0.1).  Returns the descriptor, or -1 with a one-line
 * reason in errbuf.
 */
int listen_open(const char *addr, int backlog, char *errbuf, size_t errlen);

/* Returns non-zero if addr parses as a listen address (no socket made). */
int listen_valid(const char *addr);

#endif
