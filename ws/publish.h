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

struct access_rules;
struct grant;

/*
 * Who may publish where.  patterns are the --publish globs (fnmatch),
 * where "{user}" stands for the client's login, literally: a login
 * holding '*' matches only a channel with a '*' in that place (none
 * can).  A pattern with {user} matches nobody who is not logged in.
 * access holds the --private rules and --require-login (NULL: none), which
 * bind publishing as they bind reading: a private channel takes events
 * only from a login its rules let read it, and with --require-login
 * nobody publishes without one.  A signed grant's "publish" list is the
 * application's word, and allows those channels whatever the rest says.
 */
struct publish_rules {
	const char *const         *patterns;
	size_t                     npatterns;
	const struct access_rules *access;
};

/*
 * Returns 0 if pattern may be a --publish pattern ('{' only in "{user}"),
 * or -1 with the reason for a usage error.
 */
int publish_pattern_valid(const char *pattern, char *reason, size_t len);

/*
 * The policy: whether the client logged in as user (NULL: nobody) with
 * grant (NULL: none) may publish to channel under rules.  Returns 1, or
 * 0 with the reason for the client in reason (NUL-terminated, cut to
 * len), which never depends on what the channel holds.
 */
int publish_allowed(const struct publish_rules *rules, const char *user,
    const struct grant *grant, const char *channel, char *reason, size_t len);

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

/* What one client asks to append, and who it is. */
struct publish_message {
	const char *channel;
	const char *event;  /* NULL for none */
	const char *sender; /* the client's login, recorded; NULL: nobody */
	const char *data;
	size_t      data_len;
};

/*
 * Queues an append of msg for owner, all copied; or, with msg NULL, a
 * result of -1 with the reason reply that only keeps its place.  Returns
 * 0, or -1 when memory ran out.
 */
int publish_submit(struct publish *p, void *owner,
    const struct publish_message *msg, const char *reply);

/* Drops every result still to come for owner (it is going away). */
void publish_forget(struct publish *p, void *owner);

/*
 * Stops the worker (requests not yet started are dropped: their clients
 * are being closed) and frees everything.  Call it when the loop no longer
 * runs.  NULL is ignored.
 */
void publish_free(struct publish *p);

#endif
