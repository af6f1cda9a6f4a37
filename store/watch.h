/* watch.h: the feed's connection to the store, and the signs that another connection committed. */
#ifndef LITEPUSH_WATCH_H
#define LITEPUSH_WATCH_H

#include <stdint.h>

#include "store.h"

struct loop;

/*
 * The watcher keeps one store connection open for the feed above it
 * (opening it again after a failure, or when the database file was
 * replaced) and tells it when another connection may have committed.  For
 * SQLite: inotify on the database's directory is the hint, with short
 * re-checks after a hint that found nothing and a fallback poll whatever
 * inotify says; PRAGMA data_version is the truth.  The feed keeps channels,
 * ring and cursors and knows nothing of files; another engine (a server
 * that notifies) is another watcher behind the same functions.  Loop
 * thread only.
 */
struct watch;

/*
 * Called on the loop when the store may have changed (a hint, a re-check
 * or the poll): the feed checks with watch_poll() and returns the number
 * of new events, 0 when there were none (the watcher then looks again
 * shortly after a hint), or a negative store error.
 */
typedef int (*watch_changed_fn)(void *arg);

struct watch_options {
	const char *path;    /* the database file */
	int         poll_ms; /* fallback poll; must be > 0 */
	int         busy_ms; /* busy timeout of the connection */
};

/* What watch_poll() found, as bits. */
#define WATCH_OPENED                                                           \
	0x1 /* the connection was (re)opened: the log may be another */
#define WATCH_COMMITTED                                                        \
	0x2 /* another connection committed since the last poll */

/*
 * Creates the watcher on loop; watch_open() or watch_poll() opens the
 * store.  Returns NULL only when memory ran out, with a reason in errbuf.
 * Note that no inotify (or no watch on the directory) is not an error: it
 * costs latency, the poll remains.
 */
struct watch *watch_create(struct loop *loop, const struct watch_options *opts,
    watch_changed_fn changed, void *arg, char *errbuf, size_t errlen);

/*
 * Opens the connection (without creating the file) if it is not open.
 * Returns 0 with *opened set when it was opened just now (the log may be
 * another one than before), or a negative store error with the reason in
 * watch_error(); a store that cannot be opened yet is tried again by every
 * poll.
 */
int watch_open(struct watch *watch, int *opened);

/*
 * Checks the store once: drops a connection whose file was replaced or
 * removed, opens it if needed, and asks whether another connection
 * committed.  Returns 0 with WATCH_ bits in *what, or a negative store
 * error (the connection is then closed, and watch_error() says why).
 */
int watch_poll(struct watch *watch, unsigned *what);

/* Returns the open connection, or NULL while the store is unavailable. */
struct store *watch_store(const struct watch *watch);

/*
 * Returns NULL while the connection is open, else a one-line reason (for a
 * 503).
 */
const char *watch_error(const struct watch *watch);

/*
 * Closes the connection after a read through it failed, keeping why as the
 * reason; the next poll opens it again.
 */
void watch_lost(struct watch *watch, const char *why);

/* Returns the number of watch_poll() checks made (for the feed's stats). */
uint64_t watch_polls(const struct watch *watch);

/* Closes the connection and frees the watcher; NULL is ignored. */
void watch_free(struct watch *watch);

#endif
