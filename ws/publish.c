/* publish.c: who may publish where, and the publishes appended on a thread of their own, results back on the loop in order. */
#include "config.h"

#include <sys/queue.h>

#include <fnmatch.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "envelope.h"
#include "grant.h"
#include "loop.h"
#include "publish.h"
#include "store.h"

/* Checks that '{' appears only as "{user}". */
int
publish_pattern_valid(const char *pattern, char *reason, size_t len)
{
	const char *p;

	for (p = pattern; (p = strpbrk(p, "{}")) != NULL; p += 6) {
		if (strncmp(p, "{user}", 6) != 0) {
			snprintf(reason, len,
			    "'%c' only in {user}, the login of the client", *p);
			return -1;
		}
	}
	return 0;
}

/*
 * Writes pattern to out (size len) with each {user} replaced by user,
 * escaped for fnmatch.  Returns 0, or -1 when it does not fit or the
 * pattern needs a user and there is none.
 */
static int
publish_bind_user(const char *pattern, const char *user, char *out, size_t len)
{
	size_t n = 0;

	while (*pattern != '\0') {
		if (strncmp(pattern, "{user}", 6) == 0) {
			const char *u = user;

			if (u == NULL)
				return -1;
			for (; *u != '\0'; u++) {
				if (n + 2 >= len)
					return -1;
				if (strchr("*?[]\\", *u) != NULL)
					out[n++] = '\\';
				out[n++] = *u;
			}
			pattern += 6;
			continue;
		}
		if (n + 1 >= len)
			return -1;
		out[n++] = *pattern++;
	}
	out[n] = '\0';
	return 0;
}

/*
 * Room for a pattern with its login bound.  One that does not fit could
 * not match a channel anyway: a channel has at most 64 characters, and
 * every character of the login must match one of them.
 */
#define PUBLISH_BOUND_MAX 512

/* Whether one of the --publish patterns matches channel for user. */
static int
publish_pattern_matches(
    const struct publish_rules *rules, const char *user, const char *channel)
{
	char   bound[PUBLISH_BOUND_MAX];
	size_t i;

	for (i = 0; i < rules->npatterns; i++)
		if (publish_bind_user(
		        rules->patterns[i], user, bound, sizeof bound) == 0 &&
		    fnmatch(bound, channel, 0) == 0)
			return 1;
	return 0;
}

/* Whether clients may publish to channel. */
int
publish_allowed(const struct publish_rules *rules, const char *user,
    const struct grant *grant, const char *channel, char *reason, size_t len)
{
	enum access_verdict verdict = ACCESS_PUBLIC;
	size_t              i;

	if (user != NULL && *user == '\0')
		user = NULL;
	for (i = 0; grant != NULL && i < grant->npublish; i++)
		if (fnmatch(grant->publish[i], channel, 0) == 0)
			return 1;
	if (rules->npatterns == 0 && (grant == NULL || grant->npublish == 0)) {
		snprintf(reason, len, "publishing is disabled on this server");
		return 0;
	}
	if (!publish_pattern_matches(rules, user, channel)) {
		snprintf(reason, len,
		    "publishing to channel \"%s\" is not allowed", channel);
		return 0;
	}
	if (rules->access != NULL)
		verdict = access_check(rules->access->patterns,
		    rules->access->npatterns, channel, user);
	if (verdict == ACCESS_ALLOWED ||
	    (verdict == ACCESS_PUBLIC &&
	        (user != NULL || rules->access == NULL ||
	            !rules->access->require_login)))
		return 1;
	if (user == NULL)
		snprintf(reason, len,
		    "publishing to channel \"%s\" needs a login", channel);
	else
		snprintf(reason, len,
		    "channel \"%s\" does not take events from this login",
		    channel);
	return 0;
}

/* One request, from submit to its result. */
struct publish_request {
	STAILQ_ENTRY(publish_request) entry;
	void   *owner;   /* NULL once forgotten */
	char   *channel; /* NULL for a reply that only keeps its place */
	char   *event;
	char   *sender;
	char   *data;
	size_t  data_len;
	int     rc;
	int64_t id;
	char    reason[ENVELOPE_REASON_MAX + 512];
};
STAILQ_HEAD(publish_queue, publish_request);

struct publish {
	struct loop    *loop;
	char           *db_path;
	int             busy_ms;
	publish_done_fn done;
	void (*changed)(void *arg);
	void                   *arg;
	pthread_t               thread;
	pthread_mutex_t         lock;
	pthread_cond_t          wake;
	struct publish_queue    todo;    /* submitted, not started */
	struct publish_request *current; /* being appended */
	struct publish_queue    results; /* done, not yet handed back */
	int                     stop;
	struct loop_async       async;
	struct store           *store; /* the worker's only */
};

/* Frees a request. */
static void
publish_request_free(struct publish_request *r)
{
	free(r->channel);
	free(r->event);
	free(r->sender);
	free(r->data);
	free(r);
}

/*
 * On the worker: appends r through the worker's store connection, opening
 * it (again, if the file was replaced) as needed.
 */
static void
publish_append(struct publish *p, struct publish_request *r)
{
	char err[512];
	int  rc;

	if (p->store != NULL && store_moved(p->store)) {
		store_close(p->store);
		p->store = NULL;
	}
	if (p->store == NULL && store_open(p->db_path, 0, p->busy_ms, &p->store,
	                            err, sizeof err) != 0) {
		p->store = NULL;
		r->rc = -1;
		snprintf(r->reason, sizeof r->reason,
		    "event store unavailable: %s", err);
		return;
	}
	rc = store_append_by(p->store, r->channel, r->event, r->sender, r->data,
	    r->data_len, &r->id);
	r->rc = rc == 0 ? 0 : -1;
	if (rc == 0)
		return;
	if (rc == STORE_CONSTRAINT)
		snprintf(r->reason, sizeof r->reason, "event refused: %s",
		    store_errmsg(p->store));
	else if (rc == STORE_BUSY)
		snprintf(
		    r->reason, sizeof r->reason, "event store busy: try again");
	else {
		snprintf(r->reason, sizeof r->reason, "event store error: %s",
		    store_errmsg(p->store));
		store_close(p->store); /* reopened next time */
		p->store = NULL;
	}
}

/* The worker thread: one request at a time, in order. */
static void *
publish_worker(void *arg)
{
	struct publish *p = arg;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		struct publish_request *r;

		while (!p->stop && STAILQ_EMPTY(&p->todo))
			pthread_cond_wait(&p->wake, &p->lock);
		if (p->stop)
			break;
		r = STAILQ_FIRST(&p->todo);
		STAILQ_REMOVE_HEAD(&p->todo, entry);
		p->current = r;
		pthread_mutex_unlock(&p->lock);
		if (r->channel != NULL)
			publish_append(p, r);
		pthread_mutex_lock(&p->lock);
		p->current = NULL;
		STAILQ_INSERT_TAIL(&p->results, r, entry);
		loop_async_send(&p->async);
	}
	pthread_mutex_unlock(&p->lock);
	store_close(p->store);
	p->store = NULL;
	return NULL;
}

/* On the loop: hands the results back, oldest first. */
static void
publish_results(struct loop_async *async)
{
	struct publish         *p = async->arg;
	struct publish_queue    done;
	struct publish_request *r;
	int                     appended = 0;

	STAILQ_INIT(&done);
	pthread_mutex_lock(&p->lock);
	STAILQ_CONCAT(&done, &p->results);
	pthread_mutex_unlock(&p->lock);
	while ((r = STAILQ_FIRST(&done)) != NULL) {
		STAILQ_REMOVE_HEAD(&done, entry);
		if (r->channel != NULL && r->rc == 0)
			appended = 1;
		if (r->owner != NULL)
			p->done(r->owner, r->rc, r->id, r->reason, p->arg);
		publish_request_free(r);
	}
	if (appended && p->changed != NULL)
		p->changed(p->arg);
}

struct publish *
publish_create(struct loop *loop, const char *db_path, int busy_ms,
    publish_done_fn done, void (*changed)(void *arg), void *arg)
{
	struct publish *p = calloc(1, sizeof *p);
	sigset_t        all, old;
	int             rc;

	if (p == NULL || (p->db_path = strdup(db_path)) == NULL) {
		free(p);
		return NULL;
	}
	p->loop = loop;
	p->busy_ms = busy_ms;
	p->done = done;
	p->changed = changed;
	p->arg = arg;
	STAILQ_INIT(&p->todo);
	STAILQ_INIT(&p->results);
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->wake, NULL);
	loop_async_init(loop, &p->async, publish_results, p);
	/* Signals stay with the loop's thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(&p->thread, NULL, publish_worker, p);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		pthread_cond_destroy(&p->wake);
		pthread_mutex_destroy(&p->lock);
		free(p->db_path);
		free(p);
		return NULL;
	}
	return p;
}

/* Copies len bytes (or a string when len is (size_t)-1); NULL stays NULL. */
static int
publish_copy(char **out, const char *s, size_t len)
{
	if (s == NULL) {
		*out = NULL;
		return 0;
	}
	if (len == (size_t)-1)
		len = strlen(s);
	if ((*out = malloc(len + 1)) == NULL)
		return -1;
	memcpy(*out, s, len);
	(*out)[len] = '\0';
	return 0;
}

int
publish_submit(struct publish *p, void *owner,
    const struct publish_message *msg, const char *reply)
{
	struct publish_request *r = calloc(1, sizeof *r);

	if (r == NULL)
		return -1;
	r->owner = owner;
	if (msg == NULL) {
		r->rc = -1;
		snprintf(r->reason, sizeof r->reason, "%s", reply);
	} else if (publish_copy(&r->channel, msg->channel, (size_t)-1) != 0 ||
	           publish_copy(&r->event, msg->event, (size_t)-1) != 0 ||
	           publish_copy(&r->sender, msg->sender, (size_t)-1) != 0 ||
	           publish_copy(&r->data, msg->data != NULL ? msg->data : "",
	               msg->data_len) != 0) {
		publish_request_free(r);
		return -1;
	} else
		r->data_len = msg->data_len;
	pthread_mutex_lock(&p->lock);
	STAILQ_INSERT_TAIL(&p->todo, r, entry);
	pthread_cond_signal(&p->wake);
	pthread_mutex_unlock(&p->lock);
	return 0;
}

void
publish_forget(struct publish *p, void *owner)
{
	struct publish_request *r;

	pthread_mutex_lock(&p->lock);
	STAILQ_FOREACH(r, &p->todo, entry)
	if (r->owner == owner)
		r->owner = NULL;
	STAILQ_FOREACH(r, &p->results, entry)
	if (r->owner == owner)
		r->owner = NULL;
	if (p->current != NULL && p->current->owner == owner)
		p->current->owner = NULL;
	pthread_mutex_unlock(&p->lock);
}

void
publish_free(struct publish *p)
{
	struct publish_request *r;

	if (p == NULL)
		return;
	pthread_mutex_lock(&p->lock);
	p->stop = 1;
	pthread_cond_signal(&p->wake);
	pthread_mutex_unlock(&p->lock);
	pthread_join(p->thread, NULL);
	while ((r = STAILQ_FIRST(&p->todo)) != NULL) {
		STAILQ_REMOVE_HEAD(&p->todo, entry);
		publish_request_free(r);
	}
	while ((r = STAILQ_FIRST(&p->results)) != NULL) {
		STAILQ_REMOVE_HEAD(&p->results, entry);
		publish_request_free(r);
	}
	pthread_cond_destroy(&p->wake);
	pthread_mutex_destroy(&p->lock);
	free(p->db_path);
	free(p);
}
