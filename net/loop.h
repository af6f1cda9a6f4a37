/* loop.h: the small epoll event loop that both daemons and `litepush tail` run. */
#ifndef LITEPUSH_LOOP_H
#define LITEPUSH_LOOP_H

#include <stddef.h>
#include <stdint.h>

/*
 * One loop per process, run by one thread.  Handles are owned by the caller
 * (usually embedded in a connection's struct), so watching a descriptor or
 * arming a timer allocates nothing.  Only loop_async_send() may be called
 * from another thread or a signal handler.
 */
struct loop;
struct loop_io;
struct loop_timer;
struct loop_async;

/* Called on the loop thread with the epoll events that fired. */
typedef void (*loop_io_fn)(struct loop_io *io, uint32_t events);

struct loop_io {
	int        fd;
	uint32_t   events; /* what is watched (EPOLLIN, EPOLLOUT, ...) */
	loop_io_fn fn;
	void      *arg;
	int        started; /* loop-private: non-zero between start and stop */
};

typedef void (*loop_timer_fn)(struct loop_timer *timer);

struct loop_timer {
	uint64_t due_ms;     /* on the loop's monotonic clock */
	size_t   heap_index; /* position in the loop's heap; 0 = not armed */
	loop_timer_fn fn;
	void         *arg;
	uint64_t      start_seq; /* loop-private: arming order, breaks ties */
};

typedef void (*loop_async_fn)(struct loop_async *async);

struct loop_async {
	struct loop       *loop;
	volatile int       pending;
	loop_async_fn      fn;
	void              *arg;
	struct loop_async *next;
};

/* Creates a loop; returns NULL (errno set) on failure. */
struct loop *loop_create(void);

/* Returns the loop's monotonic clock in ms, as of this iteration. */
uint64_t loop_now(const struct loop *loop);

/* Returns the wall clock in unix milliseconds (for what clients are told). */
int64_t loop_unix_ms(void);

/*
 * Returns the delay after which a timer started now ends at the unix time
 * unix_ms (a grant's exp), and not before it: the loop's clock is read
 * again first (timers count from it, and the cached one may be a turn
 * old, which would end the timer that much early), and a millisecond is
 * added for the rounding of the two clocks.  0 once unix_ms has passed.
 */
uint64_t loop_delay_until(struct loop *loop, int64_t unix_ms);

/* Re-reads the monotonic clock into loop_now() and returns it. */
uint64_t loop_update_time(struct loop *loop);

/*
 * Starts watching fd for events (EPOLLIN, EPOLLOUT, EPOLLRDHUP...,
 * level-triggered); fn gets the fired events limited to what is watched, plus
 * EPOLLERR and EPOLLHUP.  io need not be initialised, but must not be
 * started already; it must stay valid until loop_io_stop().  Returns 0 or -1
 * with errno set.
 */
int loop_io_start(struct loop *loop, struct loop_io *io, int fd,
    uint32_t events, loop_io_fn fn, void *arg);

/* Changes the watched events of a started io; returns 0 or -1. */
int loop_io_modify(struct loop *loop, struct loop_io *io, uint32_t events);

/*
 * Stops watching io (does not close the descriptor; call it before close()).
 * Safe to call from any callback, including io's own; events already
 * collected for io in this iteration are not delivered after it, so io may be
 * freed as soon as this returns.  A stopped or zeroed io is ignored.
 */
void loop_io_stop(struct loop *loop, struct loop_io *io);

/* Initialises a timer handle (not armed). */
void loop_timer_init(struct loop_timer *timer, loop_timer_fn fn, void *arg);

/*
 * Arms (or re-arms) timer to fire once, after_ms from loop_now() (call
 * loop_update_time() first after long work).  Expired timers run after the
 * iteration's I/O, in due order, those due at the same ms in arming order.
 * A timer armed from a timer callback with after_ms 0 runs at the next
 * iteration, so it cannot starve I/O.  A callback may re-arm, stop or free its
 * own timer and others.  Returns 0, or -1 if memory for the heap ran out.
 */
int loop_timer_start(
    struct loop *loop, struct loop_timer *timer, uint64_t after_ms);

/* Disarms timer; a timer that is not armed is ignored. */
void loop_timer_stop(struct loop *loop, struct loop_timer *timer);

/* Returns non-zero if timer is armed. */
int loop_timer_active(const struct loop_timer *timer);

/*
 * Registers async: fn will run on the loop thread after loop_async_send().
 * Call on the loop thread before any send; async stays registered (and must
 * stay valid) for the life of the loop.
 */
void loop_async_init(
    struct loop *loop, struct loop_async *async, loop_async_fn fn, void *arg);

/*
 * Wakes the loop and makes it call async's fn once (sends coalesce).  Safe
 * from any thread and from a signal handler.
 */
void loop_async_send(struct loop_async *async);

/*
 * Runs iterations (wait, I/O callbacks, expired timers) until loop_stop();
 * returns 0, or -1 with errno set if epoll_wait() failed (EINTR is retried).
 */
int loop_run(struct loop *loop);

/*
 * Makes loop_run() return after the current iteration; called before
 * loop_run(), it makes the next loop_run() do one non-blocking iteration.
 */
void loop_stop(struct loop *loop);

/*
 * Frees the loop and closes its epoll and eventfd descriptors; every io must
 * have been stopped, armed timers are disarmed.  NULL is ignored.
 */
void loop_free(struct loop *loop);

#endif
