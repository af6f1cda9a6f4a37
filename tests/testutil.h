/* testutil.h: helpers the Check suites share (temporary directories, the sqlite3 shell). */
#ifndef LITEPUSH_TESTUTIL_H
#define LITEPUSH_TESTUTIL_H

#include <stddef.h>

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

#endif
