/* testutil.c: helpers the Check suites share. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

static char testutil_dir[256];

/* Creates a fresh temporary directory and returns its path. */
const char *
testutil_tmpdir_create(void)
{
	const char *base = getenv("TMPDIR");

	if (base == NULL || *base == '\0')
		base = "/tmp";
	snprintf(
	    testutil_dir, sizeof testutil_dir, "%s/litepush-test.XXXXXX", base);
	if (mkdtemp(testutil_dir) == NULL) {
		perror("mkdtemp");
		abort();
	}
	return testutil_dir;
}

/* Removes the temporary directory and its contents. */
void
testutil_tmpdir_remove(void)
{
	char cmd[300];

	if (testutil_dir[0] == '\0')
		return;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", testutil_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", testutil_dir);
	testutil_dir[0] = '\0';
}

/* Writes the path of name inside the temporary directory to out. */
char *
testutil_path(char *out, size_t len, const char *name)
{
	snprintf(out, len, "%s/%s", testutil_dir, name);
	return out;
}

/* Runs the sqlite3 shell with sql on its standard input. */
int
testutil_sqlite3(const char *db, const char *sql, char *output, size_t len)
{
	char  cmd[512];
	FILE *pipe;
	int   status;

	snprintf(cmd, sizeof cmd, "sqlite3 -bail '%s' >'%s/.sqlite3.out' 2>&1",
	    db, testutil_dir);
	pipe = popen(cmd, "w");
	if (pipe == NULL)
		return -1;
	fputs(sql, pipe);
	status = pclose(pipe);
	if (output != NULL && len > 0) {
		char   path[300];
		FILE  *f;
		size_t n = 0;

		snprintf(path, sizeof path, "%s/.sqlite3.out", testutil_dir);
		f = fopen(path, "r");
		if (f != NULL) {
			n = fread(output, 1, len - 1, f);
			fclose(f);
		}
		output[n] = '\0';
	}
	if (status == -1 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}
