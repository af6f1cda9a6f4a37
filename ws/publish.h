/* publish.h: who may publish where, and the publishes appended on a thread of their own, results back on the loop in order. */
#ifndef LITEPUSH_PUBLISH_H
#define LITEPUSH_PUBLISH_H

#include <stddef.h>
#include <stdint.h>

struct loop;

/*
 * An append may wait for SQLite's lock for the whole busy timeout (a
 * publisher's transaction, a `sqlite3` shell holding BEGIN IMMEDIATE), and
 * the loop must not wait with it.  One worker thread, with a store
 * connection of its own, takes the requests from one queue in the order
 * they were submitted and appends them; each result comes back on the
 * loop, in the same order, to the done callback.  So every client's
 * replies keep the order of its messages, and a reply that needs no append
 * (an error found on the loop) can be submitted to keep its place behind
 * the appends before it.  The store connection is not the feed's: SQLite's
 * data_version, which the feed watches, does not change for a
 * connection's own commits.
 */
struct publish;

/*
 * The policy: whether a client may publish to channel, given the --publish
 * globs (fnmatch patterns; none means publishing is off).  Returns 1, or 0
 * with the reason for the client in reason (NUL-terminated, cut to len).
 */
int publish_allowed(const char *const *globs, size_t nglobs,
    const char *channel, char *reason, size_t len);

/*
 * A result, on the loop: rc 0 with the new row's id, or -1 with a reason
 * for the client ("event store busy: try again", "event refused: ...").
 * Not called for an owner that publish_forget() forgot.
 */
typedef void (*publish_done_fn)(
    void *owner, int rc, int64_t id, const char *reason, void *arg);

/*
 * Starts the worker for the store at db_path (opened on the first append,
 * again when the file was replaced) with busy_ms of busy timeout; after a
 * successful append, done is called and then changed (may be NULL), once per
 * batch of results.  Returns NULL when memory or threads ran out.
 */
struct publish *publish_create(struct loop *loop, const char *db_path,
    int busy_ms, publish_done_fn done, void (*changed)(void *arg), void *arg);

/*
 * Queues an append of channel, event (NULL for none) and len bytes of data
 * for owner, all copied; or, with reply not NULL, a result of -1 with that
 * reason that only keeps its place.  Returns 0, or -1 when memory ran out.
 */
int publish_submit(struct publish *p, void *owner, const char *channel,
    const char *event, const char *data, size_t len, const char *reply);

/* Drops every result still to come for owner (it is going away). */
void publish_forget(struct publish *p, void *owner);

/*
 * Stops the worker (requests not yet started are dropped: their clients
 * are being closed) and frees everything.  Call it when the loop no longer
 * runs.  NULL is ignored.
 */
void publish_free(struct publish *p);

#endif
