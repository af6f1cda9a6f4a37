/* proc.c: process set-up both daemons share: signals and the open-file limit. */
#include "config.h"

#include <sys/resource.h>

#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "proc.h"

/* SIGHUP's line, made before any signal can come. */
static char   proc_hangup_note[160];
static size_t proc_hangup_len;

/* SIGHUP: says so in one write and carries on (async-signal-safe). */
static void
proc_hangup(int sig)
{
	int saved = errno;

	(void)sig;
	if (write(STDERR_FILENO, proc_hangup_note, proc_hangup_len) < 0) {
		/* nobody to tell */
	}
	errno = saved;
}

/* Installs handler for SIGTERM, SIGINT and SIGUSR1, SIGHUP's note, and ignores SIGPIPE. */
void
proc_signals(void (*handler)(int))
{
	struct sigaction sa;
	sigset_t         set;

	snprintf(proc_hangup_note, sizeof proc_hangup_note, "%s: SIGHUP: "
	    "nothing to reload or reopen (logs go to standard error); still "
	    "running\n", program_invocation_short_name);
	proc_hangup_len = strlen(proc_hangup_note);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = handler;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = proc_hangup;
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
}

/* Raises the soft limit of open files to the hard one. */
void
proc_raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/*
 * Note why: glibc serves a block of 128 KiB or more with its own mmap()
 * and unmaps it on free(), but after the first such free it raises the
 * threshold to that block's size (up to 32 MiB), so that the next buffers
 * of a megabyte come from the heap, whose free pages below its top are
 * only given back by malloc_trim().  50 stalled readers of 1 MB rows left
 * litepush-ws at 80 MB after they had gone.  Setting the threshold turns
 * the adjustment off: every large buffer is its own mapping, given back
 * when freed; small ones stay in the heap as before.
 */
void
proc_memory_returns(void)
{
	mallopt(M_MMAP_THRESHOLD, PROC_MMAP_THRESHOLD);
}
