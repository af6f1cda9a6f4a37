/* testutil.h: helpers the Check suites share (temporary directories, the sqlite3 shell). */
#ifndef LITEPUSH_TESTUTIL_H
#define LITEPUSH_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

struct loop;

/*
 * Creates a fresh temporary directory for one test and returns its path
 * (static storage, valid until testutil_tmpdir_remove()).
 */
const char *testutil_tmpdir_create(void);

/* Removes the directory made by testutil_tmpdir_create() and all inside. */
void testutil_tmpdir_remove(void);

/* Writes "<tmpdir>/<name>" to out; returns out. */
char *testutil_path(char *out, size_t len, const char *name);

/*
 * Runs the real `sqlite3` shell on db with sql on its standard input and
 * returns its exit status (-1 if it could not run).  Its output goes to
 * output (NUL-terminated, truncated to len) when output is not NULL.
 */
int testutil_sqlite3(const char *db, const char *sql, char *output, size_t len);

/* Returns a monotonic clock in ms. */
uint64_t testutil_now_ms(void);

/* Returns the wall clock in unix ms (what events and pauses carry). */
int64_t testutil_unix_ms(void);

/* Runs one non-blocking iteration of loop. */
void testutil_loop_step(struct loop *loop);

/*
 * Runs loop until cond(arg) holds or timeout_ms have passed; returns
 * whether it holds.  The loop is woken by its own events, by fd becoming
 * readable when fd >= 0 (cond must then read it), and every few ms to look
 * at cond again.
 */
int testutil_loop_await(
    struct loop *loop, int (*cond)(void *), void *arg, int fd, int timeout_ms);

/* Runs loop for about ms. */
void testutil_loop_run_for(struct loop *loop, int ms);

#endif
