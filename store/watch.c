/* watch.c: the feed's connection to the store, and the signs that another connection committed. */
#include "config.h"

#include <sys/epoll.h>
#include <sys/inotify.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "loop.h"
#include "watch.h"

/*
 * After an inotify hint that found no new commit, check again after these
 * delays.  Note that inotify reports the write() to the -wal file, and the
 * writer publishes the commit in the shared-memory index just after it: a
 * check that runs in between sees nothing, and no further inotify event
 * comes for an mmap'd write.  Short re-checks close that window without
 * waiting for the fallback poll.
 */
static const int watch_recheck_ms[] = {1, 4, 16, 64};
#define WATCH_RECHECKS (sizeof watch_recheck_ms / sizeof watch_recheck_ms[0])

/*
 * An inotify watch on the directory of the database file, and the file's
 * name in it.  Note that SQLite follows symbolic links and writes -wal
 * next to the real file: the watcher watches the directory of the path it
 * was given (where the link may be replaced) and that of the real file
 * (where the writes happen).
 */
struct watch_dir {
	int    wd; /* -1 when not watching */
	char  *dir;
	char  *base;
	size_t base_len;
};

struct watch {
	struct loop     *loop;
	char            *path;
	int              poll_ms;
	int              busy_ms;
	watch_changed_fn changed;
	void            *arg;

	struct store *store;
	char          error[512];
	int64_t       data_version; /* as of the last poll */
	uint64_t      polls;

	struct watch_dir  dirs[2]; /* the path given, the real file */
	int               inotify_fd;
	struct loop_io    inotify_io;
	struct loop_timer poll_timer;
	struct loop_timer recheck_timer;
	size_t            recheck_step;
};

/* Stops directory watch i (the directory stays watched if the other uses it).
 */
static void
watch_dir_clear(struct watch *watch, size_t i)
{
	struct watch_dir *d = &watch->dirs[i];

	if (d->wd != -1 && watch->dirs[1 - i].wd != d->wd)
		inotify_rm_watch(watch->inotify_fd, d->wd);
	free(d->dir);
	free(d->base);
	d->wd = -1;
	d->dir = d->base = NULL;
	d->base_len = 0;
}

/*
 * Makes directory watch i follow the file at path: its directory watched,
 * its name kept.  Nothing is done when it already does.  Returns 0, or -1
 * when memory ran out.  A watch that cannot be added (no inotify, no
 * directory yet) only costs latency: the fallback poll remains.
 */
static int
watch_dir_set(struct watch *watch, size_t i, const char *path)
{
	struct watch_dir *d = &watch->dirs[i];
	const char       *slash = strrchr(path, '/');
	char             *dir, *base;

	if (slash == NULL) {
		dir = strdup(".");
		base = strdup(path);
	} else {
		dir = slash == path ? strdup("/")
		                    : strndup(path, (size_t)(slash - path));
		base = strdup(slash + 1);
	}
	if (dir == NULL || base == NULL) {
		free(dir);
		free(base);
		return -1;
	}
	if (d->dir != NULL && strcmp(d->dir, dir) == 0 &&
	    strcmp(d->base, base) == 0) {
		free(dir);
		free(base);
		return 0;
	}
	watch_dir_clear(watch, i);
	d->dir = dir;
	d->base = base;
	d->base_len = strlen(base);
	if (watch->inotify_fd != -1)
		d->wd = inotify_add_watch(watch->inotify_fd, dir,
		    IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM |
		        IN_DELETE | IN_CLOSE_WRITE);
	return 0;
}

/* Watches where the database really is, if a link leads elsewhere. */
static void
watch_follow_link(struct watch *watch)
{
	char *real = realpath(watch->path, NULL);

	if (real != NULL && strcmp(real, watch->path) != 0)
		watch_dir_set(watch, 1, real);
	free(real);
}

/* Closes the connection after an error; the next poll opens it again. */
void
watch_lost(struct watch *watch, const char *why)
{
	snprintf(watch->error, sizeof watch->error, "%s", why);
	store_close(watch->store);
	watch->store = NULL;
}

/* Opens the connection if it is not open. */
int
watch_open(struct watch *watch, int *opened)
{
	int rc;

	*opened = 0;
	if (watch->store != NULL)
		return 0;
	rc = store_open(watch->path, 0, watch->busy_ms, &watch->store,
	    watch->error, sizeof watch->error);
	if (rc != 0)
		return rc;
	watch_follow_link(watch); /* a link may lead elsewhere now */
	if ((rc = store_data_version(watch->store, &watch->data_version)) !=
	    0) {
		watch_lost(watch, store_errmsg(watch->store));
		return rc;
	}
	watch->error[0] = '\0';
	*opened = 1;
	return 0;
}

/* Checks the store once. */
int
watch_poll(struct watch *watch, unsigned *what)
{
	int64_t version;
	int     opened, rc;

	*what = 0;
	if (watch->store != NULL && store_moved(watch->store))
		watch_lost(watch, "database file was replaced or removed");
	if ((rc = watch_open(watch, &opened)) != 0)
		return rc;
	if (opened)
		*what |= WATCH_OPENED;
	watch->polls++;
	if ((rc = store_data_version(watch->store, &version)) != 0) {
		watch_lost(watch, store_errmsg(watch->store));
		return rc;
	}
	if (version != watch->data_version)
		*what |= WATCH_COMMITTED;
	watch->data_version = version;
	return 0;
}

/* Returns the open connection, or NULL. */
struct store *
watch_store(const struct watch *watch)
{
	return watch->store;
}

/* Returns NULL while the connection is open, else why it is not. */
const char *
watch_error(const struct watch *watch)
{
	if (watch->store != NULL)
		return NULL;
	return watch->error[0] != '\0' ? watch->error : "store not open";
}

/* Returns the number of polls. */
uint64_t
watch_polls(const struct watch *watch)
{
	return watch->polls;
}

/* The fallback poll: tells the feed every poll_ms whatever inotify says. */
static void
watch_poll_timer(struct loop_timer *timer)
{
	struct watch *watch = timer->arg;

	loop_timer_start(
	    watch->loop, &watch->poll_timer, (uint64_t)watch->poll_ms);
	watch->changed(watch->arg);
}

/* Re-checks shortly after a hint that found nothing (see watch_recheck_ms). */
static void
watch_recheck_timer(struct loop_timer *timer)
{
	struct watch *watch = timer->arg;

	if (watch->changed(watch->arg) == 0 &&
	    ++watch->recheck_step < WATCH_RECHECKS)
		loop_timer_start(watch->loop, &watch->recheck_timer,
		    (uint64_t)watch_recheck_ms[watch->recheck_step]);
}

/* Returns non-zero if an inotify event names the database or its journals. */
static int
watch_inotify_relevant(
    const struct watch *watch, const struct inotify_event *ie)
{
	const char *name;
	size_t      i;

	if (ie->len == 0)
		return 0;
	for (i = 0; i < 2; i++) {
		const struct watch_dir *d = &watch->dirs[i];

		if (d->wd != ie->wd || d->base == NULL ||
		    strncmp(ie->name, d->base, d->base_len) != 0)
			continue;
		name = ie->name + d->base_len;
		if (*name == '\0' || strcmp(name, "-wal") == 0 ||
		    strcmp(name, "-journal") == 0)
			return 1;
	}
	return 0;
}

/* Drains inotify and, if the database was touched, tells the feed. */
static void
watch_inotify_read(struct loop_io *io, uint32_t events)
{
	struct watch *watch = io->arg;
	char          buf[4096]
	    __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;
	int     touched = 0;

	(void)events;
	while ((n = read(watch->inotify_fd, buf, sizeof buf)) > 0) {
		char *p = buf;

		while (p < buf + n) {
			const struct inotify_event *ie = (const void *)p;

			if (watch_inotify_relevant(watch, ie) ||
			    (ie->mask & IN_Q_OVERFLOW))
				touched = 1;
			p += sizeof *ie + ie->len;
		}
	}
	if (touched && watch->changed(watch->arg) == 0) {
		watch->recheck_step = 0;
		loop_timer_start(watch->loop, &watch->recheck_timer,
		    (uint64_t)watch_recheck_ms[0]);
	}
}

/* Creates the watcher on loop. */
struct watch *
watch_create(struct loop *loop, const struct watch_options *opts,
    watch_changed_fn changed, void *arg, char *errbuf, size_t errlen)
{
	struct watch *watch;

	watch = calloc(1, sizeof *watch);
	if (watch == NULL || (watch->path = strdup(opts->path)) == NULL) {
		free(watch);
		snprintf(errbuf, errlen, "out of memory");
		return NULL;
	}
	watch->loop = loop;
	watch->poll_ms = opts->poll_ms;
	watch->busy_ms = opts->busy_ms;
	watch->changed = changed;
	watch->arg = arg;
	watch->dirs[0].wd = watch->dirs[1].wd = -1;
	watch->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (watch->inotify_fd != -1 &&
	    loop_io_start(loop, &watch->inotify_io, watch->inotify_fd, EPOLLIN,
	        watch_inotify_read, watch) != 0) {
		close(watch->inotify_fd);
		watch->inotify_fd = -1;
	}
	if (watch_dir_set(watch, 0, watch->path) != 0) {
		watch_free(watch);
		snprintf(errbuf, errlen, "out of memory");
		return NULL;
	}
	watch_follow_link(watch);
	loop_timer_init(&watch->poll_timer, watch_poll_timer, watch);
	loop_timer_init(&watch->recheck_timer, watch_recheck_timer, watch);
	loop_timer_start(loop, &watch->poll_timer, (uint64_t)watch->poll_ms);
	return watch;
}

/* Closes the connection and frees the watcher. */
void
watch_free(struct watch *watch)
{
	if (watch == NULL)
		return;
	loop_timer_stop(watch->loop, &watch->poll_timer);
	loop_timer_stop(watch->loop, &watch->recheck_timer);
	if (watch->inotify_fd != -1)
		loop_io_stop(watch->loop, &watch->inotify_io);
	watch_dir_clear(watch, 0);
	watch_dir_clear(watch, 1);
	if (watch->inotify_fd != -1)
		close(watch->inotify_fd);
	store_close(watch->store);
	free(watch->path);
	free(watch);
}
