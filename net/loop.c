/* loop.c: the small epoll event loop with timers and an eventfd wake-up. */
#include "config.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "loop.h"

/*
 * One iteration: read the clock, wait in epoll_wait() until the next timer
 * is due, read the clock again, call the I/O callbacks for the batch of
 * events, then run the expired timers.  Everything is level-triggered, so a
 * callback that leaves data unread is simply called again next iteration.
 *
 * Timers live in a binary min-heap of pointers to the caller's handles,
 * ordered by (due_ms, start_seq): start, stop and re-arm are O(log n) and
 * nothing ticks while no timer is due.  A hashed timing wheel would make
 * those O(1) but needs a periodic tick and rounds deadlines to its slots;
 * with tens of thousands of connections the heap is ~15 swaps per operation,
 * nothing next to the system call that usually goes with it.
 */

/* Events taken from the kernel per epoll_wait(). */
#define LOOP_BATCH 256

/* Heap slots allocated at first; the heap doubles from there. */
#define LOOP_HEAP_INITIAL 64

struct loop {
	int      epoll_fd;
	int      event_fd;
	uint64_t now_ms;
	int      stopping;

	/*
	 * The current batch: entries from batch_next to batch_count are still
	 * to be dispatched, and loop_io_stop() clears those of a stopped io.
	 */
	struct epoll_event batch[LOOP_BATCH];
	int                batch_next;
	int                batch_count;

	struct loop_timer **heap; /* heap[1..heap_count]; heap[0] unused */
	size_t              heap_count;
	size_t              heap_alloc;
	uint64_t            timer_seq; /* next start_seq to hand out */

	struct loop_async *asyncs;
	struct loop_io     async_io;
};

/* Reads CLOCK_MONOTONIC in ms. */
static uint64_t
loop_clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Drains the eventfd and runs every async that was sent. */
static void
loop_async_wake(struct loop_io *io, uint32_t events)
{
	struct loop       *loop = io->arg;
	struct loop_async *async, *next;
	uint64_t           value;

	(void)events;
	/*
	 * Note that the eventfd is drained before the flags are read: a send
	 * racing with this sets its flag and then writes, so it is either seen
	 * below or wakes the loop again.
	 */
	while (
	    read(loop->event_fd, &value, sizeof value) == -1 && errno == EINTR)
		;
	for (async = loop->asyncs; async != NULL; async = next) {
		next = async->next;
		if (__atomic_exchange_n(&async->pending, 0, __ATOMIC_ACQ_REL))
			async->fn(async);
	}
}

/* Creates a loop; returns NULL (errno set) on failure. */
struct loop *
loop_create(void)
{
	struct loop *loop;
	int          saved;

	loop = calloc(1, sizeof *loop);
	if (loop == NULL)
		return NULL;
	loop->epoll_fd = -1;
	loop->event_fd = -1;

	loop->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epoll_fd == -1)
		goto fail;
	loop->event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (loop->event_fd == -1)
		goto fail;
	if (loop_io_start(loop, &loop->async_io, loop->event_fd, EPOLLIN,
	        loop_async_wake, loop) == -1)
		goto fail;
	loop->now_ms = loop_clock_ms();
	return loop;

fail:
	saved = errno;
	if (loop->event_fd != -1)
		close(loop->event_fd);
	if (loop->epoll_fd != -1)
		close(loop->epoll_fd);
	free(loop);
	errno = saved;
	return NULL;
}

/* Returns the cached monotonic clock in ms. */
uint64_t
loop_now(const struct loop *loop)
{
	return loop->now_ms;
}

/* Re-reads the monotonic clock into the cache and returns it. */
uint64_t
loop_update_time(struct loop *loop)
{
	loop->now_ms = loop_clock_ms();
	return loop->now_ms;
}

/* Starts watching fd for events. */
int
loop_io_start(struct loop *loop, struct loop_io *io, int fd, uint32_t events,
    loop_io_fn fn, void *arg)
{
	struct epoll_event ev;

	/* io->started is not read: io may be uninitialised memory. */
	memset(&ev, 0, sizeof ev);
	ev.events = events;
	ev.data.ptr = io;
	if (epoll_ctl(loop->epoll_fd, EPOLL_CTL_ADD, fd, &ev) == -1)
		return -1;
	io->fd = fd;
	io->events = events;
	io->fn = fn;
	io->arg = arg;
	io->started = 1;
	return 0;
}

/* Changes the watched events of a started io. */
int
loop_io_modify(struct loop *loop, struct loop_io *io, uint32_t events)
{
	struct epoll_event ev;

	if (!io->started) {
		errno = EINVAL;
		return -1;
	}
	if (events == io->events)
		return 0;

	memset(&ev, 0, sizeof ev);
	ev.events = events;
	ev.data.ptr = io;
	if (epoll_ctl(loop->epoll_fd, EPOLL_CTL_MOD, io->fd, &ev) == -1)
		return -1;
	io->events = events;
	return 0;
}

/* Stops watching io and drops its undelivered events from the batch. */
void
loop_io_stop(struct loop *loop, struct loop_io *io)
{
	int i;

	if (!io->started)
		return;
	/*
	 * Note that this fails harmlessly if fd was already closed: the
	 * kernel then dropped the registration itself.
	 */
	epoll_ctl(loop->epoll_fd, EPOLL_CTL_DEL, io->fd, NULL);
	io->started = 0;

	/* O(batch) per stop; stops are rare next to events. */
	for (i = loop->batch_next; i < loop->batch_count; i++) {
		if (loop->batch[i].data.ptr == io)
			loop->batch[i].data.ptr = NULL;
	}
}

/* Initialises a timer handle, not armed. */
void
loop_timer_init(struct loop_timer *timer, loop_timer_fn fn, void *arg)
{
	memset(timer, 0, sizeof *timer);
	timer->fn = fn;
	timer->arg = arg;
}

/* Returns non-zero if a is due before b. */
static int
loop_timer_before(const struct loop_timer *a, const struct loop_timer *b)
{
	if (a->due_ms != b->due_ms)
		return a->due_ms < b->due_ms;
	return a->start_seq < b->start_seq;
}

/* Puts timer at heap slot index and records it in the timer. */
static void
loop_timer_place(struct loop *loop, struct loop_timer *timer, size_t index)
{
	loop->heap[index] = timer;
	timer->heap_index = index;
}

/* Moves the timer at index towards the root while it is due earlier. */
static void
loop_timer_sift_up(struct loop *loop, size_t index)
{
	struct loop_timer *timer = loop->heap[index];

	while (index > 1 && loop_timer_before(timer, loop->heap[index / 2])) {
		loop_timer_place(loop, loop->heap[index / 2], index);
		index /= 2;
	}
	loop_timer_place(loop, timer, index);
}

/* Moves the timer at index towards the leaves while a child is due earlier. */
static void
loop_timer_sift_down(struct loop *loop, size_t index)
{
	struct loop_timer *timer = loop->heap[index];
	size_t             child;

	for (;;) {
		child = index * 2;
		if (child > loop->heap_count)
			break;
		if (child < loop->heap_count &&
		    loop_timer_before(loop->heap[child + 1], loop->heap[child]))
			child++;
		if (!loop_timer_before(loop->heap[child], timer))
			break;
		loop_timer_place(loop, loop->heap[child], index);
		index = child;
	}
	loop_timer_place(loop, timer, index);
}

/* Restores heap order around index after its timer changed. */
static void
loop_timer_fix(struct loop *loop, size_t index)
{
	if (index > 1 &&
	    loop_timer_before(loop->heap[index], loop->heap[index / 2]))
		loop_timer_sift_up(loop, index);
	else
		loop_timer_sift_down(loop, index);
}

/* Arms or re-arms timer after_ms from loop_now(). */
int
loop_timer_start(struct loop *loop, struct loop_timer *timer, uint64_t after_ms)
{
	struct loop_timer **heap;
	size_t              alloc;

	if (timer->heap_index == 0 &&
	    loop->heap_count + 1 >= loop->heap_alloc) {
		alloc = loop->heap_alloc == 0 ? LOOP_HEAP_INITIAL
		                              : loop->heap_alloc * 2;
		heap = reallocarray(loop->heap, alloc, sizeof *heap);
		if (heap == NULL)
			return -1;
		loop->heap = heap;
		loop->heap_alloc = alloc;
	}

	if (after_ms > UINT64_MAX - loop->now_ms)
		timer->due_ms = UINT64_MAX;
	else
		timer->due_ms = loop->now_ms + after_ms;
	timer->start_seq = loop->timer_seq++;

	if (timer->heap_index != 0) {
		loop_timer_fix(loop, timer->heap_index);
		return 0;
	}
	loop->heap_count++;
	loop_timer_place(loop, timer, loop->heap_count);
	loop_timer_sift_up(loop, loop->heap_count);
	return 0;
}

/* Disarms timer if it is armed. */
void
loop_timer_stop(struct loop *loop, struct loop_timer *timer)
{
	size_t index = timer->heap_index;

	if (index == 0)
		return;
	timer->heap_index = 0;
	if (index != loop->heap_count) {
		loop_timer_place(loop, loop->heap[loop->heap_count], index);
		loop->heap_count--;
		loop_timer_fix(loop, index);
	} else
		loop->heap_count--;
}

/* Returns non-zero if timer is armed. */
int
loop_timer_active(const struct loop_timer *timer)
{
	return timer->heap_index != 0;
}

/* Registers async on the loop's list. */
void
loop_async_init(
    struct loop *loop, struct loop_async *async, loop_async_fn fn, void *arg)
{
	async->loop = loop;
	async->pending = 0;
	async->fn = fn;
	async->arg = arg;
	async->next = loop->asyncs;
	loop->asyncs = async;
}

/* Marks async pending and wakes its loop; async-signal-safe, lock-free. */
void
loop_async_send(struct loop_async *async)
{
	uint64_t one = 1;
	int      saved = errno;

	/* Only the send that raises the flag needs to wake the loop. */
	if (__atomic_exchange_n(&async->pending, 1, __ATOMIC_ACQ_REL) == 0) {
		/* EAGAIN means the counter is full, so a wake is pending. */
		while (write(async->loop->event_fd, &one, sizeof one) == -1 &&
		       errno == EINTR)
			;
	}
	errno = saved;
}

/* Returns the epoll_wait() timeout: ms to the next timer, -1 if none. */
static int
loop_timeout(const struct loop *loop)
{
	uint64_t due;

	if (loop->stopping)
		return 0;
	if (loop->heap_count == 0)
		return -1;
	due = loop->heap[1]->due_ms;
	if (due <= loop->now_ms)
		return 0;
	/*
	 * now_ms is the clock rounded down, so waiting (due - now_ms) ms from
	 * now always reaches due.
	 */
	if (due - loop->now_ms > INT_MAX)
		return INT_MAX;
	return (int)(due - loop->now_ms);
}

/* Calls the I/O callbacks for the batch, skipping stopped ios. */
static void
loop_dispatch(struct loop *loop)
{
	struct loop_io *io;
	uint32_t        events;

	while (loop->batch_next < loop->batch_count) {
		io = loop->batch[loop->batch_next].data.ptr;
		events = loop->batch[loop->batch_next].events;
		loop->batch_next++;
		if (io == NULL)
			continue;
		/* A callback may have turned off some of these meanwhile. */
		events &= io->events | EPOLLERR | EPOLLHUP;
		if (events != 0)
			io->fn(io, events);
	}
	loop->batch_next = loop->batch_count = 0;
}

/* Runs the timers that are due, in order. */
static void
loop_run_timers(struct loop *loop)
{
	struct loop_timer *timer;
	uint64_t           seq_limit = loop->timer_seq;

	/*
	 * Timers armed from here on have start_seq >= seq_limit and sort after
	 * every older timer that is due, so stopping at the first of them
	 * leaves them for the next iteration.
	 */
	while (loop->heap_count > 0) {
		timer = loop->heap[1];
		if (timer->due_ms > loop->now_ms ||
		    timer->start_seq >= seq_limit)
			break;
		loop_timer_stop(loop, timer);
		timer->fn(timer);
	}
}

/* Runs iterations until loop_stop(). */
int
loop_run(struct loop *loop)
{
	int count;

	for (;;) {
		loop_update_time(loop);
		count = epoll_wait(loop->epoll_fd, loop->batch, LOOP_BATCH,
		    loop_timeout(loop));
		if (count == -1) {
			if (errno != EINTR) {
				loop->stopping = 0;
				return -1;
			}
			count = 0;
		}
		loop_update_time(loop);

		loop->batch_next = 0;
		loop->batch_count = count;
		loop_dispatch(loop);
		loop_run_timers(loop);

		if (loop->stopping)
			break;
	}
	loop->stopping = 0;
	return 0;
}

/* Makes loop_run() return after the current iteration. */
void
loop_stop(struct loop *loop)
{
	loop->stopping = 1;
}

/* Frees the loop, disarming its timers and closing its descriptors. */
void
loop_free(struct loop *loop)
{
	size_t i;

	if (loop == NULL)
		return;
	for (i = 1; i <= loop->heap_count; i++)
		loop->heap[i]->heap_index = 0;
	free(loop->heap);
	close(loop->event_fd);
	close(loop->epoll_fd);
	free(loop);
}

/* Returns the wall clock in unix milliseconds. */
int64_t
loop_unix_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The delay for a timer that must not end before unix_ms. */
uint64_t
loop_delay_until(struct loop *loop, int64_t unix_ms)
{
	int64_t left;

	loop_update_time(loop);
	left = unix_ms - loop_unix_ms();
	return left < 0 ? 0 : (uint64_t)left + 1;
}
