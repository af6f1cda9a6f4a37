/* proc.c: process set-up both daemons share: signals and the open-file limit. */
#include "config.h"

#include <sys/resource.h>

#include <errno.h>
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
